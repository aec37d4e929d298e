"""FMA loader on a tiny tracks.csv in the real file's three-header-row format."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from keras_musiclatent.data import fma_audio_path, load_fma
from keras_musiclatent.errors import DatasetError

# (top level, field) pairs in the real file's order, abridged: the loader must find its three
# columns among others, by name, not by position.
COLUMNS = [
    ("album", "comments"),
    ("album", "date_created"),
    ("album", "title"),
    ("artist", "bio"),
    ("artist", "name"),
    ("set", "split"),
    ("set", "subset"),
    ("track", "bit_rate"),
    ("track", "genre_top"),
    ("track", "genres"),
    ("track", "title"),
]

# track_id, split, subset, genre_top
TRACKS = [
    (2, "training", "small", "Hip-Hop"),
    (3, "training", "medium", "Hip-Hop"),
    (5, "training", "small", "Hip-Hop"),
    (10, "training", "small", "Pop"),
    (140, "validation", "small", "Folk"),
    (141, "test", "small", "Folk"),
    (148, "training", "large", ""),
    (1482, "test", "small", "Pop"),
    (11682, "validation", "small", "Pop"),
    (153337, "training", "small", "Folk"),
]


def write_tracks_csv(path: Path, tracks=TRACKS, columns=COLUMNS) -> Path:
    """Write ``tracks`` like pandas writes FMA's two-level tracks.csv."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["", *[t for t, _ in columns]])
        w.writerow(["", *[f for _, f in columns]])
        w.writerow(["track_id"] + [""] * len(columns))
        for tid, split, subset, genre in tracks:
            values = {
                ("album", "comments"): "0",
                ("album", "date_created"): "2008-11-26 01:44:45",
                ("album", "title"): "AWOL - A Way Of Life",
                ("artist", "bio"): '<p>A "quoted", multi-line\nbio, with commas</p>',
                ("artist", "name"): "AWOL",
                ("set", "split"): split,
                ("set", "subset"): subset,
                ("track", "bit_rate"): "256000",
                ("track", "genre_top"): genre,
                ("track", "genres"): "[21]",
                ("track", "title"): f"Track {tid}",
            }
            w.writerow([tid, *[values[c] for c in columns]])
    return path


@pytest.fixture
def fma_root(tmp_path, write_audio) -> Path:
    root = tmp_path / "fma"
    write_tracks_csv(root / "fma_metadata" / "tracks.csv")
    for i, (tid, _, subset, _) in enumerate(TRACKS):
        if subset == "small" and tid != 1482:  # 1482: listed, mp3 missing
            write_audio(fma_audio_path(root / "fma_small", tid), 0.3, sr=22050, seed=i)
    return root


def test_audio_path_layout():
    assert fma_audio_path("/d/fma_small", 2) == Path("/d/fma_small/000/000002.mp3")
    assert fma_audio_path("/d", 153337) == Path("/d/153/153337.mp3")


def test_official_split(fma_root):
    first = (fma_root / "fma_metadata" / "tracks.csv").read_text().splitlines()[:3]
    assert first[0].startswith(",album,album,album,artist")
    assert first[1].startswith(",comments,date_created,title,bio")
    assert first[2] == "track_id" + "," * len(COLUMNS)

    table = load_fma(fma_root)
    assert [c.clip_id for c in table] == ["000002", "000005", "000010", "000140", "000141",
                                          "011682", "153337"]  # fmt: skip
    assert table.split_names == ("train", "valid", "test")
    assert table.split_counts() == {"train": 4, "valid": 2, "test": 1}
    assert table.labels == ["Folk", "Hip-Hop", "Pop"]
    by_id = {c.clip_id: c for c in table}
    assert by_id["000140"].split == "valid" and by_id["000140"].label == "Folk"
    assert by_id["000002"].path == fma_root / "fma_small" / "000" / "000002.mp3"
    assert [(c.clip_id, c.split) for c in table.missing] == [("001482", "test")]


