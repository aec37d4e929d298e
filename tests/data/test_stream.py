"""Segment index, decoded-audio cache, SegmentDataset and segments_array."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.data import (
    AudioCache,
    Clip,
    ClipTable,
    build_index,
    load_gtzan,
    segment_count,
    segments_array,
)
from keras_musiclatent.data import segments as segments_module
from keras_musiclatent.data.stream import SegmentDataset, lengths_to_mask
from keras_musiclatent.errors import AudioDecodeError, DatasetError

SR = 8000
L = 3 * SR  # samples per 3-s window at the test rate


def _table(tmp_path: Path, write_audio, durations: dict[str, float], *, sr: int = SR):
    clips = []
    for i, (name, seconds) in enumerate(durations.items()):
        label = name.rstrip("0123456789")
        path = write_audio(tmp_path / label / f"{name}.wav", seconds, sr=sr, seed=i)
        clips.append(Clip(name, label, "train", path))
    return ClipTable(clips)


@pytest.fixture
def table(tmp_path, write_audio) -> ClipTable:
    # 7 s: 3, 3, 1 (padded); 2 s: one padded window; 3.5 s: one window (0.5-s tail dropped)
    return _table(tmp_path, write_audio, {"rock1": 7.0, "jazz1": 2.0, "rock2": 3.5})


@pytest.mark.parametrize("seconds", [0.01, 0.99, 2.0, 3.0, 3.9, 4.0, 4.01, 6.0, 7.0, 29.97])
def test_segment_count_matches_audio_segment(seconds):
    n = round(seconds * SR)
    _, lengths = audio.segment(np.zeros(n, np.float32), SR, 3.0)
    assert segment_count(n, SR, 3.0) == len(lengths)


def test_index_from_headers_without_decoding(table, monkeypatch):
    def no_decode(*args, **kwargs):
        raise AssertionError("building the index must not decode audio")

    monkeypatch.setattr(audio, "load", no_decode)
    monkeypatch.setattr(audio, "stream", no_decode)
    index = build_index(table, sample_rate=SR)
    assert index.counts.tolist() == [3, 1, 1]
    assert index.clip.tolist() == [0, 0, 0, 1, 2]
    assert index.segment.tolist() == [0, 1, 2, 0, 0]
    ds = SegmentDataset(table, sample_rate=SR, batch_size=2)
    assert ds.num_segments == 5 and len(ds) == 3


def test_batches_in_order(table):
    ds = SegmentDataset(table, sample_rate=SR, batch_size=4, shuffle=False)
    assert ds.labels == ["jazz", "rock"]
    (x, y), (x2, y2) = ds[0], ds[1]
    assert set(x) == {"audio", "length"}
    assert x["audio"].shape == (4, L) and x["audio"].dtype == np.float32
    assert x["length"].dtype == np.int32 and y.dtype == np.int32
    assert x["length"].tolist() == [L, L, SR, 2 * SR]
    assert y.tolist() == [1, 1, 1, 0]
    assert x2["audio"].shape == (1, L) and x2["length"].tolist() == [L] and y2.tolist() == [1]
    # Identical to audio.segment of the decoded clip, zeros after the real samples.
    ref, ref_len = audio.segment(audio.load(table[0].path, sr=SR), SR, 3.0)
    np.testing.assert_array_equal(x["audio"][:3], ref)
    assert x["length"][:3].tolist() == ref_len.tolist()
    short = x["audio"][3]
    assert np.abs(short[: 2 * SR]).max() > 0.1 and not short[2 * SR :].any()
    assert ds.clip_index.tolist() == [0, 0, 0, 1, 2]
    assert ds.segment_index.tolist() == [0, 1, 2, 0, 0]
    with pytest.raises(IndexError):
        ds[2]


def test_mask_labels_and_no_labels(table):
    ds = SegmentDataset(
        table, sample_rate=SR, batch_size=5, shuffle=False, include_mask=True,
        labels=["rock", "jazz", "pop"],
    )  # fmt: skip
    x, y = ds[0]
    np.testing.assert_array_equal(x["mask"], lengths_to_mask(x["length"], L))
    assert x["mask"].sum(axis=1).tolist() == x["length"].tolist()
    assert y.tolist() == [0, 0, 0, 1, 0]
    only = SegmentDataset(table, sample_rate=SR, batch_size=5, include_labels=False)[0]
    assert isinstance(only, tuple) and len(only) == 1 and only[0]["audio"].shape == (5, L)
    with pytest.raises(DatasetError, match="clip jazz1: label 'jazz' is not one of rock, pop"):
        SegmentDataset(table, sample_rate=SR, labels=["rock", "pop"])


def test_shuffle_is_seeded_and_changes_each_epoch(table):
    a = SegmentDataset(table, sample_rate=SR, batch_size=2, seed=3)
    b = SegmentDataset(table, sample_rate=SR, batch_size=2, seed=3)
    pairs = lambda ds: list(zip(ds.clip_index.tolist(), ds.segment_index.tolist(), strict=True))  # noqa: E731
    first = pairs(a)
    assert first == pairs(b)
    assert sorted(first) == [(0, 0), (0, 1), (0, 2), (1, 0), (2, 0)]
    np.testing.assert_array_equal(a[1][0]["audio"], b[1][0]["audio"])
    orders = {tuple(first)}
    for _ in range(4):
        a.on_epoch_end()
        assert sorted(pairs(a)) == sorted(first)
        orders.add(tuple(pairs(a)))
    assert len(orders) > 1
    # Batch rows follow the reported order.
    _, y = a[0]
    clips = a.clip_index[:2]
    assert y.tolist() == [a.labels.index(a.table[int(c)].label) for c in clips]


def test_resampling_and_short_clip_padding(tmp_path, write_audio):
    table = _table(tmp_path, write_audio, {"pop1": 2.5, "pop2": 4.2}, sr=44100)
    ds = SegmentDataset(table, batch_size=8, shuffle=False)  # default 22050 Hz, 3 s
    x, y = ds[0]
    assert x["audio"].shape == (3, 66150) and y.tolist() == [0, 0, 0]
    n = x["length"].tolist()
    assert abs(n[0] - 55125) <= 2 and n[1] == 66150 and abs(n[2] - 26460) <= 2
    assert not x["audio"][0, n[0] :].any() and not x["audio"][2, n[2] :].any()


@pytest.mark.parametrize(("claimed", "expect"), [(3 * SR, [L, L, SR, SR]), (-2 * SR, [L, L])])
def test_header_and_decoded_lengths_disagree(table, monkeypatch, claimed, expect):
    """A header that over- or under-states the length still yields well-formed windows."""
    real = segments_module.header_samples
    monkeypatch.setattr(segments_module, "header_samples", lambda p, sr: real(p, sr) + claimed)
    one = ClipTable([table[0]])  # 7 s: 10 s claims 4 windows (one past the end), 5 s claims 2
    ds = SegmentDataset(one, sample_rate=SR, batch_size=8, shuffle=False)
    x, _ = ds[0]
    assert x["length"].tolist() == expect
    assert (x["length"] >= 1).all()
    if claimed > 0:  # the window past the end repeats the last real one, never a silent row
        np.testing.assert_array_equal(x["audio"][3], x["audio"][2])


def test_one_sample_mismatch_at_the_remainder_threshold(tmp_path, write_audio, monkeypatch):
    # 7 s minus one sample: the tail is 1 s - 1 sample, so no third window...
    path = write_audio(tmp_path / "a" / "a1.wav", 0, sr=SR, samples=2 * L + SR - 1)
    table = ClipTable([Clip("a1", "a", "train", path)])
    assert SegmentDataset(table, sample_rate=SR).num_segments == 2
    # ...unless the header says one sample more: then the third window holds the real tail.
    real = segments_module.header_samples
    monkeypatch.setattr(segments_module, "header_samples", lambda p, sr: real(p, sr) + 1)
    x, _ = SegmentDataset(table, sample_rate=SR, shuffle=False)[0]
    assert x["length"].tolist() == [L, L, SR - 1]


def test_cache_writes_npy_once_and_reads_mmap(table, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    ds = SegmentDataset(table, sample_rate=SR, batch_size=5, shuffle=False, cache_dir=cache)
    first = ds[0]
    files = sorted(cache.glob("*.npy"))
    assert len(files) == 3 and not list(cache.glob("*.part"))
    stored = np.load(files[0])
    assert stored.dtype == np.float32 and stored.ndim == 1

    def no_decode(*args, **kwargs):
        raise AssertionError("cached audio must not be decoded again")

    monkeypatch.setattr(audio, "load", no_decode)
    monkeypatch.setattr(audio, "stream", no_decode)
    again = ds[0]
    np.testing.assert_array_equal(first[0]["audio"], again[0]["audio"])
    assert isinstance(AudioCache(sample_rate=SR, cache_dir=cache).get(table[0].path), np.memmap)


def test_cache_key_follows_file_changes(table, tmp_path, write_audio):
    cache = AudioCache(sample_rate=SR, cache_dir=tmp_path / "cache")
    path = table[1].path
    before = cache.entry(path)
    assert cache.entry(path) == before
    assert AudioCache(sample_rate=16000, cache_dir=tmp_path / "cache").entry(path) != before
    y_old = cache.get(path)
    write_audio(path, 1.0, sr=SR, seed=9)
    os.utime(path, ns=(10**18, 10**18))
    assert cache.entry(path) != before
    assert len(cache.get(path)) == SR != len(y_old)


def test_corrupt_cache_entry_is_replaced(table, tmp_path):
    cache = AudioCache(sample_rate=SR, cache_dir=tmp_path / "cache")
    entry = cache.entry(table[1].path)
    entry.write_bytes(b"not numpy")
    y = cache.get(table[1].path)
    assert len(y) == 2 * SR
    assert np.load(entry).shape == (2 * SR,)


def test_segments_array_matches_dataset(table):
    w, n, y, c = segments_array(table, sample_rate=SR)
    assert w.shape == (5, L) and n.dtype == np.int32 and y.dtype == np.int32
    assert c.tolist() == [0, 0, 0, 1, 2]
    x, labels = SegmentDataset(table, sample_rate=SR, batch_size=5, shuffle=False)[0]
    np.testing.assert_array_equal(w, x["audio"])
    np.testing.assert_array_equal(n, x["length"])
    np.testing.assert_array_equal(y, labels)


def test_unreadable_clip_raises_or_is_skipped(table, tmp_path):
    bad = tmp_path / "rock" / "bad.wav"
    bad.write_bytes(b"this is not audio at all" * 10)
    clips = [table[0], Clip("bad", "rock", "train", bad), table[1]]
    broken = ClipTable(clips)
    with pytest.raises(AudioDecodeError, match=r"bad\.wav"):
        SegmentDataset(broken, sample_rate=SR)
    with pytest.warns(UserWarning, match=r"skipped 1 unreadable clip\(s\): bad"):
        ds = SegmentDataset(broken, sample_rate=SR, shuffle=False, skip_unreadable=True)
    assert [c.clip_id for c in ds.table] == ["rock1", "jazz1"] and ds.skipped[0][0] == "bad"
    with pytest.warns(UserWarning):
        w, _, _, c = segments_array(broken, sample_rate=SR, skip_unreadable=True)
    assert c.tolist() == [0, 0, 0, 2] and w.shape == (4, L)


def test_empty_table_and_bad_settings(table):
    missing = ClipTable([], split_names=("test",), missing=[table[0]])
    with pytest.raises(DatasetError, match=r"table is empty \(1 listed clips have no audio\)"):
        SegmentDataset(missing)
    with pytest.raises(DatasetError, match="batch_size"):
        SegmentDataset(table, batch_size=0)


def test_trains_a_keras_model(table):
    import keras

    ds = SegmentDataset(table, sample_rate=SR, segment_seconds=0.5, batch_size=4, seed=1)
    wave = keras.Input((SR // 2,), name="audio")
    length = keras.Input((), name="length", dtype="int32")
    hidden = keras.layers.Dense(4, activation="relu")(keras.layers.Reshape((50, 80))(wave))
    logits = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling1D()(hidden))
    model = keras.Model({"audio": wave, "length": length}, logits)
    model.compile(
        "adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=False
    )
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    # Keras also calls on_epoch_end once before the first epoch (after peeking at batches).
    assert ds.epoch >= 2
    plain = SegmentDataset(table, sample_rate=SR, segment_seconds=0.5, batch_size=4,
                           shuffle=False, include_labels=False)  # fmt: skip
    assert model.predict(plain, verbose=0).shape == (plain.num_segments, 2)


@pytest.mark.gtzan
def test_real_clips_batch_pads_short_excerpts(gtzan_root, gtzan_manifest, tmp_path):
    with open(gtzan_manifest, newline="") as fh:
        rows = list(csv.DictReader(fh))
    # One whole clip, one start-of-clip excerpt, one 2-3 s excerpt.
    picks = [
        next(r for r in rows if 29.5 < float(r["duration_s"]) < 31),
        next(r for r in rows if 15 <= float(r["duration_s"]) <= 20),
        next(r for r in rows if 2 <= float(r["duration_s"]) < 3),
    ]
    wanted = {r["clip"] for r in picks}
    table = load_gtzan(gtzan_root).filter(lambda c: c.clip_id in wanted)
    order = [c.clip_id for c in table]
    durations = {r["clip"]: float(r["duration_s"]) for r in picks}
    expected = [segment_count(round(durations[i] * 22050), 22050, 3.0) for i in order]
    ds = SegmentDataset(table, batch_size=64, shuffle=False, include_mask=True, cache_dir=tmp_path)
    assert ds.segment_counts.tolist() == expected
    x, y = ds[0]
    total = sum(expected)
    assert x["audio"].shape == (total, 66150) and x["mask"].shape == (total, 66150)
    assert y.shape == (total,) and x["length"].shape == (total,)
    # Lossy Vorbis decodes may overshoot full scale slightly.
    assert np.isfinite(x["audio"]).all() and np.abs(x["audio"]).max() < 1.1
    np.testing.assert_array_equal(x["mask"].sum(axis=1), x["length"])
    short_row = int(np.flatnonzero(ds.clip_index == order.index(picks[2]["clip"]))[0])
    n = int(x["length"][short_row])
    assert abs(n - durations[picks[2]["clip"]] * 22050) < 0.01 * 22050
    assert 2 * 22050 <= n < 66150
    assert np.abs(x["audio"][short_row, :n]).max() > 0
    assert not x["audio"][short_row, n:].any()
    assert (x["length"] >= 22050).all()  # every window holds at least 1 s of real audio
