"""The data a training config names: clip tables, segment datasets, band-statistics batches.

One place for what :func:`keras_musiclatent.train.loop.train` and the tuning HyperModels
both need, so a trial trains on exactly the data a run would.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent.data import ClipTable, load_fma, load_folder, load_gtzan
from keras_musiclatent.data.stream import SegmentDataset
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import resolve_cache_dir

__all__ = ["ADAPT_BATCHES", "adapt_batches", "segment_datasets", "tables"]

#: Batches of training audio that set the per-band normalisation before training.
ADAPT_BATCHES = 24


def _thin(table: ClipTable, max_clips: int) -> ClipTable:
    # Evenly spaced clips of a table sorted by genre keep every genre, in proportion.
    if len(table) <= max_clips:
        return table
    picks = np.unique(np.linspace(0, len(table) - 1, max_clips).round().astype(int))
    keep = {table[int(i)].clip_id for i in picks}
    return table.filter(lambda clip: clip.clip_id in keep)


def tables(config: Mapping[str, Any]) -> tuple[ClipTable, ClipTable]:
    """``(train, valid)`` clip tables a (loaded) config names, thinned to ``data.max_clips``.

    Raises:
        ConfigError: a split that holds no clips.

    Example:
        >>> train, valid = tables(load_config("configs/gtzan-vae.yaml"))  # doctest: +SKIP
        >>> len(train), len(valid)
        (333, 139)
    """
    d = config["data"]
    root = Path(d["root"]).expanduser()
    if d["dataset"] == "gtzan":
        table = load_gtzan(root, split_file=d["split_file"], split_seed=d["split_seed"])
    elif d["dataset"] == "fma":
        table = load_fma(root)
    else:
        table = load_folder(root, split_seed=0 if d["split_seed"] is None else d["split_seed"])
    train_splits = {d["train_split"], *d["extra_train_splits"]}
    train = table.filter(lambda clip: clip.split in train_splits)
    valid = table.split(d["valid_split"])
    if d["max_clips"]:
        train, valid = _thin(train, int(d["max_clips"])), _thin(valid, int(d["max_clips"]))
    if len(train) == 0:
        raise ConfigError(f"split {d['train_split']!r} of {root} holds no clips")
    if len(valid) == 0:
        raise ConfigError(f"split {d['valid_split']!r} of {root} holds no clips")
    return train, valid


def segment_datasets(
    config: Mapping[str, Any], clip_tables: tuple[ClipTable, ClipTable] | None = None
) -> tuple[SegmentDataset, SegmentDataset]:
    """``(train, valid)`` unlabelled segment datasets of a (loaded) config.

    The training set is shuffled from ``training.seed`` and the epoch; the validation set
    comes in table order. Batches are ``({"audio": (batch, samples), "length": (batch,)},)``.

    Args:
        config: a config from :func:`~keras_musiclatent.train.config.load_config`.
        clip_tables: ``(train, valid)`` tables already read (default: :func:`tables`).

    Example:
        >>> train_ds, valid_ds = segment_datasets(config)  # doctest: +SKIP
        >>> train_ds[0][0]["audio"].shape
        (32, 66150)
    """
    train_table, valid_table = tables(config) if clip_tables is None else clip_tables
    d, training = config["data"], config["training"]
    common = {
        "batch_size": int(training["batch_size"]),
        "sample_rate": int(d["sample_rate"]),
        "segment_seconds": float(d["segment_seconds"]),
        "cache_dir": resolve_cache_dir(d["cache_dir"]),
        "include_labels": False,
    }
    train_ds = SegmentDataset(train_table, shuffle=True, seed=int(training["seed"]), **common)
    valid_ds = SegmentDataset(valid_table, shuffle=False, **common)
    return train_ds, valid_ds


def adapt_batches(train_ds: SegmentDataset) -> Iterator[Any]:
    """The first :data:`ADAPT_BATCHES` (shuffled) training batches, for ``model.adapt``."""
    return (train_ds[i] for i in range(min(len(train_ds), ADAPT_BATCHES)))
