"""What a latent space returns: a clip's :class:`Encoding` and :class:`Decoded` latents."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Decoded", "Encoding"]


@dataclass(frozen=True)
class Encoding:
    """Latents of one clip, one row per 3-s segment (the segmentation of
    the evaluation protocol (docs/evaluation.md)).

    Attributes:
        mean: ``(segments, latent_dim)`` posterior means (the autoencoder's codes).
        log_var: ``(segments, latent_dim)`` posterior log-variances (zeros for the autoencoder).
        z: ``(segments, latent_dim)`` a posterior sample (``mean`` unless sampling was asked).
        lengths: ``(segments,)`` real samples in each segment.
        num_samples: samples of the clip at ``sample_rate``.
        sample_rate: Hz.
        time: ``(segments, time_steps, time_latent_dim)`` the time-varying latent (its mean;
            the autoencoder's code) of a model that has one, else ``None``.
    """

    mean: np.ndarray
    log_var: np.ndarray
    z: np.ndarray
    lengths: np.ndarray
    num_samples: int
    sample_rate: int
    time: np.ndarray | None = None

    @property
    def segments(self) -> int:
        """Segments (rows) of the clip."""
        return int(self.mean.shape[0])

    @property
    def clip_mean(self) -> np.ndarray:
        """``(latent_dim,)`` mean latent of the clip."""
        return self.mean.mean(axis=0)


@dataclass
class Decoded:
    """Latents with their decoded log-mel and, when asked, audio.

    Attributes:
        z: ``(segments, latent_dim)``.
        log_mel: ``(segments, frames, n_mels)`` dB.
        audio: ``(samples,)`` float32 (segments joined), or ``None``.
    """

    z: np.ndarray
    log_mel: np.ndarray
    audio: np.ndarray | None = None
