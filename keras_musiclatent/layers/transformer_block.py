"""Pre-norm transformer encoder block (self-attention + feed-forward)."""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["TransformerBlock"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class TransformerBlock(keras.layers.Layer):
    """``x + MHA(LN(x))`` then ``x + FFN(LN(x))``.

    Pre-norm (Xiong et al. 2020) trains stably without a learning-rate warm-up, which matters
    for short CPU runs.

    Args:
        num_heads: attention heads; ``features`` must divide by it.
        intermediate_dim: hidden size of the feed-forward part.
        dropout: dropout rate on attention weights and residual branches.

    Shapes:
        ``(batch, steps, features)`` → same.

    Example:
        >>> TransformerBlock(num_heads=2, intermediate_dim=64)(np.zeros((2, 17, 32))).shape
        (2, 17, 32)
    """

    def __init__(
        self,
        *,
        num_heads: int,
        intermediate_dim: int,
        dropout: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.num_heads = int(num_heads)
        self.intermediate_dim = int(intermediate_dim)
        self.dropout = float(dropout)
        self.attention_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="attention_norm")
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=1e-5, name="ffn_norm")
        self.ffn_in = keras.layers.Dense(self.intermediate_dim, activation="gelu", name="ffn_in")
        self.residual_dropout = keras.layers.Dropout(self.dropout)
        self.attention = None
        self.ffn_out = None

    def build(self, input_shape: tuple) -> None:
        features = int(input_shape[-1])
        if features % self.num_heads:
            raise ValueError(f"features ({features}) must divide by num_heads ({self.num_heads})")
        self.attention = keras.layers.MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=features // self.num_heads,
            dropout=self.dropout,
            name="attention",
        )
        self.ffn_out = keras.layers.Dense(features, name="ffn_out")
        self.attention_norm.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.ffn_norm.build(input_shape)
        self.ffn_in.build(input_shape)
        self.ffn_out.build((*tuple(input_shape[:-1]), self.intermediate_dim))
        self.built = True

    def call(self, inputs, training: bool | None = None):
        h = self.attention_norm(inputs)
        h = self.attention(h, h, training=training)
        x = inputs + self.residual_dropout(h, training=training)
        h = self.ffn_out(self.ffn_in(self.ffn_norm(x)))
        return x + self.residual_dropout(h, training=training)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
            }
        )
        return config
