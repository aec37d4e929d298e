"""Download with checksum verification, and archive extraction that refuses unsafe members."""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
import warnings
import zipfile
from pathlib import Path, PurePosixPath

from keras_musiclatent._files import sha256_file
from keras_musiclatent.errors import DatasetError

__all__ = ["fetch", "safe_extract", "sha256_file"]


def fetch(
    url: str,
    root: str | os.PathLike,
    *,
    fname: str,
    sha256: str | None,
) -> Path:
    """Download ``url`` to ``root/fname`` via ``keras.utils.get_file`` and verify its sha256.

    A file already at ``root/fname`` with the right checksum is reused; one with a wrong
    checksum is downloaded again. A download whose checksum does not match is deleted.

    Args:
        url: ``http``, ``https`` or ``file`` address.
        root: destination folder (created).
        fname: file name inside ``root``.
        sha256: expected hex digest; ``None`` skips verification with a warning.

    Returns:
        The downloaded file.

    Raises:
        DatasetError: ``root`` not writable, the download failed, or the checksum differs.
    """
    import keras

    dest = Path(root).expanduser().resolve()
    if dest.exists() and not dest.is_dir():
        raise DatasetError(f"{dest}: download destination is not a folder")
    dest.mkdir(parents=True, exist_ok=True)
    # get_file quietly falls back to /tmp/.keras for a read-only folder; we want an error.
    if not os.access(dest, os.W_OK):
        raise DatasetError(f"{dest}: download destination is not writable")
    if sha256 is None:
        warnings.warn(f"downloading {url} without checksum verification", stacklevel=2)
    target = dest / fname
    try:
        got = keras.utils.get_file(
            fname=fname,
            origin=url,
            file_hash=sha256.lower() if sha256 else None,
            hash_algorithm="sha256",
            cache_dir=os.fspath(dest),
            cache_subdir="",
        )
    except ValueError as exc:
        if target.exists() and sha256 and "hash" in str(exc).lower():
            actual = sha256_file(target)
            target.unlink()
            raise DatasetError(
                f"{url}: checksum mismatch: expected sha256 {sha256.lower()}, got {actual} "
                "(the download was deleted; a corrupt transfer or a changed file at the source)"
            ) from None
        raise DatasetError(f"{url}: download failed ({exc})") from None
    except Exception as exc:  # get_file wraps URL errors in a bare Exception
        raise DatasetError(f"{url}: download failed ({exc})") from None
    got_path = Path(got).resolve()
    if got_path != target:
        raise DatasetError(f"{url}: expected the download at {target}, got {got_path}")
    return got_path


def _check_member(name: str, archive: Path) -> PurePosixPath:
    rel = PurePosixPath(name.replace("\\", "/"))
    if (
        rel.is_absolute()
        or name.startswith(("/", "\\"))
        or (":" in rel.parts[0] if rel.parts else False)
    ):
        raise DatasetError(f"{archive}: refusing archive with absolute member path {name!r}")
    if ".." in rel.parts:
        raise DatasetError(f"{archive}: refusing archive with member escaping the folder {name!r}")
    return rel


def _tar_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    members = tar.getmembers()
    for m in members:
        _check_member(m.name, archive)
        if m.issym() or m.islnk():
            raise DatasetError(f"{archive}: refusing archive with link member {m.name!r}")
        if not (m.isfile() or m.isdir()):
            raise DatasetError(f"{archive}: refusing archive with special member {m.name!r}")
    return members


def safe_extract(archive: str | os.PathLike, dest: str | os.PathLike) -> list[Path]:
    """Unpack a tar (any compression) or zip archive into ``dest``, refusing unsafe members.

    Every member is checked before anything is written: absolute paths, ``..`` components,
    symbolic or hard links and device files make the whole archive rejected. Files are unpacked
    into a temporary folder inside ``dest``, verified to lie inside it, and only then moved into
    place, so an interrupted extraction never looks like a complete dataset. Top-level entries
    already in ``dest`` with the same name are replaced.

    Args:
        archive: ``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz`` or ``.zip``.
        dest: destination folder (created).

    Returns:
        The top-level paths created in ``dest``.

    Raises:
        DatasetError: unreadable or unsafe archive.
    """
    src = Path(archive)
    out = Path(dest).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{src.name}.", suffix=".extracting", dir=out))
    try:
        if tarfile.is_tarfile(src):
            with tarfile.open(src, "r:*") as tar:
                members = _tar_members(tar, src)
                kwargs = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tar.extractall(staging, members=members, **kwargs)
        elif zipfile.is_zipfile(src):
            with zipfile.ZipFile(src) as zf:
                for info in zf.infolist():
                    _check_member(info.filename, src)
                    # The high bits of external_attr hold the Unix mode; 0o12 marks a symlink.
                    if (info.external_attr >> 28) == 0o12:
                        raise DatasetError(
                            f"{src}: refusing archive with link member {info.filename!r}"
                        )
                zf.extractall(staging)
        else:
            raise DatasetError(f"{src}: not a tar or zip archive")
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise DatasetError(f"{src}: cannot unpack ({exc})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        root_real = os.path.realpath(staging)
        for dirpath, dirnames, filenames in os.walk(staging):
            for name in dirnames + filenames:
                p = os.path.join(dirpath, name)
                if (
                    os.path.islink(p)
                    or os.path.commonpath([os.path.realpath(p), root_real]) != root_real
                ):
                    raise DatasetError(f"{src}: unpacked entry {p} lies outside {out}")
        created = []
        for entry in sorted(staging.iterdir()):
            target = out / entry.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
            os.replace(entry, target)
            created.append(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return created
