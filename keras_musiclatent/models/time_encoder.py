"""Encoder of the small time-varying latent: a few numbers per step on the decoder's grid."""

from __future__ import annotations

import math
from typing import Any

import keras

from keras_musiclatent.errors import ConfigError

__all__ = ["TimeLatentEncoder"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class TimeLatentEncoder(keras.Model):
    """1-D convs over time (mel bands as channels), pooled to ``steps`` → mean and log-variance.

    The global latent is time-independent by design, so it cannot say *when* a note starts or
    how loud each beat is. This branch keeps that: ``dim`` numbers per step of the decoder's
    reduced time grid (17 steps per 3-s segment, about 5.7 Hz, with the default pooling). Its
    receptive field is short (a few steps), so it carries the envelope, not the timbre.

    Args:
        frames: time frames of the input log-mel.
        n_mels: mel bands of the input log-mel.
        steps: output time steps (the decoder's reduced grid).
        dim: numbers per step.
        filters: width of the conv layers.

    Shapes:
        ``(batch, frames, n_mels)`` normalised log-mel →
        ``{"mean": (batch, steps, dim), "log_var": (batch, steps, dim)}``.

    Example:
        >>> enc = TimeLatentEncoder(frames=44, n_mels=32, steps=11, dim=2)
        >>> enc(np.zeros((2, 44, 32), "float32"))["mean"].shape
        (2, 11, 2)
    """

    def __init__(
        self,
        *,
        frames: int,
        n_mels: int,
        steps: int,
        dim: int,
        filters: int = 64,
        **kwargs: Any,
    ) -> None:
        if dim <= 0 or steps <= 0 or filters <= 0:
            raise ConfigError(f"dim, steps and filters must be positive: {dim}, {steps}, {filters}")
        pool = math.ceil(frames / steps)
        if math.ceil(frames / pool) != steps:
            raise ConfigError(f"{frames} frames cannot be pooled to {steps} steps")

        inputs = keras.Input(shape=(frames, n_mels), name="log_mel")
        x = keras.layers.Conv1D(filters, 3, padding="same", activation="relu", name="conv1")(inputs)
        # Mean pooling: an onset inside a step moves the step's energy, whatever its frame.
        x = keras.layers.AveragePooling1D(pool, padding="same", name="pool")(x)
        x = keras.layers.Conv1D(filters, 3, padding="same", activation="relu", name="conv2")(x)
        mean = keras.layers.Dense(dim, name="mean")(x)
        log_var = keras.layers.Dense(dim, name="log_var")(x)
        kwargs.setdefault("name", "time_encoder")
        super().__init__(inputs=inputs, outputs={"mean": mean, "log_var": log_var}, **kwargs)

        self.frames = int(frames)
        self.n_mels = int(n_mels)
        self.steps = int(steps)
        self.dim = int(dim)
        self.filters = int(filters)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "frames": self.frames,
                "n_mels": self.n_mels,
                "steps": self.steps,
                "dim": self.dim,
                "filters": self.filters,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TimeLatentEncoder:
        return cls(**config)
