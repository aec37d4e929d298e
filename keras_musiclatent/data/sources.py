"""A dataset by name: ``--dataset`` choices, their clip tables, and a seeded subsample.

The command line's ``--data DIR --dataset NAME`` pair goes through :func:`load_table`;
:func:`subsample` draws a small sample that still holds every label.

Example:
    >>> from keras_musiclatent.data.sources import load_table, subsample  # doctest: +SKIP
    >>> table = load_table("data/gtzan")
    >>> small = subsample(table.split("valid"), max_clips=20, seed=0)
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence
from typing import TypeVar

import numpy as np

from keras_musiclatent.data.fma import load_fma
from keras_musiclatent.data.folder import load_folder
from keras_musiclatent.data.gtzan import load_gtzan
from keras_musiclatent.data.table import ALL, ClipTable
from keras_musiclatent.errors import ConfigError, DatasetError

__all__ = ["DATASETS", "load_table", "nonempty_split", "round_robin", "subsample"]

T = TypeVar("T")

#: ``--dataset`` choices: the loaders of :mod:`keras_musiclatent.data`.
DATASETS = ("gtzan", "folder", "fma")


def load_table(data: str | os.PathLike, *, dataset: str = "gtzan") -> ClipTable:
    """The clip table of a dataset folder.

    Args:
        data: the dataset's root folder.
        dataset: ``"gtzan"`` (fault-filtered split), ``"folder"`` (``<genre>/<files>``, a
            seeded 80/20 train/valid split, as ``musiclatent evaluate`` makes it) or ``"fma"``.

    Raises:
        ConfigError: an unknown ``dataset``.
        DatasetError: the loader's complaints (missing folder, no audio, ...).
    """
    if dataset == "gtzan":
        return load_gtzan(data)
    if dataset == "folder":
        return load_folder(data, split_seed=0)
    if dataset == "fma":
        return load_fma(data)
    raise ConfigError(f"unknown dataset {dataset!r}; choose from {', '.join(DATASETS)}")


def nonempty_split(table: ClipTable, name: str) -> ClipTable:
    """The clips of split ``name`` (``"all"``: every clip), refusing an empty result.

    A small folder can leave a split empty (one clip per genre all go to ``train``); the
    error then counts the clips of every split and suggests ``--split all``.

    Raises:
        DatasetError: an unknown split, or a split with no clip on disk.
    """
    chosen = table.split(name)
    if len(chosen) == 0:
        counts = ", ".join(f"{k} {v}" for k, v in table.split_counts().items())
        where = f" (clips per split: {counts})" if len(table) else ""
        hint = "" if name == ALL else "; use --split all (split='all') to take every clip"
        raise DatasetError(f"split {name!r} holds no clips{where}{hint}")
    return chosen


def round_robin(queues: Sequence[Sequence[T]], k: int) -> list[T]:
    """Up to ``k`` items, one from each queue in turn, each queue in its own order.

    Example:
        >>> round_robin([[1, 2, 3], [4]], 3)
        [1, 4, 2]
    """
    queues = [list(q) for q in queues]
    picked: list[T] = []
    while len(picked) < k and any(queues):
        for queue in queues:
            if queue and len(picked) < k:
                picked.append(queue.pop(0))
    return picked


def subsample(table: ClipTable, *, max_clips: int | None, seed: int = 0) -> ClipTable:
    """At most ``max_clips`` clips, drawn round-robin over labels (seeded), in table order.

    Round-robin keeps every genre in a small sample, which a plain random draw would not.
    ``None`` (or a table no larger) returns ``table`` itself.

    Raises:
        ConfigError: ``max_clips`` below 1.
    """
    if max_clips is None or len(table) <= max_clips:
        return table
    if max_clips < 1:
        raise ConfigError(f"max_clips must be at least 1, got {max_clips}")
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[str]] = defaultdict(list)
    for clip in table:
        by_label[clip.label].append(clip.clip_id)
    queues = [rng.permutation(v).tolist() for _, v in sorted(by_label.items())]
    chosen = {str(c) for c in round_robin(queues, max_clips)}
    return table.filter(lambda c: c.clip_id in chosen)
