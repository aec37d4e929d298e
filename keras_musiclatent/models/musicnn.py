"""musicnn (Pons & Serra 2019): a music-tagging CNN with timbral and temporal filters, in Keras 3.

A port of the ``MSD_musicnn`` network of musicnn 0.1.0: the same layers in the same order, so
its Million Song Dataset checkpoint converts weight for weight (``scripts/convert_musicnn.py``)
and gives the original's tags and penultimate embeddings (``tests/models/test_musicnn.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.musicnn_log_mel import MusicnnLogMel

__all__ = ["MSD_TAGS", "MusicnnBackbone"]

#: The 50 Last.fm tags of the Million Song Dataset model, in output order.
MSD_TAGS: tuple[str, ...] = (
    "rock",
    "pop",
    "alternative",
    "indie",
    "electronic",
    "female vocalists",
    "dance",
    "00s",
    "alternative rock",
    "jazz",
    "beautiful",
    "metal",
    "chillout",
    "male vocalists",
    "classic rock",
    "soul",
    "indie rock",
    "Mellow",
    "electronica",
    "80s",
    "folk",
    "90s",
    "chill",
    "instrumental",
    "punk",
    "oldies",
    "blues",
    "hard rock",
    "ambient",
    "acoustic",
    "experimental",
    "female vocalist",
    "guitar",
    "Hip-Hop",
    "70s",
    "party",
    "country",
    "easy listening",
    "sexy",
    "catchy",
    "funk",
    "electro",
    "heavy metal",
    "Progressive rock",
    "60s",
    "rnb",
    "indie pop",
    "sad",
    "House",
    "happy",
)

INPUT_TYPES = ("waveform", "log_mel")

# tf.compat.v1.layers.batch_normalization's defaults, which the checkpoint was trained with
# (they equal Keras's, stated here so a change of Keras defaults cannot alter the port).
_BN = {"epsilon": 1e-3, "momentum": 0.99}


def _batch_norm(name: str) -> keras.layers.BatchNormalization:
    return keras.layers.BatchNormalization(name=name, **_BN)


def _same_time_padding(kernel: int) -> tuple[int, int]:
    """TensorFlow's ``"same"`` split of ``kernel - 1`` padding frames: the extra one after."""
    return (kernel - 1) // 2, kernel // 2


