"""CropDataset: random crops and grid windows of an in-memory AudioBank."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.data import AudioBank, Clip, ClipTable
from keras_musiclatent.data.crops import CropDataset
from keras_musiclatent.errors import DatasetError

RATE = 1000  # the ramp bank's rate: 0.1-s windows are 100 samples
SEG = 0.1
W = 100
LENGTHS = [250, 400, 60, 1000, 330]  # the 60-sample clip is shorter than a window
SOURCES = [0, 0, 0, 1, 1]
LABELS = [0, 1, -1, -1, 0]
Q = 1.0 / 32767


def ramp_bank(weights=(1.0, 1.0), lengths=LENGTHS, sources=SOURCES, labels=LABELS) -> AudioBank:
    """A bank whose sample at position k is k + 1, so that a window tells where it came from."""
    lengths = np.array(lengths, np.int64)
    total = int(lengths.sum())
    assert total < 32767
    return AudioBank(
        samples=np.arange(1, total + 1, dtype=np.int16),
        starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
        lengths=lengths,
        labels=np.array(labels, np.int32),
        sources=np.array(sources, np.int32),
        clip_ids=tuple(f"c{i}" for i in range(len(lengths))),
        label_names=("a", "b"),
        source_weights=np.array(weights, np.float64),
        sample_rate=RATE,
    )


def locate(bank: AudioBank, row: np.ndarray, length: int) -> tuple[int, int]:
    """``(clip, offset)`` of an unscaled ramp window; fails unless it is one clip's slice."""
    positions = np.round(row[:length].astype(np.float64) * 32767).astype(np.int64) - 1
    np.testing.assert_array_equal(np.diff(positions), 1)  # contiguous
    assert not row[length:].any()  # zero padding after the real samples
    first = int(positions[0])
    clip = int(np.searchsorted(bank.starts, first, side="right") - 1)
    offset = first - int(bank.starts[clip])
    assert offset >= 0 and offset + length <= int(bank.lengths[clip])
    assert length == min(int(bank.lengths[clip]) - offset, W)
    return clip, offset


def batches(ds: CropDataset) -> list[tuple]:
    return [ds[i] for i in range(len(ds))]


def assert_same_batches(xs: list[tuple], ys: list[tuple]) -> None:
    assert len(xs) == len(ys)
    for x, y in zip(xs, ys, strict=True):
        np.testing.assert_array_equal(x[0]["audio"], y[0]["audio"])
        np.testing.assert_array_equal(x[0]["length"], y[0]["length"])


def test_shapes_and_dtypes():
    bank = ramp_bank()
    ds = CropDataset(bank, batch_size=4, segment_seconds=SEG, segments_per_epoch=10)
    assert ds.segment_samples == W and ds.num_segments == 10
    assert len(ds) == ds.num_batches == 3
    (x,) = ds[0]
    assert set(x) == {"audio", "length"}
    assert x["audio"].shape == (4, W) and x["audio"].dtype == np.float32
    assert x["length"].shape == (4,) and x["length"].dtype == np.int32
    (last,) = ds[2]
    assert last["audio"].shape == (2, W) and last["length"].shape == (2,)
    (neg,) = ds[-1]
    np.testing.assert_array_equal(neg["audio"], last["audio"])
    with pytest.raises(IndexError):
        ds[3]
    with pytest.raises(IndexError):
        ds[-4]


def test_default_epoch_is_the_grid_length():
    # 2 + 4 + 1 + 10 + 3 windows: tails under a second are dropped, a short clip is one window.
    ds = CropDataset(ramp_bank(), batch_size=8, segment_seconds=SEG)
    assert ds.num_segments == 20 and len(ds) == 3
    grid = CropDataset(ramp_bank(), batch_size=8, segment_seconds=SEG, sampling="grid")
    assert grid.num_segments == 20
    # segments_per_epoch does not change the grid.
    grid = CropDataset(
        ramp_bank(), batch_size=8, segment_seconds=SEG, sampling="grid", segments_per_epoch=3
    )
    assert grid.num_segments == 20


