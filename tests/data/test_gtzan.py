"""GTZAN loader: layouts, the fault-filtered and random splits, malformed inputs, real clips."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from keras_musiclatent.data import GTZAN_SPLITS, load_gtzan, read_gtzan_split
from keras_musiclatent.errors import DatasetError

GENRES3 = ("blues", "jazz", "rock")


def _make(root: Path, write_audio, *, ext: str = ".wav", per_genre: int = 4) -> list[str]:
    ids = []
    for g in GENRES3:
        for i in range(per_genre):
            clip = f"{g}.{i:05d}"
            write_audio(root / g / f"{clip}{ext}", 0.2, seed=i)
            ids.append(clip)
    return ids


def _split_csv(path: Path, rows: list[tuple[str, str, str]], header=("clip", "genre", "split")):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def test_original_layout_with_split_file(tmp_path, write_audio):
    base = tmp_path / "genres"
    _make(base, write_audio, ext=".au")
    # The original archive also holds marsyas collection files: ignored.
    (base / "bextract_single.mf").write_text("x")
    (base / "blues" / "notes.txt").write_text("x")
    _split_csv(
        tmp_path / "split.csv",
        [
            ("blues.00000", "blues", "train"),
            ("blues.00001", "blues", "valid"),
            ("jazz.00000", "jazz", "test"),
            ("rock.00099", "rock", "test"),  # listed, audio absent
            ("rock.00098", "rock", "train"),  # listed, audio absent
        ],
    )
    table = load_gtzan(tmp_path)
    assert len(table) == 12
    assert table.split_names == GTZAN_SPLITS
    assert table.split_counts() == {"train": 1, "valid": 1, "test": 1, "excluded": 9}
    assert all(c.path.suffix == ".au" and c.path.is_file() for c in table)
    assert table[0].clip_id == "blues.00000" and table[0].label == "blues"
    assert [c.clip_id for c in table.missing] == ["rock.00098", "rock.00099"]
    test = table.split("test")
    assert [c.clip_id for c in test] == ["jazz.00000"]
    assert [c.clip_id for c in test.missing] == ["rock.00099"]
    assert test.missing[0].path == base / "rock" / "rock.00099.au"


def test_flat_ogg_layout_and_explicit_split_file(tmp_path, write_audio):
    _make(tmp_path / "data", write_audio, ext=".ogg", per_genre=2)
    split = _split_csv(
        tmp_path / "elsewhere.csv",
        [(f"{g}.{i:05d}", g, "valid" if i else "train") for g in GENRES3 for i in range(2)],
    )
    table = load_gtzan(tmp_path / "data", split_file=split)
    assert table.split_counts() == {"train": 3, "valid": 3, "test": 0, "excluded": 0}
    assert table.labels == list(GENRES3)
    assert len(table.split("test")) == 0 and table.missing == ()


def test_prefers_lossless_when_a_clip_has_two_formats(tmp_path, write_audio):
    write_audio(tmp_path / "jazz" / "jazz.00001.ogg", 0.2)
    write_audio(tmp_path / "jazz" / "jazz.00001.wav", 0.2)
    table = load_gtzan(tmp_path, split_seed=0)
    assert [c.path.name for c in table] == ["jazz.00001.wav"]


def test_random_split_is_stratified_and_seeded(tmp_path, write_audio):
    _make(tmp_path, write_audio, per_genre=10)
    t1 = load_gtzan(tmp_path, split_seed=7)
    assert t1.split_names == ("train", "valid", "test")
    per = Counter((c.label, c.split) for c in t1)
    for g in GENRES3:
        # 10 x (0.7, 0.15, 0.15): the leftover clip goes to the first tied split, valid.
        assert (per[(g, "train")], per[(g, "valid")], per[(g, "test")]) == (7, 2, 1)
    assert load_gtzan(tmp_path, split_seed=7) == t1
    assert [c.split for c in load_gtzan(tmp_path, split_seed=8)] != [c.split for c in t1]
    custom = load_gtzan(tmp_path, split_seed=7, split_fractions={"train": 0.5, "test": 0.5})
    assert custom.split_counts() == {"train": 15, "test": 15}


def test_random_split_ignores_split_file(tmp_path, write_audio):
    _make(tmp_path, write_audio, per_genre=2)
    (tmp_path / "split.csv").write_text("not,a,split\n")
    assert len(load_gtzan(tmp_path, split_seed=0)) == 6


def test_split_file_and_seed_together_rejected(tmp_path, write_audio):
    _make(tmp_path, write_audio, per_genre=1)
    with pytest.raises(DatasetError, match="not both"):
        load_gtzan(tmp_path, split_file=tmp_path / "x.csv", split_seed=0)


def test_no_split_file_explains_the_options(tmp_path, write_audio):
    _make(tmp_path, write_audio, per_genre=1)
    with pytest.raises(DatasetError, match=r"no split\.csv found.*split_file=.*split_seed="):
        load_gtzan(tmp_path)


def test_missing_and_non_folder_root(tmp_path):
    with pytest.raises(DatasetError, match=r"nope: GTZAN folder does not exist"):
        load_gtzan(tmp_path / "nope")
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(DatasetError, match=r"file\.txt: GTZAN root is not a folder"):
        load_gtzan(f)


def test_no_clips_names_the_folder(tmp_path, write_audio):
    write_audio(tmp_path / "blues" / "song.wav", 0.1)  # not blues.NNNNN
    write_audio(tmp_path / "polka" / "polka.00000.wav", 0.1)  # not a GTZAN genre
    write_audio(tmp_path / "jazz" / "blues.00000.wav", 0.1)  # genre mismatch
    with pytest.raises(DatasetError, match=rf"{tmp_path}: no GTZAN clips found"):
        load_gtzan(tmp_path, split_seed=0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("clip,label,split\nblues.00000,blues,train\n", r"split\.csv: missing column\(s\) genre"),
        ("", r"split\.csv: empty file"),
        ("clip,genre,split\n", r"split\.csv: no rows"),
        ("clip,genre,split\nblues.00000,blues,training\n", r"line 2: unknown split 'training'"),
        ("clip,genre,split\nblues.00000,polka,train\n", r"line 2: unknown genre 'polka'"),
        ("clip,genre,split\nblues.0,blues,train\n", r"line 2: clip 'blues.0' is not blues"),
        (
            "clip,genre,split\nblues.00000,blues,train\nblues.00000,blues,valid\n",
            r"line 3: clip blues.00000 listed twice",
        ),
    ],
)
def test_malformed_split_file(tmp_path, write_audio, content, message):
    _make(tmp_path, write_audio, per_genre=1)
    (tmp_path / "split.csv").write_text(content)
    with pytest.raises(DatasetError, match=message):
        load_gtzan(tmp_path)


def test_split_file_that_does_not_exist(tmp_path, write_audio):
    _make(tmp_path, write_audio, per_genre=1)
    with pytest.raises(DatasetError, match=r"nope\.csv: split file does not exist"):
        load_gtzan(tmp_path, split_file=tmp_path / "nope.csv")


@pytest.mark.gtzan
def test_real_gtzan_counts_match_split_and_manifest(gtzan_root, gtzan_manifest):
    split_rows = read_gtzan_split(Path(gtzan_root) / "split.csv")
    with open(gtzan_manifest, newline="") as fh:
        manifest = {row["clip"]: row for row in csv.DictReader(fh)}
    table = load_gtzan(gtzan_root)

    assert Counter(s for _, s in split_rows.values()) == {"train": 443, "valid": 197, "test": 290}
    assert {c.clip_id for c in table} == set(manifest)
    for clip in table:
        assert clip.split == manifest[clip.clip_id]["split"]
        assert clip.label == manifest[clip.clip_id]["genre"]
        assert clip.path == Path(gtzan_root) / manifest[clip.clip_id]["file"]
    on_disk = Counter(row["split"] for row in manifest.values())
    for name in ("train", "valid", "excluded"):
        assert len(table.split(name)) == on_disk[name]
    # Every split-file clip is either on disk or reported missing, never both.
    present = {c.clip_id for c in table if c.split != "excluded"}
    missing = {c.clip_id for c in table.missing}
    assert present | missing == set(split_rows) and not present & missing
    test = table.split("test")
    assert len(test) == sum(1 for c in table if c.split == "test")
    assert len(test) + len(test.missing) == 290
