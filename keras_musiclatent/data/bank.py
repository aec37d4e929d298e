"""All of a training set's audio in memory, as int16, decoded once; and its shard files.

An :class:`AudioBank` holds every clip of one or more clip tables end to end in one int16
array (22050 Hz: 2 h of GTZAN is 0.3 GB, ten hours 1.6 GB), with each clip's start, length,
label and source. :class:`~keras_musiclatent.data.crops.CropDataset` draws windows from it
without decoding; :meth:`AudioBank.save_shards` writes it as int16 ``.npz`` shards of at most
50 MB each, from which :meth:`AudioBank.load_shards` rebuilds it on a machine without the
original audio (a remote GPU, say).

Example:
    >>> bank = AudioBank.from_tables([load_gtzan("data/gtzan").split("train")])  # doctest: +SKIP
    >>> bank.seconds, len(bank)
    (4993.2, 333)
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent._files import atomic_path, sha256_file, write_json
from keras_musiclatent._progress import progress_counter
from keras_musiclatent.data.cache import AudioCache
from keras_musiclatent.data.table import ClipTable
from keras_musiclatent.errors import DatasetError

__all__ = ["SHARD_MAX_BYTES", "AudioBank"]

#: Largest shard :meth:`AudioBank.save_shards` writes by default (50 MB).
SHARD_MAX_BYTES = 50_000_000
#: int16 full scale: samples are stored as ``round(y * 32767)``.
_SCALE = 32767.0
_MANIFEST = "bank.json"
_FORMAT = "keras-musiclatent audio bank"


@dataclass(frozen=True)
class AudioBank:
    """Clips end to end in one int16 array, with their starts, lengths, labels and sources.

    Attributes:
        samples: int16 ``(total,)``, every clip's audio, full scale 32767.
        starts: int64 ``(clips,)``, where each clip begins in ``samples``.
        lengths: int64 ``(clips,)``, samples per clip (each at least 1).
        labels: int32 ``(clips,)``, position in ``label_names``; -1 for an unlabelled clip.
        sources: int32 ``(clips,)``, position in ``source_weights`` of the table it came from.
        clip_ids: the clips' ids, prefixed ``<source>:`` when the bank has several sources.
        label_names: the label vocabulary.
        source_weights: float64 ``(sources,)``, how much each source's audio is drawn
            (see :meth:`clip_probabilities`).
        sample_rate: Hz.
    """

    samples: np.ndarray
    starts: np.ndarray
    lengths: np.ndarray
    labels: np.ndarray
    sources: np.ndarray
    clip_ids: tuple[str, ...]
    label_names: tuple[str, ...]
    source_weights: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        n = len(self.clip_ids)
        if n == 0:
            raise DatasetError("an audio bank needs at least one clip")
        for name in ("starts", "lengths", "labels", "sources"):
            if getattr(self, name).shape != (n,):
                raise DatasetError(f"audio bank: {name} has shape {getattr(self, name).shape}")
        if self.samples.dtype != np.int16 or self.samples.ndim != 1:
            raise DatasetError("audio bank: samples must be a 1-D int16 array")
        if self.lengths.min() < 1 or int((self.starts + self.lengths).max()) > self.samples.size:
            raise DatasetError("audio bank: a clip lies outside its samples")
        if self.sources.min() < 0 or self.sources.max() >= len(self.source_weights):
            raise DatasetError("audio bank: a clip names a source it has no weight for")
        if np.any(np.asarray(self.source_weights) < 0) or not np.any(self.source_weights > 0):
            raise DatasetError("audio bank: source weights must be >= 0, one of them > 0")

    def __len__(self) -> int:
        return len(self.clip_ids)

    @property
    def seconds(self) -> float:
        """Total audio, in seconds."""
        return float(self.lengths.sum()) / self.sample_rate

    @property
    def nbytes(self) -> int:
        """Memory the samples take."""
        return int(self.samples.nbytes)

    def clip(self, index: int) -> np.ndarray:
        """float32 ``(length,)`` samples of clip ``index``, in [-1, 1]."""
        start, length = int(self.starts[index]), int(self.lengths[index])
        return self.samples[start : start + length].astype(np.float32) / _SCALE

    def clip_probabilities(self) -> np.ndarray:
        """float64 ``(clips,)`` chance that a random window comes from each clip.

        Proportional to the clip's length times its source's weight: with every weight 1,
        each second of audio is equally likely; a weight of 2 draws a source twice as often
        as its duration alone would.
        """
        p = self.lengths.astype(np.float64) * np.asarray(self.source_weights)[self.sources]
        if p.sum() <= 0:
            raise DatasetError("audio bank: every clip has weight 0")
        return p / p.sum()

    # --- building --------------------------------------------------------------------------

    @classmethod
    def from_tables(
        cls,
        tables: Sequence[ClipTable],
        *,
        weights: Sequence[float] | None = None,
        sample_rate: int = audio.DEFAULT_SAMPLE_RATE,
        cache_dir: str | os.PathLike | None = None,
        labels: Sequence[str] | None = None,
        progress: bool | None = False,
    ) -> AudioBank:
        """Decode every clip of ``tables`` once (through the on-disk cache when given).

        Args:
            tables: one clip table per source.
            weights: one per source (default 1 each); see :meth:`clip_probabilities`.
            sample_rate: target rate in Hz.
            cache_dir: :class:`~keras_musiclatent.data.cache.AudioCache` folder, so that a
                later bank of the same files reads float32 ``.npy`` files instead of decoding.
            labels: label vocabulary (default: every non-empty label of the tables, sorted).
            progress: show a progress bar on stderr (``None``: when stderr is a terminal).

        Raises:
            DatasetError: no table, a weight per table missing, no clip, or a label outside
                ``labels``.
            AudioError: an unreadable clip.
        """
        tables = list(tables)
        if not tables:
            raise DatasetError("an audio bank needs at least one clip table")
        weights = [1.0] * len(tables) if weights is None else [float(w) for w in weights]
        if len(weights) != len(tables):
            raise DatasetError(f"{len(weights)} weights for {len(tables)} clip tables")
        vocab = (
            sorted({c.label for t in tables for c in t if c.label})
            if labels is None
            else list(labels)
        )
        index = {name: i for i, name in enumerate(vocab)}
        cache = AudioCache(sample_rate=sample_rate, cache_dir=cache_dir)
        pieces, ids, clip_labels, clip_sources = [], [], [], []
        total = sum(len(t) for t in tables)
        with progress_counter(total=total, desc="decoding audio", progress=progress) as bar:
            for s, table in enumerate(tables):
                for clip in table:
                    if clip.label and clip.label not in index:
                        raise DatasetError(f"clip {clip.clip_id}: label {clip.label!r} unknown")
                    y = np.asarray(cache.get(clip.path), dtype=np.float32)
                    pieces.append(_to_int16(y))
                    ids.append(clip.clip_id if len(tables) == 1 else f"{s}:{clip.clip_id}")
                    clip_labels.append(index[clip.label] if clip.label else -1)
                    clip_sources.append(s)
                    bar.update(1)
        lengths = np.array([p.size for p in pieces], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        return cls(
            samples=np.concatenate(pieces) if pieces else np.zeros(0, np.int16),
            starts=starts,
            lengths=lengths,
            labels=np.array(clip_labels, dtype=np.int32),
            sources=np.array(clip_sources, dtype=np.int32),
            clip_ids=tuple(ids),
            label_names=tuple(vocab),
            source_weights=np.array(weights, dtype=np.float64),
            sample_rate=int(sample_rate),
        )

    # --- shards ----------------------------------------------------------------------------

    def save_shards(
        self, folder: str | os.PathLike, *, max_bytes: int = SHARD_MAX_BYTES
    ) -> list[Path]:
        """Write the bank as ``shard-NNNNN.npz`` files of at most ``max_bytes`` each, plus a
        ``bank.json`` manifest with their sha256; each file is written atomically.

        A clip longer than a shard is split into consecutive pieces (ids ``<id>#<k>``), which
        changes the windows a random crop can draw only at the cut points.

        Returns:
            The shard paths, in order.

        Raises:
            DatasetError: ``max_bytes`` too small for one second of audio, or ``folder`` is a
                file.
        """
        folder = Path(folder)
        if folder.exists() and not folder.is_dir():
            raise DatasetError(f"{folder} is a file, not a folder for shards")
        # Room for the arrays' headers and per-clip rows; the rest is audio.
        budget = (int(max_bytes) - 64 * 1024) // 2
        if budget < self.sample_rate:
            raise DatasetError(f"max_bytes={max_bytes} is too small for one second of audio")
        folder.mkdir(parents=True, exist_ok=True)
        groups: list[list[tuple[int, int, int, str]]] = [[]]
        used = 0
        for i in range(len(self)):
            start, length = int(self.starts[i]), int(self.lengths[i])
            pieces = range(0, length, budget)
            for k, offset in enumerate(pieces):
                size = min(budget, length - offset)
                name = self.clip_ids[i] if len(pieces) == 1 else f"{self.clip_ids[i]}#{k}"
                if used + size > budget and groups[-1]:
                    groups.append([])
                    used = 0
                groups[-1].append((i, start + offset, size, name))
                used += size
        paths, entries = [], []
        for n, group in enumerate(groups):
            path = folder / f"shard-{n:05d}.npz"
            rows = np.array([g[0] for g in group], dtype=np.int64)
            with atomic_path(path, suffix=".npz") as tmp, open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    samples=np.concatenate([self.samples[a : a + m] for _, a, m, _ in group]),
                    lengths=np.array([g[2] for g in group], dtype=np.int64),
                    labels=self.labels[rows],
                    sources=self.sources[rows],
                    clip_ids=np.array([g[3] for g in group]),
                )
            paths.append(path)
            entries.append({"file": path.name, "sha256": sha256_file(path), "clips": len(group)})
        write_json(
            folder / _MANIFEST,
            {
                "format": _FORMAT,
                "version": 1,
                "sample_rate": self.sample_rate,
                "label_names": list(self.label_names),
                "source_weights": [float(w) for w in self.source_weights],
                "seconds": round(self.seconds, 3),
                "shards": entries,
            },
        )
        return paths

    @classmethod
    def load_shards(cls, folder: str | os.PathLike) -> AudioBank:
        """The bank :meth:`save_shards` wrote to ``folder``, each shard checked by sha256.

        Raises:
            DatasetError: no manifest, a missing or altered shard, or an unreadable file.
        """
        folder = Path(folder)
        manifest_path = folder / _MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DatasetError(
                f"{folder}: no {_MANIFEST}; write shards with `musiclatent shards`"
            ) from None
        except (OSError, ValueError) as exc:
            raise DatasetError(f"{manifest_path}: cannot read ({exc})") from None
        if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
            raise DatasetError(f"{manifest_path}: not an audio bank manifest")
        parts: dict[str, list[np.ndarray]] = {k: [] for k in ("samples", "lengths", "labels")}
        parts.update(sources=[], clip_ids=[])
        for entry in manifest["shards"]:
            path = folder / entry["file"]
            if not path.is_file():
                raise DatasetError(f"{path}: shard missing")
            if sha256_file(path) != entry["sha256"]:
                raise DatasetError(f"{path}: sha256 differs from {_MANIFEST} (altered shard)")
            try:
                with np.load(path, allow_pickle=False) as npz:
                    for key in parts:
                        parts[key].append(npz[key])
            except (OSError, ValueError, KeyError) as exc:
                raise DatasetError(f"{path}: cannot read shard ({exc})") from None
        lengths = np.concatenate(parts["lengths"]).astype(np.int64)
        return cls(
            samples=np.concatenate(parts["samples"]).astype(np.int16, copy=False),
            starts=np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64),
            lengths=lengths,
            labels=np.concatenate(parts["labels"]).astype(np.int32),
            sources=np.concatenate(parts["sources"]).astype(np.int32),
            clip_ids=tuple(str(c) for c in np.concatenate(parts["clip_ids"])),
            label_names=tuple(manifest["label_names"]),
            source_weights=np.array(manifest["source_weights"], dtype=np.float64),
            sample_rate=int(manifest["sample_rate"]),
        )


def _to_int16(y: np.ndarray) -> np.ndarray:
    return np.round(np.clip(y, -1.0, 1.0) * _SCALE).astype(np.int16)
