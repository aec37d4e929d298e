"""Attention pooling: a learned weighted mean over time."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["AttentionPooling"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class AttentionPooling(keras.layers.Layer):
    """Pool ``(batch, steps, features)`` to ``(batch, features)`` with learned step weights.

    A ``tanh`` scoring MLP gives each step a score; the softmax over steps weights the mean,
    so the summary does not depend on where in the clip an event happens.

    Args:
        hidden_dim: size of the scoring MLP.

    Shapes:
        ``(batch, steps, features)`` → ``(batch, features)``.

    Example:
        >>> AttentionPooling(hidden_dim=16)(np.zeros((2, 17, 32), "float32")).shape
        (2, 32)
    """

    def __init__(self, *, hidden_dim: int = 64, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hidden_dim = int(hidden_dim)
        self.score_hidden = keras.layers.Dense(self.hidden_dim, activation="tanh", name="hidden")
        self.score = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, input_shape: tuple) -> None:
        self.score_hidden.build(input_shape)
        self.score.build((*tuple(input_shape[:-1]), self.hidden_dim))
        self.built = True

    def call(self, inputs):
        scores = self.score(self.score_hidden(inputs))  # (batch, steps, 1)
        weights = ops.softmax(scores, axis=1)
        return ops.sum(weights * inputs, axis=1)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"hidden_dim": self.hidden_dim})
        return config