def _max_over_frequency(x, width: int, name: str):
    """``(batch, frames, width, filters)`` → ``(batch, frames, filters)``."""
    x = keras.layers.MaxPooling2D((1, width), name=f"{name}_freq_max")(x)
    return keras.layers.Reshape((-1, x.shape[-1]), name=f"{name}_squeeze")(x)


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class MusicnnBackbone(keras.Model):
    """musicnn: log-mel → timbral and temporal filters → dense conv mid-end → pooled tags.

    Front end: batch norm of the input, then vertical filters spanning 40% and 70% of the mel
    bands over 7 frames (timbre) and horizontal filters of 128, 64 and 32 frames on each band
    (rhythm and tempo), each followed by ReLU, batch norm and a max over frequency. Mid end:
    three 1-D convs over time with residual connections, concatenated with the front-end
    features (dense connections). Back end: max and mean over time, batch norm, a 200-unit
    ReLU layer with batch norm (the *penultimate* embedding), and sigmoid tag outputs. Dropout
    (0.5) acts only in training.

    The defaults are musicnn's ``MSD_musicnn`` (the weights of the ``musicnn-msd`` zoo model).
    The network is convolutional in time, so ``segment_seconds`` fixes only the input shape.

    Args:
        input_type: ``"waveform"``: 16 kHz mono windows ``(batch, samples)``, analysed by a
            :class:`MusicnnLogMel` layer; ``"log_mel"``: musicnn's compressed log-mel patches
            ``(batch, frames, n_mels)`` as its extractor computes them. Both share the weights.
        sample_rate: input rate in Hz.
        segment_seconds: window length; 3 s (48000 samples, 187 frames) as in training.
        n_fft: FFT size of the log-mel.
        hop_length: hop of the log-mel.
        n_mels: mel bands.
        float16_rounding: see :class:`MusicnnLogMel`; true to match musicnn's extractor.
        timbral_filters: filters of each timbral branch (musicnn: ``int(1.6 * 128)``).
        timbral_frames: time extent of the timbral filters.
        timbral_band_fractions: frequency extent of each timbral branch, as a fraction of
            ``n_mels`` (rounded down, as musicnn does).
        temporal_filters: filters of each temporal branch (musicnn: ``int(1.6 * 32)``).
        temporal_frames: time extent of each temporal branch.
        midend_filters: filters of each mid-end conv.
        midend_layers: mid-end convs (the first adapts dimensions, the rest are residual).
        midend_frames: time extent of the mid-end convs.
        embedding_dim: units of the penultimate layer.
        num_tags: tag outputs.
        dropout: dropout rate in training, before and after the penultimate layer.

    Outputs (a dict):
        ``"tags"``: ``(batch, num_tags)`` probabilities (a row of musicnn's taggram);
        ``"penultimate"``: ``(batch, embedding_dim)`` embedding;
        ``"mean_pool"``, ``"max_pool"``: ``(batch, features)`` pooled mid-end features
        (753 for the default network).

    Example:
        >>> model = MusicnnBackbone()
        >>> out = model(np.zeros((2, 48000), "float32"))
        >>> out["tags"].shape, out["penultimate"].shape
        ((2, 50), (2, 200))
    """

    def __init__(
        self,
        *,
        input_type: str = "waveform",
        sample_rate: int = 16000,
        segment_seconds: float = 3.0,
        n_fft: int = 512,
        hop_length: int = 256,
        n_mels: int = 96,
        float16_rounding: bool = True,
        timbral_filters: int = 204,
        timbral_frames: int = 7,
        timbral_band_fractions: Sequence[float] = (0.4, 0.7),
        temporal_filters: int = 51,
        temporal_frames: Sequence[int] = (128, 64, 32),
        midend_filters: int = 64,
        midend_layers: int = 3,
        midend_frames: int = 7,
        embedding_dim: int = 200,
        num_tags: int = 50,
        dropout: float = 0.5,
        **kwargs: Any,
    ) -> None:
        if input_type not in INPUT_TYPES:
            raise ConfigError(f"input_type must be one of {INPUT_TYPES}, got {input_type!r}")
        if midend_layers < 1:
            raise ConfigError(f"midend_layers must be at least 1, got {midend_layers}")
        timbral_band_fractions = tuple(float(f) for f in timbral_band_fractions)
        temporal_frames = tuple(int(k) for k in temporal_frames)
        timbral_bands = tuple(int(f * n_mels) for f in timbral_band_fractions)
        if not all(1 <= b <= n_mels for b in timbral_bands):
            raise ConfigError(
                f"timbral_band_fractions {timbral_band_fractions} of {n_mels} mel bands give "
                f"filter heights {timbral_bands}; each must be within 1..{n_mels}"
            )
        # Layers are named after their extents, which must therefore differ.
        if len(set(timbral_bands)) != len(timbral_bands):
            raise ConfigError(f"timbral filter heights {timbral_bands} must differ")
        if len(set(temporal_frames)) != len(temporal_frames):
            raise ConfigError(f"temporal_frames {temporal_frames} must differ")
        samples = int(round(segment_seconds * sample_rate))
        log_mel_layer = MusicnnLogMel(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            float16_rounding=float16_rounding,
            name="log_mel",
        )
        frames = log_mel_layer.num_frames(samples)
        if frames < 1:
            raise ConfigError(f"segment_seconds={segment_seconds} is shorter than one frame")

        # === Layers ===
        input_bn = _batch_norm("input_bn")
        timbral = []
        for bands in timbral_bands:
            name = f"timbral_{bands}"
            conv = keras.layers.Conv2D(
                timbral_filters, (timbral_frames, bands), activation="relu", name=f"{name}_conv"
            )
            timbral.append((conv, _batch_norm(f"{name}_bn"), bands))
        temporal = []
        for k in temporal_frames:
            conv = keras.layers.Conv2D(
                temporal_filters, (k, 1), activation="relu", name=f"temporal_{k}_conv"
            )
            temporal.append((conv, _batch_norm(f"temporal_{k}_bn"), k))
        midend = [
            (
                keras.layers.Conv1D(
                    midend_filters, midend_frames, activation="relu", name=f"midend_{i}_conv"
                ),
                _batch_norm(f"midend_{i}_bn"),
            )
            for i in range(1, midend_layers + 1)
        ]
        pool_bn = _batch_norm("pool_bn")
        penultimate_dense = keras.layers.Dense(
            embedding_dim, activation="relu", name="penultimate_dense"
        )
        penultimate_bn = _batch_norm("penultimate_bn")
        tags_dense = keras.layers.Dense(num_tags, activation="sigmoid", name="tags")

        # === Functional Model ===
        if input_type == "waveform":
            inputs = keras.Input(shape=(samples,), name="audio")
            log_mel = log_mel_layer(inputs)
        else:
            inputs = keras.Input(shape=(frames, n_mels), name="log_mel")
            log_mel = inputs
        x = keras.layers.Reshape((-1, n_mels, 1), name="add_channel")(log_mel)
        x = input_bn(x)

        # Front end. Zero padding follows the batch norm, as in musicnn, so padded frames are
        # zeros of the normalised input; explicit padding keeps TensorFlow's asymmetric
        # "same" split on every backend.
        padded = keras.layers.ZeroPadding2D(
            (_same_time_padding(timbral_frames), (0, 0)), name="timbral_pad"
        )(x)
        front = []
        for conv, bn, bands in timbral:
            y = bn(conv(padded))
            front.append(_max_over_frequency(y, n_mels - bands + 1, conv.name))
        for conv, bn, k in temporal:
            y = keras.layers.ZeroPadding2D(
                (_same_time_padding(k), (0, 0)), name=f"temporal_{k}_pad"
            )(x)
            y = bn(conv(y))
            front.append(_max_over_frequency(y, n_mels, conv.name))
        front = keras.layers.Concatenate(name="frontend")(front)

        # Mid end: the first conv adapts the width, the others add their input (residual);
        # every stage's output is kept for the dense connection to the back end.
        stages = [front]
        y = front
        for i, (conv, bn) in enumerate(midend):
            z = keras.layers.ZeroPadding1D(
                _same_time_padding(midend_frames), name=f"midend_{i + 1}_pad"
            )(y)
            z = bn(conv(z))
            y = z if i == 0 else keras.layers.Add(name=f"midend_{i + 1}_residual")([z, y])
            stages.append(y)
        features = keras.layers.Concatenate(name="midend")(stages)
        width = timbral_filters * len(timbral) + temporal_filters * len(temporal)
        width += midend_filters * midend_layers

        # Back end. musicnn flattens (features, [max, mean]) so its batch norm and dense
        # kernel see max and mean interleaved per feature; the order is kept for the weights.
        max_pool = keras.layers.GlobalMaxPooling1D(name="max_pool")(features)
        mean_pool = keras.layers.GlobalAveragePooling1D(name="mean_pool")(features)
        pooled = keras.layers.Concatenate(name="pool_pairs")(
            [
                keras.layers.Reshape((width, 1), name="max_pool_column")(max_pool),
                keras.layers.Reshape((width, 1), name="mean_pool_column")(mean_pool),
            ]
        )
        pooled = keras.layers.Flatten(name="pool_interleaved")(pooled)
        pooled = pool_bn(pooled)
        pooled = keras.layers.Dropout(dropout, name="pool_dropout")(pooled)
        penultimate = penultimate_bn(penultimate_dense(pooled))
        tags = tags_dense(keras.layers.Dropout(dropout, name="penultimate_dropout")(penultimate))
        outputs = {
            "tags": tags,
            "penultimate": penultimate,
            "mean_pool": mean_pool,
            "max_pool": max_pool,
        }
        kwargs.setdefault("name", "musicnn")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.input_type = input_type
        self.sample_rate = int(sample_rate)
        self.segment_seconds = float(segment_seconds)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.n_mels = int(n_mels)
        self.float16_rounding = bool(float16_rounding)
        self.timbral_filters = int(timbral_filters)
        self.timbral_frames = int(timbral_frames)
        self.timbral_band_fractions = timbral_band_fractions
        self.temporal_filters = int(temporal_filters)
        self.temporal_frames = temporal_frames
        self.midend_filters = int(midend_filters)
        self.midend_layers = int(midend_layers)
        self.midend_frames = int(midend_frames)
        self.embedding_dim = int(embedding_dim)
        self.num_tags = int(num_tags)
        self.dropout = float(dropout)
        self.samples = samples
        self.frames = frames

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "input_type": self.input_type,
                "sample_rate": self.sample_rate,
                "segment_seconds": self.segment_seconds,
                "n_fft": self.n_fft,
                "hop_length": self.hop_length,
                "n_mels": self.n_mels,
                "float16_rounding": self.float16_rounding,
                "timbral_filters": self.timbral_filters,
                "timbral_frames": self.timbral_frames,
                "timbral_band_fractions": list(self.timbral_band_fractions),
                "temporal_filters": self.temporal_filters,
                "temporal_frames": list(self.temporal_frames),
                "midend_filters": self.midend_filters,
                "midend_layers": self.midend_layers,
                "midend_frames": self.midend_frames,
                "embedding_dim": self.embedding_dim,
                "num_tags": self.num_tags,
                "dropout": self.dropout,
            }
        )
        return config

    def embed_windows(self, windows: Any, *, batch_size: int = 32) -> dict[str, np.ndarray]:
        """Embeddings and tag probabilities of waveform windows (inference mode).

        Args:
            windows: ``(n, samples)`` float32 windows at :attr:`sample_rate` (or log-mel
                patches ``(n, frames, n_mels)`` for ``input_type="log_mel"``).
            batch_size: windows per forward pass.

        Returns:
            ``{"embedding": (n, embedding_dim), "tags": (n, num_tags)}`` float32 arrays; the
            embedding is the penultimate layer.

        Example:
            >>> out = MusicnnBackbone().embed_windows(np.zeros((3, 48000), "float32"))
            >>> out["embedding"].shape, out["tags"].shape
            ((3, 200), (3, 50))
        """
        x = np.asarray(windows, dtype="float32")
        expected = (self.samples,) if self.input_type == "waveform" else (self.frames, self.n_mels)
        if x.ndim != len(expected) + 1 or x.shape[1:] != expected:
            raise ConfigError(
                f"expected windows of shape (n, {', '.join(map(str, expected))}), got {x.shape}"
            )
        embeddings, tags = [], []
        for start in range(0, len(x), batch_size):
            out = self(keras.ops.convert_to_tensor(x[start : start + batch_size]), training=False)
            embeddings.append(keras.ops.convert_to_numpy(out["penultimate"]))
            tags.append(keras.ops.convert_to_numpy(out["tags"]))
        if not embeddings:
            return {
                "embedding": np.zeros((0, self.embedding_dim), np.float32),
                "tags": np.zeros((0, self.num_tags), np.float32),
            }
        return {"embedding": np.concatenate(embeddings), "tags": np.concatenate(tags)}
