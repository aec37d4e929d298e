"""AudioBank: decoding clip tables into int16, draw probabilities, and shard files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent import audio
from keras_musiclatent.data import AudioBank, Clip, ClipTable
from keras_musiclatent.errors import DatasetError

SR = 8000
Q = 1.0 / 32767  # one int16 step


def _tables(tmp_path: Path, write_audio) -> tuple[ClipTable, ClipTable]:
    """Two labelled clips plus an unlabelled one, and a second table of two unlabelled clips."""
    a = ClipTable(
        [
            Clip("rock1", "rock", "train", write_audio(tmp_path / "a" / "rock1.wav", 0.5, seed=1)),
            Clip("jazz1", "jazz", "train", write_audio(tmp_path / "a" / "jazz1.wav", 0.25, seed=2)),
            Clip("loose", "", "train", write_audio(tmp_path / "a" / "loose.wav", 0.125, seed=3)),
        ]
    )
    b = ClipTable(
        [
            Clip("song", "", "train", write_audio(tmp_path / "b" / "song.wav", 1.5, seed=4)),
            Clip("sfx", "", "train", write_audio(tmp_path / "b" / "sfx.wav", 0.1, seed=5)),
        ]
    )
    return a, b


@pytest.fixture
def two_tables(tmp_path, write_audio) -> tuple[ClipTable, ClipTable]:
    return _tables(tmp_path, write_audio)


@pytest.fixture
def bank(two_tables) -> AudioBank:
    return AudioBank.from_tables(list(two_tables), weights=[1.0, 3.0], sample_rate=SR)


def test_from_tables_layout(two_tables, bank):
    a, b = two_tables
    assert len(bank) == 5
    assert bank.sample_rate == SR
    assert bank.label_names == ("jazz", "rock")
    assert bank.labels.dtype == np.int32 and bank.labels.tolist() == [1, 0, -1, -1, -1]
    assert bank.sources.dtype == np.int32 and bank.sources.tolist() == [0, 0, 0, 1, 1]
    assert bank.source_weights.dtype == np.float64 and bank.source_weights.tolist() == [1.0, 3.0]
    # Several sources: ids carry their source's position.
    assert bank.clip_ids == ("0:rock1", "0:jazz1", "0:loose", "1:song", "1:sfx")
    assert bank.samples.dtype == np.int16 and bank.samples.ndim == 1
    assert bank.lengths.dtype == np.int64 and bank.starts.dtype == np.int64
    assert bank.lengths.tolist() == [4000, 2000, 1000, 12000, 800]
    assert bank.starts.tolist() == [0, 4000, 6000, 7000, 19000]
    assert bank.samples.size == int(bank.lengths.sum()) == 19800
    assert bank.seconds == pytest.approx(19800 / SR)
    assert bank.nbytes == 2 * 19800
    for i, clip in enumerate([*a, *b]):
        ref = audio.load(clip.path, sr=SR)
        y = bank.clip(i)
        assert y.dtype == np.float32 and y.shape == ref.shape
        np.testing.assert_allclose(y, ref, rtol=0, atol=Q)


def test_one_table_keeps_ids(two_tables):
    bank = AudioBank.from_tables([two_tables[0]], sample_rate=SR)
    assert bank.clip_ids == ("rock1", "jazz1", "loose")
    assert bank.source_weights.tolist() == [1.0]
    assert bank.sources.tolist() == [0, 0, 0]


def test_explicit_label_vocabulary(two_tables):
    bank = AudioBank.from_tables([two_tables[0]], sample_rate=SR, labels=["rock", "jazz", "pop"])
    assert bank.label_names == ("rock", "jazz", "pop")
    assert bank.labels.tolist() == [0, 1, -1]


def test_int16_clips_to_full_scale(tmp_path):
    # A float WAV may hold samples beyond full scale: the bank stores them clipped.
    t = np.arange(SR // 4) / SR
    y = (1.6 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    path = tmp_path / "loud.wav"
    sf.write(path, y, SR, subtype="FLOAT")
    bank = AudioBank.from_tables([ClipTable([Clip("loud", "", "train", path)])], sample_rate=SR)
    out = bank.clip(0)
    assert out.max() == 1.0 and out.min() == -1.0
    assert int(bank.samples.max()) == 32767 and int(bank.samples.min()) == -32767
    np.testing.assert_allclose(out, np.clip(y, -1.0, 1.0), rtol=0, atol=Q)


def test_clip_probabilities(bank):
    p = bank.clip_probabilities()
    expected = np.array([4000, 2000, 1000, 12000 * 3, 800 * 3], np.float64)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, expected / expected.sum())
    assert p.sum() == pytest.approx(1.0)


def test_zero_weight_source_is_never_drawn(two_tables):
    bank = AudioBank.from_tables(list(two_tables), weights=[0.0, 2.0], sample_rate=SR)
    p = bank.clip_probabilities()
    assert p[:3].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(p[3:], [12000 / 12800, 800 / 12800])


def test_from_tables_errors(two_tables, tmp_path, write_audio):
    a, b = two_tables
    with pytest.raises(DatasetError, match="at least one clip table"):
        AudioBank.from_tables([], sample_rate=SR)
    with pytest.raises(DatasetError, match="1 weights for 2 clip tables"):
        AudioBank.from_tables([a, b], weights=[1.0], sample_rate=SR)
    with pytest.raises(DatasetError, match="3 weights for 2 clip tables"):
        AudioBank.from_tables([a, b], weights=[1.0, 1.0, 1.0], sample_rate=SR)
    with pytest.raises(DatasetError, match="clip rock1: label 'rock' unknown"):
        AudioBank.from_tables([a], sample_rate=SR, labels=["jazz"])
    with pytest.raises(DatasetError, match="weights must be >= 0"):
        AudioBank.from_tables([a, b], weights=[-1.0, 1.0], sample_rate=SR)
    with pytest.raises(DatasetError, match="one of them > 0"):
        AudioBank.from_tables([a, b], weights=[0.0, 0.0], sample_rate=SR)
    with pytest.raises(DatasetError, match="at least one clip"):
        AudioBank.from_tables([ClipTable([])], sample_rate=SR)


def _hand_bank(**changes) -> AudioBank:
    fields = {
        "samples": np.arange(10, dtype=np.int16),
        "starts": np.array([0, 4], np.int64),
        "lengths": np.array([4, 6], np.int64),
        "labels": np.array([0, -1], np.int32),
        "sources": np.array([0, 0], np.int32),
        "clip_ids": ("a", "b"),
        "label_names": ("x",),
        "source_weights": np.array([1.0]),
        "sample_rate": 10,
    }
    fields.update(changes)
    return AudioBank(**fields)


def test_constructor_checks():
    assert len(_hand_bank()) == 2
    with pytest.raises(DatasetError, match="labels has shape"):
        _hand_bank(labels=np.zeros(3, np.int32))
    with pytest.raises(DatasetError, match="1-D int16"):
        _hand_bank(samples=np.arange(10, dtype=np.float32))
    with pytest.raises(DatasetError, match="outside its samples"):
        _hand_bank(lengths=np.array([4, 7], np.int64))
    with pytest.raises(DatasetError, match="outside its samples"):
        _hand_bank(lengths=np.array([0, 6], np.int64))
    with pytest.raises(DatasetError, match="no weight for"):
        _hand_bank(sources=np.array([0, 1], np.int32))
    with pytest.raises(DatasetError, match="at least one clip"):
        _hand_bank(
            clip_ids=(),
            starts=np.zeros(0, np.int64),
            lengths=np.zeros(0, np.int64),
            labels=np.zeros(0, np.int32),
            sources=np.zeros(0, np.int32),
        )


def _assert_same_bank(x: AudioBank, y: AudioBank) -> None:
    np.testing.assert_array_equal(x.samples, y.samples)
    assert y.samples.dtype == np.int16
    for name in ("starts", "lengths", "labels", "sources"):
        np.testing.assert_array_equal(getattr(x, name), getattr(y, name))
        assert getattr(y, name).dtype == getattr(x, name).dtype
    assert x.clip_ids == y.clip_ids
    assert x.label_names == y.label_names
    np.testing.assert_array_equal(x.source_weights, y.source_weights)
    assert x.sample_rate == y.sample_rate


def test_shards_round_trip(bank, tmp_path):
    folder = tmp_path / "shards"
    paths = bank.save_shards(folder)
    assert paths == [folder / "shard-00000.npz"]
    manifest = json.loads((folder / "bank.json").read_text())
    assert manifest["sample_rate"] == SR
    assert manifest["label_names"] == ["jazz", "rock"]
    assert manifest["source_weights"] == [1.0, 3.0]
    assert manifest["seconds"] == pytest.approx(bank.seconds, abs=1e-3)
    assert [e["file"] for e in manifest["shards"]] == ["shard-00000.npz"]
    assert manifest["shards"][0]["clips"] == 5
    assert len(manifest["shards"][0]["sha256"]) == 64
    _assert_same_bank(bank, AudioBank.load_shards(folder))
    # Writing again over the same folder gives the same bank.
    bank.save_shards(folder)
    _assert_same_bank(bank, AudioBank.load_shards(folder))


def test_small_shards_split_long_clips(bank, tmp_path):
    # 64 KiB of each shard is kept for headers: this leaves room for 8000 samples (1 s).
    max_bytes = 64 * 1024 + 2 * SR
    folder = tmp_path / "small"
    paths = bank.save_shards(folder, max_bytes=max_bytes)
    # [rock1, jazz1, loose] (7000 samples), [song#0] (8000), [song#1, sfx] (4800)
    assert len(paths) == 3
    assert [p.name for p in paths] == [f"shard-{n:05d}.npz" for n in range(len(paths))]
    for path in paths:
        assert path.stat().st_size <= max_bytes
    loaded = AudioBank.load_shards(folder)
    # The same audio, with the clips longer than a shard cut into numbered pieces.
    np.testing.assert_array_equal(loaded.samples, bank.samples)
    assert loaded.clip_ids == (
        "0:rock1",
        "0:jazz1",
        "0:loose",
        "1:song#0",
        "1:song#1",
        "1:sfx",
    )
    assert loaded.lengths.tolist() == [4000, 2000, 1000, SR, 12000 - SR, 800]
    assert int(loaded.lengths.sum()) == int(bank.lengths.sum())
    assert loaded.labels.tolist() == [1, 0, -1, -1, -1, -1]
    assert loaded.sources.tolist() == [0, 0, 0, 1, 1, 1]
    assert (loaded.lengths <= SR).all()
    np.testing.assert_array_equal(
        loaded.starts, np.concatenate([[0], np.cumsum(loaded.lengths)[:-1]])
    )
    manifest = json.loads((folder / "bank.json").read_text())
    assert [e["clips"] for e in manifest["shards"]] == [3, 1, 2]


def test_save_shards_errors(bank, tmp_path):
    with pytest.raises(DatasetError, match="too small for one second"):
        bank.save_shards(tmp_path / "tiny", max_bytes=64 * 1024 + 2 * SR - 2)
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        bank.save_shards(a_file)


def test_altered_shard_is_refused(bank, tmp_path):
    folder = tmp_path / "shards"
    paths = bank.save_shards(folder, max_bytes=64 * 1024 + 2 * SR)
    victim = paths[1]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(DatasetError, match=f"{victim.name}: sha256 differs"):
        AudioBank.load_shards(folder)


def test_missing_shard_or_manifest(bank, tmp_path):
    folder = tmp_path / "shards"
    paths = bank.save_shards(folder, max_bytes=64 * 1024 + 2 * SR)
    paths[-1].unlink()
    with pytest.raises(DatasetError, match=f"{paths[-1].name}: shard missing"):
        AudioBank.load_shards(folder)
    (folder / "bank.json").unlink()
    with pytest.raises(DatasetError, match=r"no bank\.json"):
        AudioBank.load_shards(folder)
    with pytest.raises(DatasetError, match=r"no bank\.json"):
        AudioBank.load_shards(tmp_path / "nowhere")


def test_foreign_manifest_is_refused(tmp_path):
    (tmp_path / "bank.json").write_text(json.dumps({"format": "something else", "shards": []}))
    with pytest.raises(DatasetError, match="not an audio bank manifest"):
        AudioBank.load_shards(tmp_path)
    (tmp_path / "bank.json").write_text("{not json")
    with pytest.raises(DatasetError, match="cannot read"):
        AudioBank.load_shards(tmp_path)
