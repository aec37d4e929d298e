"""ClipTable, Clip and the stratified split."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from keras_musiclatent.data import ALL, Clip, ClipTable, stratified_split
from keras_musiclatent.errors import DatasetError


def _table() -> ClipTable:
    clips = [
        Clip("a", "rock", "train", Path("/x/a.wav")),
        Clip("b", "jazz", "train", Path("/x/b.wav")),
        Clip("c", "rock", "valid", Path("/x/c.wav")),
    ]
    missing = [Clip("d", "jazz", "test", Path("/x/d.wav"))]
    return ClipTable(clips, split_names=("train", "valid", "test"), missing=missing)


def test_clip_is_frozen():
    clip = Clip("a", "rock", "train", Path("a.wav"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        clip.label = "jazz"  # type: ignore[misc]


def test_sequence_protocol_and_labels():
    table = _table()
    assert len(table) == 3
    assert [c.clip_id for c in table] == ["a", "b", "c"]
    assert table[1].label == "jazz"
    assert table[-1].clip_id == "c"
    head = table[:2]
    assert isinstance(head, ClipTable) and [c.clip_id for c in head] == ["a", "b"]
    assert table.labels == ["jazz", "rock"]
    assert table.label_counts() == {"jazz": 1, "rock": 2}
    assert table.split_counts() == {"train": 2, "valid": 1, "test": 0}
    assert "missing=1" in repr(table)


def test_split_keeps_known_empty_splits_and_filters_missing():
    table = _table()
    assert [c.clip_id for c in table.split("train")] == ["a", "b"]
    test = table.split("test")
    assert len(test) == 0
    assert [c.clip_id for c in test.missing] == ["d"]
    assert table.split(ALL) is table


def test_unknown_split_lists_valid_names():
    with pytest.raises(DatasetError, match=r"unknown split 'tset'.*train, valid, test, all"):
        _table().split("tset")


def test_duplicate_ids_rejected():
    clip = Clip("a", "rock", "train", Path("a.wav"))
    with pytest.raises(DatasetError, match="duplicate clip ids: a"):
        ClipTable([clip, clip])


def test_csv_round_trip(tmp_path):
    table = _table()
    path = table.to_csv(tmp_path / "sub" / "clips.csv")
    text = path.read_text().splitlines()
    assert text[0] == "clip_id,label,split,path"
    back = ClipTable.from_csv(path, split_names=table.split_names)
    assert list(back) == list(table)
    assert back.split_names == table.split_names
    assert list(tmp_path.glob("sub/.*part")) == []


def test_from_csv_missing_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("clip_id,label,path\na,rock,a.wav\n")
    with pytest.raises(DatasetError, match=r"bad\.csv: missing column\(s\) split"):
        ClipTable.from_csv(path)


def test_stratified_split_is_seeded_proportional_and_order_free():
    keys = [f"{g}.{i:05d}" for g in ("a", "b") for i in range(20)]
    labels = [k.split(".")[0] for k in keys]
    fractions = {"train": 0.7, "valid": 0.15, "test": 0.15}
    s1 = stratified_split(keys, labels, fractions, seed=3)
    s2 = stratified_split(keys[::-1], labels[::-1], fractions, seed=3)
    assert s1 == s2
    per = Counter((k.split(".")[0], s) for k, s in s1.items())
    for g in ("a", "b"):
        assert (per[(g, "train")], per[(g, "valid")], per[(g, "test")]) == (14, 3, 3)
    assert stratified_split(keys, labels, fractions, seed=4) != s1


def test_stratified_split_adding_a_label_keeps_others():
    keys = [f"a{i}" for i in range(10)]
    base = stratified_split(keys, ["a"] * 10, {"train": 0.5, "test": 0.5}, seed=1)
    more = stratified_split(
        [*keys, "b0", "b1"], ["a"] * 10 + ["b", "b"], {"train": 0.5, "test": 0.5}, seed=1
    )
    assert {k: more[k] for k in keys} == base


@pytest.mark.parametrize(
    "fractions", [{"train": 0.7, "test": 0.2}, {"train": 1.2, "test": -0.2}, {}]
)
def test_stratified_split_rejects_bad_fractions(fractions):
    with pytest.raises(DatasetError, match="fractions"):
        stratified_split(["a"], ["x"], fractions, seed=0)


def test_loaders_import_without_keras():
    code = (
        "import sys, keras_musiclatent.data as d, keras_musiclatent.data.gtzan; "
        "assert 'keras' not in sys.modules, 'keras imported'; "
        "assert callable(d.load_fma) and 'SegmentDataset' in d.__all__"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
