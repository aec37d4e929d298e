"""The clips a view shows (report, projector): their decoded 3-s windows, and file-safe names.

Views cut clips exactly as :func:`keras_musiclatent.data.segments_array` does (the evaluation
protocol's windows), so a point in a plot is a segment the model card counts.

Example:
    >>> from keras_musiclatent.data.sources import load_table  # doctest: +SKIP
    >>> seg = segments_of(load_table("data/gtzan").split("valid"), space)
    >>> seg.waves.shape, seg.rows_of(0)
    ((1200, 66150), array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_musiclatent.data import segments_array
from keras_musiclatent.data.table import ClipTable
from keras_musiclatent.errors import DatasetError

__all__ = ["Segments", "safe_name", "segments_of"]


@dataclass
class Segments:
    """Every 3-s window of some clips, decoded.

    Attributes:
        table: the clips (unreadable ones left out).
        waves: float32 ``(n, samples)`` windows.
        lengths: int ``(n,)`` real samples per window.
        clip_index: int ``(n,)`` position of each window's clip in ``table``.
        labels: ``(n,)`` label of each window's clip.
    """

    table: ClipTable
    waves: np.ndarray
    lengths: np.ndarray
    clip_index: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.waves)

    def rows_of(self, position: int) -> np.ndarray:
        """Window rows ``(k,)`` of the clip at ``position`` in :attr:`table`."""
        return np.flatnonzero(self.clip_index == position)


def segments_of(
    table: ClipTable, space: Any, *, cache_dir: str | os.PathLike | None = None
) -> Segments:
    """Decode a table's windows at the model's rate and segment length.

    Args:
        table: the clips.
        space: anything with ``sample_rate`` and ``segment_seconds`` (a ``LatentSpace``).
        cache_dir: decoded-audio cache.

    Raises:
        DatasetError: an empty table, or no readable clip.
    """
    if len(table) == 0:
        raise DatasetError(
            "no clips to show: the chosen split holds no audio; use --split all "
            "(split='all') to take every clip"
        )
    # Only readable clips end up in the table; skipped ones are warned about by the loader.
    waves, lengths, label_ids, clip_index = segments_array(
        table,
        sample_rate=space.sample_rate,
        segment_seconds=space.segment_seconds,
        cache_dir=cache_dir,
        skip_unreadable=True,
    )
    vocab = table.labels
    kept = sorted(set(clip_index.tolist()))
    if len(kept) != len(table):
        ids = {table[i].clip_id for i in kept}
        sub = table.filter(lambda c: c.clip_id in ids)
        remap = {old: new for new, old in enumerate(kept)}
        clip_index = np.asarray([remap[int(c)] for c in clip_index], np.int32)
        table = sub
    return Segments(
        table=table,
        waves=waves,
        lengths=lengths.astype(np.int64),
        clip_index=clip_index.astype(np.int64),
        labels=[vocab[int(i)] for i in label_ids],
    )


def safe_name(text: str) -> str:
    """A file-name-safe form of a clip id (``rock/live/song1`` → ``rock_live_song1``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "clip"
