"""Per-band affine normalisation of log-mel spectrograms, with stored dataset statistics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["BandNormalization"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class BandNormalization(keras.layers.Layer):
    """Normalise each mel band with a fixed mean and standard deviation (or undo it).

    Log-mel dB values span roughly -100..+40 and differ by tens of dB between low and high
    bands; a fixed affine per band brings them near zero mean and unit variance, so the
    layers after it train well conditioned. The statistics are non-trainable weights (saved
    with the model) set from data by :meth:`adapt`; until then ``mean_init``/``std_init`` are
    used, which already map -100..+40 dB to about -2.8..+2.8.

    Calling with ``inverse=True`` maps normalised values back to dB, so one layer (one set of
    statistics) serves both the encoder input and the decoder output.

    Args:
        n_bands: size of the last axis (mel bands).
        mean_init: mean in dB used before :meth:`adapt`.
        std_init: standard deviation in dB used before :meth:`adapt`.
        epsilon: floor of the standard deviation, so a constant band cannot divide by zero.

    Shapes:
        ``(..., n_bands)`` → ``(..., n_bands)``.

    Example:
        >>> norm = BandNormalization(n_bands=128)
        >>> norm.adapt(np.random.normal(-30, 20, (8, 130, 128)))
        >>> norm(np.zeros((2, 130, 128), "float32")).shape
        (2, 130, 128)
    """

    def __init__(
        self,
        *,
        n_bands: int,
        mean_init: float = -30.0,
        std_init: float = 25.0,
        epsilon: float = 1e-3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if n_bands <= 0:
            raise ValueError(f"n_bands must be positive, got {n_bands}")
        if std_init <= 0:
            raise ValueError(f"std_init must be positive, got {std_init}")
        self.n_bands = int(n_bands)
        self.mean_init = float(mean_init)
        self.std_init = float(std_init)
        self.epsilon = float(epsilon)
        self.mean = self.add_weight(
            name="mean",
            shape=(self.n_bands,),
            initializer=keras.initializers.Constant(self.mean_init),
            trainable=False,
        )
        self.std = self.add_weight(
            name="std",
            shape=(self.n_bands,),
            initializer=keras.initializers.Constant(self.std_init),
            trainable=False,
        )
        self.built = True

    def call(self, inputs, inverse: bool = False):
        mean = ops.cast(self.mean, inputs.dtype)
        std = ops.cast(ops.maximum(self.std, self.epsilon), inputs.dtype)
        if inverse:
            return inputs * std + mean
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def set_statistics(self, *, mean: np.ndarray, std: np.ndarray) -> None:
        """Set the per-band statistics directly, each ``(n_bands,)`` in dB."""
        mean = np.asarray(mean, dtype="float32").reshape(-1)
        std = np.asarray(std, dtype="float32").reshape(-1)
        if mean.shape != (self.n_bands,) or std.shape != (self.n_bands,):
            raise ValueError(
                f"expected statistics of shape ({self.n_bands},), got {mean.shape} and {std.shape}"
            )
        self.mean.assign(mean)
        self.std.assign(np.maximum(std, self.epsilon))

    def adapt(self, data: np.ndarray | Iterable, *, mask: np.ndarray | None = None) -> None:
        """Compute the statistics from log-mel data in dB.

        Args:
            data: an array ``(..., n_bands)`` or an iterable of such arrays (batches), or of
                ``(array, mask)`` pairs with ``mask`` ``(batch, frames)`` marking real frames.
            mask: with an array ``data``, an optional ``(batch, frames)`` mask of real frames.
        """
        batches = [(data, mask)] if isinstance(data, np.ndarray) else data
        total = np.zeros(self.n_bands, "float64")
        total_sq = np.zeros(self.n_bands, "float64")
        count = 0.0
        for item in batches:
            values, weights = item if isinstance(item, tuple) else (item, None)
            values = np.asarray(keras.ops.convert_to_numpy(values), "float64")
            values = values.reshape(-1, self.n_bands)
            if weights is None:
                weights = np.ones(values.shape[0], "float64")
            else:
                weights = np.asarray(keras.ops.convert_to_numpy(weights), "float64").reshape(-1)
            total += weights @ values
            total_sq += weights @ (values * values)
            count += float(weights.sum())
        if count == 0:
            raise ValueError("adapt needs at least one (unmasked) frame")
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean * mean, 0.0))
        self.set_statistics(mean=mean, std=std)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "n_bands": self.n_bands,
                "mean_init": self.mean_init,
                "std_init": self.std_init,
                "epsilon": self.epsilon,
            }
        )
        return config
