"""The one window rule (the project's evaluation protocol), for arrays and for streams.

Non-overlapping windows of ``seconds`` from the start; a remainder of ``min_remainder_seconds``
(1 s) or more becomes a last zero-padded window; a clip shorter than one window is one
zero-padded window, never dropped. Every caller that cuts audio into windows (datasets,
``LatentSpace``, evaluation) goes through this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from keras_musiclatent.errors import EmptyAudioError, InvalidAudioError

__all__ = [
    "DEFAULT_SEGMENT_SECONDS",
    "MIN_REMAINDER_SECONDS",
    "segment",
    "segment_count",
    "stream_windows",
    "window_samples",
]

DEFAULT_SEGMENT_SECONDS = 3.0
#: Shortest tail that still becomes a (zero-padded) window.
MIN_REMAINDER_SECONDS = 1.0


def window_samples(sample_rate: int, seconds: float = DEFAULT_SEGMENT_SECONDS) -> int:
    """Samples per window: ``round(seconds * sample_rate)``.

    Example:
        >>> window_samples(22050, 3.0)
        66150
    """
    return int(round(float(seconds) * int(sample_rate)))


def segment_count(
    samples: int,
    sample_rate: int,
    seconds: float = DEFAULT_SEGMENT_SECONDS,
    *,
    min_remainder_seconds: float = MIN_REMAINDER_SECONDS,
) -> int:
    """Windows :func:`segment` makes of ``samples`` samples (0 for none).

    Example:
        >>> segment_count(22050 * 7, 22050, 3.0)
        3
    """
    length = window_samples(sample_rate, seconds)
    if samples <= 0:
        return 0
    if samples < length:
        return 1
    full, rest = divmod(int(samples), length)
    return full + int(rest > 0 and rest >= window_samples(sample_rate, min_remainder_seconds))


def segment(
    audio: np.ndarray,
    sr: int = 22050,
    seconds: float = DEFAULT_SEGMENT_SECONDS,
    *,
    min_remainder_seconds: float = MIN_REMAINDER_SECONDS,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a mono signal into fixed windows by the rule above.

    Args:
        audio: ``(samples,)`` mono signal.
        sr: its sample rate.
        seconds: window length.
        min_remainder_seconds: shortest tail kept as a padded window.

    Returns:
        ``(windows, lengths)``: float32 ``(n, round(seconds * sr))`` and int64 ``(n,)``,
        the number of real samples in each window (for masks).

    Raises:
        InvalidAudioError: not 1-D, NaN or infinite samples, or a non-positive window.
        EmptyAudioError: zero samples.

    Example:
        >>> w, n = segment(np.zeros(22050 * 7, np.float32), 22050)
        >>> w.shape, n.tolist()
        ((3, 66150), [66150, 66150, 22050])
    """
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise InvalidAudioError(f"segment expects mono (samples,), got shape {audio.shape}")
    length = window_samples(sr, seconds)
    if length <= 0:
        raise InvalidAudioError(f"segment length must be positive, got {seconds} s at {sr} Hz")
    if not np.isfinite(audio).all():
        raise InvalidAudioError("segment: audio holds NaN or infinite samples")
    count = segment_count(len(audio), sr, seconds, min_remainder_seconds=min_remainder_seconds)
    if count == 0:
        raise EmptyAudioError("cannot segment audio with zero samples")
    windows = np.zeros((count, length), dtype=np.float32)
    lengths = np.zeros(count, dtype=np.int64)
    for i in range(count):
        chunk = audio[i * length : (i + 1) * length]
        windows[i, : len(chunk)] = chunk
        lengths[i] = len(chunk)
    return windows, lengths


def stream_windows(
    blocks: Iterable[np.ndarray],
    *,
    sample_rate: int,
    seconds: float = DEFAULT_SEGMENT_SECONDS,
    batch: int = 32,
    min_remainder_seconds: float = MIN_REMAINDER_SECONDS,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The windows of :func:`segment`, from a stream of mono blocks, ``batch`` at a time.

    Memory stays bounded by one batch of windows plus one block, whatever the stream's length.

    Args:
        blocks: float32 ``(samples,)`` blocks in order (e.g. from ``audio.stream``).
        sample_rate: their rate.
        seconds: window length.
        batch: windows per yielded batch.
        min_remainder_seconds: shortest tail kept as a padded window.

    Yields:
        ``(windows, lengths)``: float32 ``(<=batch, samples)`` and int64 ``(<=batch,)``.

    Raises:
        EmptyAudioError: the stream holds zero samples.

    Example:
        >>> blocks = [np.zeros(50000, np.float32), np.zeros(50000, np.float32)]
        >>> [w.shape for w, _ in stream_windows(blocks, sample_rate=22050)]
        [(2, 66150)]
    """
    size = window_samples(sample_rate, seconds)
    min_tail = window_samples(sample_rate, min_remainder_seconds)
    buffer = np.zeros(0, np.float32)
    windows: list[np.ndarray] = []
    emitted = 0
    for block in blocks:
        buffer = np.concatenate([buffer, np.asarray(block, np.float32)])
        while len(buffer) >= size:
            windows.append(buffer[:size])
            buffer = buffer[size:]
            if len(windows) == batch:
                yield np.stack(windows), np.full(len(windows), size, np.int64)
                emitted += len(windows)
                windows = []
    lengths = [size] * len(windows)
    tail = len(buffer)
    if tail and (tail >= min_tail or emitted + len(windows) == 0):
        windows.append(np.pad(buffer, (0, size - tail)))
        lengths.append(tail)
    if windows:
        yield np.stack(windows), np.asarray(lengths, np.int64)
    elif emitted == 0:
        raise EmptyAudioError("the audio holds zero samples")
