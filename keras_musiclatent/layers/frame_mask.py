"""Mask of the frames that hold real audio, from per-example sample counts."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["FrameMask"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class FrameMask(keras.layers.Layer):
    """``1.0`` for frames that hold real audio, ``0.0`` for frames of zero padding.

    A clip of ``length`` samples, zero-padded to a fixed segment, has ``1 + length // hop``
    centred frames of its own (the frames its unpadded log-mel would have); the rest are
    padding and must not count in losses or metrics.

    Args:
        frames: frames per segment (the time axis of the log-mel).
        hop_length: samples between frames.

    Shapes:
        ``(batch,)`` integer sample counts → ``(batch, frames)`` float32.

    Example:
        >>> FrameMask(frames=5, hop_length=512)(np.array([1024, 4096])).shape
        (2, 5)
    """

    def __init__(self, *, frames: int, hop_length: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if frames <= 0 or hop_length <= 0:
            raise ValueError("frames and hop_length must be positive")
        self.frames = int(frames)
        self.hop_length = int(hop_length)
        self.built = True

    def call(self, lengths):
        lengths = ops.reshape(ops.cast(lengths, "int32"), (-1, 1))
        positions = ops.arange(self.frames, dtype="int32")[None, :] * self.hop_length
        return ops.cast(positions <= lengths, "float32")

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return (input_shape[0], self.frames)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"frames": self.frames, "hop_length": self.hop_length})
        return config
