"""Bounded, optionally quantised bottleneck for compression autoencoders."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_musiclatent.errors import ConfigError

__all__ = ["DeterministicBottleneck"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class DeterministicBottleneck(keras.layers.Layer):
    """``tanh`` bound plus simulated quantisation at ``bits`` bits per dimension.

    With ``bits`` set, the bounded code in ``[-1, 1]`` is quantised to ``2**bits`` evenly
    spaced levels. Rounding has no gradient, so while training the layer adds uniform noise
    of one quantisation step instead (Ballé et al. 2017); at inference it rounds, so what the
    decoder sees is exactly what :meth:`quantize_codes` stores and the bitrate is honest.

    Args:
        bits: bits per latent dimension; ``None`` = no quantisation (a plain bottleneck).
        bounded: apply ``tanh`` (required when ``bits`` is set).
        seed: seed of the training noise.

    Shapes:
        ``(batch, dim)`` → ``(batch, dim)``.

    Example:
        >>> layer = DeterministicBottleneck(bits=4, seed=0)
        >>> codes = layer.quantize_codes(np.zeros((2, 8), "float32"))  # ints in [0, 15]
        >>> layer.dequantize_codes(codes).shape
        (2, 8)
    """

    def __init__(
        self,
        *,
        bits: int | None = None,
        bounded: bool = True,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if bits is not None and not (1 <= int(bits) <= 16):
            raise ConfigError(f"bits must be in 1..16 or None, got {bits}")
        if bits is not None and not bounded:
            raise ConfigError("quantisation (bits) needs a bounded code (bounded=True)")
        self.bits = None if bits is None else int(bits)
        self.bounded = bool(bounded)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    @property
    def levels(self) -> int | None:
        """Quantisation levels per dimension (``2**bits``), or ``None``."""
        return None if self.bits is None else 2**self.bits

    @property
    def step(self) -> float | None:
        """Distance between adjacent levels in ``[-1, 1]``."""
        return None if self.bits is None else 2.0 / (self.levels - 1)

    def call(self, inputs, training: bool | None = None):
        z = ops.tanh(inputs) if self.bounded else inputs
        if self.bits is None:
            return z
        if training:
            noise = keras.random.uniform(
                ops.shape(z),
                minval=-0.5 * self.step,
                maxval=0.5 * self.step,
                dtype=z.dtype,
                seed=self.seed_generator,
            )
            return z + noise
        return self.dequantize_codes(self.quantize_codes(z, bounded=True))

    def quantize_codes(self, z, *, bounded: bool = False):
        """Integer codes in ``[0, 2**bits)`` of pre-bottleneck values (or bounded ones)."""
        if self.bits is None:
            raise ConfigError("quantize_codes needs a bottleneck with bits set")
        z = ops.convert_to_tensor(z)
        if not bounded:
            z = ops.tanh(z)
        codes = ops.round((ops.clip(z, -1.0, 1.0) + 1.0) / self.step)
        return ops.cast(ops.clip(codes, 0.0, float(self.levels - 1)), "int32")

    def dequantize_codes(self, codes):
        """Bounded values in ``[-1, 1]`` of integer codes."""
        if self.bits is None:
            raise ConfigError("dequantize_codes needs a bottleneck with bits set")
        return ops.cast(ops.convert_to_tensor(codes), "float32") * self.step - 1.0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"bits": self.bits, "bounded": self.bounded, "seed": self.seed})
        return config
