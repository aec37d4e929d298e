"""Decoded-audio access with an optional on-disk cache of float32 ``.npy`` files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent._files import atomic_path
from keras_musiclatent.errors import EmptyAudioError

__all__ = ["AudioCache", "cache_key"]

# Bump when the decoded representation changes (resampler, mono mix), to orphan old entries.
_CACHE_VERSION = 1


def cache_key(path: str | os.PathLike, sample_rate: int) -> str:
    """Name of a file's cache entry: a hash of its real path, mtime, size and the target rate.

    Editing or replacing the file changes its mtime or size, so a stale entry is never read.
    """
    real = os.path.realpath(path)
    st = os.stat(real)
    text = f"v{_CACHE_VERSION}\0{real}\0{st.st_mtime_ns}\0{st.st_size}\0{int(sample_rate)}"
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:40]


class AudioCache:
    """Decode audio files to mono float32 at one rate, optionally keeping the result on disk.

    With ``cache_dir`` each file is decoded once and stored as ``<cache_key>.npy`` (written to a
    temporary file, then renamed, so readers and concurrent writers never see half a file);
    later reads memory-map it, so only the samples used are paged in. Without it, decoding stops
    as soon as the requested number of samples is there.

    Args:
        sample_rate: output rate in Hz.
        cache_dir: folder of the cache (created), or ``None`` for no cache.

    Example:
        >>> cache = AudioCache(sample_rate=22050, cache_dir="/tmp/cache")
        >>> y = cache.get("song.ogg")  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        sample_rate: int = audio.DEFAULT_SAMPLE_RATE,
        cache_dir: str | os.PathLike | None = None,
    ) -> None:
        self.sample_rate = int(sample_rate)
        self.cache_dir = Path(cache_dir).expanduser() if cache_dir is not None else None
        if self.cache_dir is not None:
            self.cache_dir.mkdir(parents=True, exist_ok=True)

    def entry(self, path: str | os.PathLike) -> Path | None:
        """Where ``path``'s decoded samples are (or would be) cached; ``None`` without a cache."""
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{cache_key(path, self.sample_rate)}.npy"

    def get(self, path: str | os.PathLike, *, need: int | None = None) -> np.ndarray:
        """Decoded samples of ``path``: float32 ``(samples,)`` (read-only when memory-mapped).

        Args:
            path: audio file.
            need: without a cache, decode only until this many samples are there (the result
                may be longer, or shorter if the file ends first). Ignored with a cache.

        Raises:
            The errors of :func:`keras_musiclatent.audio.load`.
        """
        entry = self.entry(path)
        if entry is None:
            return _decode(path, self.sample_rate, need)
        if entry.exists():
            try:
                y = np.load(entry, mmap_mode="r", allow_pickle=False)
                if y.dtype == np.float32 and y.ndim == 1 and y.size > 0:
                    return y
            except (OSError, ValueError):
                pass
            # An unreadable entry (e.g. a disk that filled up) is replaced, not trusted.
            entry.unlink(missing_ok=True)
        y = audio.load(path, sr=self.sample_rate)
        _write_atomic(entry, y)
        return y


def _decode(path: str | os.PathLike, sr: int, need: int | None) -> np.ndarray:
    if need is None:
        return audio.load(path, sr=sr)
    blocks, have = [], 0
    stream = audio.stream(path, sr=sr)
    try:
        for block in stream:
            blocks.append(block)
            have += len(block)
            if have >= need:
                break
    finally:
        stream.close()
    if not blocks:
        raise EmptyAudioError(f"{path}: holds zero samples after resampling")
    return blocks[0] if len(blocks) == 1 else np.concatenate(blocks)


def _write_atomic(dest: Path, y: np.ndarray) -> None:
    with atomic_path(dest, suffix=".npy.part") as tmp, open(tmp, "wb") as fh:
        np.save(fh, np.ascontiguousarray(y, dtype=np.float32), allow_pickle=False)
