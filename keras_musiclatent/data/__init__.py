"""Datasets: clip tables (GTZAN, FMA, any folder), splits, downloads and segment batches.

Loaders return a :class:`ClipTable`; :class:`SegmentDataset` turns one into Keras batches of
3-s windows, :func:`segments_array` into NumPy arrays. Everything but :class:`SegmentDataset`
imports without Keras; it is loaded on first use.

Example:
    >>> from keras_musiclatent.data import load_gtzan, SegmentDataset  # doctest: +SKIP
    >>> table = load_gtzan("data/gtzan")
    >>> train = SegmentDataset(table.split("train"), batch_size=32, cache_dir="cache")
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keras_musiclatent.data._common import AUDIO_EXTENSIONS
from keras_musiclatent.data.bank import AudioBank
from keras_musiclatent.data.cache import AudioCache
from keras_musiclatent.data.download import fetch, safe_extract, sha256_file
from keras_musiclatent.data.fma import FMA_SPLITS, FMA_SUBSETS, fma_audio_path, load_fma
from keras_musiclatent.data.folder import audio_files, load_folder, load_unlabelled
from keras_musiclatent.data.gtzan import (
    GENRES,
    GTZAN_SHA256,
    GTZAN_SPLITS,
    GTZAN_URL,
    download_gtzan,
    find_gtzan_dir,
    load_gtzan,
    read_gtzan_split,
)
from keras_musiclatent.data.segments import (
    SegmentIndex,
    build_index,
    segment_count,
    segments_array,
)
from keras_musiclatent.data.splits import stratified_split
from keras_musiclatent.data.table import ALL, Clip, ClipTable

if TYPE_CHECKING:
    from keras_musiclatent.data.crops import CropDataset
    from keras_musiclatent.data.stream import SegmentDataset, lengths_to_mask

__all__ = [
    "ALL",
    "AUDIO_EXTENSIONS",
    "FMA_SPLITS",
    "FMA_SUBSETS",
    "GENRES",
    "GTZAN_SHA256",
    "GTZAN_SPLITS",
    "GTZAN_URL",
    "AudioBank",
    "AudioCache",
    "Clip",
    "ClipTable",
    "CropDataset",
    "SegmentDataset",
    "SegmentIndex",
    "audio_files",
    "build_index",
    "download_gtzan",
    "fetch",
    "find_gtzan_dir",
    "fma_audio_path",
    "lengths_to_mask",
    "load_fma",
    "load_folder",
    "load_gtzan",
    "load_unlabelled",
    "read_gtzan_split",
    "safe_extract",
    "segment_count",
    "segments_array",
    "sha256_file",
    "stratified_split",
]

_LAZY = {"SegmentDataset": "stream", "lengths_to_mask": "stream", "CropDataset": "crops"}


def __getattr__(name: str) -> Any:
    # The datasets subclass keras.utils.PyDataset; importing Keras (and its backend) only when
    # they are used keeps the table loaders light.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
