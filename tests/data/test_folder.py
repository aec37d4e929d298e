"""load_folder: labels from subfolders, splits, and the errors for unusable folders."""

from __future__ import annotations

from collections import Counter

import pytest

from keras_musiclatent.data import ALL, load_folder
from keras_musiclatent.errors import DatasetError


def test_labels_from_subfolders(tmp_path, write_audio):
    write_audio(tmp_path / "techno" / "a.wav", 0.1)
    write_audio(tmp_path / "techno" / "live" / "b.FLAC", 0.1)  # nested, upper-case suffix
    write_audio(tmp_path / "ambient" / "c.ogg", 0.1)
    write_audio(tmp_path / "loose.wav", 0.1)
    (tmp_path / "ambient" / "cover.jpg").write_bytes(b"\xff\xd8")
    write_audio(tmp_path / ".hidden" / "d.wav", 0.1)
    write_audio(tmp_path / "ambient" / ".e.wav", 0.1)

    table = load_folder(tmp_path)
    assert [(c.clip_id, c.label) for c in table] == [
        ("ambient/c", "ambient"),
        ("loose", ""),
        ("techno/a", "techno"),
        ("techno/live/b", "techno"),
    ]
    assert table.labels == ["", "ambient", "techno"]
    assert {c.split for c in table} == {ALL}
    assert table.split(ALL) is table
    assert table[3].path == tmp_path / "techno" / "live" / "b.FLAC"


def test_extensions_filter(tmp_path, write_audio):
    write_audio(tmp_path / "x" / "a.wav", 0.1)
    write_audio(tmp_path / "x" / "b.ogg", 0.1)
    table = load_folder(tmp_path, extensions=("OGG",))
    assert [c.clip_id for c in table] == ["x/b"]


def test_seeded_stratified_split(tmp_path, write_audio):
    for label in ("a", "b"):
        for i in range(10):
            write_audio(tmp_path / label / f"{i}.wav", 0.05)
    t1 = load_folder(tmp_path, split_seed=0, valid_fraction=0.2, test_fraction=0.1)
    assert t1.split_names == ("train", "valid", "test")
    assert Counter((c.label, c.split) for c in t1) == {
        (lab, s): n for lab in ("a", "b") for s, n in (("train", 7), ("valid", 2), ("test", 1))
    }
    assert load_folder(tmp_path, split_seed=0, valid_fraction=0.2, test_fraction=0.1) == t1
    two = load_folder(tmp_path, split_seed=0)
    assert two.split_names == ("train", "valid")
    assert two.split_counts() == {"train": 16, "valid": 4}
    with pytest.raises(DatasetError, match="unknown split 'test'"):
        two.split("test")


def test_bad_fractions(tmp_path, write_audio):
    write_audio(tmp_path / "a" / "x.wav", 0.05)
    with pytest.raises(DatasetError, match="must lie in"):
        load_folder(tmp_path, split_seed=0, valid_fraction=0.8, test_fraction=0.3)


def test_empty_folder_names_it(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=rf"{tmp_path / 'empty'}: no audio files found"):
        load_folder(tmp_path / "empty")


def test_folder_without_audio(tmp_path):
    (tmp_path / "rock").mkdir()
    (tmp_path / "rock" / "readme.txt").write_text("x")
    with pytest.raises(DatasetError, match=r"no audio files found \(looked for \.wav"):
        load_folder(tmp_path)


def test_missing_root_and_file_root(tmp_path, write_audio):
    with pytest.raises(DatasetError, match="audio folder does not exist"):
        load_folder(tmp_path / "nope")
    path = write_audio(tmp_path / "a.wav", 0.05)
    with pytest.raises(DatasetError, match=r"a\.wav: audio root is not a folder"):
        load_folder(path)


def test_same_stem_two_formats_rejected(tmp_path, write_audio):
    write_audio(tmp_path / "a" / "song.wav", 0.05)
    write_audio(tmp_path / "a" / "song.ogg", 0.05)
    with pytest.raises(DatasetError, match="differ in suffix: a/song"):
        load_folder(tmp_path)