def test_medium_subset_includes_small_tracks(fma_root, write_audio):
    write_audio(fma_audio_path(fma_root / "fma_medium", 3), 0.2)
    write_audio(fma_audio_path(fma_root / "fma_medium", 2), 0.2)
    table = load_fma(fma_root, subset="medium")
    assert [c.clip_id for c in table] == ["000002", "000003"]
    assert len(table.missing) == 7  # the other small tracks; 148 has no genre_top
    large = load_fma(fma_root, subset="large", audio_dir=fma_root / "fma_medium")
    assert "000148" not in {c.clip_id for c in (*large, *large.missing)}


def test_random_split_is_seeded_and_stratified(tmp_path, write_audio):
    tracks = [(i + 1, "training", "small", g) for i, g in enumerate(["Rock"] * 10 + ["Pop"] * 10)]
    root = tmp_path / "fma"
    write_tracks_csv(root / "fma_metadata" / "tracks.csv", tracks)
    for tid, *_ in tracks:
        write_audio(fma_audio_path(root / "fma_small", tid), 0.05, sr=22050)
    t1 = load_fma(root, split="random", seed=1)
    assert t1.split_names == ("train", "test")
    assert Counter((c.label, c.split) for c in t1) == {
        ("Rock", "train"): 7,
        ("Rock", "test"): 3,
        ("Pop", "train"): 7,
        ("Pop", "test"): 3,
    }
    assert load_fma(root, split="random", seed=1) == t1
    assert [c.split for c in load_fma(root, split="random", seed=2)] != [c.split for c in t1]
    with pytest.raises(DatasetError, match="test_fraction"):
        load_fma(root, split="random", test_fraction=1.5)


def test_unknown_split_mode_and_subset(fma_root):
    with pytest.raises(DatasetError, match=r"unknown FMA split 'artist'; valid: official, random"):
        load_fma(fma_root, split="artist")
    with pytest.raises(DatasetError, match=r"unknown FMA subset 'tiny'.*small, medium, large"):
        load_fma(fma_root, subset="tiny")


def test_missing_folders(tmp_path, fma_root):
    with pytest.raises(DatasetError, match="FMA folder does not exist"):
        load_fma(tmp_path / "nope")
    with pytest.raises(DatasetError, match=r"fma_large: FMA audio folder does not exist"):
        load_fma(fma_root, subset="large")
    (fma_root / "fma_metadata" / "tracks.csv").unlink()
    with pytest.raises(DatasetError, match=r"tracks\.csv: FMA metadata file does not exist"):
        load_fma(fma_root)


def test_no_audio_at_all(tmp_path):
    root = tmp_path / "fma"
    write_tracks_csv(root / "fma_metadata" / "tracks.csv")
    (root / "fma_small").mkdir()
    with pytest.raises(DatasetError, match=r"fma_small: none of the 8 small tracks"):
        load_fma(root)


def _corrupt(root: Path, lines: list[str]) -> None:
    (root / "fma_metadata" / "tracks.csv").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ([], "expected three header rows"),
        (
            [",set,set", ",split,subset", "track_id,,"],
            r"missing column\(s\) \('track', 'genre_top'\)",
        ),
        ([",set,set,track", ",split,subset", "track_id,,,"], "two header rows of equal length"),
        (
            [",set,set,track", ",split,subset,genre_top", "2,training,small,Pop"],
            "third starting with 'track_id'",
        ),
        (
            [",set,set,track", ",split,subset,genre_top", "track_id,,,", "x2,training,small,Pop"],
            r"line 4: track id 'x2' is not an integer",
        ),
        (
            [",set,set,track", ",split,subset,genre_top", "track_id,,,", "2,training,small"],
            r"line 4: 3 cells, expected at least 4",
        ),
        (
            [",set,set,track", ",split,subset,genre_top", "track_id,,,", "2,train,small,Pop"],
            r"line 4: unknown split 'train'",
        ),
        (
            [",set,set,track", ",split,subset,genre_top", "track_id,,,", "2,test,tiny,Pop"],
            r"line 4: unknown subset 'tiny'",
        ),
        (
            [
                ",set,set,track",
                ",split,subset,genre_top",
                "track_id,,,",
                "2,test,small,Pop",
                "2,test,small,Pop",
            ],
            "track 2 listed twice",
        ),
    ],
)
def test_malformed_tracks_csv(fma_root, lines, message):
    _corrupt(fma_root, lines)
    with pytest.raises(DatasetError, match=rf"tracks\.csv.*{message}"):
        load_fma(fma_root)
