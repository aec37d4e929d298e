"""Clips for the report and the projector: a dataset, a split, a seeded subsample, its segments.

Both views cut clips exactly as :func:`keras_musiclatent.data.segments_array` does (the
evaluation protocol's 3-s windows), so a point in a plot is the segment a model card counts.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from keras_musiclatent.errors import ConfigError, DatasetError

__all__ = ["DATASETS", "Segments", "load_table", "safe_name", "segments_of", "subsample"]

#: ``--dataset`` choices: the loaders of :mod:`keras_musiclatent.data`.
DATASETS = ("gtzan", "folder", "fma")


def load_table(data: str | os.PathLike, *, dataset: str = "gtzan") -> Any:
    """The clip table of a dataset folder.

    Args:
        data: the dataset's root folder.
        dataset: ``"gtzan"`` (fault-filtered split), ``"folder"`` (``<genre>/<files>``, a
            seeded 80/20 train/valid split, as ``musiclatent evaluate`` makes it) or ``"fma"``.

    Raises:
        ConfigError: an unknown ``dataset``.
        DatasetError: the loader's complaints (missing folder, no audio, ...).
    """
    from keras_musiclatent import data as data_module

    if dataset == "gtzan":
        return data_module.load_gtzan(data)
    if dataset == "folder":
        return data_module.load_folder(data, split_seed=0)
    if dataset == "fma":
        return data_module.load_fma(data)
    raise ConfigError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")


def subsample(table: Any, *, max_clips: int | None, seed: int = 0) -> Any:
    """At most ``max_clips`` clips, drawn round-robin over labels (seeded), in table order.

    Round-robin keeps every genre in a small sample, which a plain random draw would not.
    """
    if max_clips is None or len(table) <= max_clips:
        return table
    if max_clips < 1:
        raise ConfigError(f"max_clips must be at least 1, got {max_clips}")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[str]] = defaultdict(list)
    for clip in table:
        by_label[clip.label].append(clip.clip_id)
    queues = {k: list(rng.permutation(v)) for k, v in sorted(by_label.items())}
    chosen: set[str] = set()
    while len(chosen) < max_clips:
        for queue in queues.values():
            if queue and len(chosen) < max_clips:
                chosen.add(str(queue.pop(0)))
    return table.filter(lambda c: c.clip_id in chosen)


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

    table: Any
    waves: np.ndarray
    lengths: np.ndarray
    clip_index: np.ndarray
    labels: list[str]

    def __len__(self) -> int:
        return len(self.waves)

    def rows_of(self, position: int) -> np.ndarray:
        """Window rows of the clip at ``position``."""
        return np.flatnonzero(self.clip_index == position)


def segments_of(table: Any, space: Any, *, cache_dir: str | os.PathLike | None = None) -> Segments:
    """Decode a table's windows at the model's rate and segment length.

    Raises:
        DatasetError: an empty table, or no readable clip.
    """
    from keras_musiclatent.data import segments_array

    if len(table) == 0:
        raise DatasetError("no clips to show: the chosen split holds no audio")
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