def test_crops_are_seeded_by_seed_epoch_and_batch():
    bank = ramp_bank()
    kw = {"batch_size": 8, "segment_seconds": SEG, "segments_per_epoch": 40, "seed": 5}
    ds = CropDataset(bank, **kw)
    epoch0 = batches(ds)
    # The same dataset, another instance, and any order of access: the same batches.
    assert_same_batches(epoch0, batches(ds))
    assert_same_batches(epoch0, batches(CropDataset(bank, **kw)))
    other = CropDataset(bank, **kw)
    reversed_order = [other[i] for i in reversed(range(len(other)))][::-1]
    assert_same_batches(epoch0, reversed_order)
    # Another seed draws other crops.
    reseeded = batches(CropDataset(bank, **{**kw, "seed": 6}))
    assert any(
        not np.array_equal(a[0]["audio"], b[0]["audio"])
        for a, b in zip(epoch0, reseeded, strict=True)
    )
    # The next epoch draws other crops, for every batch.
    ds.on_epoch_end()
    assert ds.epoch == 1
    epoch1 = batches(ds)
    for a, b in zip(epoch0, epoch1, strict=True):
        assert not np.array_equal(a[0]["audio"], b[0]["audio"])
    ds.on_epoch_end()
    epoch2 = batches(ds)
    # A resumed run sees the batches an uninterrupted one would.
    resumed = CropDataset(bank, **kw)
    resumed.set_epoch(2)
    assert resumed.epoch == 2
    assert_same_batches(epoch2, batches(resumed))
    resumed.set_epoch(1)
    assert_same_batches(epoch1, batches(resumed))
    resumed.set_epoch(0)
    assert_same_batches(epoch0, batches(resumed))


def test_crops_lie_inside_their_clip():
    bank = ramp_bank()
    ds = CropDataset(bank, batch_size=50, segment_seconds=SEG, segments_per_epoch=1500, seed=1)
    seen: dict[int, list[int]] = {i: [] for i in range(len(bank))}
    for i in range(len(ds)):
        (x,) = ds[i]
        for row, length in zip(x["audio"], x["length"], strict=True):
            clip, offset = locate(bank, row, int(length))
            seen[clip].append(offset)
    assert all(seen.values())  # every clip is drawn
    # Offsets spread over the whole clip: from near its start to near its last window.
    long = np.array(seen[3])
    assert long.min() < 50 and long.max() > 850 and long.max() <= 900
    # A clip shorter than a window: always all of it, zero-padded.
    assert set(seen[2]) == {0}


def test_short_clips_are_padded():
    bank = ramp_bank(lengths=[30, 70], sources=[0, 0], labels=[0, 1], weights=(1.0,))
    ds = CropDataset(bank, batch_size=16, segment_seconds=SEG, segments_per_epoch=16)
    (x,) = ds[0]
    assert set(x["length"].tolist()) == {30, 70}
    for row, length in zip(x["audio"], x["length"], strict=True):
        clip, offset = locate(bank, row, int(length))
        assert offset == 0 and length == bank.lengths[clip]
        assert not row[length:].any()


