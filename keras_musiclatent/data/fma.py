"""FMA, the Free Music Archive dataset (Defferrard et al. 2017): small, medium or large subset.

Layout: ``<root>/fma_small/XXX/XXXXXX.mp3`` and ``<root>/fma_metadata/tracks.csv``. The
metadata file is pandas' two-level CSV: a first header row of top-level names (``album``,
``artist``, ``set``, ``track``), a second of field names, a third that names the index
(``track_id``), then one row per track. It is read with the ``csv`` module, one row at a time.
"""

from __future__ import annotations

import csv
import itertools
import os
from pathlib import Path

from keras_musiclatent.data._common import check_root
from keras_musiclatent.data.splits import stratified_split
from keras_musiclatent.data.table import Clip, ClipTable
from keras_musiclatent.errors import DatasetError

__all__ = ["FMA_SPLITS", "FMA_SUBSETS", "fma_audio_path", "load_fma"]

#: Subsets, each contained in the next; ``('set', 'subset')`` holds the smallest one a track is in.
FMA_SUBSETS: tuple[str, ...] = ("small", "medium", "large")
#: The official artist-filtered split, renamed to this package's split names.
FMA_SPLITS: dict[str, str] = {"training": "train", "validation": "valid", "test": "test"}
_SPLIT_MODES = ("official", "random")
_COLUMNS = {
    "subset": ("set", "subset"),
    "split": ("set", "split"),
    "genre": ("track", "genre_top"),
}


def fma_audio_path(audio_dir: str | os.PathLike, track_id: int) -> Path:
    """``audio_dir/XXX/XXXXXX.mp3`` for a track id (zero-padded to six digits)."""
    tid = f"{int(track_id):06d}"
    return Path(audio_dir) / tid[:3] / f"{tid}.mp3"


def _read_tracks(path: Path, subset: str) -> list[tuple[int, str, str]]:
    """``(track_id, genre_top, official split)`` of the tracks in ``subset``, by track id."""
    wanted = set(FMA_SUBSETS[: FMA_SUBSETS.index(subset) + 1])
    if not path.is_file():
        raise DatasetError(f"{path}: FMA metadata file does not exist")
    rows: list[tuple[int, str, str]] = []
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            top = next(reader, None)
            fields = next(reader, None)
            index = next(reader, None)
        except csv.Error as exc:
            raise DatasetError(f"{path}: malformed CSV header ({exc})") from None
        if top is None or fields is None or index is None:
            raise DatasetError(f"{path}: expected three header rows (top level, field, track_id)")
        if len(top) != len(fields) or not index or index[0].strip() != "track_id":
            raise DatasetError(
                f"{path}: not an FMA tracks.csv: expected two header rows of equal length and a "
                "third starting with 'track_id'"
            )
        pairs = [(t.strip(), f.strip()) for t, f in zip(top, fields, strict=True)]
        cols: dict[str, int] = {}
        for key, pair in _COLUMNS.items():
            if pair not in pairs:
                continue
            cols[key] = pairs.index(pair)
        absent = [f"({t!r}, {f!r})" for k, (t, f) in _COLUMNS.items() if k not in cols]
        if absent:
            raise DatasetError(f"{path}: missing column(s) {', '.join(absent)}")
        width = max(cols.values()) + 1
        try:
            for row in reader:
                if not row:
                    continue
                line = reader.line_num
                if len(row) < width:
                    raise DatasetError(
                        f"{path}, line {line}: {len(row)} cells, expected at least {width}"
                    )
                try:
                    track_id = int(row[0])
                except ValueError:
                    raise DatasetError(
                        f"{path}, line {line}: track id {row[0]!r} is not an integer"
                    ) from None
                sub = row[cols["subset"]].strip()
                if sub not in FMA_SUBSETS:
                    raise DatasetError(f"{path}, line {line}: unknown subset {sub!r}")
                if sub not in wanted:
                    continue
                split = row[cols["split"]].strip()
                if split not in FMA_SPLITS:
                    raise DatasetError(
                        f"{path}, line {line}: unknown split {split!r} "
                        f"(expected {', '.join(FMA_SPLITS)})"
                    )
                genre = row[cols["genre"]].strip()
                if genre:  # medium/large hold tracks with no top genre: nothing to learn from
                    rows.append((track_id, genre, split))
        except csv.Error as exc:
            raise DatasetError(f"{path}, line {reader.line_num}: malformed CSV ({exc})") from None
    rows.sort()
    for (a, *_), (b, *_) in itertools.pairwise(rows):
        if a == b:
            raise DatasetError(f"{path}: track {a} listed twice")
    return rows


