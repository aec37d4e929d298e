"""GTZAN genre collection (Tzanetakis & Cook 2002): 10 genres x 100 clips of 30 s.

Reads the original layout (``<root>/genres/<genre>/<genre>.NNNNN.au``, or the genre folders
directly under ``<root>``, as ``.au``, ``.wav``, ``.ogg``, ``.flac`` or ``.mp3``) and assigns
either the fault-filtered split (Kereliuk, Sturm & Larsen 2015) from a ``split.csv`` with
columns ``clip,genre,split``, or a seeded stratified random split.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from pathlib import Path

from keras_musiclatent.data._common import check_root, read_csv_rows
from keras_musiclatent.data.download import fetch, safe_extract
from keras_musiclatent.data.splits import stratified_split
from keras_musiclatent.data.table import Clip, ClipTable
from keras_musiclatent.errors import DatasetError

__all__ = [
    "GENRES",
    "GTZAN_EXTENSIONS",
    "GTZAN_SHA256",
    "GTZAN_SPLITS",
    "GTZAN_URL",
    "download_gtzan",
    "find_gtzan_dir",
    "load_gtzan",
    "read_gtzan_split",
]

_log = logging.getLogger(__name__)

GENRES: tuple[str, ...] = (
    "blues",
    "classical",
    "country",
    "disco",
    "hiphop",
    "jazz",
    "metal",
    "pop",
    "reggae",
    "rock",
)
#: Where the collection was published, and the sha256 of that archive (1.2 GB).
GTZAN_URL = "http://opihi.cs.uvic.ca/sound/genres.tar.gz"
GTZAN_SHA256 = "24347e0223d2ba798e0a558c4c172d9d4a19c00bb7963fe055d183dadb4ef2c6"
#: Audio suffixes recognised, in order of preference when a clip exists in several formats
#: (lossless first).
GTZAN_EXTENSIONS: tuple[str, ...] = (".wav", ".au", ".flac", ".ogg", ".mp3")
#: Split names of a GTZAN table. ``excluded``: on disk but not in the split file (faulty clips).
GTZAN_SPLITS: tuple[str, ...] = ("train", "valid", "test", "excluded")
_SPLIT_FILE = "split.csv"
_CLIP_RE = re.compile(r"^(?P<genre>[a-z]+)\.(?P<num>\d{5})$")
_DEFAULT_FRACTIONS = {"train": 0.7, "valid": 0.15, "test": 0.15}


def find_gtzan_dir(root: str | os.PathLike) -> Path:
    """The folder that holds the genre folders: ``root/genres`` when present, else ``root``.

    Raises:
        DatasetError: ``root`` is missing or not a folder.
    """
    base = check_root(root, what="GTZAN")
    nested = base / "genres"
    if nested.is_dir() and any((nested / g).is_dir() for g in GENRES):
        return nested
    return base


def _scan(base: Path, extensions: tuple[str, ...]) -> dict[str, Path]:
    """clip id -> audio path for every ``<genre>/<genre>.NNNNN.<ext>`` under ``base``."""
    rank = {ext: i for i, ext in enumerate(extensions)}
    found: dict[str, Path] = {}
    for genre in GENRES:
        folder = base / genre
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            ext, clip_id = entry.suffix.lower(), entry.stem
            m = _CLIP_RE.match(clip_id)
            if ext not in rank or not m or m["genre"] != genre or not entry.is_file():
                continue
            prev = found.get(clip_id)
            if prev is None or rank[ext] < rank[prev.suffix.lower()]:
                found[clip_id] = entry
    return found


def read_gtzan_split(path: str | os.PathLike) -> dict[str, tuple[str, str]]:
    """Read a ``clip,genre,split`` file.

    Args:
        path: the CSV; extra columns are ignored.

    Returns:
        clip id -> ``(genre, split)``, split in ``train``/``valid``/``test``.

    Raises:
        DatasetError: unreadable file, missing column, unknown genre or split, a clip id that is
        not ``<genre>.NNNNN`` of its genre, or a duplicate clip.
    """
    src = Path(path)
    if not src.is_file():
        raise DatasetError(f"{src}: split file does not exist")
    out: dict[str, tuple[str, str]] = {}
    valid_splits = GTZAN_SPLITS[:3]
    for line, row in read_csv_rows(src, ("clip", "genre", "split")):
        clip, genre, split = (
            (row["clip"] or "").strip(),
            (row["genre"] or "").strip(),
            (row["split"] or "").strip(),
        )
        if genre not in GENRES:
            raise DatasetError(f"{src}, line {line}: unknown genre {genre!r}")
        m = _CLIP_RE.match(clip)
        if not m or m["genre"] != genre:
            raise DatasetError(f"{src}, line {line}: clip {clip!r} is not {genre}.NNNNN")
        if split not in valid_splits:
            raise DatasetError(
                f"{src}, line {line}: unknown split {split!r} (expected {', '.join(valid_splits)})"
            )
        if clip in out:
            raise DatasetError(f"{src}, line {line}: clip {clip} listed twice")
        out[clip] = (genre, split)
    if not out:
        raise DatasetError(f"{src}: no rows")
    return out


def load_gtzan(
    root: str | os.PathLike,
    *,
    split_file: str | os.PathLike | None = None,
    split_seed: int | None = None,
    split_fractions: Mapping[str, float] | None = None,
    extensions: tuple[str, ...] = GTZAN_EXTENSIONS,
) -> ClipTable:
    """List the GTZAN clips under ``root`` with their genre and split.

    Split, in order of precedence:

    - ``split_seed=N``: a stratified random split by genre with ``split_fractions``
      (default train 0.7 / valid 0.15 / test 0.15) over every clip on disk;
    - otherwise the fault-filtered split from ``split_file``, or from a ``split.csv`` found in
      the genre folder's parent or in ``root``. Clips on disk but not in it get split
      ``"excluded"``; clips it lists whose audio is absent are left out of the table and kept
      in ``table.missing`` (so ``len(table.split("test").missing)`` says how many test clips
      could not be found).

    Args:
        root: the collection: holds ``genres/<genre>/`` or ``<genre>/`` folders.
        split_file: a ``clip,genre,split`` CSV (default: look for ``split.csv``).
        split_seed: seed of a random split instead of the split file.
        split_fractions: split name -> fraction for the random split.
        extensions: audio suffixes, preferred first when a clip exists in several formats.

    Returns:
        A :class:`ClipTable`, sorted by clip id, split names ``train, valid, test, excluded``
        (random split: those of ``split_fractions``).

    Raises:
        DatasetError: missing root, no clips, no split file found (and no seed), a malformed
        split file, or both ``split_file`` and ``split_seed`` given.

    Example:
        >>> table = load_gtzan("data/gtzan")  # doctest: +SKIP
        >>> table.split("train").labels[:2]
        ['blues', 'classical']
    """
    base = find_gtzan_dir(root)
    exts = tuple(e.lower() for e in extensions)
    found = _scan(base, exts)
    if not found:
        raise DatasetError(
            f"{base}: no GTZAN clips found (expected <genre>/<genre>.NNNNN"
            f"{{{','.join(exts)}}} for genres {', '.join(GENRES)})"
        )
    ids = sorted(found)
    if split_seed is not None:
        if split_file is not None:
            raise DatasetError("give split_file or split_seed, not both")
        fractions = dict(split_fractions or _DEFAULT_FRACTIONS)
        labels = [i.split(".", 1)[0] for i in ids]
        assign = stratified_split(ids, labels, fractions, seed=split_seed)
        clips = [Clip(i, lab, assign[i], found[i]) for i, lab in zip(ids, labels, strict=True)]
        return ClipTable(clips, split_names=tuple(fractions))

    split_path = Path(split_file) if split_file is not None else _find_split_file(base, root)
    rows = read_gtzan_split(split_path)
    clips = []
    for clip_id in ids:
        genre = clip_id.split(".", 1)[0]
        split = rows[clip_id][1] if clip_id in rows else "excluded"
        clips.append(Clip(clip_id, genre, split, found[clip_id]))
    # Where an absent clip would be: same folder and format as the collection's other files.
    ext = found[ids[0]].suffix
    missing = [
        Clip(clip_id, genre, split, base / genre / f"{clip_id}{ext}")
        for clip_id, (genre, split) in sorted(rows.items())
        if clip_id not in found
    ]
    if missing:
        _log.info("%s: %d clip(s) of %s have no audio", base, len(missing), split_path.name)
    return ClipTable(clips, split_names=GTZAN_SPLITS, missing=missing)


def _find_split_file(base: Path, root: str | os.PathLike) -> Path:
    # Only beside the genre folders or in root (one folder unless they sit in root/genres/):
    # a split.csv further up may belong to something else.
    for folder in dict.fromkeys([base, Path(root).expanduser()]):
        candidate = folder / _SPLIT_FILE
        if candidate.is_file():
            return candidate
    raise DatasetError(
        f"{base}: no {_SPLIT_FILE} found; pass split_file= (a clip,genre,split CSV such as the "
        "fault-filtered split of Kereliuk et al. 2015) or split_seed= for a random split"
    )


def download_gtzan(
    root: str | os.PathLike,
    *,
    url: str = GTZAN_URL,
    sha256: str | None = GTZAN_SHA256,
    force: bool = False,
    keep_archive: bool = False,
) -> Path:
    """Download and unpack the GTZAN archive into ``root``; return the genre folder's parent.

    The archive's sha256 is checked before anything is unpacked, and an archive with a member
    that would land outside ``root`` (absolute path, ``..``, link, device) is refused whole.
    When ``root/genres`` already holds the genre folders nothing is downloaded (unless
    ``force``).

    Args:
        root: destination folder (created).
        url: archive address (``http``, ``https`` or ``file``).
        sha256: expected checksum of the archive; ``None`` skips the check (not recommended).
        force: unpack again even if the folders exist (downloading only when no archive with
            the right checksum is in ``root``).
        keep_archive: keep ``genres.tar.gz`` after unpacking.

    Returns:
        ``root / "genres"``, ready for :func:`load_gtzan`.

    Raises:
        DatasetError: download failure, checksum mismatch, unsafe or unreadable archive.

    Example:
        >>> table = load_gtzan(download_gtzan("~/data/gtzan"), split_seed=0)  # doctest: +SKIP
    """
    dest = Path(root).expanduser()
    target = dest / "genres"
    if not force and target.is_dir() and all((target / g).is_dir() for g in GENRES):
        return target
    archive = fetch(url, dest, fname="genres.tar.gz", sha256=sha256)
    try:
        safe_extract(archive, dest)
    finally:
        if not keep_archive:
            archive.unlink(missing_ok=True)
    if not target.is_dir():
        raise DatasetError(f"{archive}: the archive holds no genres/ folder")
    return target
