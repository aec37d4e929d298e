"""Small datasets: stratified splits never leave a split empty when they can help it."""

from __future__ import annotations

from collections import Counter

import pytest

from keras_musiclatent.data import ALL, Clip, ClipTable, audio_files, load_folder, stratified_split
from keras_musiclatent.data.sources import nonempty_split
from keras_musiclatent.errors import DatasetError

TWO_WAY = {"train": 0.8, "valid": 0.2}
THREE_WAY = {"train": 0.7, "valid": 0.15, "test": 0.15}


def _counts(assign: dict[str, str], labels: dict[str, str]) -> Counter:
    return Counter((labels[k], s) for k, s in assign.items())


@pytest.mark.parametrize("per_label", [2, 3, 4, 5, 10])
def test_every_split_keeps_a_clip_of_each_genre(per_label):
    keys = [f"{g}{i}" for g in "ab" for i in range(per_label)]
    labels = {k: k[0] for k in keys}
    assign = stratified_split(keys, [labels[k] for k in keys], TWO_WAY, seed=0)
    counts = _counts(assign, labels)
    for g in "ab":
        assert counts[(g, "valid")] >= 1 and counts[(g, "train")] >= 1
        assert counts[(g, "train")] + counts[(g, "valid")] == per_label
    # the 80/20 rule still holds where rounding gives every split a clip
    if per_label == 10:
        assert counts[("a", "valid")] == 2


def test_three_splits_small_genres():
    keys = ["x0", "x1", "y0", "y1", "y2", "z0"]
    labels = {k: k[0] for k in keys}
    counts = _counts(stratified_split(keys, [labels[k] for k in keys], THREE_WAY, seed=1), labels)
    assert counts == {
        ("x", "train"): 1,
        ("x", "valid"): 1,  # two clips: train and valid first, in the order of the fractions
        ("y", "train"): 1,
        ("y", "valid"): 1,
        ("y", "test"): 1,
        ("z", "train"): 1,  # one clip goes to the first split
    }


def test_zero_fraction_splits_stay_empty():
    keys = [f"k{i}" for i in range(4)]
    assign = stratified_split(keys, ["g"] * 4, {"train": 1.0, "valid": 0.0}, seed=0)
    assert set(assign.values()) == {"train"}


def test_large_split_is_unchanged_and_seeded():
    keys = [f"{g}{i:04d}" for g in "abc" for i in range(3333)]
    labels = [k[0] for k in keys]
    assign = stratified_split(keys, labels, TWO_WAY, seed=5)
    assert Counter(assign.values()) == {"train": 3 * 2666, "valid": 3 * 667}
    assert stratified_split(list(reversed(keys)), labels[::-1], TWO_WAY, seed=5) == assign


def test_folder_of_two_clips_per_genre_has_a_valid_split(tmp_path, write_audio):
    for genre in ("jazz", "rock", "pop"):
        for i in range(2):
            write_audio(tmp_path / genre / f"{i}.wav", 0.05, seed=i)
    table = load_folder(tmp_path, split_seed=0)
    assert table.split_counts() == {"train": 3, "valid": 3}
    assert nonempty_split(table, "valid").labels == ["jazz", "pop", "rock"]


def test_an_empty_split_suggests_split_all(tmp_path, write_audio):
    for genre in ("jazz", "rock"):
        write_audio(tmp_path / genre / "only.wav", 0.05)
    table = load_folder(tmp_path, split_seed=0)
    assert table.split_counts() == {"train": 2, "valid": 0}
    with pytest.raises(
        DatasetError, match=r"split 'valid' holds no clips.*train 2, valid 0.*--split all"
    ):
        nonempty_split(table, "valid")
    assert len(nonempty_split(table, ALL)) == 2
    with pytest.raises(DatasetError, match=r"holds no clips$"):
        nonempty_split(ClipTable(), ALL)


def test_unknown_split_lists_each_name_once(tmp_path, write_audio):
    write_audio(tmp_path / "a.wav", 0.05)
    flat = load_folder(tmp_path)  # no seed: one split, "all"
    with pytest.raises(DatasetError, match=r"unknown split 'valid'; valid splits: all$"):
        flat.split("valid")
    table = ClipTable([Clip("a", "x", "train", tmp_path / "a.wav")], split_names=("train", "test"))
    with pytest.raises(DatasetError, match=r"valid splits: train, test, all$"):
        table.split("valid")


def test_audio_files_expands_folders_sorted(tmp_path, write_audio):
    b = write_audio(tmp_path / "music" / "b.wav", 0.05)
    a = write_audio(tmp_path / "music" / "sub" / "a.FLAC", 0.05)
    c = write_audio(tmp_path / "music" / "c.ogg", 0.05)
    (tmp_path / "music" / "notes.txt").write_text("x")
    write_audio(tmp_path / "music" / ".hidden.wav", 0.05)
    loose = tmp_path / "missing.wav"  # files pass through; reading them reports problems
    assert audio_files([loose, tmp_path / "music"]) == [loose, b, c, a]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"empty: no file in this folder ends in \.wav"):
        audio_files([tmp_path / "empty"])
    assert audio_files([tmp_path / "music"], extensions=("txt",)) == [
        tmp_path / "music" / "notes.txt"
    ]
