"""Any folder of audio files, one subfolder per label."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from keras_musiclatent.data._common import AUDIO_EXTENSIONS, check_root, normalise_extensions
from keras_musiclatent.data.splits import stratified_split
from keras_musiclatent.data.table import ALL, Clip, ClipTable
from keras_musiclatent.errors import DatasetError

__all__ = ["audio_files", "load_folder", "load_unlabelled"]


def load_folder(
    root: str | os.PathLike,
    *,
    split_seed: int | None = None,
    valid_fraction: float = 0.2,
    test_fraction: float = 0.0,
    extensions: tuple[str, ...] = AUDIO_EXTENSIONS,
) -> ClipTable:
    """List ``<root>/<label>/**/*.<ext>`` as a clip table; the label is the subfolder's name.

    Files directly in ``root`` are unlabelled: their label is ``""`` (handy to encode a flat
    folder of songs; leave them out of a labelled dataset). Files in deeper folders take the
    label of their top-level subfolder. Hidden files and folders (name starting with ``.``)
    are skipped. Clip ids are the paths relative to ``root`` without suffix, e.g.
    ``"rock/live/song1"``.

    Args:
        root: the folder.
        split_seed: when given, a seeded split stratified by label into ``train``, ``valid``
            (``valid_fraction``) and, if ``test_fraction > 0``, ``test``; a label with two
            clips or more keeps one in each split (see :func:`stratified_split`); when
            ``None`` every clip's split is ``"all"``.
        valid_fraction: share of each label in ``valid``.
        test_fraction: share of each label in ``test``.
        extensions: audio suffixes, case-insensitive.

    Returns:
        A :class:`ClipTable` sorted by clip id.

    Raises:
        DatasetError: missing root, not a folder, no audio file in it, or bad fractions.

    Example:
        >>> table = load_folder("my_music", split_seed=0)  # doctest: +SKIP
        >>> table.labels
        ['ambient', 'techno']
    """
    base = check_root(root, what="audio")
    exts = normalise_extensions(extensions)
    found: list[tuple[str, str, Path]] = []
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            path = Path(dirpath) / name
            if name.startswith(".") or path.suffix.lower() not in exts:
                continue
            rel = path.relative_to(base)
            label = rel.parts[0] if len(rel.parts) > 1 else ""
            found.append((rel.with_suffix("").as_posix(), label, path))
    if not found:
        raise DatasetError(
            f"{base}: no audio files found (looked for {', '.join(exts)} in it and its subfolders)"
        )
    found.sort()
    ids = [f[0] for f in found]
    dupes = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dupes:
        raise DatasetError(
            f"{base}: several files share a name but differ in suffix: {', '.join(dupes[:5])}"
        )
    if split_seed is None:
        return ClipTable((Clip(i, lab, ALL, p) for i, lab, p in found), split_names=(ALL,))
    if not (0 <= valid_fraction <= 1 and 0 <= test_fraction <= 1) or (
        valid_fraction + test_fraction > 1
    ):
        raise DatasetError(
            f"valid_fraction={valid_fraction} and test_fraction={test_fraction} must lie in [0, 1] "
            "and sum to at most 1"
        )
    fractions = {"train": 1.0 - valid_fraction - test_fraction, "valid": valid_fraction}
    if test_fraction > 0:
        fractions["test"] = test_fraction
    assign = stratified_split(ids, [f[1] for f in found], fractions, seed=split_seed)
    return ClipTable(
        (Clip(i, lab, assign[i], p) for i, lab, p in found), split_names=tuple(fractions)
    )


def load_unlabelled(
    root: str | os.PathLike,
    *,
    split: str = "train",
    extensions: tuple[str, ...] = AUDIO_EXTENSIONS,
) -> ClipTable:
    """Every ``<root>/**/*.<ext>`` as unlabelled clips of one split, for training audio.

    Unlike :func:`load_folder`, subfolders are not labels (a soundtrack's package, an album):
    every clip's label is ``""``. Clip ids are the paths relative to ``root`` without suffix.

    Raises:
        DatasetError: missing root, not a folder, or no audio file in it.

    Example:
        >>> load_unlabelled("game_music").split_counts()  # doctest: +SKIP
        {'train': 207}
    """
    table = load_folder(root, extensions=extensions)
    return ClipTable((Clip(c.clip_id, "", split, c.path) for c in table), split_names=(split,))


def audio_files(
    paths: Iterable[str | os.PathLike], *, extensions: tuple[str, ...] = AUDIO_EXTENSIONS
) -> list[Path]:
    """The paths with every folder replaced by its audio files (recursive, sorted).

    What the command line does with its ``FILE...`` arguments: a file stays as given (a
    missing or broken one fails later, where it is read); a folder becomes the files under it
    whose suffix is in ``extensions`` (case-insensitive), hidden files and folders skipped,
    sorted by their path relative to the folder.

    Args:
        paths: files and folders, in order.
        extensions: suffixes a folder's files must have (``(".npz",)`` for latents).

    Returns:
        ``(n,)`` paths, folders expanded in place.

    Raises:
        DatasetError: a folder holds no file with one of ``extensions``.

    Example:
        >>> audio_files(["song.mp3", "my_music"])  # doctest: +SKIP
        [PosixPath('song.mp3'), PosixPath('my_music/a.wav'), PosixPath('my_music/b.flac')]
    """
    exts = normalise_extensions(extensions)
    out: list[Path] = []
    for item in paths:
        path = Path(item)
        if not path.is_dir():
            out.append(path)
            continue
        found = []
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            found += [
                Path(dirpath) / n
                for n in filenames
                if not n.startswith(".") and Path(n).suffix.lower() in exts
            ]
        if not found:
            raise DatasetError(f"{path}: no file in this folder ends in {', '.join(exts)}")
        out += sorted(found, key=lambda p: p.relative_to(path).as_posix())
    return out
