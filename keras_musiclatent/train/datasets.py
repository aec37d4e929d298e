"""The data a training config names: clip tables, audio banks, segment datasets.

One place for what :func:`keras_musiclatent.train.loop.train` and the tuning HyperModels
both need, so a trial trains on exactly the data a run would.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from keras_musiclatent._files import atomic_path
from keras_musiclatent.data import (
    AudioBank,
    ClipTable,
    load_fma,
    load_folder,
    load_gtzan,
    load_unlabelled,
)
from keras_musiclatent.data.bank import SHARD_MAX_BYTES
from keras_musiclatent.data.crops import CropDataset
from keras_musiclatent.data.stream import SegmentDataset
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import resolve_cache_dir

__all__ = [
    "ADAPT_BATCHES",
    "TrainingSources",
    "adapt_batches",
    "export_shards",
    "segment_datasets",
    "tables",
    "training_sources",
]

#: Batches of training audio that set the per-band normalisation before training.
ADAPT_BATCHES = 24


@dataclass(frozen=True)
class TrainingSources:
    """What a config trains and validates on, read once (a tuner reuses it across trials).

    Attributes:
        train: the training clips: a table (decoded per batch) or a bank (in memory).
        valid: the validation clips (a bank only for a ``shards`` export).
    """

    train: ClipTable | AudioBank
    valid: ClipTable | AudioBank

    def summary(self) -> dict[str, Any]:
        """Clip counts (and hours of training audio, for a bank), for ``training.json``."""
        out: dict[str, Any] = {"train_clips": len(self.train), "valid_clips": len(self.valid)}
        if isinstance(self.train, AudioBank):
            out["train_hours"] = round(self.train.seconds / 3600, 3)
        return out


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
    if d["dataset"] == "shards":
        raise ConfigError("a shards export holds audio banks, not clip tables")
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


def _source_table(source: Mapping[str, Any], split_seed: int) -> ClipTable:
    root = Path(source["root"]).expanduser()
    if source["dataset"] == "unlabelled":
        return load_unlabelled(root)
    if source["dataset"] == "gtzan":
        table = load_gtzan(root)
    elif source["dataset"] == "fma":
        table = load_fma(root)
    else:
        table = load_folder(root, split_seed=split_seed)
    splits = set(source["splits"] or ["train"])
    return table.filter(lambda clip: clip.split in splits)


def training_sources(config: Mapping[str, Any], *, progress: bool | None = None) -> TrainingSources:
    """Read the clips a (loaded) config trains and validates on.

    ``training.sampling: grid`` with no ``data.extra_sources`` keeps the training clips as a
    table, decoded batch by batch. Otherwise the training audio of ``data.root`` and of every
    extra source is decoded once into an :class:`~keras_musiclatent.data.AudioBank`, with the
    sources' weights. Validation always stays on ``data.root``'s valid split.

    Raises:
        ConfigError: an empty split or source.
        DatasetError, AudioError: what the loaders and the decoder raise.

    Example:
        >>> loaded = training_sources(config)  # doctest: +SKIP
        >>> loaded.summary()
        {'train_clips': 540, 'valid_clips': 120, 'train_hours': 11.457}
    """
    d = config["data"]
    if d["dataset"] == "shards":
        root = Path(d["root"]).expanduser()
        train, valid = AudioBank.load_shards(root / "train"), AudioBank.load_shards(root / "valid")
        if train.sample_rate != int(d["sample_rate"]):
            raise ConfigError(
                f"{root}: the shards hold {train.sample_rate} Hz audio, the config asks for "
                f"{d['sample_rate']} Hz"
            )
        return TrainingSources(train, valid)
    train, valid = tables(config)
    extra = d["extra_sources"]
    if config["training"]["sampling"] == "grid" and not extra:
        return TrainingSources(train, valid)
    split_seed = 0 if d["split_seed"] is None else int(d["split_seed"])
    genres = _genre_vocabulary(config)
    if genres:
        # The genre term learns from the main dataset's train split alone: the extra splits
        # (GTZAN's faulty "excluded" clips) train the model as unlabelled music.
        train = ClipTable(
            [c if c.split == d["train_split"] else dataclasses.replace(c, label="") for c in train]
        )
    extra_tables = []
    for name, source in extra.items():
        table = _source_table(source, split_seed)
        if len(table) == 0:
            raise ConfigError(f"data.extra_sources.{name}: no clips in {source['root']}")
        extra_tables.append(table)
    bank = AudioBank.from_tables(
        [train, *extra_tables],
        weights=[float(d["weight"]), *(float(s["weight"]) for s in extra.values())],
        sample_rate=int(d["sample_rate"]),
        cache_dir=resolve_cache_dir(d["cache_dir"]),
        progress=progress,
        labels=genres,
    )
    if genres:
        # In memory with the same vocabulary, so validation reports the genre term too.
        valid = AudioBank.from_tables(
            [valid],
            sample_rate=int(d["sample_rate"]),
            cache_dir=resolve_cache_dir(d["cache_dir"]),
            progress=progress,
            labels=genres,
        )
    return TrainingSources(bank, valid)


def _genre_vocabulary(config: Mapping[str, Any]) -> list[str] | None:
    """The model's genre names when it trains a genre term, else ``None``."""
    model = config["model"]
    if float(model.get("genre_weight", 0.0)) <= 0:
        return None
    return [str(g) for g in model.get("genres", ())]


