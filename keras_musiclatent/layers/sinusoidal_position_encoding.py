"""Fixed sinusoidal position encoding added to a sequence (Vaswani et al. 2017)."""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

__all__ = ["SinusoidalPositionEncoding"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class SinusoidalPositionEncoding(keras.layers.Layer):
    """Add ``sin``/``cos`` position codes to a ``(batch, steps, features)`` sequence.

    Fixed codes need no weights and extend to any length, so a model trained on 3-s segments
    still runs on other lengths.

    Args:
        max_wavelength: longest wavelength of the codes, in steps.

    Shapes:
        ``(batch, steps, features)`` → same.

    Example:
        >>> SinusoidalPositionEncoding()(np.zeros((2, 17, 64), "float32")).shape
        (2, 17, 64)
    """

    def __init__(self, *, max_wavelength: float = 10000.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.max_wavelength = float(max_wavelength)
        self.built = True

    def call(self, inputs):
        steps = ops.shape(inputs)[-2]
        features = inputs.shape[-1]
        positions = ops.cast(ops.arange(steps), "float32")[:, None]
        index = ops.cast(ops.arange(features), "float32")[None, :]
        # Pairs of channels share a frequency: even ones carry sin, odd ones cos.
        exponent = 2.0 * ops.floor(index / 2.0) / float(features)
        angles = positions * ops.exp(-math.log(self.max_wavelength) * exponent)
        is_even = ops.cast(ops.equal(ops.mod(ops.arange(features), 2), 0), "float32")[None, :]
        encoding = is_even * ops.sin(angles) + (1.0 - is_even) * ops.cos(angles)
        return inputs + ops.cast(encoding, inputs.dtype)[None, :, :]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