def test_grid_matches_segment_windows(tmp_path, write_audio):
    sr = 8000
    # 1.5-s windows: 4 s is three windows (a 1-s tail kept), 0.5 s one padded window, 2 s one
    # window (its 0.5-s tail dropped).
    table = ClipTable(
        [
            Clip(name, "", "train", write_audio(tmp_path / f"{name}.wav", sec, sr=sr, seed=i))
            for i, (name, sec) in enumerate([("long", 4.0), ("short", 0.5), ("mid", 2.0)])
        ]
    )
    bank = AudioBank.from_tables([table], sample_rate=sr)
    ds = CropDataset(bank, batch_size=2, segment_seconds=1.5, sampling="grid")
    assert ds.num_segments == 5 and len(ds) == 3
    got = [ds[i][0] for i in range(len(ds))]
    windows = np.concatenate([g["audio"] for g in got])
    lengths = np.concatenate([g["length"] for g in got])
    ref_windows, ref_lengths = [], []
    for i, clip in enumerate(table):
        w, n = audio.segment(audio.load(clip.path, sr=sr), sr, 1.5)
        ref_windows.append(w)
        ref_lengths.append(n)
        # From the bank's own samples: the same windows up to float rounding.
        bw, bn = audio.segment(bank.clip(i), sr, 1.5)
        start = sum(len(x) for x in ref_windows[:-1])
        np.testing.assert_allclose(windows[start : start + len(bw)], bw, rtol=0, atol=1e-7)
        np.testing.assert_array_equal(lengths[start : start + len(bn)], bn)
    np.testing.assert_allclose(windows, np.concatenate(ref_windows), rtol=0, atol=Q)
    assert (
        lengths.tolist()
        == np.concatenate(ref_lengths).tolist()
        == [
            12000,
            12000,
            8000,
            4000,
            12000,
        ]
    )
    # The grid is the same every epoch, and never augmented.
    ds.on_epoch_end()
    np.testing.assert_array_equal(ds[0][0]["audio"], got[0]["audio"])
    aug = CropDataset(
        bank, batch_size=2, segment_seconds=1.5, sampling="grid", gain_db=12.0, polarity=True
    )
    np.testing.assert_array_equal(aug[1][0]["audio"], got[1]["audio"])


def test_grid_of_the_ramp_bank_is_in_bank_order():
    bank = ramp_bank()
    ds = CropDataset(bank, batch_size=7, segment_seconds=SEG, sampling="grid")
    where = []
    for i in range(len(ds)):
        (x,) = ds[i]
        where += [locate(bank, row, int(n)) for row, n in zip(x["audio"], x["length"], strict=True)]
    counts = [2, 4, 1, 10, 3]
    assert where == [(c, k * W) for c, n in enumerate(counts) for k in range(n)]


def _scales(plain: CropDataset, changed: CropDataset) -> np.ndarray:
    """Per-row ratio of ``changed`` to ``plain`` (same clips and offsets)."""
    out = []
    for i in range(len(plain)):
        (x,), (y,) = plain[i], changed[i]
        np.testing.assert_array_equal(x["length"], y["length"])
        ratio = y["audio"][:, :1].astype(np.float64) / x["audio"][:, :1]
        np.testing.assert_allclose(y["audio"], x["audio"] * ratio.astype(np.float32), rtol=1e-5)
        out.append(ratio[:, 0])
    return np.concatenate(out)


def test_gain_and_polarity():
    bank = ramp_bank()
    kw = {"batch_size": 32, "segment_seconds": SEG, "segments_per_epoch": 256, "seed": 3}
    plain = CropDataset(bank, **kw)

    gain = _scales(plain, CropDataset(bank, gain_db=6.0, **kw))
    low, high = 10 ** (-6 / 20), 10 ** (6 / 20)
    assert (gain >= low - 1e-6).all() and (gain <= high + 1e-6).all()
    assert gain.min() < 0.7 and gain.max() > 1.4  # spread over the range, not a constant
    assert len(np.unique(np.round(gain, 6))) > 200

    flips = _scales(plain, CropDataset(bank, polarity=True, **kw))
    np.testing.assert_allclose(np.abs(flips), 1.0, rtol=1e-6)
    assert 0.35 < (flips < 0).mean() < 0.65  # about half the windows flipped

    both = _scales(plain, CropDataset(bank, gain_db=6.0, polarity=True, **kw))
    assert (np.abs(both) >= low - 1e-6).all() and (np.abs(both) <= high + 1e-6).all()
    assert (both < 0).any() and (both > 0).any()


