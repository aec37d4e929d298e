"""Files written whole or not at all, and checked by sha256.

Atomic output writes beside the destination, then renames, so a crash leaves no half file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["atomic_path", "save_model", "sha256_file", "write_json", "write_npz"]


@contextmanager
def atomic_path(dest: str | os.PathLike, *, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path in ``dest``'s folder; rename it to ``dest`` if the block succeeds.

    Args:
        dest: the final path (parent folders are created).
        suffix: the temporary file's suffix (Keras needs ``.keras`` to save a model).

    Example:
        >>> with atomic_path("out.txt") as tmp:  # doctest: +SKIP
        ...     tmp.write_text("done")
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=suffix, dir=dest.parent)
    os.close(fd)
    # mkstemp makes the file private; the result should get the usual permissions.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield Path(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(dest: str | os.PathLike, payload: Any) -> None:
    """Write ``payload`` as indented JSON, atomically."""
    with atomic_path(dest) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, default=str))


def write_npz(dest: str | os.PathLike, **arrays: np.ndarray) -> None:
    """Write arrays to an ``.npz``, atomically."""
    with atomic_path(dest) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)


def save_model(model: Any, dest: str | os.PathLike) -> None:
    """``model.save`` to a ``.keras`` file, atomically."""
    with atomic_path(dest, suffix=".keras") as tmp:
        model.save(tmp)


def sha256_file(path: str | os.PathLike, *, chunk_size: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
