"""Extra training sources, crop sampling and augmentation: config keys and the data they give."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent.data import AudioBank, ClipTable
from keras_musiclatent.data.crops import CropDataset
from keras_musiclatent.data.stream import SegmentDataset
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import (
    DEFAULT_CONFIG,
    apply_settings,
    check_data_root,
    load_config,
)
from keras_musiclatent.train.datasets import segment_datasets, tables, training_sources

SR = 8000


def _wav(path: Path, seconds: float, freq: float, seed: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(round(seconds * SR)) / SR
    noise = np.random.default_rng(seed).standard_normal(len(t)) * 0.02
    sf.write(path, (0.4 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32), SR)


def make_folder_dataset(root: Path, *, clips_per_label: int = 3, seconds: float = 1.0) -> Path:
    """``root/<label>/<label><i>.wav`` for two labels, at 8 kHz."""
    for j, (label, f0) in enumerate((("low", 220.0), ("high", 1760.0))):
        for i in range(clips_per_label):
            _wav(root / label / f"{label}{i}.wav", seconds, f0 * (1 + 0.05 * i), 10 * j + i)
    return root


def make_unlabelled(root: Path) -> Path:
    """Three clips in nested folders, none of them a label."""
    _wav(root / "album" / "disc1" / "track.wav", 1.5, 330.0, 100)
    _wav(root / "album" / "intro.wav", 0.5, 440.0, 101)
    _wav(root / "loose.wav", 1.0, 550.0, 102)
    return root


def config(tmp_path: Path, **sections) -> dict:
    """A loaded config on a folder dataset at 8 kHz, 0.5-s windows, no decoded-audio cache."""
    main = tmp_path / "main"
    if not main.exists():
        make_folder_dataset(main)
    raw = {
        "data": {
            "dataset": "folder",
            "root": str(main),
            "split_seed": 0,
            "segment_seconds": 0.5,
            "sample_rate": SR,
            "cache_dir": False,
            **sections.get("data", {}),
        },
        "training": {"batch_size": 4, **sections.get("training", {})},
    }
    return load_config(raw)


# --- config keys -----------------------------------------------------------------------------


def test_defaults():
    c = load_config({"data": {"root": "x"}})
    assert c["data"]["weight"] == 1.0 and c["data"]["extra_sources"] == {}
    assert c["training"]["sampling"] == "grid"
    assert c["training"]["segments_per_epoch"] is None
    assert c["training"]["augment"] == {"gain_db": 0.0, "polarity": False}


def test_extra_sources_get_defaults():
    raw = {
        "data": {
            "root": "x",
            "weight": 2,
            "extra_sources": {
                "games": {"dataset": "unlabelled", "root": "games"},
                "more": {"dataset": "folder", "root": "more", "weight": 0.5, "splits": ["valid"]},
            },
        },
        "training": {
            "sampling": "crops",
            "segments_per_epoch": 100,
            "augment": {"gain_db": 6},
        },
    }
    before = copy.deepcopy(raw)
    c = load_config(raw)
    assert c["data"]["extra_sources"] == {
        "games": {"dataset": "unlabelled", "root": "games", "weight": 1.0, "splits": None},
        "more": {"dataset": "folder", "root": "more", "weight": 0.5, "splits": ["valid"]},
    }
    assert c["data"]["weight"] == 2
    assert c["training"]["sampling"] == "crops" and c["training"]["segments_per_epoch"] == 100
    # augment is merged key by key.
    assert c["training"]["augment"] == {"gain_db": 6, "polarity": False}
    # Neither the input nor the defaults are changed.
    assert raw == before
    assert DEFAULT_CONFIG["data"]["extra_sources"] == {}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            {"dataset": "unlabelled", "root": "y", "wieght": 2},
            r"extra_sources\.s: unknown key wieght",
        ),
        ({"dataset": "shards", "root": "y"}, r"extra_sources\.s\.dataset must be one of"),
        ({"dataset": "mp3s", "root": "y"}, r"extra_sources\.s\.dataset must be one of"),
        ({"root": "y"}, r"extra_sources\.s\.dataset must be one of"),
        (
            {"dataset": "unlabelled"},
            r"extra_sources\.s\.root is not set: pass --set data\.extra_sources\.s\.root=DIR",
        ),
        (
            {"dataset": "unlabelled", "root": ""},
            r"--set data\.extra_sources\.s\.root=DIR",
        ),
        ({"dataset": "unlabelled", "root": "y", "weight": -1}, r"s\.weight must be a number >= 0"),
        ({"dataset": "unlabelled", "root": "y", "weight": "a lot"}, r"s\.weight must be a number"),
        (
            {"dataset": "folder", "root": "y", "splits": "train"},
            r"s\.splits must be null or a list",
        ),
        ({"dataset": "folder", "root": "y", "splits": [1]}, r"s\.splits must be null or a list"),
        ("just/a/path", r"extra_sources\.s must be a mapping"),
    ],
)
def test_bad_extra_source(source, message):
    with pytest.raises(ConfigError, match=message):
        load_config({"data": {"root": "x", "extra_sources": {"s": source}}})


def test_bad_source_settings():
    with pytest.raises(ConfigError, match=r"data\.extra_sources must map names to sources"):
        load_config({"data": {"root": "x", "extra_sources": ["a", "b"]}})
    with pytest.raises(ConfigError, match=r"data\.weight must be a number >= 0"):
        load_config({"data": {"root": "x", "weight": -0.5}})
    with pytest.raises(ConfigError, match="cannot be added to a shards export"):
        load_config(
            {
                "data": {
                    "dataset": "shards",
                    "root": "x",
                    "extra_sources": {"s": {"dataset": "unlabelled", "root": "y"}},
                }
            }
        )


@pytest.mark.parametrize(
    ("training", "message"),
    [
        ({"sampling": "random"}, r"training\.sampling must be grid or crops"),
        ({"sampling": None}, r"training\.sampling must be grid or crops"),
        ({"segments_per_epoch": 0}, r"training\.segments_per_epoch must be null or >= 1"),
        ({"segments_per_epoch": -3}, r"training\.segments_per_epoch must be null or >= 1"),
        ({"segments_per_epoch": 2.5}, r"training\.segments_per_epoch must be null or >= 1"),
        ({"segments_per_epoch": "100"}, r"training\.segments_per_epoch must be null or >= 1"),
        ({"augment": {"gain_db": -1}}, r"training\.augment\.gain_db must be a number >= 0"),
        ({"augment": {"gain_db": "6 dB"}}, r"training\.augment\.gain_db must be a number >= 0"),
        ({"augment": {"gian_db": 3}}, "unknown config key augment.gian_db"),
    ],
)
def test_bad_training_settings(training, message):
    with pytest.raises(ConfigError, match=message):
        load_config({"data": {"root": "x"}, "training": training})


def test_root_set_from_the_command_line(tmp_path):
    raw = {"data": {"root": "x", "extra_sources": {"games": {"dataset": "unlabelled"}}}}
    with pytest.raises(ConfigError, match=r"--set data\.extra_sources\.games\.root=DIR"):
        load_config(raw)
    games = make_unlabelled(tmp_path / "games")
    c = load_config(apply_settings(raw, [f"data.extra_sources.games.root={games}"]))
    assert c["data"]["extra_sources"]["games"]["root"] == str(games)
    assert c["data"]["extra_sources"]["games"]["weight"] == 1.0


def test_check_data_root_checks_extra_roots(tmp_path):
    main = make_folder_dataset(tmp_path / "main")
    c = load_config(
        {
            "data": {
                "dataset": "folder",
                "root": str(main),
                "extra_sources": {"games": {"dataset": "unlabelled", "root": str(tmp_path / "no")}},
            }
        }
    )
    with pytest.raises(
        ConfigError,
        match=r"data\.extra_sources\.games\.root .* is not a folder: set it with "
        r"--set data\.extra_sources\.games\.root=DIR",
    ):
        check_data_root(c)
    make_unlabelled(tmp_path / "no")
    assert check_data_root(c) == main


# --- the data a config gives -----------------------------------------------------------------


def test_grid_without_extra_sources_keeps_tables(tmp_path):
    c = config(tmp_path)
    loaded = training_sources(c)
    train, valid = tables(c)
    assert isinstance(loaded.train, ClipTable) and isinstance(loaded.valid, ClipTable)
    assert loaded.train == train and loaded.valid == valid
    assert loaded.summary() == {"train_clips": len(train), "valid_clips": len(valid)}
    train_ds, valid_ds = segment_datasets(c, loaded)
    assert isinstance(train_ds, SegmentDataset) and isinstance(valid_ds, SegmentDataset)


def test_crops_without_extra_sources_give_a_bank(tmp_path):
    c = config(
        tmp_path,
        training={
            "sampling": "crops",
            "segments_per_epoch": 10,
            "seed": 4,
            "augment": {"gain_db": 3.0, "polarity": True},
        },
    )
    loaded = training_sources(c)
    train, valid = tables(c)
    assert isinstance(loaded.train, AudioBank) and loaded.valid == valid
    assert loaded.train.clip_ids == tuple(clip.clip_id for clip in train)  # one source: no prefix
    assert loaded.train.label_names == ("high", "low")
    assert loaded.train.sample_rate == SR
    train_ds, valid_ds = segment_datasets(c, loaded)
    assert isinstance(train_ds, CropDataset) and isinstance(valid_ds, SegmentDataset)
    assert train_ds.sampling == "crops" and train_ds.num_segments == 10 and len(train_ds) == 3
    assert train_ds.seed == 4 and train_ds.gain_db == 3.0 and train_ds.polarity
    assert not train_ds.include_labels
    batch = train_ds[0]
    assert len(batch) == 1
    assert batch[0]["audio"].shape == (4, SR // 2) and batch[0]["length"].shape == (4,)


def test_extra_unlabelled_source(tmp_path):
    games = make_unlabelled(tmp_path / "games")
    cache = tmp_path / "cache"
    c = config(
        tmp_path,
        data={
            "weight": 1.0,
            "cache_dir": str(cache),
            "extra_sources": {"games": {"dataset": "unlabelled", "root": str(games), "weight": 2}},
        },
    )
    loaded = training_sources(c, progress=False)
    train, valid = tables(c)
    bank = loaded.train
    assert isinstance(bank, AudioBank)
    n = len(train)
    assert len(bank) == n + 3
    assert bank.sources.tolist() == [0] * n + [1] * 3
    assert bank.source_weights.tolist() == [1.0, 2.0]
    assert bank.label_names == ("high", "low")
    assert bank.clip_ids[:n] == tuple(f"0:{clip.clip_id}" for clip in train)
    assert bank.clip_ids[n:] == ("1:album/disc1/track", "1:album/intro", "1:loose")
    assert bank.labels[:n].tolist() == [bank.label_names.index(clip.label) for clip in train]
    assert bank.labels[n:].tolist() == [-1, -1, -1]
    assert bank.lengths[n:].tolist() == [round(1.5 * SR), round(0.5 * SR), SR]
    assert bank.sample_rate == SR
    # Validation stays on the main dataset's valid split.
    assert isinstance(loaded.valid, ClipTable) and loaded.valid == valid
    assert {clip.split for clip in loaded.valid} == {"valid"}
    summary = loaded.summary()
    assert summary["train_clips"] == n + 3 and summary["valid_clips"] == len(valid)
    assert summary["train_hours"] == round(bank.seconds / 3600, 3)
    # Decoded through data.cache_dir.
    assert len(list(cache.glob("*.npy"))) == n + 3

    # training.sampling stays grid: the bank is cut on the protocol's windows.
    train_ds, valid_ds = segment_datasets(c, loaded)
    assert isinstance(train_ds, CropDataset) and train_ds.sampling == "grid"
    assert isinstance(valid_ds, SegmentDataset)
    (x,) = train_ds[0]
    assert x["audio"].shape == (4, SR // 2)


def test_extra_source_with_crops(tmp_path):
    games = make_unlabelled(tmp_path / "games")
    c = config(
        tmp_path,
        data={
            "weight": 0,
            "extra_sources": {"games": {"dataset": "unlabelled", "root": str(games)}},
        },
        training={"sampling": "crops", "segments_per_epoch": 9},
    )
    train_ds, valid_ds = segment_datasets(c)
    assert isinstance(train_ds, CropDataset) and isinstance(valid_ds, SegmentDataset)
    assert train_ds.sampling == "crops" and len(train_ds) == 3
    # data.weight 0: every crop comes from the extra source.
    p = train_ds.bank.clip_probabilities()
    assert (p[train_ds.bank.sources == 0] == 0).all()
    assert p[train_ds.bank.sources == 1].sum() == pytest.approx(1.0)


def test_extra_folder_source_splits(tmp_path):
    other = tmp_path / "other"
    for i in range(5):
        _wav(other / "low" / f"x{i}.wav", 0.5, 200.0, 200 + i)
    base = {"dataset": "folder", "root": str(other)}
    c = config(tmp_path, data={"extra_sources": {"o": base}})
    loaded = training_sources(c)
    n = len(tables(c)[0])
    # By default only the source's train split: 4 of 5 clips with a 0.2 valid share.
    assert len(loaded.train) == n + 4
    c = config(tmp_path, data={"extra_sources": {"o": {**base, "splits": ["train", "valid"]}}})
    assert len(training_sources(c).train) == n + 5


def test_empty_extra_source(tmp_path):
    other = tmp_path / "other"
    _wav(other / "low" / "x.wav", 0.5, 200.0, 1)
    c = config(
        tmp_path,
        data={
            "extra_sources": {"o": {"dataset": "folder", "root": str(other), "splits": ["test"]}}
        },
    )
    with pytest.raises(ConfigError, match=r"data\.extra_sources\.o: no clips"):
        training_sources(c)


def test_extra_source_with_other_labels(tmp_path):
    other = tmp_path / "other"
    for i in range(3):
        _wav(other / "ambient" / f"x{i}.wav", 0.5, 200.0, 300 + i)
    c = config(tmp_path, data={"extra_sources": {"o": {"dataset": "folder", "root": str(other)}}})
    loaded = training_sources(c)
    assert len(loaded.train) == len(tables(c)[0]) + 2


def test_unlabelled_main_clips_add_no_empty_label(tmp_path):
    main = make_folder_dataset(tmp_path / "main")
    _wav(main / "loose.wav", 0.5, 300.0, 9)
    c = config(tmp_path, training={"sampling": "crops"})
    bank = training_sources(c).train
    assert bank.label_names == ("high", "low")


def test_a_consistency_loss_draws_pairs_of_crops(tmp_path):
    c = config(tmp_path, training={"sampling": "crops", "batch_size": 4})
    c["model"]["consistency_weight"] = 0.1
    train_ds, _ = segment_datasets(c)
    assert train_ds.pairs and len(train_ds[0][0]["audio"]) == 4
    grid = config(tmp_path)
    grid["model"]["consistency_weight"] = 0.1
    with pytest.raises(ConfigError, match=r"consistency_weight needs training\.sampling: crops"):
        segment_datasets(grid)