def load_fma(
    root: str | os.PathLike,
    *,
    subset: str = "small",
    split: str = "official",
    seed: int = 0,
    test_fraction: float = 0.3,
    tracks_csv: str | os.PathLike | None = None,
    audio_dir: str | os.PathLike | None = None,
) -> ClipTable:
    """List an FMA subset's tracks with their top genre and split.

    Args:
        root: folder holding ``fma_<subset>/`` and ``fma_metadata/``.
        subset: ``"small"`` (8,000 tracks, 8 genres), ``"medium"`` or ``"large"``; larger
            subsets include the smaller ones, tracks without a top genre are left out.
        split: ``"official"``: the artist-filtered split (training/validation/test renamed to
            train/valid/test); ``"random"``: a seeded split stratified by genre into train and
            test (``test_fraction``), drawn over every listed track, so it does not change
            when some audio files are missing.
        seed: seed of the random split.
        test_fraction: share of each genre in ``test`` for the random split.
        tracks_csv: the metadata file (default ``root/fma_metadata/tracks.csv``).
        audio_dir: the audio folder (default ``root/fma_<subset>``).

    Returns:
        A :class:`ClipTable` sorted by clip id (the six-digit track id); tracks whose mp3 is
        absent are in ``table.missing``.

    Raises:
        DatasetError: missing root or audio folder, malformed ``tracks.csv``, unknown subset or
        split mode, or no audio found for any track.

    Example:
        >>> table = load_fma("data/fma")  # doctest: +SKIP
        >>> len(table.split("train")), len(table.labels)
        (6400, 8)
    """
    if subset not in FMA_SUBSETS:
        raise DatasetError(
            f"unknown FMA subset {subset!r}; valid subsets: {', '.join(FMA_SUBSETS)}"
        )
    if split not in _SPLIT_MODES:
        raise DatasetError(f"unknown FMA split {split!r}; valid: {', '.join(_SPLIT_MODES)}")
    base = check_root(root, what="FMA")
    audio = Path(audio_dir) if audio_dir is not None else base / f"fma_{subset}"
    if not audio.is_dir():
        raise DatasetError(f"{audio}: FMA audio folder does not exist")
    meta = Path(tracks_csv) if tracks_csv is not None else base / "fma_metadata" / "tracks.csv"
    rows = _read_tracks(meta, subset)
    if split == "official":
        names: tuple[str, ...] = ("train", "valid", "test")
        assign = {f"{tid:06d}": FMA_SPLITS[s] for tid, _, s in rows}
    else:
        if not 0 < test_fraction < 1:
            raise DatasetError(f"test_fraction must lie in (0, 1), got {test_fraction}")
        names = ("train", "test")
        ids = [f"{tid:06d}" for tid, _, _ in rows]
        fractions = {"train": 1.0 - test_fraction, "test": test_fraction}
        assign = stratified_split(ids, [g for _, g, _ in rows], fractions, seed=seed)
    clips, missing = [], []
    for tid, genre, _ in rows:
        clip_id = f"{tid:06d}"
        clip = Clip(clip_id, genre, assign[clip_id], fma_audio_path(audio, tid))
        (clips if clip.path.is_file() else missing).append(clip)
    if not clips:
        raise DatasetError(
            f"{audio}: none of the {len(rows)} {subset} tracks of {meta.name} has its mp3 here"
        )
    return ClipTable(clips, split_names=names, missing=missing)
