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
        min_bits: train for every precision from ``min_bits`` to ``bits``: each example's
            noise is one quantisation step at a precision drawn uniformly from that range, so
            one decoder serves streams quantised at any of them (a bitrate knob). ``None``:
            ``bits`` only.

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
        min_bits: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if min_bits is not None and (bits is None or not 1 <= int(min_bits) <= int(bits)):
            raise ConfigError(f"min_bits must be in 1..bits ({bits}), got {min_bits}")
        if bits is not None and not (1 <= int(bits) <= 16):
            raise ConfigError(f"bits must be in 1..16 or None, got {bits}")
        if bits is not None and not bounded:
            raise ConfigError("quantisation (bits) needs a bounded code (bounded=True)")
        self.bits = None if bits is None else int(bits)
        self.bounded = bool(bounded)
        self.seed = seed
        self.min_bits = None if min_bits is None else int(min_bits)
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
                ops.shape(z), minval=-0.5, maxval=0.5, dtype=z.dtype, seed=self.seed_generator
            )
            return z + noise * self._training_step(z)
        return self.dequantize_codes(self.quantize_codes(z, bounded=True))

    def _training_step(self, z):
        """Quantisation step of each example's noise: ``step``, or one drawn per example."""
        if self.min_bits is None or self.min_bits == self.bits:
            return self.step
        shape = (ops.shape(z)[0],) + (1,) * (len(z.shape) - 1)
        draw = keras.random.uniform(shape, dtype="float32", seed=self.seed_generator)
        bits = float(self.min_bits) + ops.floor(draw * float(self.bits - self.min_bits + 1))
        return ops.cast(2.0 / (ops.power(2.0, bits) - 1.0), z.dtype)

    def _step_of(self, bits: int | None) -> tuple[int, float]:
        if self.bits is None:
            raise ConfigError("quantisation needs a bottleneck with bits set")
        bits = self.bits if bits is None else int(bits)
        if not 1 <= bits <= self.bits:
            raise ConfigError(f"bits must be in 1..{self.bits} for this bottleneck, got {bits}")
        return 2**bits, 2.0 / (2**bits - 1)

    def quantize_codes(self, z, *, bounded: bool = False, bits: int | None = None):
        """Integer codes in ``[0, 2**bits)`` of pre-bottleneck values (or bounded ones).

        ``bits`` below the layer's own (down to ``min_bits`` for a decoder trained for it)
        gives a coarser code: fewer levels, a lower rate.
        """
        levels, step = self._step_of(bits)
        z = ops.convert_to_tensor(z)
        if not bounded:
            z = ops.tanh(z)
        codes = ops.round((ops.clip(z, -1.0, 1.0) + 1.0) / step)
        return ops.cast(ops.clip(codes, 0.0, float(levels - 1)), "int32")

    def dequantize_codes(self, codes, *, bits: int | None = None):
        """Bounded values in ``[-1, 1]`` of integer codes (at ``bits``, default the layer's)."""
        _, step = self._step_of(bits)
        return ops.cast(ops.convert_to_tensor(codes), "float32") * step - 1.0

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "bits": self.bits,
                "bounded": self.bounded,
                "seed": self.seed,
                "min_bits": self.min_bits,
            }
        )
        return config
