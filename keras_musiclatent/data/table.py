"""The clip table: what a dataset holds, one record per audio file.

A :class:`ClipTable` is an immutable sequence of :class:`Clip` records. Loaders
(:func:`~keras_musiclatent.data.load_gtzan`, :func:`~keras_musiclatent.data.load_fma`,
:func:`~keras_musiclatent.data.load_folder`) return one; :class:`SegmentDataset` consumes one.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

from keras_musiclatent._files import atomic_path
from keras_musiclatent.data._common import read_csv_rows
from keras_musiclatent.errors import DatasetError

__all__ = ["ALL", "Clip", "ClipTable"]

#: Pseudo-split name: ``table.split(ALL)`` is the whole table, whatever its splits.
ALL = "all"

_CSV_COLUMNS = ("clip_id", "label", "split", "path")


@dataclass(frozen=True)
class Clip:
    """One audio file of a dataset.

    Attributes:
        clip_id: identifier unique within its dataset, e.g. ``"blues.00042"`` or ``"000002"``.
        label: class name (genre); ``""`` when unlabelled.
        split: ``"train"``, ``"valid"``, ``"test"``, ``"excluded"``, ... (dataset-specific).
        path: the audio file (for a missing clip: where it was expected).
    """

    clip_id: str
    label: str
    split: str
    path: Path


class ClipTable(Sequence[Clip]):
    """An immutable, ordered list of :class:`Clip` records with split and label helpers.

    Args:
        clips: the records.
        split_names: every split this dataset defines, present or not, so that asking for a
            split that exists in the dataset but has no clip here (GTZAN ``"test"`` without its
            audio) returns an empty table instead of an error. Defaults to the splits present.
        missing: records the dataset lists but whose audio is not on disk.

    Example:
        >>> clip = Clip("a", "rock", "train", Path("a.wav"))
        >>> t = ClipTable([clip], split_names=("train", "test"))
        >>> len(t.split("test")), t.labels
        (0, ['rock'])
    """

    def __init__(
        self,
        clips: Iterable[Clip] = (),
        *,
        split_names: Iterable[str] | None = None,
        missing: Iterable[Clip] = (),
    ) -> None:
        self._clips: tuple[Clip, ...] = tuple(clips)
        for clip in self._clips:
            if not isinstance(clip, Clip):
                raise TypeError(f"ClipTable holds Clip records, got {type(clip).__name__}")
        ids = Counter(c.clip_id for c in self._clips)
        dupes = sorted(i for i, n in ids.items() if n > 1)
        if dupes:
            raise DatasetError(f"duplicate clip ids: {', '.join(dupes[:5])}")
        present = {c.split for c in self._clips}
        names = list(split_names) if split_names is not None else sorted(present)
        for name in sorted(present):
            if name not in names:
                names.append(name)
        self._split_names: tuple[str, ...] = tuple(names)
        self._missing: tuple[Clip, ...] = tuple(missing)

    # --- sequence protocol -----------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._clips)

    @overload
    def __getitem__(self, index: int) -> Clip: ...

    @overload
    def __getitem__(self, index: slice) -> ClipTable: ...

    def __getitem__(self, index: int | slice) -> Clip | ClipTable:
        if isinstance(index, slice):
            return self._derive(self._clips[index])
        return self._clips[index]

    def __iter__(self) -> Iterator[Clip]:
        return iter(self._clips)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClipTable):
            return NotImplemented
        return self._clips == other._clips and self._missing == other._missing

    def __hash__(self) -> int:
        return hash(self._clips)

    def __repr__(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.split_counts().items())
        extra = f", missing={len(self._missing)}" if self._missing else ""
        return f"ClipTable({len(self)} clips: {counts or 'empty'}{extra})"

    # --- helpers ---------------------------------------------------------------------------

    @property
    def labels(self) -> list[str]:
        """Sorted unique labels of the clips present."""
        return sorted({c.label for c in self._clips})

    @property
    def split_names(self) -> tuple[str, ...]:
        """Every split name this dataset defines (``"all"`` is always accepted as well)."""
        return self._split_names

    @property
    def missing(self) -> tuple[Clip, ...]:
        """Clips the dataset's split or metadata file lists whose audio is not on disk."""
        return self._missing

    def split_counts(self) -> dict[str, int]:
        """Number of clips per split, in :attr:`split_names` order (zero counts included)."""
        counts = Counter(c.split for c in self._clips)
        return {name: counts.get(name, 0) for name in self._split_names}

    def label_counts(self) -> dict[str, int]:
        """Number of clips per label, sorted by label."""
        counts = Counter(c.label for c in self._clips)
        return {label: counts[label] for label in sorted(counts)}

    def split(self, name: str) -> ClipTable:
        """The clips of one split (``"all"``: every clip); :attr:`missing` is filtered too.

        Raises:
            DatasetError: ``name`` is not a split of this dataset; the message lists the valid ones.
        """
        if name == ALL:
            return self
        if name not in self._split_names:
            valid = ", ".join(dict.fromkeys([*self._split_names, ALL]))
            raise DatasetError(f"unknown split {name!r}; valid splits: {valid}")
        return ClipTable(
            (c for c in self._clips if c.split == name),
            split_names=self._split_names,
            missing=(c for c in self._missing if c.split == name),
        )

    def filter(self, predicate: Callable[[Clip], bool]) -> ClipTable:
        """The clips for which ``predicate(clip)`` is true (missing clips filtered alike)."""
        return ClipTable(
            (c for c in self._clips if predicate(c)),
            split_names=self._split_names,
            missing=(c for c in self._missing if predicate(c)),
        )

    def _derive(self, clips: Sequence[Clip]) -> ClipTable:
        return ClipTable(clips, split_names=self._split_names)

    # --- CSV -------------------------------------------------------------------------------

    def to_csv(self, path: str | os.PathLike) -> Path:
        """Write ``clip_id,label,split,path`` rows (atomically) and return the path."""
        dest = Path(path)
        with atomic_path(dest) as tmp, open(tmp, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(_CSV_COLUMNS)
            for c in self._clips:
                writer.writerow((c.clip_id, c.label, c.split, os.fspath(c.path)))
        return dest

    @classmethod
    def from_csv(
        cls, path: str | os.PathLike, *, split_names: Iterable[str] | None = None
    ) -> ClipTable:
        """Read a table written by :meth:`to_csv`; relative paths resolve against its folder.

        Raises:
            DatasetError: the file is missing, or lacks one of the columns.
        """
        src = Path(path)
        clips = []
        for _, row in read_csv_rows(src, _CSV_COLUMNS):
            p = Path(row["path"] or "")
            clips.append(
                Clip(
                    clip_id=row["clip_id"] or "",
                    label=row["label"] or "",
                    split=row["split"] or "",
                    path=p if p.is_absolute() else src.parent / p,
                )
            )
        return cls(clips, split_names=split_names)
