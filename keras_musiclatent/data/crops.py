"""A Keras ``PyDataset`` of windows drawn from an in-memory :class:`AudioBank`.

Two ways to draw: ``"crops"`` (training) takes each window at a random clip and offset, fresh
every epoch, with optional gain and polarity changes; ``"grid"`` (evaluation) cuts every clip
by the protocol's window rule (:mod:`keras_musiclatent.audio.windows`), in bank order. Neither
decodes: the bank holds int16 samples, and a batch is a gather and a scale.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from keras_musiclatent import audio
from keras_musiclatent.data._common import batch_index
from keras_musiclatent.data.bank import AudioBank
from keras_musiclatent.errors import DatasetError

__all__ = ["SAMPLING_MODES", "CropDataset"]

SAMPLING_MODES = ("crops", "grid")


class CropDataset(keras.utils.PyDataset):
    """Batches of fixed-length windows of an :class:`AudioBank`, for ``model.fit``.

    Each batch is ``(inputs,)``, or ``(inputs, labels)`` with ``include_labels=True``:

    - ``inputs["audio"]``: float32 ``(batch, samples)``, ``samples = round(segment_seconds
      * sample_rate)``, zero after the real audio (a clip shorter than a window);
    - ``inputs["length"]``: int32 ``(batch,)``, real samples per row;
    - ``labels``: int32 ``(batch,)``, position in ``bank.label_names``, -1 when unlabelled.

    With ``sampling="crops"``, batch ``i`` of epoch ``e`` is drawn from ``(seed, e, i)``
    alone: clips with :meth:`AudioBank.clip_probabilities`, offsets uniform over the clip, so
    a 30-s clip gives a fresh window each time, and a resumed run (``set_epoch``) sees the
    batches an uninterrupted one would, in whatever order Keras asks for them. With
    ``sampling="grid"``, every window of the protocol, in bank order, the same every epoch.

    Args:
        bank: the audio.
        batch_size: windows per batch.
        segment_seconds: window length.
        sampling: ``"crops"`` or ``"grid"``.
        segments_per_epoch: crops per epoch (default: the bank's length in windows, so an
            epoch sees as much audio as a pass over the grid would). Ignored by ``"grid"``.
        seed: crop seed.
        gain_db: crops: a random gain, uniform in ``±gain_db`` decibels (0: none).
        polarity: crops: flip the sign of half the windows at random.
        include_labels: yield ``(inputs, labels)`` rather than ``(inputs,)``.
        pairs: crops: every batch is ``batch_size / 2`` clips drawn twice, rows ``i`` and
            ``i + batch_size / 2`` two independent crops (offsets, gains) of one clip, for a
            clip-consistency loss; batches are then always full. ``batch_size`` must be even.
        on_device: keep the bank's samples as one backend tensor (on the accelerator, if the
            backend has one) and cut the windows there with ``keras.ops``: each batch then
            moves only its clip numbers, offsets and gains to the device, not its audio. The
            windows equal the host path's; ``inputs`` are backend tensors.
        **kwargs: ``workers``, ``use_multiprocessing``, ``max_queue_size`` of ``PyDataset``.

    Raises:
        DatasetError: bad settings.

    Example:
        >>> ds = CropDataset(bank, batch_size=32, gain_db=6.0, polarity=True)  # doctest: +SKIP
        >>> ds[0][0]["audio"].shape
        (32, 66150)
    """

    def __init__(
        self,
        bank: AudioBank,
        *,
        batch_size: int = 32,
        segment_seconds: float = audio.DEFAULT_SEGMENT_SECONDS,
        sampling: str = "crops",
        segments_per_epoch: int | None = None,
        seed: int = 0,
        gain_db: float = 0.0,
        polarity: bool = False,
        include_labels: bool = False,
        pairs: bool = False,
        on_device: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if sampling not in SAMPLING_MODES:
            raise DatasetError(f"sampling must be 'crops' or 'grid', got {sampling!r}")
        if int(batch_size) < 1:
            raise DatasetError(f"batch_size must be at least 1, got {batch_size}")
        if float(gain_db) < 0:
            raise DatasetError(f"gain_db must be >= 0, got {gain_db}")
        self.bank = bank
        self.batch_size = int(batch_size)
        self.sampling = sampling
        self.segment_samples = audio.window_samples(bank.sample_rate, segment_seconds)
        if self.segment_samples < 1:
            raise DatasetError(f"segment_seconds must give at least one sample: {segment_seconds}")
        self.seed = int(seed)
        self.gain_db = float(gain_db)
        self.polarity = bool(polarity)
        self.include_labels = bool(include_labels)
        self.pairs = bool(pairs) and sampling == "crops"
        if self.pairs and self.batch_size % 2:
            raise DatasetError(f"pairs need an even batch_size, got {batch_size}")
        self.epoch = 0
        counts = np.array(
            [audio.segment_count(int(n), bank.sample_rate, segment_seconds) for n in bank.lengths]
        )
        # Grid rows: (clip, window number); also the default epoch size of crops.
        self._grid_clip = np.repeat(np.arange(len(bank)), counts)
        self._grid_window = np.concatenate([np.arange(c) for c in counts]).astype(np.int64)
        if segments_per_epoch is None:
            segments_per_epoch = len(self._grid_clip)
        if sampling == "crops" and int(segments_per_epoch) < 1:
            raise DatasetError(f"segments_per_epoch must be at least 1, got {segments_per_epoch}")
        self.num_segments = int(segments_per_epoch) if sampling == "crops" else len(self._grid_clip)
        self._p = bank.clip_probabilities()
        self.on_device = bool(on_device)
        # int16 on the device: 2 bytes per sample, as on the host (10 h at 22050 Hz: 1.6 GB).
        self._device_samples = keras.ops.convert_to_tensor(bank.samples) if on_device else None

    def __len__(self) -> int:
        return -(-self.num_segments // self.batch_size)

    @property
    def num_batches(self) -> int:
        """Batches per epoch (the last one may be short)."""
        return len(self)

    def __getitem__(self, idx: int) -> tuple[Any, ...]:
        idx = batch_index(idx, len(self))
        rows = min(self.batch_size, self.num_segments - idx * self.batch_size)
        if self.sampling == "grid":
            sl = slice(idx * self.batch_size, idx * self.batch_size + rows)
            clips = self._grid_clip[sl]
            offsets = self._grid_window[sl] * self.segment_samples
            scale = np.ones(rows, np.float32)
        else:
            rng = np.random.default_rng([self.seed % 2**64, self.epoch, idx])
            if self.pairs:
                rows = self.batch_size
                clips = np.tile(rng.choice(len(self.bank), size=rows // 2, p=self._p), 2)
            else:
                clips = rng.choice(len(self.bank), size=rows, p=self._p)
            room = np.maximum(self.bank.lengths[clips] - self.segment_samples, 0)
            offsets = np.floor(rng.random(rows) * (room + 1)).astype(np.int64)
            scale = np.ones(rows, np.float32)
            if self.gain_db > 0:
                scale *= 10.0 ** (rng.uniform(-self.gain_db, self.gain_db, rows) / 20.0)
            if self.polarity:
                scale *= rng.choice(np.array([-1.0, 1.0], np.float32), rows)
        lengths = np.minimum(self.bank.lengths[clips] - offsets, self.segment_samples)
        starts = self.bank.starts[clips] + offsets
        if self._device_samples is not None:
            waves = self._cut_on_device(starts, lengths, scale / 32767.0)
        else:
            waves = np.zeros((rows, self.segment_samples), np.float32)
            for r in range(rows):
                waves[r, : lengths[r]] = self.bank.samples[starts[r] : starts[r] + lengths[r]]
            waves *= (scale / 32767.0)[:, None]
        inputs = {"audio": waves, "length": lengths.astype(np.int32)}
        if self.include_labels:
            return inputs, self.bank.labels[clips].astype(np.int32)
        return (inputs,)

    def _cut_on_device(self, starts: np.ndarray, lengths: np.ndarray, scale: np.ndarray) -> Any:
        ops = keras.ops
        # int32 indices reach 2**31 samples (27 h at 22050 Hz); int64 beyond.
        dtype = np.dtype(np.int32 if self.bank.samples.size < 2**31 else np.int64)
        position = ops.arange(self.segment_samples, dtype=dtype.name)[None, :]
        inside = position < ops.convert_to_tensor(lengths.astype(dtype))[:, None]
        # Past a clip's end the index is clamped, then zeroed by ``inside``.
        last = self.bank.samples.size - 1
        index = ops.minimum(ops.convert_to_tensor(starts.astype(dtype))[:, None] + position, last)
        waves = ops.cast(ops.take(self._device_samples, index), "float32")
        return ops.where(inside, waves * ops.convert_to_tensor(scale[:, None]), 0.0)

    def on_epoch_end(self) -> None:
        """Advance the epoch counter (the next epoch draws other crops)."""
        self.set_epoch(self.epoch + 1)

    def set_epoch(self, epoch: int) -> None:
        """Draw the crops of ``epoch`` (0-based) from now on, as a resumed run must."""
        self.epoch = int(epoch)