def segment_datasets(
    config: Mapping[str, Any], loaded: TrainingSources | None = None
) -> tuple[CropDataset | SegmentDataset, CropDataset | SegmentDataset]:
    """``(train, valid)`` unlabelled segment datasets of a (loaded) config.

    A training table gives a :class:`SegmentDataset` on the protocol's grid, shuffled from
    ``training.seed`` and the epoch; a training bank gives a :class:`CropDataset` drawing
    ``training.sampling`` windows (random crops with ``training.augment``, or the grid). The
    validation set is the protocol's grid, in clip order. Batches are
    ``({"audio": (batch, samples), "length": (batch,)},)``.

    Args:
        config: a config from :func:`~keras_musiclatent.train.config.load_config`.
        loaded: the clips, already read (default: :func:`training_sources`).

    Example:
        >>> train_ds, valid_ds = segment_datasets(config)  # doctest: +SKIP
        >>> train_ds[0][0]["audio"].shape
        (32, 66150)
    """
    loaded = training_sources(config) if loaded is None else loaded
    d, training = config["data"], config["training"]
    # A clip-consistency loss compares two crops of one clip: only crops can pair up.
    pairs = float(config["model"].get("consistency_weight", 0.0)) > 0
    crops = training["sampling"] == "crops" and not isinstance(loaded.train, ClipTable)
    if pairs and not crops:
        raise ConfigError("model.consistency_weight needs training.sampling: crops")
    labelled = _genre_vocabulary(config) is not None
    if labelled and not crops:
        raise ConfigError("model.genre_weight needs training.sampling: crops")
    batch_size = int(training["batch_size"])
    seconds = float(d["segment_seconds"])
    common = {
        "batch_size": batch_size,
        "sample_rate": int(d["sample_rate"]),
        "segment_seconds": seconds,
        "cache_dir": resolve_cache_dir(d["cache_dir"]),
        "include_labels": False,
    }

    def dataset(clips: ClipTable | AudioBank, *, train: bool) -> CropDataset | SegmentDataset:
        if isinstance(clips, ClipTable):
            return SegmentDataset(clips, shuffle=train, seed=int(training["seed"]), **common)
        if not train:
            return CropDataset(
                clips,
                batch_size=batch_size,
                segment_seconds=seconds,
                sampling="grid",
                include_labels=labelled,
            )
        return CropDataset(
            clips,
            batch_size=batch_size,
            segment_seconds=seconds,
            sampling=training["sampling"],
            segments_per_epoch=training["segments_per_epoch"],
            seed=int(training["seed"]),
            gain_db=float(training["augment"]["gain_db"]),
            polarity=bool(training["augment"]["polarity"]),
            on_device=bool(training["device_audio"]),
            pairs=pairs,
            include_labels=labelled,
        )

    return dataset(loaded.train, train=True), dataset(loaded.valid, train=False)


def adapt_batches(train_ds: CropDataset | SegmentDataset) -> Iterator[Any]:
    """The first :data:`ADAPT_BATCHES` (shuffled) training batches, for ``model.adapt``."""
    return (train_ds[i] for i in range(min(len(train_ds), ADAPT_BATCHES)))


def export_shards(
    config: Mapping[str, Any],
    out: str | os.PathLike,
    *,
    max_bytes: int = SHARD_MAX_BYTES,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Write a config's training and validation audio as shards a run can train from.

    ``out/train`` and ``out/valid`` get :meth:`AudioBank.save_shards` files (int16 ``.npz`` of
    at most ``max_bytes``, sha256 in ``bank.json``); ``out/config.yaml`` is the config with
    ``data.dataset: shards``, so that on a machine without the original audio
    ``musiclatent train out/config.yaml --data out --out RUN`` trains on the same clips.

    Returns:
        What was written: shard counts and sizes, hours of audio, the config path.

    Raises:
        ConfigError: a ``shards`` config (already an export).

    Example:
        >>> export_shards(load_config("mix.yaml"), "shards")["train_shards"]  # doctest: +SKIP
        37
    """
    d = config["data"]
    if d["dataset"] == "shards":
        raise ConfigError(f"{d['root']} is a shards export already")
    forced = copy.deepcopy(dict(config))
    forced["training"] = {**forced["training"], "sampling": "crops"}
    loaded = training_sources(forced, progress=progress)
    bank = loaded.train
    valid_bank = AudioBank.from_tables(
        [loaded.valid],
        sample_rate=int(d["sample_rate"]),
        cache_dir=resolve_cache_dir(d["cache_dir"]),
        progress=progress,
    )
    out = Path(out)
    written = {
        part: b.save_shards(out / part, max_bytes=max_bytes)
        for part, b in (("train", bank), ("valid", valid_bank))
    }
    exported = copy.deepcopy(dict(config))
    exported["data"] = {**exported["data"], "dataset": "shards", "root": None, "extra_sources": {}}
    exported["data"]["cache_dir"] = False
    with atomic_path(out / "config.yaml") as tmp:
        tmp.write_text(yaml.safe_dump(exported, sort_keys=False))
    return {
        "out": str(out),
        "config": str(out / "config.yaml"),
        "train_hours": round(bank.seconds / 3600, 3),
        "valid_hours": round(valid_bank.seconds / 3600, 3),
        "train_shards": len(written["train"]),
        "valid_shards": len(written["valid"]),
        "largest_shard_bytes": max(p.stat().st_size for ps in written.values() for p in ps),
    }
