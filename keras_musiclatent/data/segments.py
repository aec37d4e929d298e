"""Segment indexing: which fixed windows each clip yields, known before decoding anything.

The rule of the evaluation protocol (docs/evaluation.md), as
:func:`keras_musiclatent.audio.segment` applies it: non-overlapping windows from the start,
a remainder of ``min_remainder_seconds`` or more becomes a last zero-padded window, a clip
shorter than one window is one zero-padded window. Counts come from file headers (frames
converted to the target rate); windows are cut from the decoded audio.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent.audio.windows import segment_count
from keras_musiclatent.data.cache import AudioCache
from keras_musiclatent.data.table import ClipTable
from keras_musiclatent.errors import AudioError, DatasetError

__all__ = ["SegmentIndex", "build_index", "cut_window", "segment_count", "segments_array"]


def header_samples(path: str | os.PathLike, sample_rate: int) -> int:
    """Samples a file will have at ``sample_rate``, from its header (no decoding)."""
    meta = audio.info(path)
    return math.floor(meta.frames * sample_rate / meta.sample_rate + 0.5)


def cut_window(y: np.ndarray, k: int, length: int) -> tuple[np.ndarray, int]:
    """Window ``k`` of ``y``, zero-padded to ``length``, and its count of real samples.

    The decoded length can differ from the header's by a few samples (resampling, MP3 encoder
    padding), so the index may ask for a window the decoded audio barely or never reaches. A
    window that starts inside the audio is cut as it is (possibly short, padded); one that
    starts past the end falls back to the clip's last window, so every window holds real audio.

    Returns:
        ``(window, n)``: float32 ``(length,)`` and ``1 <= n <= length``.
    """
    start = k * length
    if start >= len(y):
        start = max(0, (len(y) - 1) // length) * length
    chunk = np.asarray(y[start : start + length], dtype=np.float32)
    out = np.zeros(length, dtype=np.float32)
    out[: len(chunk)] = chunk
    return out, len(chunk)


@dataclass(frozen=True)
class SegmentIndex:
    """Every (clip, window) pair of a table.

    Attributes:
        table: the clips indexed (unreadable ones left out when skipped).
        clip: int32 ``(n_segments,)`` position of each segment's clip in ``table``.
        segment: int32 ``(n_segments,)`` window number inside its clip.
        counts: int32 ``(len(table),)`` windows per clip.
        skipped: clips left out because their header could not be read, with the reason.
    """

    table: ClipTable
    clip: np.ndarray
    segment: np.ndarray
    counts: np.ndarray
    skipped: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.clip)


def build_index(
    table: ClipTable,
    *,
    sample_rate: int = audio.DEFAULT_SAMPLE_RATE,
    segment_seconds: float = audio.DEFAULT_SEGMENT_SECONDS,
    min_remainder_seconds: float = 1.0,
    skip_unreadable: bool = False,
) -> SegmentIndex:
    """Read each clip's header and list its windows.

    Args:
        table: the clips.
        sample_rate: target rate in Hz.
        segment_seconds: window length.
        min_remainder_seconds: shortest tail kept as a padded window.
        skip_unreadable: leave out (with a warning) clips whose header cannot be read, instead
            of raising.

    Raises:
        DatasetError: empty table, or no readable clip.
        AudioError: an unreadable clip, unless skipped.
    """
    if len(table) == 0:
        extra = f" ({len(table.missing)} listed clips have no audio)" if table.missing else ""
        raise DatasetError(f"no clips to segment: the table is empty{extra}")
    if sample_rate <= 0 or segment_seconds <= 0 or round(segment_seconds * sample_rate) <= 0:
        raise DatasetError(f"bad segment settings: {segment_seconds} s at {sample_rate} Hz")
    kept, counts, skipped = [], [], []
    for clip in table:
        try:
            n = header_samples(clip.path, sample_rate)
        except AudioError as exc:
            if not skip_unreadable:
                raise
            skipped.append((clip.clip_id, str(exc)))
            continue
        c = segment_count(
            n, sample_rate, segment_seconds, min_remainder_seconds=min_remainder_seconds
        )
        # A header can claim zero frames for a stream of unknown length: still one window.
        kept.append(clip)
        counts.append(max(c, 1))
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} unreadable clip(s): "
            + "; ".join(f"{i}: {why}" for i, why in skipped[:3])
            + (" ..." if len(skipped) > 3 else ""),
            stacklevel=3,
        )
    if not kept:
        raise DatasetError(f"none of the {len(table)} clips could be read")
    counts_arr = np.asarray(counts, dtype=np.int32)
    clip_idx = np.repeat(np.arange(len(kept), dtype=np.int32), counts_arr)
    starts = np.cumsum(counts_arr) - counts_arr
    seg_idx = (np.arange(len(clip_idx), dtype=np.int64) - np.repeat(starts, counts_arr)).astype(
        np.int32
    )
    if len(kept) == len(table):
        sub = table
    else:
        kept_ids = {c.clip_id for c in kept}
        sub = table.filter(lambda c: c.clip_id in kept_ids)
    return SegmentIndex(sub, clip_idx, seg_idx, counts_arr, tuple(skipped))


def label_ids(table: ClipTable, labels: Sequence[str] | None) -> tuple[list[str], np.ndarray]:
    """Class vocabulary and int32 ``(len(table),)`` label id of each clip.

    Raises:
        DatasetError: a clip's label is not in ``labels``.
    """
    vocab = list(labels) if labels is not None else table.labels
    lookup = {lab: i for i, lab in enumerate(vocab)}
    if len(lookup) != len(vocab):
        raise DatasetError(f"labels must be unique, got {vocab}")
    ids = np.empty(len(table), dtype=np.int32)
    for i, clip in enumerate(table):
        if clip.label not in lookup:
            raise DatasetError(
                f"clip {clip.clip_id}: label {clip.label!r} is not one of {', '.join(vocab)}"
            )
        ids[i] = lookup[clip.label]
    return vocab, ids


def segments_array(
    table: ClipTable,
    *,
    sample_rate: int = audio.DEFAULT_SAMPLE_RATE,
    segment_seconds: float = audio.DEFAULT_SEGMENT_SECONDS,
    min_remainder_seconds: float = 1.0,
    labels: Sequence[str] | None = None,
    cache_dir: str | os.PathLike | None = None,
    skip_unreadable: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode every window of a (small) table into arrays, in table order.

    The windows are exactly those :class:`SegmentDataset` yields with ``shuffle=False``.
    Memory is ``n_segments x segment_samples x 4`` bytes: meant for evaluation sets, PCA and
    plots, not for a whole training collection.

    Args:
        table: the clips.
        sample_rate: target rate in Hz.
        segment_seconds: window length.
        min_remainder_seconds: shortest tail kept as a padded window.
        labels: class vocabulary (default: ``table.labels``); pass the training table's labels
            so ids agree across splits.
        cache_dir: optional decoded-audio cache (see :class:`AudioCache`).
        skip_unreadable: leave out clips whose header cannot be read.

    Returns:
        ``(waveforms, lengths, labels, clip_index)``: float32 ``(n, samples)``, int32 ``(n,)``
        real samples per window, int32 ``(n,)`` label ids, int32 ``(n,)`` position of each
        window's clip in ``table``.

    Example:
        >>> w, n, y, c = segments_array(table)  # doctest: +SKIP
        >>> w.shape
        (30, 66150)
    """
    index = build_index(
        table,
        sample_rate=sample_rate,
        segment_seconds=segment_seconds,
        min_remainder_seconds=min_remainder_seconds,
        skip_unreadable=skip_unreadable,
    )
    _, clip_labels = label_ids(index.table, labels)
    length = round(segment_seconds * sample_rate)
    decoder = AudioCache(sample_rate=sample_rate, cache_dir=cache_dir)
    n = len(index)
    waves = np.zeros((n, length), dtype=np.float32)
    lengths = np.zeros(n, dtype=np.int32)
    row = 0
    for i, clip in enumerate(index.table):
        count = int(index.counts[i])
        y = decoder.get(clip.path, need=count * length)
        for k in range(count):
            waves[row], lengths[row] = cut_window(y, k, length)
            row += 1
    # index.clip points into index.table, which lacks skipped clips; callers want `table`.
    positions = {c.clip_id: i for i, c in enumerate(table)}
    remap = np.asarray([positions[c.clip_id] for c in index.table], dtype=np.int32)
    clip_index = remap[index.clip]
    return waves, lengths, clip_labels[index.clip], clip_index
