"""Convolutional-recurrent encoder of normalised log-mel spectrograms (Choi et al. 2017)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.models._blocks import bidirectional_gru, check_conv_config, conv_front_end

__all__ = ["CRNNEncoder"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class CRNNEncoder(keras.Model):
    """2-D conv blocks over (time, mel), a bidirectional GRU over time, then a dense layer.

    The GRU summarises the whole segment into one vector, so the features no longer depend
    on where in the segment an event happens.

    Args:
        frames: time frames of the input log-mel.
        n_mels: mel bands of the input log-mel.
        conv_filters: filters of each conv block.
        pool_sizes: (time, mel) max-pool size of each conv block.
        rnn_units: GRU units per direction.
        pooling: ``"last"`` (final states of both directions) or ``"mean"`` (mean over time).
        output_dim: size of the output features.
        dropout: dropout before the output layer.
        stem: ``"cnn"`` or ``"mobilenet_v2"`` (see ``conv_front_end``).
        stem_weights: ``None`` or ``"imagenet"`` for the MobileNetV2 stem.

    Shapes:
        ``(batch, frames, n_mels)`` normalised log-mel → ``(batch, output_dim)``.

    Example:
        >>> enc = CRNNEncoder(frames=44, n_mels=32, conv_filters=(8, 8), rnn_units=8,
        ...                   pool_sizes=((2, 2), (2, 4)), output_dim=16)
        >>> enc(np.zeros((2, 44, 32), "float32")).shape
        (2, 16)
    """

    def __init__(
        self,
        *,
        frames: int,
        n_mels: int,
        conv_filters: Sequence[int] = (16, 32, 64, 128),
        pool_sizes: Sequence[Sequence[int]] = ((2, 4), (2, 2), (2, 2), (1, 4)),
        rnn_units: int = 128,
        pooling: str = "last",
        output_dim: int = 256,
        dropout: float = 0.1,
        stem: str = "cnn",
        stem_weights: str | None = None,
        **kwargs: Any,
    ) -> None:
        conv_filters, pool_sizes = check_conv_config(conv_filters, pool_sizes)
        if pooling not in ("last", "mean"):
            raise ConfigError(f"pooling must be 'last' or 'mean', got {pooling!r}")

        # === Layers ===
        recurrent = bidirectional_gru(rnn_units, return_sequences=pooling == "mean", name="bigru")
        head = keras.layers.Dense(output_dim, activation="relu", name="features")

        # === Functional Model ===
        inputs = keras.Input(shape=(frames, n_mels), name="log_mel")
        x = conv_front_end(
            inputs,
            frames=frames,
            n_mels=n_mels,
            conv_filters=conv_filters,
            pool_sizes=pool_sizes,
            stem=stem,
            stem_weights=stem_weights,
        )
        x = recurrent(x)
        if pooling == "mean":
            x = keras.layers.GlobalAveragePooling1D(name="mean_over_time")(x)
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        outputs = head(x)
        kwargs.setdefault("name", "crnn_encoder")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.frames = int(frames)
        self.n_mels = int(n_mels)
        self.conv_filters = conv_filters
        self.pool_sizes = pool_sizes
        self.rnn_units = int(rnn_units)
        self.pooling = pooling
        self.output_dim = int(output_dim)
        self.dropout = float(dropout)
        self.stem = stem
        self.stem_weights = stem_weights

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "frames": self.frames,
                "n_mels": self.n_mels,
                "conv_filters": list(self.conv_filters),
                "pool_sizes": [list(p) for p in self.pool_sizes],
                "rnn_units": self.rnn_units,
                "pooling": self.pooling,
                "output_dim": self.output_dim,
                "dropout": self.dropout,
                "stem": self.stem,
                "stem_weights": self.stem_weights,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CRNNEncoder:
        # Weights come from the saved file: never download ImageNet weights on load.
        return cls(**{**config, "stem_weights": None})
