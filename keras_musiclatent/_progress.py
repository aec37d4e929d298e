"""Progress bars for long work: on by default in a terminal or a notebook, off in logs.

Every long call of the package takes ``progress: bool | None = None`` and passes it here:
``None`` shows a bar (tqdm, on stderr) when stderr is a terminal or the code runs in a
notebook, ``True`` always, ``False`` never.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from tqdm.auto import tqdm

__all__ = ["Counter", "progress_bar", "progress_counter", "wants_progress"]

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
    bar: Any = tqdm(items, desc=desc, total=total, unit=unit, leave=False, file=sys.stderr)
    return iter(bar)


class Counter:
    """What :func:`progress_counter` yields: ``update`` and ``set_description``, shown on a
    bar or not at all."""

    def __init__(self, bar: Any | None = None) -> None:
        self._bar = bar

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        if self._bar is not None:
            self._bar.update(n)

    def set_description(self, desc: str) -> None:
        """Name the part under way."""
        if self._bar is not None:
            self._bar.set_description(desc)


@contextlib.contextmanager
def progress_counter(
    *, total: int, desc: str, progress: bool | None = None, unit: str = "it"
) -> Iterator[Counter]:
    """A bar counted by hand (``update(n)``), for work that is not one loop over items.

    Example:
        >>> with progress_counter(total=2, desc="steps", progress=False) as bar:
        ...     bar.update(2)
    """
    if not wants_progress(progress):
        yield Counter()
        return
    with tqdm(total=total, desc=desc, unit=unit, leave=False, file=sys.stderr) as bar:
        yield Counter(bar)