def test_source_weights():
    # Weight 0: no crop from that source.
    bank = ramp_bank(weights=(0.0, 1.0))
    ds = CropDataset(bank, batch_size=64, segment_seconds=SEG, segments_per_epoch=512)
    clips = []
    for i in range(len(ds)):
        (x,) = ds[i]
        clips += [locate(bank, r, int(n))[0] for r, n in zip(x["audio"], x["length"], strict=True)]
    assert {bank.sources[c] for c in clips} == {1}
    # Weight 3 against 1: drawn in proportion to length times weight.
    bank = ramp_bank(weights=(1.0, 3.0))
    ds = CropDataset(bank, batch_size=500, segment_seconds=SEG, segments_per_epoch=4000)
    clips = []
    for i in range(len(ds)):
        (x,) = ds[i]
        clips += [locate(bank, r, int(n))[0] for r, n in zip(x["audio"], x["length"], strict=True)]
    share = np.mean([bank.sources[c] == 1 for c in clips])
    expected = 3 * 1330 / (710 + 3 * 1330)
    assert share == pytest.approx(expected, abs=0.03)
    per_clip = np.bincount(clips, minlength=len(bank)) / len(clips)
    np.testing.assert_allclose(per_clip, bank.clip_probabilities(), atol=0.03)


def test_include_labels():
    bank = ramp_bank()
    for sampling in ("crops", "grid"):
        ds = CropDataset(
            bank, batch_size=16, segment_seconds=SEG, sampling=sampling, include_labels=True
        )
        for i in range(len(ds)):
            x, y = ds[i]
            assert y.dtype == np.int32 and y.shape == x["length"].shape
            clips = [
                locate(bank, r, int(n))[0] for r, n in zip(x["audio"], x["length"], strict=True)
            ]
            assert y.tolist() == bank.labels[clips].tolist()
    # The same crops with or without labels.
    kw = {"batch_size": 16, "segment_seconds": SEG, "seed": 9}
    np.testing.assert_array_equal(
        CropDataset(bank, include_labels=True, **kw)[1][0]["audio"],
        CropDataset(bank, **kw)[1][0]["audio"],
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"sampling": "random"}, "sampling must be 'crops' or 'grid'"),
        ({"batch_size": 0}, "batch_size must be at least 1"),
        ({"gain_db": -1.0}, "gain_db must be >= 0"),
        ({"segments_per_epoch": 0}, "segments_per_epoch must be at least 1"),
        ({"segments_per_epoch": -5}, "segments_per_epoch must be at least 1"),
    ],
)
def test_bad_settings(settings, message):
    with pytest.raises(DatasetError, match=message):
        CropDataset(ramp_bank(), **{"segment_seconds": SEG, **settings})


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_bad_segment_seconds(seconds):
    with pytest.raises(DatasetError):
        CropDataset(ramp_bank(), segment_seconds=seconds)


@pytest.mark.parametrize("sampling", ["crops", "grid"])
def test_on_device_windows_equal_the_host_ones(sampling):
    bank = ramp_bank()
    options = {"segment_seconds": SEG, "sampling": sampling, "gain_db": 6.0, "polarity": True}
    host = CropDataset(bank, **options)
    device = CropDataset(bank, on_device=True, **options)
    for i in range(len(host)):
        (a,), (b,) = host[i], device[i]
        np.testing.assert_allclose(keras.ops.convert_to_numpy(b["audio"]), a["audio"], atol=1e-7)
        np.testing.assert_array_equal(b["length"], a["length"])


def test_pairs_are_two_crops_of_one_clip():
    bank = ramp_bank()
    ds = CropDataset(bank, segment_seconds=SEG, batch_size=6, pairs=True, segments_per_epoch=10)
    assert len(ds) == 2
    for i in range(len(ds)):
        (x,) = ds[i]
        assert x["audio"].shape[0] == 6  # pairs keep every batch full
        first = x["audio"][:3, 0] * 32767.0
        second = x["audio"][3:, 0] * 32767.0
        clip_of = np.searchsorted(bank.starts, np.round(np.stack([first, second])) - 1, "right")
        np.testing.assert_array_equal(clip_of[0], clip_of[1])
    with pytest.raises(DatasetError, match="even batch_size"):
        CropDataset(bank, segment_seconds=SEG, batch_size=5, pairs=True)
