"""A Keras ``PyDataset`` of fixed-length segments, decoded lazily, batch by batch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from keras_musiclatent import audio
from keras_musiclatent.data._common import batch_index
from keras_musiclatent.data.cache import AudioCache
from keras_musiclatent.data.segments import build_index, cut_window, label_ids
from keras_musiclatent.data.table import ClipTable
from keras_musiclatent.errors import DatasetError

__all__ = ["SegmentDataset", "lengths_to_mask"]


def lengths_to_mask(lengths: np.ndarray, samples: int) -> np.ndarray:
    """float32 ``(batch, samples)`` mask, 1 on the first ``lengths[i]`` samples of row ``i``."""
    return (np.arange(samples)[None, :] < np.asarray(lengths)[:, None]).astype(np.float32)


class SegmentDataset(keras.utils.PyDataset):
    """Batches of fixed-length windows of a clip table, for ``model.fit``/``predict``.

    Windows follow the evaluation protocol (docs/evaluation.md), as
    :func:`keras_musiclatent.audio.segment` cuts them: 3-s non-overlapping windows from the
    start of each clip, a tail of 1 s or more zero-padded, a clip shorter than a window is one
    padded window, none is dropped. The window count of each clip comes from its header at
    construction; audio is decoded only when a batch asks for it, so memory holds one batch
    (plus an int32 pair per window for the index), whatever the dataset's size.
    Backend-agnostic: batches are NumPy arrays.

    Each batch is ``(inputs, labels)`` (``(inputs,)`` when ``include_labels=False``):

    - ``inputs["audio"]``: float32 ``(batch, samples)``, ``samples = round(segment_seconds
      * sample_rate)`` (66150), zero after the real audio;
    - ``inputs["length"]``: int32 ``(batch,)``, real samples per row (``1..samples``);
    - ``inputs["mask"]``: float32 ``(batch, samples)``, 1 on real samples, only when
      ``include_mask=True``;
    - ``labels``: int32 ``(batch,)``, the position of each clip's label in :attr:`labels`.

    The last batch may be smaller. With ``shuffle=True`` the windows of all clips are mixed
    in a new order every epoch, drawn from ``(seed, epoch)``; with ``shuffle=False`` they come
    in table order, window by window, and :attr:`clip_index` says which clip each row is.
    ``model.fit`` also shuffles the order of whole batches (unseeded) unless given
    ``shuffle=False``, and calls ``on_epoch_end`` once before the first epoch.

    Args:
        table: the clips.
        batch_size: windows per batch.
        sample_rate: target rate in Hz (resampled with soxr).
        segment_seconds: window length.
        min_remainder_seconds: shortest tail kept as a padded window.
        shuffle: reshuffle the windows every epoch.
        seed: shuffling seed.
        cache_dir: keep decoded audio there as float32 ``.npy`` files (memory-mapped reads), so
            later epochs do not decode again; ``None`` decodes every time.
        labels: class vocabulary (default ``table.labels``); give the training table's labels
            to a validation set so the ids agree.
        include_labels: yield ``(inputs, labels)`` rather than ``(inputs,)``.
        include_mask: add ``inputs["mask"]``.
        skip_unreadable: leave out, with a warning, clips whose header cannot be read.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``PyDataset``.

    Raises:
        DatasetError: empty table, a label outside ``labels``, or bad settings.
        AudioError: an unreadable clip (at construction: header; in a batch: data).

    Example:
        >>> train = load_gtzan("data/gtzan").split("train")  # doctest: +SKIP
        >>> ds = SegmentDataset(train, batch_size=16, cache_dir="~/.cache/musiclatent")
        >>> (x, y) = ds[0]
        >>> x["audio"].shape, x["length"].shape, y.shape
        ((16, 66150), (16,), (16,))
    """

    def __init__(
        self,
        table: ClipTable,
        *,
        batch_size: int = 32,
        sample_rate: int = audio.DEFAULT_SAMPLE_RATE,
        segment_seconds: float = audio.DEFAULT_SEGMENT_SECONDS,
        min_remainder_seconds: float = 1.0,
        shuffle: bool = True,
        seed: int = 0,
        cache_dir: str | os.PathLike | None = None,
        labels: Sequence[str] | None = None,
        include_labels: bool = True,
        include_mask: bool = False,
        skip_unreadable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if int(batch_size) < 1:
            raise DatasetError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.sample_rate = int(sample_rate)
        self.segment_seconds = float(segment_seconds)
        self.segment_samples = round(self.segment_seconds * self.sample_rate)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.include_labels = bool(include_labels)
        self.include_mask = bool(include_mask)
        self._index = build_index(
            table,
            sample_rate=self.sample_rate,
            segment_seconds=self.segment_seconds,
            min_remainder_seconds=min_remainder_seconds,
            skip_unreadable=skip_unreadable,
        )
        self.labels, self._clip_labels = label_ids(self._index.table, labels)
        self._audio = AudioCache(sample_rate=self.sample_rate, cache_dir=cache_dir)
        self.epoch = 0
        self._order = self._make_order()

    # --- public views ----------------------------------------------------------------------

    @property
    def table(self) -> ClipTable:
        """The clips served (the input table less any skipped unreadable clip)."""
        return self._index.table

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """``(clip_id, reason)`` of the clips left out by ``skip_unreadable``."""
        return self._index.skipped

    @property
    def num_segments(self) -> int:
        """Windows per epoch."""
        return len(self._index)

    @property
    def segment_counts(self) -> np.ndarray:
        """int32 ``(len(table),)`` windows per clip."""
        return self._index.counts

    @property
    def clip_index(self) -> np.ndarray:
        """int32 ``(num_segments,)`` clip (position in :attr:`table`) of each row, this epoch."""
        return self._index.clip[self._order]

    @property
    def segment_index(self) -> np.ndarray:
        """int32 ``(num_segments,)`` window number inside its clip of each row, this epoch."""
        return self._index.segment[self._order]

    # --- PyDataset -------------------------------------------------------------------------

    def __len__(self) -> int:
        return -(-self.num_segments // self.batch_size)

    @property
    def num_batches(self) -> int:
        """Batches per epoch (the last one may be short)."""
        return len(self)

    def __getitem__(self, idx: int) -> tuple[Any, ...]:
        idx = batch_index(idx, len(self))
        rows = self._order[idx * self.batch_size : (idx + 1) * self.batch_size]
        clips = self._index.clip[rows]
        segs = self._index.segment[rows]
        length = self.segment_samples
        waves = np.zeros((len(rows), length), dtype=np.float32)
        lengths = np.zeros(len(rows), dtype=np.int32)
        # Decode each clip once per batch, only as far as its last window needed.
        for c in np.unique(clips):
            where = np.flatnonzero(clips == c)
            need = (int(segs[where].max()) + 1) * length
            y = self._audio.get(self._index.table[int(c)].path, need=need)
            for r in where:
                waves[r], lengths[r] = cut_window(y, int(segs[r]), length)
        inputs: dict[str, np.ndarray] = {"audio": waves, "length": lengths}
        if self.include_mask:
            inputs["mask"] = lengths_to_mask(lengths, length)
        if self.include_labels:
            return inputs, self._clip_labels[clips]
        return (inputs,)

    def on_epoch_end(self) -> None:
        """Advance the epoch counter and draw the next epoch's order."""
        self.set_epoch(self.epoch + 1)

    def set_epoch(self, epoch: int) -> None:
        """Use the window order of ``epoch`` (0-based), drawn from ``(seed, epoch)``, so a
        resumed run sees the batches an uninterrupted one would."""
        self.epoch = int(epoch)
        self._order = self._make_order()

    def _make_order(self) -> np.ndarray:
        n = self.num_segments
        if not self.shuffle:
            return np.arange(n, dtype=np.int64)
        return np.random.default_rng([self.seed % 2**64, self.epoch]).permutation(n)
