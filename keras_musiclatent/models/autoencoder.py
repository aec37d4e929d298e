"""``MusicAutoencoder``: the latent model family with the deterministic, quantised bottleneck."""

from __future__ import annotations

import keras

from keras_musiclatent.models.latent_model import LatentAudioModel, fixed_bottleneck

__all__ = ["MusicAutoencoder"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
@fixed_bottleneck("deterministic")
class MusicAutoencoder(LatentAudioModel):
    """Compression autoencoder: :class:`LatentAudioModel` with ``bottleneck="deterministic"``.

    The latent is ``tanh``-bounded and, with ``bits`` set, trained with uniform quantisation
    noise and rounded at inference, so ``bitrate_bps`` is what :meth:`compress` really needs.
    Takes every option of :class:`LatentAudioModel` but ``beta``, ``kl_warmup_steps`` and
    ``free_bits``; :meth:`encode` returns ``(z, zeros, z)``.

    Example:
        >>> ae = MusicAutoencoder(segment_seconds=1.0, n_fft=512, hop_length=256, n_mels=32,
        ...                       conv_filters=(8, 8), pool_sizes=((2, 2), (2, 4)),
        ...                       rnn_units=8, hidden_dim=16, latent_dim=4, bits=4)
        >>> codes = ae.compress(np.zeros((2, 22050), "float32"))  # (2, 4) ints in [0, 16)
        >>> ae.decompress(codes).shape
        (2, 87, 32)
    """
