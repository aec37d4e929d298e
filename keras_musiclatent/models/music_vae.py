"""Variational autoencoder of 3-s music segments: waveform → latent Gaussian → log-mel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.gaussian_sampling import GaussianSampling
from keras_musiclatent.models.latent_model import LatentAudioModel, build_parts
from keras_musiclatent.models.losses import free_bits_kl, gaussian_kl, kl_weight

__all__ = ["MusicVAE"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class MusicVAE(LatentAudioModel):
    """β-VAE over log-mel spectrograms, computed in-graph from waveforms.

    ``LogMelSpectrogram`` → ``BandNormalization`` → encoder (``CRNNEncoder`` or
    ``AttentionEncoder``) → ``z_mean``/``z_log_var`` → ``GaussianSampling`` → ``MelDecoder`` →
    de-normalisation, so the reconstruction is a log-mel in dB on the input's frame grid.

    Loss (``compute_loss``, the same on TensorFlow, JAX and PyTorch)::

        reconstruction = mean over real frames and bands of ((E - R) / band_std)**2
                         (both floored at max(R) - loss_top_db per example)
        kl_term        = sum_d max(free_bits, mean_batch KL_d)
        loss           = reconstruction + beta * min(1, step / kl_warmup_steps) * kl_term

    ``fit`` logs ``loss``, ``reconstruction_loss``, ``kl`` (plain KL in nats per example) and
    ``spectral_rmse_db`` (EVALUATION.md, real frames only).

    Inputs: ``(batch, samples)`` float32 waveforms, or ``{"audio": (batch, samples),
    "length": (batch,) int32}`` with the real-sample count of each zero-padded segment, so
    padding never counts in the loss. ``fit(x)`` takes either; no targets.

    Call outputs: dict ``reconstruction`` (dB), ``log_mel`` (input, dB), ``mask``,
    ``z_mean``, ``z_log_var``, ``z``. Use :meth:`encode`, :meth:`decode` or
    :meth:`reconstruct` for numpy in, numpy out.

    Example:
        >>> vae = MusicVAE(segment_seconds=1.0, n_fft=512, hop_length=256, n_mels=32,
        ...                conv_filters=(8, 8), pool_sizes=((2, 2), (2, 4)), rnn_units=8,
        ...                hidden_dim=16, latent_dim=4, seed=0)
        >>> vae.compile(optimizer="adam")
        >>> vae.fit(np.random.uniform(-0.5, 0.5, (8, 22050)).astype("float32"), epochs=1)
        >>> z_mean, z_log_var, z = vae.encode(np.zeros((2, 22050), "float32"))
        >>> vae.decode(z_mean).shape
        (2, 87, 32)
    """

    def __init__(
        self,
        *,
        # The CRNN trains fastest on CPU and is the reference; "attention" is the alternative.
        encoder: str = "crnn",
        # 64 dims hold a 3-s segment's timbre and rhythm summary while staying easy to probe
        # and interpolate; with free bits, unused dims show up in active_units.
        latent_dim: int = 64,
        # Audio defaults of the project (DESIGN.md): librosa's 22050 Hz, 2048/512, 128 mels.
        sample_rate: int = 22050,
        segment_seconds: float = 3.0,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 128,
        # Choi et al. 2017 use 4-5 blocks; narrow early blocks keep the full-resolution conv
        # cheap on CPU, and 128 channels at the coarse grid carry the summary.
        conv_filters: Sequence[int] = (16, 32, 64, 128),
        # (time, mel) pooling. Mel is pooled by 4 first: the first blocks dominate CPU time
        # (3x faster than 2x2 first), and the latent keeps a summary, not pitch detail.
        # Time 130 → 17 steps (~176 ms each) keeps rhythm for the GRU; mel 128 → 2.
        pool_sizes: Sequence[Sequence[int]] = ((2, 4), (2, 2), (2, 2), (1, 4)),
        # Per direction; 17 steps of 256-d conv features need little recurrent width.
        rnn_units: int = 128,
        # Width of the encoder's output features and the decoder's first dense layer.
        hidden_dim: int = 256,
        # Transformer width/depth/heads for encoder="attention" (and a transformer decoder).
        attention_dim: int = 128,
        num_layers: int = 2,
        num_heads: int = 4,
        # None: GRU decoder for the CRNN encoder, transformer decoder for the attention one.
        decoder_sequence: str | None = None,
        # Light dropout: 3-s segments of a 1000-clip data set overfit a 1-2 M model slowly.
        dropout: float = 0.1,
        # Linear maps log-mel → z and z → log-mel beside the conv encoder and decoder, so the
        # model contains the best linear (PCA) code and can start from it (see
        # models.initialize_from_pca); off in the original recipe.
        linear_path: bool = False,
        # False freezes the linear paths (after initialize_from_pca: the conv paths then
        # learn a correction on top of PCA).
        linear_path_trainable: bool = True,
        # Mean-per-element normalised MSE sets the scale: beta=1e-4 equals beta≈1.7 on a
        # summed squared error over the 130x128 grid (a standard β-VAE), which keeps
        # reconstructions sharp while the KL keeps the space smooth for interpolation.
        beta: float = 1e-4,
        # Bowman et al. 2016: start with no KL so the decoder learns to use z (≈10 epochs of
        # GTZAN training segments at batch 32).
        kl_warmup_steps: int = 3000,
        # Kingma et al. 2016: dims under 0.25 nats feel no KL pressure, against collapse.
        free_bits: float = 0.25,
        # MSE in normalised dB; "l1" is more robust to loud transients.
        reconstruction_loss: str = "mse",
        # Matches the spectral RMSE floor (EVALUATION.md): detail 80 dB under the peak is
        # inaudible and should not cost capacity.
        loss_top_db: float | None = 80.0,
        # "cnn" trains from scratch; "mobilenet_v2" starts from an ImageNet stem.
        stem: str = "cnn",
        stem_weights: str | None = None,
        # Seeds the posterior sampling noise (weights follow keras.utils.set_random_seed).
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if beta < 0 or free_bits < 0 or kl_warmup_steps < 0:
            raise ConfigError("beta, free_bits and kl_warmup_steps must be non-negative")
        if reconstruction_loss not in ("mse", "l1"):
            raise ConfigError(
                f"reconstruction_loss must be 'mse' or 'l1', got {reconstruction_loss!r}"
            )

        # === Layers ===
        parts = build_parts(
            encoder=encoder,
            latent_dim=latent_dim,
            sample_rate=sample_rate,
            segment_seconds=segment_seconds,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            conv_filters=conv_filters,
            pool_sizes=pool_sizes,
            rnn_units=rnn_units,
            hidden_dim=hidden_dim,
            attention_dim=attention_dim,
            num_layers=num_layers,
            num_heads=num_heads,
            decoder_sequence=decoder_sequence,
            dropout=dropout,
            stem=stem,
            stem_weights=stem_weights,
            linear_path=linear_path,
            linear_path_trainable=linear_path_trainable,
        )
        log_mel_layer = parts["log_mel"]
        frame_mask_layer = parts["frame_mask"]
        band_norm = parts["band_norm"]
        encoder_model = parts["encoder"]
        z_mean_dense = keras.layers.Dense(latent_dim, name="z_mean")
        z_linear = (
            keras.layers.Dense(latent_dim, trainable=linear_path_trainable, name="z_linear")
            if linear_path
            else None
        )
        z_log_var_dense = keras.layers.Dense(latent_dim, name="z_log_var")
        sampler = GaussianSampling(seed=seed, name="sampling")
        decoder = parts["decoder"]

        # === Functional Model ===
        samples, frames = parts["samples"], parts["frames"]
        audio = keras.Input(shape=(samples,), name="audio")
        length = keras.Input(shape=(), dtype="int32", name="length")
        log_mel = log_mel_layer(audio)
        mask = frame_mask_layer(length)
        normalised = band_norm(log_mel)
        features = encoder_model(normalised)
        z_mean = z_mean_dense(features)
        if z_linear is not None:
            flat = keras.layers.Flatten(name="flat_log_mel")(normalised)
            z_mean = keras.layers.Add(name="z_mean_sum")([z_mean, z_linear(flat)])
        z_log_var = z_log_var_dense(features)
        z = sampler([z_mean, z_log_var])
        reconstruction = band_norm(decoder(z), inverse=True)
        outputs = {
            "reconstruction": reconstruction,
            "log_mel": log_mel,
            "mask": mask,
            "z_mean": z_mean,
            "z_log_var": z_log_var,
            "z": z,
        }
        kwargs.setdefault("name", "music_vae")
        super().__init__(inputs={"audio": audio, "length": length}, outputs=outputs, **kwargs)

        # === Config ===
        # Sub-layers are attached after Model.__init__ (PyTorch modules require it).
        self.log_mel_layer = log_mel_layer
        self.frame_mask_layer = frame_mask_layer
        self.band_norm = band_norm
        self.encoder = encoder_model
        self.z_mean_dense = z_mean_dense
        self.z_linear = z_linear
        self.z_log_var_dense = z_log_var_dense
        self.sampler = sampler
        self.decoder = decoder
        self.encoder_type = encoder
        self.latent_dim = int(latent_dim)
        self.sample_rate = int(sample_rate)
        self.segment_seconds = float(segment_seconds)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.n_mels = int(n_mels)
        self.conv_filters = tuple(int(f) for f in conv_filters)
        self.pool_sizes = tuple((int(p[0]), int(p[1])) for p in pool_sizes)
        self.rnn_units = int(rnn_units)
        self.hidden_dim = int(hidden_dim)
        self.attention_dim = int(attention_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.decoder_sequence = decoder_sequence
        self.dropout = float(dropout)
        self.linear_path = bool(linear_path)
        self.linear_path_trainable = bool(linear_path_trainable)
        self.beta = float(beta)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.free_bits = float(free_bits)
        self.reconstruction_loss = reconstruction_loss
        self.loss_top_db = None if loss_top_db is None else float(loss_top_db)
        self.stem = stem
        self.stem_weights = stem_weights
        self.seed = seed
        self.samples = samples
        self.frames = frames

        # Training state: a variable, so the warm-up advances under jit and is saved/resumed.
        self.kl_step = self.add_weight(
            name="kl_step", shape=(), initializer="zeros", trainable=False, dtype="float32"
        )
        self._init_trackers()
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def _encode_batch(self, audio, *, sample: bool):
        return self._encode_log_mel(self.log_mel_layer(audio), sample=sample)

    def _encode_log_mel(self, log_mel, *, sample: bool):
        normalised = self.band_norm(log_mel)
        features = self.encoder(normalised, training=False)
        z_mean = self.z_mean_dense(features)
        if self.z_linear is not None:
            z_mean = z_mean + self.z_linear(ops.reshape(normalised, (ops.shape(normalised)[0], -1)))
        z_log_var = self.z_log_var_dense(features)
        z = self.sampler([z_mean, z_log_var], training=sample)
        return z_mean, z_log_var, z

    def current_kl_weight(self) -> float:
        """The KL weight the next training step uses (``beta`` times the warm-up ramp)."""
        weight = kl_weight(self.kl_step, beta=self.beta, warmup_steps=self.kl_warmup_steps)
        return float(ops.convert_to_numpy(weight))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction + warmed-up β·KL (see the class docstring); updates the metrics."""
        reconstruction, rmse = self._reconstruction_terms(y_pred)
        z_log_var = ops.clip(
            y_pred["z_log_var"], -self.sampler.log_var_clip, self.sampler.log_var_clip
        )
        kl_per_dim = gaussian_kl(y_pred["z_mean"], z_log_var)
        kl = ops.mean(ops.sum(kl_per_dim, axis=-1))
        weight = kl_weight(self.kl_step, beta=self.beta, warmup_steps=self.kl_warmup_steps)
        total = reconstruction + weight * free_bits_kl(kl_per_dim, self.free_bits)
        total = total + self._regularization_losses()
        if training:
            self.kl_step.assign_add(1.0)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        self.spectral_rmse_tracker.update_state(rmse)
        return total

    def get_config(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "trainable": self.trainable,
            "encoder": self.encoder_type,
            "latent_dim": self.latent_dim,
            "sample_rate": self.sample_rate,
            "segment_seconds": self.segment_seconds,
            "n_fft": self.n_fft,
            "hop_length": self.hop_length,
            "n_mels": self.n_mels,
            "conv_filters": list(self.conv_filters),
            "pool_sizes": [list(p) for p in self.pool_sizes],
            "rnn_units": self.rnn_units,
            "hidden_dim": self.hidden_dim,
            "attention_dim": self.attention_dim,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "decoder_sequence": self.decoder_sequence,
            "dropout": self.dropout,
            "linear_path": self.linear_path,
            "linear_path_trainable": self.linear_path_trainable,
            "beta": self.beta,
            "kl_warmup_steps": self.kl_warmup_steps,
            "free_bits": self.free_bits,
            "reconstruction_loss": self.reconstruction_loss,
            "loss_top_db": self.loss_top_db,
            "stem": self.stem,
            "stem_weights": self.stem_weights,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MusicVAE:
        # Weights come from the saved file: never download ImageNet weights on load.
        return cls(**{**config, "stem_weights": None})
