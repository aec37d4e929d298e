"""Progress bars for long work: on by default in a terminal or a notebook, off in logs."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["progress_bar", "wants_progress"]

T = TypeVar("T")


def wants_progress(progress: bool | None) -> bool:
    """``progress`` if given, else whether stderr is a terminal or we run in a notebook."""
    if progress is not None:
        return bool(progress)
    if "ipykernel" in sys.modules:
        return True
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def progress_bar(
    items: Iterable[T],
    *,
    desc: str,
    total: int | None = None,
    progress: bool | None = None,
    unit: str = "it",
) -> Iterator[T]:
    """``items`` wrapped in a tqdm bar on stderr when :func:`wants_progress` says so.

    Example:
        >>> list(progress_bar(range(3), desc="steps", progress=False))
        [0, 1, 2]
    """
    if not wants_progress(progress):
        return iter(items)
    from tqdm.auto import tqdm

    bar: Any = tqdm(items, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr)
    return iter(bar)
