"""Helpers shared by the dataset loaders (not public)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

from keras_musiclatent.errors import DatasetError

#: File suffixes the folder and GTZAN loaders treat as audio (lower case).
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".mp3", ".au", ".aiff", ".aif")


def batch_index(idx: int, batches: int) -> int:
    """``idx`` as a batch number in ``range(batches)`` (negative counts from the end), the
    ``PyDataset.__getitem__`` convention of the segment datasets.

    Raises:
        IndexError: out of range.
    """
    if idx < 0:
        idx += batches
    if not 0 <= idx < batches:
        raise IndexError(f"batch {idx} out of range for {batches} batches")
    return idx


def check_root(root: str | os.PathLike, *, what: str = "dataset") -> Path:
    """Return ``root`` as a Path, or raise DatasetError when it is missing or not a folder."""
    path = Path(root).expanduser()
    if not path.exists():
        raise DatasetError(f"{path}: {what} folder does not exist")
    if not path.is_dir():
        raise DatasetError(f"{path}: {what} root is not a folder")
    return path


def normalise_extensions(extensions: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Lower-case suffixes with a leading dot: ``("WAV", ".ogg") -> (".wav", ".ogg")``."""
    out = tuple(e.lower() if e.startswith(".") else "." + e.lower() for e in extensions)
    if not out:
        raise DatasetError("extensions must name at least one audio suffix")
    return out


def read_csv_rows(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    """Yield ``(line_number, row)`` of a one-header CSV, checking ``required`` columns exist."""
    try:
        fh = open(path, newline="", encoding="utf-8")  # noqa: SIM115 (closed by `with` below)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames
        if not header:
            raise DatasetError(f"{path}: empty file, expected a header {','.join(required)}")
        fields = [h.strip() for h in header]
        missing = [c for c in required if c not in fields]
        if missing:
            raise DatasetError(
                f"{path}: missing column(s) {', '.join(missing)} "
                f"(header is {','.join(fields)}; expected {','.join(required)})"
            )
        reader.fieldnames = fields
        try:
            for row in reader:
                yield reader.line_num, row
        except csv.Error as exc:
            raise DatasetError(f"{path}: malformed CSV at line {reader.line_num} ({exc})") from None
