"""``MusicVAE``: the latent model family with the gaussian bottleneck (a β-VAE)."""

from __future__ import annotations

import keras

from keras_musiclatent.models.latent_model import LatentAudioModel, fixed_bottleneck

__all__ = ["MusicVAE"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
@fixed_bottleneck("gaussian")
class MusicVAE(LatentAudioModel):
    """β-VAE over log-mel spectrograms: :class:`LatentAudioModel` with ``bottleneck="gaussian"``.

    Takes every option of :class:`LatentAudioModel` but ``bits`` and ``bounded``.

    Example:
        >>> vae = MusicVAE(segment_seconds=1.0, n_fft=512, hop_length=256, n_mels=32,
        ...                conv_filters=(8, 8), pool_sizes=((2, 2), (2, 4)), rnn_units=8,
        ...                hidden_dim=16, latent_dim=4, seed=0)
        >>> vae.compile(optimizer="adam")
        >>> vae.fit(np.random.uniform(-0.5, 0.5, (8, 22050)).astype("float32"), epochs=1)
        >>> z_mean, z_log_var, z = vae.encode(np.zeros((2, 22050), "float32"))
        >>> vae.decode(z_mean).shape
        (2, 87, 32)
    """
