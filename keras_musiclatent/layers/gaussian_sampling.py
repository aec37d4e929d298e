"""Reparameterised sampling from a diagonal Gaussian posterior (VAE bottleneck)."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

__all__ = ["GaussianSampling"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class GaussianSampling(keras.layers.Layer):
    """Draw ``z = mean + exp(log_var / 2) * eps`` while training; return the mean otherwise.

    The noise comes from a ``keras.random.SeedGenerator`` owned by the layer, so sampling is
    reproducible from ``seed`` and its state is a variable (it advances under ``jit`` on JAX).
    With ``training=False`` (or unset) the layer is deterministic and returns ``z_mean``.

    Args:
        seed: seed of the noise generator.
        return_kl: also return the KL divergence to N(0, I) per example (summed over dims).
        log_var_clip: ``z_log_var`` is clipped to ``[-clip, clip]`` before use, so a single
            extreme value cannot overflow ``exp``.

    Shapes:
        ``[(batch, dim), (batch, dim)]`` → ``(batch, dim)``
        (and ``(batch,)`` KL when ``return_kl``).

    Example:
        >>> sampler = GaussianSampling(seed=1)
        >>> mean, log_var = np.zeros((2, 8), "float32"), np.zeros((2, 8), "float32")
        >>> sampler([mean, log_var], training=True).shape
        (2, 8)
    """

    def __init__(
        self,
        *,
        seed: int | None = None,
        return_kl: bool = False,
        log_var_clip: float = 20.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.return_kl = bool(return_kl)
        self.log_var_clip = float(log_var_clip)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def call(self, inputs, training: bool | None = None):
        z_mean, z_log_var = inputs
        z_log_var = ops.clip(z_log_var, -self.log_var_clip, self.log_var_clip)
        if training:
            eps = keras.random.normal(
                ops.shape(z_mean), dtype=z_mean.dtype, seed=self.seed_generator
            )
            z = z_mean + ops.exp(0.5 * z_log_var) * eps
        else:
            z = z_mean
        if self.return_kl:
            kl = -0.5 * ops.sum(1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1)
            return z, kl
        return z

    def compute_output_shape(self, input_shape):
        mean_shape = tuple(input_shape[0])
        if self.return_kl:
            return mean_shape, mean_shape[:1]
        return mean_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {"seed": self.seed, "return_kl": self.return_kl, "log_var_clip": self.log_var_clip}
        )
        return config
