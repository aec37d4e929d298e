"""Convolutional front end + transformer encoder with attention pooling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_musiclatent.layers.attention_pooling import AttentionPooling
from keras_musiclatent.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_musiclatent.layers.transformer_block import TransformerBlock
from keras_musiclatent.models._blocks import check_conv_config, conv_front_end

__all__ = ["AttentionEncoder"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class AttentionEncoder(keras.Model):
    """Conv blocks over (time, mel), transformer blocks over time, attention pooling, dense.

    Args:
        frames: time frames of the input log-mel.
        n_mels: mel bands of the input log-mel.
        conv_filters: filters of each conv block.
        pool_sizes: (time, mel) max-pool size of each conv block.
        hidden_dim: model width of the transformer.
        num_layers: transformer blocks.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward size in each block.
        output_dim: size of the output features.
        dropout: dropout in the blocks and before the output layer.
        stem: ``"cnn"`` or ``"mobilenet_v2"``.
        stem_weights: ``None`` or ``"imagenet"`` for the MobileNetV2 stem.

    Shapes:
        ``(batch, frames, n_mels)`` normalised log-mel → ``(batch, output_dim)``.

    Example:
        >>> enc = AttentionEncoder(frames=44, n_mels=32, conv_filters=(8, 8), hidden_dim=16,
        ...                        pool_sizes=((2, 2), (2, 4)), num_heads=2, output_dim=16)
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
        hidden_dim: int = 128,
        num_layers: int = 2,
        num_heads: int = 4,
        intermediate_dim: int = 256,
        output_dim: int = 256,
        dropout: float = 0.1,
        stem: str = "cnn",
        stem_weights: str | None = None,
        **kwargs: Any,
    ) -> None:
        conv_filters, pool_sizes = check_conv_config(conv_filters, pool_sizes)

        # === Layers ===
        projection = keras.layers.Dense(hidden_dim, name="projection")
        position = SinusoidalPositionEncoding(name="position_encoding")
        blocks = [
            TransformerBlock(
                num_heads=num_heads,
                intermediate_dim=intermediate_dim,
                dropout=dropout,
                name=f"transformer_{i + 1}",
            )
            for i in range(num_layers)
        ]
        final_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")
        pool = AttentionPooling(hidden_dim=hidden_dim, name="attention_pooling")
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
        x = position(projection(x))
        for block in blocks:
            x = block(x)
        x = pool(final_norm(x))
        x = keras.layers.Dropout(dropout, name="dropout")(x)
        outputs = head(x)
        kwargs.setdefault("name", "attention_encoder")
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.frames = int(frames)
        self.n_mels = int(n_mels)
        self.conv_filters = conv_filters
        self.pool_sizes = pool_sizes
        self.hidden_dim = int(hidden_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
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
                "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "output_dim": self.output_dim,
                "dropout": self.dropout,
                "stem": self.stem,
                "stem_weights": self.stem_weights,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> AttentionEncoder:
        # Weights come from the saved file: never download ImageNet weights on load.
        return cls(**{**config, "stem_weights": None})
