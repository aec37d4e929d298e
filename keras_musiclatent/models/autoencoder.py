"""Deterministic autoencoder of 3-s music segments for compression: waveform → code → log-mel."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.deterministic_bottleneck import DeterministicBottleneck
from keras_musiclatent.models.latent_model import LatentAudioModel, build_parts

__all__ = ["MusicAutoencoder"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class MusicAutoencoder(LatentAudioModel):
    """Autoencoder with a bounded, quantised bottleneck (``DeterministicBottleneck``).

    Same front end, encoders and decoder as :class:`MusicVAE`; the latent is
    ``tanh``-bounded and, with ``bits`` set, trained with uniform quantisation noise and
    rounded at inference, so ``bitrate_bps = latent_dim * bits / segment_seconds`` is what
    :meth:`compress` really needs.

    Loss: the masked reconstruction term of :class:`MusicVAE` only. ``fit`` logs ``loss``,
    ``reconstruction_loss`` and ``spectral_rmse_db``. Inputs, outputs (without
    ``z_mean``/``z_log_var``) and :meth:`encode` (``(z, zeros, z)``) follow :class:`MusicVAE`.

    Example:
        >>> ae = MusicAutoencoder(segment_seconds=1.0, n_fft=512, hop_length=256, n_mels=32,
        ...                       conv_filters=(8, 8), pool_sizes=((2, 2), (2, 4)),
        ...                       rnn_units=8, hidden_dim=16, latent_dim=4, bits=4)
        >>> codes = ae.compress(np.zeros((2, 22050), "float32"))  # (2, 4) ints in [0, 16)
        >>> ae.decompress(codes).shape
        (2, 87, 32)
    """

    def __init__(
        self,
        *,
        # See MusicVAE for the shared defaults and why.
        encoder: str = "crnn",
        latent_dim: int = 64,
        sample_rate: int = 22050,
        segment_seconds: float = 3.0,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 128,
        conv_filters: Sequence[int] = (16, 32, 64, 128),
        pool_sizes: Sequence[Sequence[int]] = ((2, 4), (2, 2), (2, 2), (1, 4)),
        rnn_units: int = 128,
        hidden_dim: int = 256,
        attention_dim: int = 128,
        num_layers: int = 2,
        num_heads: int = 4,
        decoder_sequence: str | None = None,
        dropout: float = 0.1,
        linear_path: bool = False,
        # False freezes the linear paths (after initialize_from_pca: the conv paths then
        # learn a correction on top of PCA).
        linear_path_trainable: bool = True,
        # 8 bits per dim: the rounding error (step 2/255) is far below the decoder's error,
        # and 64 x 8 bits per 3 s = 171 bit/s (a 2000:1 ratio to 16-bit PCM).
        bits: int | None = 8,
        # tanh keeps the code in [-1, 1] so a fixed quantisation grid covers it.
        bounded: bool = True,
        reconstruction_loss: str = "mse",
        loss_top_db: float | None = 80.0,
        stem: str = "cnn",
        stem_weights: str | None = None,
        # Seeds the training quantisation noise.
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
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
        code_dense = keras.layers.Dense(latent_dim, name="code")
        z_linear = (
            keras.layers.Dense(latent_dim, trainable=linear_path_trainable, name="z_linear")
            if linear_path
            else None
        )
        bottleneck = DeterministicBottleneck(
            bits=bits, bounded=bounded, seed=seed, name="bottleneck"
        )
        decoder = parts["decoder"]

        # === Functional Model ===
        samples, frames = parts["samples"], parts["frames"]
        audio = keras.Input(shape=(samples,), name="audio")
        length = keras.Input(shape=(), dtype="int32", name="length")
        log_mel = log_mel_layer(audio)
        mask = frame_mask_layer(length)
        normalised = band_norm(log_mel)
        features = encoder_model(normalised)
        code = code_dense(features)
        if z_linear is not None:
            flat = keras.layers.Flatten(name="flat_log_mel")(normalised)
            code = keras.layers.Add(name="code_sum")([code, z_linear(flat)])
        z = bottleneck(code)
        reconstruction = band_norm(decoder(z), inverse=True)
        outputs = {"reconstruction": reconstruction, "log_mel": log_mel, "mask": mask, "z": z}
        kwargs.setdefault("name", "music_autoencoder")
        super().__init__(inputs={"audio": audio, "length": length}, outputs=outputs, **kwargs)

        # === Config ===
        # Sub-layers are attached after Model.__init__ (PyTorch modules require it).
        self.log_mel_layer = log_mel_layer
        self.frame_mask_layer = frame_mask_layer
        self.band_norm = band_norm
        self.encoder = encoder_model
        self.code_dense = code_dense
        self.z_linear = z_linear
        self.bottleneck = bottleneck
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
        self.bits = None if bits is None else int(bits)
        self.bounded = bool(bounded)
        self.reconstruction_loss = reconstruction_loss
        self.loss_top_db = None if loss_top_db is None else float(loss_top_db)
        self.stem = stem
        self.stem_weights = stem_weights
        self.seed = seed
        self.samples = samples
        self.frames = frames
        self._init_trackers()

    @property
    def bitrate_bps(self) -> float | None:
        """Bits per second of the quantised code (EVALUATION.md), ``None`` without ``bits``."""
        if self.bits is None:
            return None
        return self.latent_dim * self.bits / self.segment_seconds

    def _encode_batch(self, audio, *, sample: bool):
        return self._encode_log_mel(self.log_mel_layer(audio), sample=sample)

    def _encode_log_mel(self, log_mel, *, sample: bool):
        normalised = self.band_norm(log_mel)
        code = self.code_dense(self.encoder(normalised, training=False))
        if self.z_linear is not None:
            code = code + self.z_linear(ops.reshape(normalised, (ops.shape(normalised)[0], -1)))
        z = self.bottleneck(code, training=False)
        return z, ops.zeros_like(z), z

    def compress(self, waveforms, *, batch_size: int = 32):
        """Integer codes ``(batch, latent_dim)`` in ``[0, 2**bits)`` (needs ``bits``)."""
        z, _, _ = self.encode(waveforms, batch_size=batch_size)
        return ops.convert_to_numpy(self.bottleneck.quantize_codes(z, bounded=True))

    def decompress(self, codes, *, batch_size: int = 32):
        """Log-mel dB ``(batch, frames, n_mels)`` of integer codes from :meth:`compress`."""
        z = ops.convert_to_numpy(self.bottleneck.dequantize_codes(codes))
        return self.decode(z, batch_size=batch_size)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Masked reconstruction loss on the normalised log-mel; updates the metrics."""
        reconstruction, rmse = self._reconstruction_terms(y_pred)
        total = reconstruction + self._regularization_losses()
        self.reconstruction_loss_tracker.update_state(reconstruction)
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
            "bits": self.bits,
            "bounded": self.bounded,
            "reconstruction_loss": self.reconstruction_loss,
            "loss_top_db": self.loss_top_db,
            "stem": self.stem,
            "stem_weights": self.stem_weights,
            "seed": self.seed,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MusicAutoencoder:
        # Weights come from the saved file: never download ImageNet weights on load.
        return cls(**{**config, "stem_weights": None})
