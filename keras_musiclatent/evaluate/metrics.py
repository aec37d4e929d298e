"""Evaluation metrics exactly as the evaluation protocol (docs/evaluation.md) defines them.

NumPy, outside the graph.

Spectral RMSE compares log-mel spectra, not waveforms (Roche et al. 2018); bitrate counts what
must be stored to decode.
"""

from __future__ import annotations

import numpy as np

from keras_musiclatent.errors import InvalidAudioError

__all__ = [
    "PCM_BITRATE",
    "bitrate",
    "compression_ratio",
    "crossfade_log_mels",
    "interpolation_smoothness",
    "logmel_db",
    "nearest_distance",
    "real_frames",
    "spectral_rmse_db",
]

# 22050 Hz x 16 bit mono: the uncompressed reference of the compression ratio.
PCM_BITRATE = 22050 * 16


def logmel_db(
    audio: np.ndarray,
    *,
    sample_rate: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_mels: int = 128,
) -> np.ndarray:
    """Reference log-mel of the evaluation protocol (docs/evaluation.md), computed by librosa.

    Args:
        audio: ``(samples,)`` or ``(batch, samples)`` float.

    Returns:
        ``(frames, n_mels)`` or ``(batch, frames, n_mels)`` dB, float32.
    """
    import librosa

    spec = librosa.feature.melspectrogram(
        y=np.asarray(audio, dtype=np.float32),
        sr=sample_rate,
        n_fft=n_fft,
        hop_length=hop_length,
        n_mels=n_mels,
        power=2.0,
    )
    db = librosa.power_to_db(spec, ref=1.0, amin=1e-10, top_db=None)
    return np.swapaxes(db, -1, -2).astype(np.float32)


