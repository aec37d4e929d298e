"""Shared behaviour of the waveform → latent → log-mel models (inputs, encode/decode, adapt)."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.band_normalization import BandNormalization
from keras_musiclatent.layers.deterministic_bottleneck import DeterministicBottleneck
from keras_musiclatent.layers.frame_mask import FrameMask
from keras_musiclatent.layers.gaussian_sampling import GaussianSampling
from keras_musiclatent.layers.log_mel_spectrogram import LogMelSpectrogram
from keras_musiclatent.models.attention_encoder import AttentionEncoder
from keras_musiclatent.models.crnn_encoder import CRNNEncoder
from keras_musiclatent.models.losses import (
    clip_consistency_loss,
    free_bits_kl,
    gaussian_kl,
    genre_terms,
    kl_weight,
    masked_reconstruction_loss,
    spectral_rmse_db,
)
from keras_musiclatent.models.mel_decoder import MelDecoder
from keras_musiclatent.models.musicnn_encoder import MusicnnEncoder
from keras_musiclatent.models.time_encoder import TimeLatentEncoder

__all__ = ["BOTTLENECKS", "LatentAudioModel", "build_parts", "fixed_bottleneck"]

ENCODERS = ("crnn", "attention", "musicnn")
#: Pretrained networks the latent can be taught to predict (``teacher``).
TEACHERS = (None, "musicnn")


def build_parts(
    *,
    encoder: str,
    latent_dim: int,
    sample_rate: int,
    segment_seconds: float,
    n_fft: int,
    hop_length: int,
    n_mels: int,
    conv_filters,
    pool_sizes,
    rnn_units: int,
    hidden_dim: int,
    attention_dim: int,
    num_layers: int,
    num_heads: int,
    decoder_sequence: str | None,
    dropout: float,
    stem: str,
    stem_weights: str | None,
    linear_path: bool = False,
    linear_path_trainable: bool = True,
    encoder_trainable: bool = True,
    musicnn_backbone: dict[str, Any] | None = None,
    time_latent_dim: int = 0,
) -> dict[str, Any]:
    """The layers both models share: front end, encoder backbone, decoder.

    ``encoder="musicnn"`` takes the waveform (:class:`MusicnnEncoder`); the others take the
    band-normalised log-mel. ``encoder_trainable=False`` freezes the encoder.
    """
    if encoder not in ENCODERS:
        raise ConfigError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    if latent_dim <= 0:
        raise ConfigError(f"latent_dim must be positive, got {latent_dim}")
    samples = round(sample_rate * segment_seconds)
    if samples < n_fft:
        raise ConfigError(f"a segment ({samples} samples) must be at least n_fft ({n_fft})")
    log_mel = LogMelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, name="log_mel"
    )
    frames = log_mel.num_frames(samples)
    if encoder == "crnn":
        backbone = CRNNEncoder(
            frames=frames,
            n_mels=n_mels,
            conv_filters=conv_filters,
            pool_sizes=pool_sizes,
            rnn_units=rnn_units,
            output_dim=hidden_dim,
            dropout=dropout,
            stem=stem,
            stem_weights=stem_weights,
            name="encoder",
        )
    elif encoder == "musicnn":
        backbone = MusicnnEncoder(
            sample_rate=sample_rate, samples=samples, backbone=musicnn_backbone, name="encoder"
        )
    else:
        backbone = AttentionEncoder(
            frames=frames,
            n_mels=n_mels,
            conv_filters=conv_filters,
            pool_sizes=pool_sizes,
            hidden_dim=attention_dim,
            num_layers=num_layers,
            num_heads=num_heads,
            intermediate_dim=2 * attention_dim,
            output_dim=hidden_dim,
            dropout=dropout,
            stem=stem,
            stem_weights=stem_weights,
            name="encoder",
        )
    backbone.trainable = bool(encoder_trainable)
    if decoder_sequence is None:
        decoder_sequence = "gru" if encoder == "crnn" else "transformer"
    decoder = MelDecoder(
        latent_dim=latent_dim,
        frames=frames,
        n_mels=n_mels,
        conv_filters=conv_filters,
        pool_sizes=pool_sizes,
        sequence=decoder_sequence,
        rnn_units=rnn_units,
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        num_heads=num_heads,
        dropout=dropout,
        linear_path=linear_path,
        linear_path_trainable=linear_path_trainable,
        time_latent_dim=time_latent_dim,
        name="decoder",
    )
    return {
        "samples": samples,
        "frames": frames,
        "log_mel": log_mel,
        "frame_mask": FrameMask(frames=frames, hop_length=hop_length, name="frame_mask"),
        "band_norm": BandNormalization(n_bands=n_mels, name="band_norm"),
        "encoder": backbone,
        "decoder": decoder,
        "decoder_sequence": decoder_sequence,
        "time_encoder": (
            TimeLatentEncoder(
                frames=frames,
                n_mels=n_mels,
                steps=decoder.steps,
                dim=time_latent_dim,
                name="time_encoder",
            )
            if time_latent_dim
            else None
        ),
    }


BOTTLENECKS = ("gaussian", "deterministic")
#: Options that belong to one bottleneck only.
_GAUSSIAN_ONLY = ("beta", "kl_warmup_steps", "free_bits")
_DETERMINISTIC_ONLY = ("bits", "bounded", "min_bits")


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class LatentAudioModel(keras.Model):
    """Waveform → log-mel → encoder → latent → decoder → log-mel: the one latent model family.

    ``LogMelSpectrogram`` → ``BandNormalization`` → encoder (``CRNNEncoder`` or
    ``AttentionEncoder``) → bottleneck → ``MelDecoder`` → de-normalisation, so the
    reconstruction is a log-mel in dB on the input's frame grid.

    The bottleneck is ``"gaussian"`` (a β-VAE: ``z_mean``/``z_log_var`` → ``GaussianSampling``)
    or ``"deterministic"`` (an autoencoder for compression: a ``tanh``-bounded code,
    quantised to ``bits`` per dimension with training noise, so
    ``bitrate_bps = latent_dim * bits / segment_seconds`` is what :meth:`compress` needs).
    :class:`MusicVAE` and :class:`MusicAutoencoder` are this class with the bottleneck fixed.

    Loss (``compute_loss``, the same on TensorFlow, JAX and PyTorch)::

        reconstruction = mean over real frames and bands of ((E - R) / band_std)**2
                         (both floored at max(R) - loss_top_db per example)
        kl_term        = sum_d max(free_bits, mean_batch KL_d)                 (gaussian)
        teacher_term   = mean over dims of (W z_mean + b - teacher(audio))**2   (teacher)
        loss           = reconstruction + beta * min(1, step / kl_warmup_steps) * kl_term
                         + teacher_weight * teacher_term
                         + consistency_weight * InfoNCE(z_mean of paired crops)  (training)

    ``fit`` logs ``loss``, ``reconstruction_loss``, ``spectral_rmse_db`` (real frames only)
    and, for the gaussian bottleneck, ``kl`` (plain KL in nats per example), and with a
    teacher ``teacher_loss``.

    With ``teacher="musicnn"`` a frozen musicnn network (:class:`MusicnnEncoder`, initialised
    from ``musicnn-msd`` by ``keras_musiclatent.presets.load_encoder_weights``) embeds each
    training window, and a linear map of the latent mean must predict that embedding: the
    latent is pushed towards what the pretrained network knows about the music, while the
    encoder stays the model's own. The teacher plays no part in encoding or decoding.

    Inputs: a waveform batch ``(batch, samples)`` float32, or a dict
    ``{"audio": (batch, samples) float32, "length": (batch,) int32}`` where ``length`` is the
    number of real samples of each zero-padded segment (missing = all real), so padding never
    counts in the loss. ``fit(x)`` takes either; no targets.

    Outputs of ``call``/``predict``: a dict with ``"reconstruction"`` (decoded log-mel, dB,
    ``(batch, frames, n_mels)``), ``"log_mel"`` (the input's log-mel, dB, same shape),
    ``"mask"`` (``(batch, frames)``, 1 = real frame) and ``"z"`` (``(batch, latent_dim)``),
    plus ``"z_mean"``/``"z_log_var"`` for the gaussian bottleneck. Use :meth:`encode`,
    :meth:`decode` or :meth:`reconstruct` for numpy in, numpy out.

    Example:
        >>> model = LatentAudioModel(bottleneck="deterministic", segment_seconds=1.0,
        ...     n_fft=512, hop_length=256, n_mels=32, conv_filters=(8, 8),
        ...     pool_sizes=((2, 2), (2, 4)), rnn_units=8, hidden_dim=16, latent_dim=4, bits=4)
        >>> codes = model.compress(np.zeros((2, 22050), "float32"))  # (2, 4) ints in [0, 16)
        >>> model.decompress(codes).shape
        (2, 87, 32)
    """

    def __init__(
        self,
        *,
        # "gaussian" (VAE: smooth space to interpolate and sample) or "deterministic"
        # (autoencoder with a quantised code: compression at an honest bitrate).
        bottleneck: str = "gaussian",
        # The CRNN trains fastest on CPU and is the reference; "attention" is the alternative;
        # "musicnn" is the pretrained musicnn network (Pons & Serra 2019) on the waveform,
        # resampled to its 16 kHz inside the model (load the musicnn-msd weights with
        # keras_musiclatent.presets.load_encoder_weights).
        encoder: str = "crnn",
        # False freezes the encoder (a pretrained front end as a fixed feature extractor).
        encoder_trainable: bool = True,
        # encoder="musicnn" or teacher="musicnn": MusicnnBackbone options (None: the
        # MSD_musicnn layout the zoo weights fit; smaller layouts for tests).
        musicnn_backbone: dict[str, Any] | None = None,
        # "musicnn": an auxiliary loss in which a linear map of the latent mean predicts a
        # frozen musicnn's 200-d embedding of the window (distillation from the pretrained
        # network); None: no teacher.
        teacher: str | None = None,
        # Weight of the teacher loss. Its scale is that of the normalised reconstruction loss
        # (mean squared error of unit-scale features), so 1.0 weighs both alike.
        teacher_weight: float = 1.0,
        # Weight of a clip-consistency (InfoNCE) term on the latent mean: two random crops of
        # one clip should share their global latent. It needs training batches whose halves
        # pair up (rows i and i + batch/2 from one clip): CropDataset(pairs=True), which a
        # training config with training.sampling: crops gives it. 0: no such term.
        consistency_weight: float = 0.0,
        consistency_temperature: float = 0.1,
        # A frozen musicnn network (load musicnn-msd into it) whose 200-d embedding of the
        # window joins the encoder's features before the latent heads: the global latent then
        # starts from what a network trained on a million songs' tags knows.
        musicnn_features: bool = False,
        # Numbers per step of a time-varying latent (17 steps per 3-s segment, ~5.7 Hz, at the
        # defaults) that carries onsets and loudness, which the time-independent global
        # latent cannot; 0: the global latent alone (models saved before it existed).
        time_latent_dim: int = 0,
        # Genre names of a semi-supervised term: a linear softmax on the global latent mean is
        # trained on the batches' labels (fit(x, labels), -1 = unlabelled; only the training
        # clips the config labels). Empty or genre_weight 0: no such term.
        genres: Sequence[str] = (),
        genre_weight: float = 0.0,
        # 64 dims hold a 3-s segment's timbre and rhythm summary while staying easy to probe
        # and interpolate; with free bits, unused dims show up in active_units.
        latent_dim: int = 64,
        # Audio defaults of the project: librosa's 22050 Hz, 2048/512, 128 mels.
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
        # models.initialize_from_pca).
        linear_path: bool = False,
        # False freezes the linear paths (after initialize_from_pca: the conv paths then
        # learn a correction on top of PCA).
        linear_path_trainable: bool = True,
        # How many latent dims initialize_from_pca gives the PCA (None: all). The others
        # start with no linear path at all, free for what the encoder's features add
        # (musicnn, the genre and consistency terms): PCA scores in every dimension drown
        # those in spectral detail for a genre probe.
        linear_path_dims: int | None = None,
        # Gaussian only. Mean-per-element normalised MSE sets the scale: beta=1e-4 equals
        # beta≈1.7 on a summed squared error over the 130x128 grid (a standard β-VAE), which
        # keeps reconstructions sharp while the KL keeps the space smooth for interpolation.
        beta: float = 1e-4,
        # Gaussian only. Bowman et al. 2016: start with no KL so the decoder learns to use z
        # (≈10 epochs of GTZAN training segments at batch 32).
        kl_warmup_steps: int = 3000,
        # Gaussian only. Kingma et al. 2016: dims under 0.25 nats feel no KL pressure.
        free_bits: float = 0.25,
        # Deterministic only. 8 bits per dim: the rounding error (step 2/255) is far below
        # the decoder's error, and 64 x 8 bits per 3 s = 171 bit/s.
        bits: int | None = 8,
        # Deterministic only. Train the decoder for every precision from min_bits to bits,
        # so one model writes streams at several bitrates (None: bits only).
        min_bits: int | None = None,
        # Deterministic only. tanh keeps the code in [-1, 1] so a fixed grid covers it.
        bounded: bool = True,
        # MSE in normalised dB; "l1" is more robust to loud transients.
        reconstruction_loss: str = "mse",
        # Matches the spectral RMSE floor: detail 80 dB under the peak is inaudible and
        # should not cost capacity.
        loss_top_db: float | None = 80.0,
        # "cnn" trains from scratch; "mobilenet_v2" starts from an ImageNet stem.
        stem: str = "cnn",
        stem_weights: str | None = None,
        # Seeds the posterior sampling or quantisation noise (weights follow
        # keras.utils.set_random_seed).
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if bottleneck not in BOTTLENECKS:
            raise ConfigError(f"bottleneck must be one of {BOTTLENECKS}, got {bottleneck!r}")
        if beta < 0 or free_bits < 0 or kl_warmup_steps < 0:
            raise ConfigError("beta, free_bits and kl_warmup_steps must be non-negative")
        if reconstruction_loss not in ("mse", "l1"):
            raise ConfigError(
                f"reconstruction_loss must be 'mse' or 'l1', got {reconstruction_loss!r}"
            )
        if teacher not in TEACHERS:
            raise ConfigError(f"teacher must be one of {TEACHERS}, got {teacher!r}")
        if teacher_weight < 0:
            raise ConfigError(f"teacher_weight must be non-negative, got {teacher_weight}")
        if consistency_weight < 0 or consistency_temperature <= 0:
            raise ConfigError(
                "consistency_weight must be >= 0 and consistency_temperature > 0, got "
                f"{consistency_weight} and {consistency_temperature}"
            )
        if time_latent_dim < 0:
            raise ConfigError(f"time_latent_dim must be >= 0, got {time_latent_dim}")
        if linear_path_dims is not None and not 1 <= linear_path_dims <= latent_dim:
            raise ConfigError(
                f"linear_path_dims must be in [1, latent_dim={latent_dim}], got {linear_path_dims}"
            )
        if genre_weight < 0 or (genre_weight > 0 and len(genres) < 2):
            raise ConfigError(
                f"genre_weight must be >= 0 and needs at least 2 genres, got {genre_weight} "
                f"and {list(genres)}"
            )
        gaussian = bottleneck == "gaussian"

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
            encoder_trainable=encoder_trainable,
            musicnn_backbone=musicnn_backbone,
            time_latent_dim=time_latent_dim,
        )
        log_mel_layer = parts["log_mel"]
        frame_mask_layer = parts["frame_mask"]
        band_norm = parts["band_norm"]
        encoder_model = parts["encoder"]
        # Layer names are those of the saved zoo models: weights load by them.
        head = keras.layers.Dense(latent_dim, name="z_mean" if gaussian else "code")
        z_linear = (
            keras.layers.Dense(latent_dim, trainable=linear_path_trainable, name="z_linear")
            if linear_path
            else None
        )
        if gaussian:
            z_log_var_dense = keras.layers.Dense(latent_dim, name="z_log_var")
            sampler = GaussianSampling(seed=seed, name="sampling")
        else:
            quantiser = DeterministicBottleneck(
                bits=bits, bounded=bounded, seed=seed, min_bits=min_bits, name="bottleneck"
            )
        decoder = parts["decoder"]
        time_encoder = parts["time_encoder"]
        if time_encoder is not None:
            if gaussian:
                time_bottleneck = GaussianSampling(seed=seed, name="time_sampling")
            else:
                time_bottleneck = DeterministicBottleneck(
                    bits=bits,
                    bounded=bounded,
                    seed=seed,
                    min_bits=min_bits,
                    name="time_bottleneck",
                )

        def frozen_musicnn(name: str) -> MusicnnEncoder:
            network = MusicnnEncoder(
                sample_rate=sample_rate,
                samples=parts["samples"],
                backbone=musicnn_backbone,
                name=name,
            )
            network.trainable = False
            return network

        semantic = frozen_musicnn("musicnn_features") if musicnn_features else None
        genre_head = (
            keras.layers.Dense(len(genres), name="genre_logits") if genre_weight > 0 else None
        )
        teacher_model = teacher_head = None
        if teacher is not None:
            teacher_model = frozen_musicnn("teacher")
            teacher_head = keras.layers.Dense(teacher_model.output_dim, name="teacher_prediction")

        # === Functional Model ===
        samples, frames = parts["samples"], parts["frames"]
        audio = keras.Input(shape=(samples,), name="audio")
        length = keras.Input(shape=(), dtype="int32", name="length")
        log_mel = log_mel_layer(audio)
        mask = frame_mask_layer(length)
        normalised = band_norm(log_mel)
        features = encoder_model(audio if encoder == "musicnn" else normalised)
        if semantic is not None:
            features = keras.layers.Concatenate(name="with_musicnn")([features, semantic(audio)])
        code = head(features)
        if z_linear is not None:
            flat = keras.layers.Flatten(name="flat_log_mel")(normalised)
            code = keras.layers.Add(name="z_mean_sum" if gaussian else "code_sum")(
                [code, z_linear(flat)]
            )
        outputs = {"log_mel": log_mel, "mask": mask}
        if gaussian:
            z_log_var = z_log_var_dense(features)
            z = sampler([code, z_log_var])
            outputs.update({"z_mean": code, "z_log_var": z_log_var})
        else:
            z = quantiser(code)
        decoder_inputs = z
        if time_encoder is not None:
            time_code = time_encoder(normalised)
            if gaussian:
                z_time = time_bottleneck([time_code["mean"], time_code["log_var"]])
                outputs.update(
                    {"z_time_mean": time_code["mean"], "z_time_log_var": time_code["log_var"]}
                )
            else:
                z_time = time_bottleneck(time_code["mean"])
            outputs["z_time"] = z_time
            decoder_inputs = [z, z_time]
        if genre_head is not None:
            outputs["genre_logits"] = genre_head(code)
        outputs.update({"z": z, "reconstruction": band_norm(decoder(decoder_inputs), inverse=True)})
        if teacher_model is not None:
            outputs["teacher"] = teacher_model(audio)
            outputs["teacher_prediction"] = teacher_head(code)
        kwargs.setdefault("name", "music_vae" if gaussian else "music_autoencoder")
        super().__init__(inputs={"audio": audio, "length": length}, outputs=outputs, **kwargs)

        # === Config ===
        # Sub-layers are attached after Model.__init__ (PyTorch modules require it).
        self.log_mel_layer = log_mel_layer
        self.frame_mask_layer = frame_mask_layer
        self.band_norm = band_norm
        self.encoder = encoder_model
        self.z_linear = z_linear
        self.decoder = decoder
        self.time_encoder = time_encoder
        self.time_bottleneck = time_bottleneck if time_encoder is not None else None
        self.semantic = semantic
        self.genre_dense = genre_head
        self.musicnn_features = bool(musicnn_features)
        self.time_latent_dim = int(time_latent_dim)
        self.time_steps = int(decoder.steps) if time_latent_dim else 0
        self.genres = tuple(str(g) for g in genres)
        self.genre_weight = float(genre_weight)
        if gaussian:
            self.z_mean_dense = head
            self.z_log_var_dense = z_log_var_dense
            self.sampler = sampler
        else:
            self.code_dense = head
            self.bottleneck = quantiser
        self.bottleneck_type = bottleneck
        self.encoder_type = encoder
        self.encoder_trainable = bool(encoder_trainable)
        self.teacher = teacher_model
        self.teacher_head = teacher_head
        self.teacher_type = teacher
        self.teacher_weight = float(teacher_weight)
        self.consistency_weight = float(consistency_weight)
        self.consistency_temperature = float(consistency_temperature)
        self.musicnn_backbone = None if musicnn_backbone is None else dict(musicnn_backbone)
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
        self.linear_path_dims = None if linear_path_dims is None else int(linear_path_dims)
        self.beta = float(beta)
        self.kl_warmup_steps = int(kl_warmup_steps)
        self.free_bits = float(free_bits)
        self.bits = None if bits is None else int(bits)
        self.min_bits = None if min_bits is None else int(min_bits)
        self.bounded = bool(bounded)
        self.reconstruction_loss = reconstruction_loss
        self.loss_top_db = None if loss_top_db is None else float(loss_top_db)
        self.stem = stem
        self.stem_weights = stem_weights
        self.seed = seed
        self.samples = samples
        self.frames = frames

        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.spectral_rmse_tracker = keras.metrics.Mean(name="spectral_rmse_db")
        if gaussian:
            # Training state: a variable, so the warm-up advances under jit and is saved.
            self.kl_step = self.add_weight(
                name="kl_step", shape=(), initializer="zeros", trainable=False, dtype="float32"
            )
            self.kl_tracker = keras.metrics.Mean(name="kl")
        if teacher_model is not None:
            self.teacher_tracker = keras.metrics.Mean(name="teacher_loss")
        if self.consistency_weight > 0:
            self.consistency_tracker = keras.metrics.Mean(name="consistency_loss")
        if time_encoder is not None and gaussian:
            self.time_kl_tracker = keras.metrics.Mean(name="time_kl")
        if genre_head is not None:
            self.genre_loss_tracker = keras.metrics.Mean(name="genre_loss")
            self.genre_accuracy_tracker = keras.metrics.Mean(name="genre_accuracy")

    @property
    def is_variational(self) -> bool:
        """True for the gaussian bottleneck (a VAE with a prior to sample from)."""
        return self.bottleneck_type == "gaussian"

    @classmethod
    def option_names(cls) -> frozenset[str]:
        """Keyword options this class accepts (what a config or a search space may set)."""
        return frozenset(inspect.signature(cls.__init__).parameters) - {"self", "kwargs"}

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "bottleneck": self.bottleneck_type,
                "encoder": self.encoder_type,
                "encoder_trainable": self.encoder_trainable,
                "musicnn_backbone": self.musicnn_backbone,
                "teacher": self.teacher_type,
                "teacher_weight": self.teacher_weight,
                "consistency_weight": self.consistency_weight,
                "consistency_temperature": self.consistency_temperature,
                "musicnn_features": self.musicnn_features,
                "time_latent_dim": self.time_latent_dim,
                "genres": list(self.genres),
                "genre_weight": self.genre_weight,
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
                "linear_path_dims": self.linear_path_dims,
                "reconstruction_loss": self.reconstruction_loss,
                "loss_top_db": self.loss_top_db,
                "stem": self.stem,
                "stem_weights": self.stem_weights,
                "seed": self.seed,
            }
        )
        if self.is_variational:
            config.update(
                {
                    "beta": self.beta,
                    "kl_warmup_steps": self.kl_warmup_steps,
                    "free_bits": self.free_bits,
                }
            )
        else:
            config.update({"bits": self.bits, "bounded": self.bounded})
            if self.min_bits is not None:  # configs saved before the option load unchanged
                config["min_bits"] = self.min_bits
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LatentAudioModel:
        # Weights come from the saved file: never download ImageNet weights on load.
        return cls(**{**config, "stem_weights": None})

    # --- inputs ---------------------------------------------------------------------------

    def _standardize_audio_inputs(self, inputs):
        if isinstance(inputs, dict):
            audio = inputs["audio"]
            length = inputs.get("length")
        elif isinstance(inputs, list | tuple) and len(inputs) == 2:
            audio, length = inputs
        else:
            audio, length = inputs, None
        # numpy in, tensors out: Keras refuses a dict that mixes arrays and tensors.
        if isinstance(audio, np.ndarray):
            audio = ops.convert_to_tensor(audio, "float32")
        if isinstance(length, np.ndarray | list):
            length = ops.convert_to_tensor(np.asarray(length, "int32"))
        if length is None:
            length = ops.cast(ops.ones_like(audio[:, 0]), "int32") * self.samples
        return {"audio": audio, "length": length}

    def __call__(self, inputs, *args, **kwargs):
        # Standardise before Keras checks the inputs against the two named model inputs.
        return super().__call__(self._standardize_audio_inputs(inputs), *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        return super().call(self._standardize_audio_inputs(inputs), training=training, mask=mask)

    def compute_output_spec(self, inputs, training=None, mask=None):
        return super().compute_output_spec(
            self._standardize_audio_inputs(inputs), training=training, mask=mask
        )

    # --- losses and metrics ---------------------------------------------------------------

    def _reconstruction_terms(self, y_pred):
        """(reconstruction loss on the normalised log-mel, per-example spectral RMSE in dB)."""
        scale = ops.maximum(ops.convert_to_tensor(self.band_norm.std), self.band_norm.epsilon)
        recon = masked_reconstruction_loss(
            y_pred["log_mel"],
            y_pred["reconstruction"],
            y_pred["mask"],
            kind=self.reconstruction_loss,
            top_db=self.loss_top_db,
            scale=scale,
        )
        rmse = spectral_rmse_db(y_pred["log_mel"], y_pred["reconstruction"], y_pred["mask"])
        return recon, rmse

    def _regularization_losses(self):
        """Sum of weight-regulariser and ``add_loss`` terms (0.0 when there are none)."""
        losses = [ops.sum(ops.cast(loss, "float32")) for loss in self.losses]
        if not losses:
            return 0.0
        return ops.sum(ops.stack(losses))

    def current_kl_weight(self) -> float:
        """The KL weight the next training step uses (``beta`` times the warm-up ramp)."""
        if not self.is_variational:
            return 0.0
        weight = kl_weight(self.kl_step, beta=self.beta, warmup_steps=self.kl_warmup_steps)
        return float(ops.convert_to_numpy(weight))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Reconstruction (+ warmed-up β·KL for the gaussian bottleneck, + the teacher loss);
        updates the metrics."""
        reconstruction, rmse = self._reconstruction_terms(y_pred)
        total = reconstruction + self._regularization_losses()
        if self.is_variational:
            z_log_var = ops.clip(
                y_pred["z_log_var"], -self.sampler.log_var_clip, self.sampler.log_var_clip
            )
            kl_per_dim = gaussian_kl(y_pred["z_mean"], z_log_var)
            weight = kl_weight(self.kl_step, beta=self.beta, warmup_steps=self.kl_warmup_steps)
            total = total + weight * free_bits_kl(kl_per_dim, self.free_bits)
            if self.time_encoder is not None:
                # The same prior, weight and free bits per (step, dim) as the global latent.
                time_log_var = ops.clip(
                    y_pred["z_time_log_var"], -self.sampler.log_var_clip, self.sampler.log_var_clip
                )
                time_kl = gaussian_kl(y_pred["z_time_mean"], time_log_var)
                total = total + weight * free_bits_kl(time_kl, self.free_bits)
                self.time_kl_tracker.update_state(ops.mean(ops.sum(time_kl, axis=(1, 2))))
            if training:
                self.kl_step.assign_add(1.0)
            self.kl_tracker.update_state(ops.mean(ops.sum(kl_per_dim, axis=-1)))
        if self.teacher is not None:
            target = ops.stop_gradient(y_pred["teacher"])
            teacher_loss = ops.mean(ops.square(y_pred["teacher_prediction"] - target))
            total = total + self.teacher_weight * teacher_loss
            self.teacher_tracker.update_state(teacher_loss)
        if self.genre_dense is not None and y is not None:
            genre_loss, genre_accuracy = genre_terms(y_pred["genre_logits"], y)
            total = total + self.genre_weight * genre_loss
            self.genre_loss_tracker.update_state(genre_loss)
            self.genre_accuracy_tracker.update_state(genre_accuracy)
        if training and self.consistency_weight > 0:
            # Only training batches come in pairs; validation is the protocol's grid.
            code = y_pred["z_mean"] if self.is_variational else y_pred["z"]
            consistency = clip_consistency_loss(code, temperature=self.consistency_temperature)
            total = total + self.consistency_weight * consistency
            self.consistency_tracker.update_state(consistency)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        self.spectral_rmse_tracker.update_state(rmse)
        return total

    # --- user API ---------------------------------------------------------------------------

    @property
    def segment_samples(self) -> int:
        """Samples per input segment."""
        return self.samples

    def _batches(self, data, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        if isinstance(data, dict):
            audio = np.asarray(data["audio"], "float32")
            length = data.get("length")
            length = None if length is None else np.asarray(length, "int32")
        else:
            audio, length = np.asarray(data, "float32"), None
        if audio.ndim == 1:
            audio = audio[None, :]
        if audio.ndim != 2 or audio.shape[1] != self.samples:
            raise ConfigError(
                f"expected waveforms of shape (batch, {self.samples}), got {audio.shape}"
            )
        for start in range(0, audio.shape[0], batch_size):
            stop = start + batch_size
            yield audio[start:stop], None if length is None else length[start:stop]

    @property
    def encodes_log_mel(self) -> bool:
        """True when latents can be computed from a log-mel alone (:meth:`encode_log_mel`);
        the musicnn encoder and musicnn features need the waveform."""
        return self.encoder_type != "musicnn" and self.semantic is None

    def _features(self, audio, normalised):
        features = self.encoder(
            audio if self.encoder_type == "musicnn" else normalised, training=False
        )
        if self.semantic is not None:
            features = ops.concatenate([features, self.semantic(audio, training=False)], axis=-1)
        return features

    def _encode_batch(self, audio, *, sample: bool, with_time: bool = False):
        # One log-mel per batch for both latents.
        normalised = self.band_norm(self.log_mel_layer(audio))
        out = self._encode_features(self._features(audio, normalised), normalised, sample=sample)
        return (*out, self._time_code(normalised)) if with_time else out

    def _encode_log_mel(self, log_mel, *, sample: bool):
        normalised = self.band_norm(log_mel)
        return self._encode_features(self._features(None, normalised), normalised, sample=sample)

    def _time_code(self, normalised):
        time_code = self.time_encoder(normalised, training=False)
        if self.is_variational:
            return time_code["mean"]
        return self.time_bottleneck(time_code["mean"], training=False)

    def encode_time(self, waveforms, *, batch_size: int = 32) -> np.ndarray:
        """The time-varying latent ``(batch, time_steps, time_latent_dim)`` of waveforms
        (its mean for the gaussian bottleneck; the quantised code for the deterministic one).

        Raises:
            ConfigError: the model has no time-varying latent (``time_latent_dim=0``).

        Example:
            >>> model.encode_time(waves).shape  # doctest: +SKIP
            (n, 17, 4)
        """
        self._require_time_latent()
        return self._encode_parts(waveforms, sample=False, batch_size=batch_size, with_time=True)[3]

    def encode_time_log_mel(self, log_mel, *, batch_size: int = 32) -> np.ndarray:
        """:meth:`encode_time` of log-mels in dB ``(batch, frames, n_mels)``."""
        self._require_time_latent()
        log_mel = self._checked_log_mel(log_mel)
        parts = [
            ops.convert_to_numpy(
                self._time_code(self.band_norm(ops.convert_to_tensor(log_mel[i : i + batch_size])))
            )
            for i in range(0, len(log_mel), batch_size)
        ]
        return np.concatenate(parts)

    def _require_time_latent(self) -> None:
        if not self.time_latent_dim:
            raise ConfigError("this model has no time-varying latent (time_latent_dim=0)")

    def _checked_log_mel(self, log_mel) -> np.ndarray:
        log_mel = np.asarray(log_mel, "float32")
        if log_mel.ndim != 3 or log_mel.shape[1:] != (self.frames, self.n_mels):
            raise ConfigError(
                f"expected log-mels (batch, {self.frames}, {self.n_mels}), got {log_mel.shape}"
            )
        return log_mel

    def _encode_features(self, features, normalised, *, sample: bool):
        code = (self.z_mean_dense if self.is_variational else self.code_dense)(features)
        if self.z_linear is not None:
            code = code + self.z_linear(ops.reshape(normalised, (ops.shape(normalised)[0], -1)))
        if not self.is_variational:
            z = self.bottleneck(code, training=False)
            return z, ops.zeros_like(z), z
        z_log_var = self.z_log_var_dense(features)
        z = self.sampler([code, z_log_var], training=sample)
        return code, z_log_var, z

    def encode(
        self, waveforms, *, sample: bool = True, batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Encode waveforms to latents.

        Args:
            waveforms: ``(batch, samples)`` array (or ``(samples,)``), or a dict with ``"audio"``
                (``"length"`` is accepted and ignored: the encoder sees the padded segment).
            sample: draw ``z`` from the posterior (VAE); ``False`` returns ``z = z_mean``.
            batch_size: examples per forward pass.

        Returns:
            ``(z_mean, z_log_var, z)``, each ``(batch, latent_dim)`` numpy float32.
        """
        return self._encode_parts(waveforms, sample=sample, batch_size=batch_size)

    def encode_with_time(
        self, waveforms, *, sample: bool = True, batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`encode` and :meth:`encode_time` in one pass over the waveforms.

        Returns:
            ``(z_mean, z_log_var, z, z_time)``; ``z_time`` is
            ``(batch, time_steps, time_latent_dim)``.

        Raises:
            ConfigError: the model has no time-varying latent.
        """
        self._require_time_latent()
        return self._encode_parts(waveforms, sample=sample, batch_size=batch_size, with_time=True)

    def _encode_parts(self, waveforms, *, sample: bool, batch_size: int, with_time: bool = False):
        parts = [
            self._encode_batch(ops.convert_to_tensor(a), sample=sample, with_time=with_time)
            for a, _ in self._batches(waveforms, batch_size)
        ]
        return tuple(
            np.concatenate([ops.convert_to_numpy(p[i]) for p in parts])
            for i in range(len(parts[0]))
        )

    def embed_windows(self, windows, *, batch_size: int = 32) -> dict[str, np.ndarray]:
        """``{"embedding": (n, latent_dim)}``: the latent means of ``(n, samples)`` windows.

        The embedding interface the pretrained networks offer too (see ``MusicnnBackbone``).

        Example:
            >>> model.embed_windows(waves)["embedding"].shape  # doctest: +SKIP
            (n, latent_dim)
        """
        z_mean, _, _ = self.encode(windows, sample=False, batch_size=batch_size)
        return {"embedding": z_mean}

    def encode_log_mel(self, log_mel, *, batch_size: int = 32) -> np.ndarray:
        """Latent means ``(batch, latent_dim)`` of log-mels in dB ``(batch, frames, n_mels)``.

        Lets decodes be re-encoded (e.g. to classify an interpolation step) without audio.
        """
        if not self.encodes_log_mel:
            what = "musicnn_features" if self.semantic is not None else "the musicnn encoder"
            raise ConfigError(f"a model with {what} encodes waveforms, not log-mels")
        log_mel = self._checked_log_mel(log_mel)
        parts = [
            ops.convert_to_numpy(
                self._encode_log_mel(
                    ops.convert_to_tensor(log_mel[i : i + batch_size]), sample=False
                )[0]
            )
            for i in range(0, len(log_mel), batch_size)
        ]
        return np.concatenate(parts)

    @property
    def bitrate_bps(self) -> float | None:
        """Bits per second of the quantised code; ``None`` without ``bits`` or for a VAE."""
        if self.is_variational or self.bits is None:
            return None
        return self.latent_dim * self.bits / self.segment_seconds

    def _quantiser(self) -> DeterministicBottleneck:
        if self.is_variational:
            raise ConfigError("compress/decompress need the deterministic bottleneck")
        return self.bottleneck

    def compress(self, waveforms, *, batch_size: int = 32) -> np.ndarray:
        """Integer codes ``(batch, latent_dim)`` in ``[0, 2**bits)`` (deterministic, ``bits``)."""
        quantiser = self._quantiser()
        if self.time_latent_dim:
            raise ConfigError(
                "compress stores the global code only; this model also has a time-varying latent"
            )
        z, _, _ = self.encode(waveforms, batch_size=batch_size)
        return ops.convert_to_numpy(quantiser.quantize_codes(z, bounded=True))

    def decompress(self, codes, *, batch_size: int = 32) -> np.ndarray:
        """Log-mel dB ``(batch, frames, n_mels)`` of integer codes from :meth:`compress`."""
        z = ops.convert_to_numpy(self._quantiser().dequantize_codes(codes))
        return self.decode(z, batch_size=batch_size)

    @property
    def code_bits(self) -> list[int]:
        """Precisions (bits per number) the decoder was trained for, coarsest first."""
        self._quantiser()
        return list(range(self.min_bits or self.bits, self.bits + 1))

    def encode_codes(
        self, waveforms, *, bits: int | None = None, batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Integer codes of both latents at ``bits`` per number (default :attr:`bits`).

        Returns:
            ``(global (batch, latent_dim), time (batch, time_steps, time_latent_dim))`` int32
            codes in ``[0, 2**bits)``; ``time`` is ``None`` without a time-varying latent.
        """
        self._quantiser()
        parts = self._encode_parts(
            waveforms, sample=False, batch_size=batch_size, with_time=bool(self.time_latent_dim)
        )
        return self.codes_of(parts[2], parts[3] if self.time_latent_dim else None, bits=bits)

    def codes_of(
        self, z, z_time=None, *, bits: int | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Integer codes at ``bits`` of latents from :meth:`encode` / :meth:`encode_time`.

        Those latents already lie on the finest grid (``bits``); a coarser grid re-rounds them,
        so one encoding gives the codes of every precision.
        """
        quantiser = self._quantiser()
        bits = self._check_code_bits(bits)
        codes = ops.convert_to_numpy(quantiser.quantize_codes(z, bounded=True, bits=bits))
        if z_time is None:
            return codes, None
        self._require_time_latent()
        time_codes = self.time_bottleneck.quantize_codes(z_time, bounded=True, bits=bits)
        return codes, ops.convert_to_numpy(time_codes)

    def decode_codes(
        self, codes, time_codes=None, *, bits: int | None = None, batch_size: int = 32
    ) -> np.ndarray:
        """Log-mel dB ``(batch, frames, n_mels)`` of the codes of :meth:`encode_codes`."""
        quantiser = self._quantiser()
        bits = self._check_code_bits(bits)
        z = ops.convert_to_numpy(quantiser.dequantize_codes(codes, bits=bits))
        z_time = None
        if time_codes is not None:
            self._require_time_latent()
            z_time = ops.convert_to_numpy(
                self.time_bottleneck.dequantize_codes(time_codes, bits=bits)
            )
        return self.decode(z, z_time=z_time, batch_size=batch_size)

    def _check_code_bits(self, bits: int | None) -> int:
        bits = self.bits if bits is None else int(bits)
        if bits not in self.code_bits:
            raise ConfigError(
                f"this model's decoder was trained for {self.code_bits[0]}..{self.code_bits[-1]} "
                f"bits per number, got {bits}"
            )
        return bits

    def _decode_batch(self, z, z_time=None):
        inputs = z if self.time_encoder is None else [z, z_time]
        normalised = self.decoder(inputs, training=False)
        return self.band_norm(normalised, inverse=True)

    def prior_time_latent(self, n: int) -> np.ndarray:
        """``(n, time_steps, time_latent_dim)`` zeros: the prior's mean (gaussian) or the
        code's centre (deterministic), what :meth:`decode` uses without ``z_time``."""
        return np.zeros((int(n), self.time_steps, self.time_latent_dim), np.float32)

    def decode(self, z, *, z_time=None, batch_size: int = 32) -> np.ndarray:
        """Decode latents to log-mel dB ``(batch, frames, n_mels)``.

        Args:
            z: global latents ``(batch, latent_dim)``.
            z_time: time-varying latents ``(batch, time_steps, time_latent_dim)`` of a model
                that has them (e.g. a reference clip's, from :meth:`encode_time`); ``None``
                decodes with :meth:`prior_time_latent` (a flat, average envelope).
        """
        z = np.asarray(z, "float32")
        if z.ndim == 1:
            z = z[None, :]
        if self.time_encoder is None:
            if z_time is not None:
                raise ConfigError("z_time given, but this model has no time-varying latent")
        else:
            z_time = (
                self.prior_time_latent(len(z)) if z_time is None else np.asarray(z_time, "float32")
            )
            want = (len(z), self.time_steps, self.time_latent_dim)
            if z_time.shape != want:
                raise ConfigError(f"expected z_time of shape {want}, got {z_time.shape}")
        outs = [
            ops.convert_to_numpy(
                self._decode_batch(
                    ops.convert_to_tensor(z[i : i + batch_size]),
                    None if z_time is None else ops.convert_to_tensor(z_time[i : i + batch_size]),
                )
            )
            for i in range(0, z.shape[0], batch_size)
        ]
        return np.concatenate(outs)

    def reconstruct(self, waveforms, *, batch_size: int = 32) -> np.ndarray:
        """Log-mel dB of ``decode(encode(waveforms, sample=False)[0])``, with the waveforms'
        own time-varying latent when the model has one."""
        if not self.time_latent_dim:
            z_mean, _, _ = self.encode(waveforms, sample=False, batch_size=batch_size)
            return self.decode(z_mean, batch_size=batch_size)
        z_mean, _, _, z_time = self.encode_with_time(waveforms, sample=False, batch_size=batch_size)
        return self.decode(z_mean, z_time=z_time, batch_size=batch_size)

    def log_mel(self, waveforms) -> np.ndarray:
        """The input log-mel dB ``(batch, frames, n_mels)`` the model sees."""
        return ops.convert_to_numpy(self.log_mel_layer(ops.convert_to_tensor(waveforms)))

    def adapt(self, data: Any, *, batch_size: int = 32) -> None:
        """Set the per-band normalisation statistics from training audio.

        Call once before training. ``data`` is a waveform array ``(n, samples)``, a dict
        ``{"audio", "length"}`` of arrays, or an iterable of batches (arrays, such dicts, or
        ``(x, y)`` tuples whose ``x`` is one of those) — e.g. a ``keras.utils.PyDataset``.
        Only real (unpadded) frames count.
        """

        def pairs(batches: Iterable):
            for batch in batches:
                x = batch[0] if isinstance(batch, tuple) else batch
                for audio, length in self._batches(
                    x if isinstance(x, dict) else ops.convert_to_numpy(x), batch_size
                ):
                    log_mel = self.log_mel_layer(ops.convert_to_tensor(audio))
                    mask = None
                    if length is not None:
                        mask = self.frame_mask_layer(ops.convert_to_tensor(length))
                    yield (
                        ops.convert_to_numpy(log_mel),
                        None if mask is None else ops.convert_to_numpy(mask),
                    )

        if isinstance(data, np.ndarray | dict):
            data = [data]
        self.band_norm.adapt(pairs(data))


def fixed_bottleneck(bottleneck: str):
    """Class decorator: a :class:`LatentAudioModel` subclass whose bottleneck is fixed.

    Its constructor takes the family's options without ``bottleneck`` and without the other
    bottleneck's options, and says so in its signature (what configs and searches check), and
    its config omits ``bottleneck``, so configs saved before the family was unified still load.

    Example:
        >>> @fixed_bottleneck("gaussian")
        ... class MyVAE(LatentAudioModel):
        ...     pass
    """
    if bottleneck not in BOTTLENECKS:
        raise ConfigError(f"bottleneck must be one of {BOTTLENECKS}, got {bottleneck!r}")
    other = _DETERMINISTIC_ONLY if bottleneck == "gaussian" else _GAUSSIAN_ONLY
    dropped = {"bottleneck", *other}
    base_signature = inspect.signature(LatentAudioModel.__init__)

    def decorate(cls):
        def init(self, **kwargs: Any) -> None:
            given = kwargs.pop("bottleneck", bottleneck)
            unknown = sorted(set(kwargs) & set(other))
            if given != bottleneck or unknown:
                what = f"bottleneck={given!r}" if given != bottleneck else ", ".join(unknown)
                raise ConfigError(f"{cls.__name__} has a {bottleneck} bottleneck: {what} given")
            LatentAudioModel.__init__(self, bottleneck=bottleneck, **kwargs)

        init.__signature__ = base_signature.replace(
            parameters=[p for p in base_signature.parameters.values() if p.name not in dropped]
        )

        def get_config(self) -> dict[str, Any]:
            config = LatentAudioModel.get_config(self)
            config.pop("bottleneck")
            return config

        cls.__init__ = init
        cls.get_config = get_config
        return cls

    return decorate