def real_frames(lengths: np.ndarray | int, *, hop_length: int = 512, frames: int) -> np.ndarray:
    """Frames whose centre lies on real (not padded) samples.

    Args:
        lengths: real samples per segment, scalar or ``(n,)``.
        hop_length: samples between frames (frames are centred).
        frames: frame count of a full segment (the cap).

    Returns:
        int64 array shaped like ``lengths``.
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    return np.clip(1 + (np.maximum(lengths, 1) - 1) // hop_length, 1, frames)


def spectral_rmse_db(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    frames: np.ndarray | int | None = None,
    dynamic_range_db: float = 80.0,
) -> np.ndarray:
    """Spectral RMSE in dB between log-mel spectrograms, per segment.

    ``floor = max(R) - 80``; ``sqrt(mean((max(R, floor) - max(E, floor))**2))`` over the real
    frames and all mel bands. Frame counts that differ are cropped to the shorter.

    Args:
        reference: ``(frames, mels)`` or ``(n, frames, mels)`` dB.
        estimate: same layout.
        frames: real frames per segment (scalar or ``(n,)``); ``None`` = all frames.
        dynamic_range_db: the floor below each reference's maximum.

    Returns:
        ``(n,)`` float64 RMSE per segment (a 0-d array for a single spectrogram).

    Example:
        >>> r = np.zeros((1, 10, 4)); e = r + 3.0
        >>> spectral_rmse_db(r, e).tolist()
        [3.0]
    """
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimate, dtype=np.float64)
    single = ref.ndim == 2
    if single:
        ref, est = ref[None], est[None]
    if ref.ndim != 3 or est.ndim != 3:
        raise InvalidAudioError(
            f"expected (frames, mels) or (n, frames, mels) spectrograms, got {ref.shape} and "
            f"{est.shape}"
        )
    if ref.shape[0] != est.shape[0] or ref.shape[2] != est.shape[2]:
        raise InvalidAudioError(f"spectrogram shapes differ: {ref.shape} vs {est.shape}")
    t = min(ref.shape[1], est.shape[1])
    ref, est = ref[:, :t], est[:, :t]
    n = ref.shape[0]
    counts = np.full(n, t) if frames is None else np.broadcast_to(np.asarray(frames), (n,))
    counts = np.clip(counts.astype(np.int64), 1, t)
    mask = np.arange(t)[None, :] < counts[:, None]  # (n, t)
    masked_ref = np.where(mask[..., None], ref, -np.inf)
    floor = masked_ref.max(axis=(1, 2)) - dynamic_range_db  # (n,)
    diff = np.maximum(ref, floor[:, None, None]) - np.maximum(est, floor[:, None, None])
    sq = np.where(mask[..., None], diff**2, 0.0).sum(axis=(1, 2))
    rmse = np.sqrt(sq / (counts * ref.shape[2]))
    return rmse[0] if single else rmse


def bitrate(
    *,
    latent_dims: int,
    bits_per_dim: float,
    segment_seconds: float = 3.0,
    header_bits: float = 0.0,
    clip_seconds: float | None = None,
) -> float:
    """Bits per second of what must be stored to decode a per-segment latent.

    ``latent_dims * bits_per_dim / segment_seconds``, plus a per-file header amortised over
    ``clip_seconds`` when given.
    """
    if latent_dims <= 0 or bits_per_dim <= 0 or segment_seconds <= 0:
        raise ValueError("latent_dims, bits_per_dim and segment_seconds must be positive")
    rate = latent_dims * bits_per_dim / segment_seconds
    if header_bits and clip_seconds:
        rate += header_bits / clip_seconds
    return float(rate)


def compression_ratio(bits_per_second: float, *, reference: float = PCM_BITRATE) -> float:
    """352.8 kbit/s (22050 Hz x 16 bit) divided by the bitrate."""
    if bits_per_second <= 0:
        raise ValueError("bitrate must be positive")
    return float(reference / bits_per_second)


def _floored_pair(a: np.ndarray, b: np.ndarray, floor: float) -> float:
    return float(np.sqrt(np.mean((np.maximum(a, floor) - np.maximum(b, floor)) ** 2)))


def interpolation_smoothness(log_mels: np.ndarray, *, dynamic_range_db: float = 80.0) -> float:
    """Max over steps of the log-mel distance between consecutive steps, over the mean step.

    1.0 means perfectly even steps; larger means the path jumps somewhere
    (the evaluation protocol (docs/evaluation.md)).
    Distances are RMS dB differences with everything floored at the path's max - 80 dB.

    Args:
        log_mels: ``(steps, ...)`` dB, one log-mel (or a stack of segments) per step.

    Example:
        >>> interpolation_smoothness(np.array([[0.0], [1.0], [2.0], [6.0]]))
        2.0
    """
    x = np.asarray(log_mels, dtype=np.float64)
    if x.ndim < 2 or x.shape[0] < 3:
        raise ValueError(f"need (steps >= 3, ...) log-mels, got {x.shape}")
    floor = float(x.max()) - dynamic_range_db
    steps = np.array([_floored_pair(x[i], x[i + 1], floor) for i in range(len(x) - 1)])
    mean = steps.mean()
    return float(steps.max() / mean) if mean > 0 else 1.0


def crossfade_log_mels(a: np.ndarray, b: np.ndarray, steps: int = 9) -> np.ndarray:
    """The data-space baseline: log-mels of audio crossfades ``(1 - t) a + t b`` (power mix).

    Args:
        a, b: log-mels dB of the same shape.
        steps: points including both ends.

    Returns:
        ``(steps, *a.shape)`` dB.
    """
    pa, pb = np.power(10.0, np.asarray(a) / 10.0), np.power(10.0, np.asarray(b) / 10.0)
    t = np.linspace(0.0, 1.0, steps).reshape(-1, *([1] * pa.ndim))
    return (10.0 * np.log10(np.maximum((1 - t) * pa + t * pb, 1e-10))).astype(np.float32)


def nearest_distance(
    log_mels: np.ndarray, reference: np.ndarray, *, dynamic_range_db: float = 80.0
) -> np.ndarray:
    """Per log-mel, the RMS dB distance to the nearest reference log-mel (realism).

    Each pair is floored at the query's max - 80 dB, as in the spectral RMSE.

    Args:
        log_mels: ``(n, frames, mels)`` dB.
        reference: ``(m, frames, mels)`` dB (e.g. real training segments).

    Returns:
        ``(n,)`` float64.
    """
    q = np.asarray(log_mels, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if q.ndim != 3 or r.ndim != 3 or q.shape[1:] != r.shape[1:]:
        raise ValueError(f"shapes do not match: {q.shape} vs {r.shape}")
    out = np.empty(len(q))
    rf = r.reshape(len(r), -1)
    for i, x in enumerate(q):
        floor = x.max() - dynamic_range_db
        d = np.maximum(rf, floor) - np.maximum(x.reshape(-1), floor)
        out[i] = np.sqrt((d * d).mean(axis=1)).min()
    return out
