"""Seeded, stratified random splits."""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping, Sequence

import numpy as np

from keras_musiclatent.errors import DatasetError

__all__ = ["stratified_split"]


def _allocate(n: int, fractions: Sequence[float]) -> list[int]:
    """Split ``n`` items by ``fractions`` with largest-remainder rounding (sums to ``n``).

    Every split with a positive fraction keeps at least one item while there are items to go
    round: the first such splits in order get one each, taken from the split that has most
    (so 2 items at 80/20 give 1 and 1, not 2 and 0).
    """
    raw = [n * f for f in fractions]
    counts = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: n - sum(counts)]:
        counts[i] += 1
    wanted = [i for i, f in enumerate(fractions) if f > 0][:n]
    for i in wanted:
        if counts[i] == 0:
            donor = max(
                (j for j in range(len(counts)) if counts[j] > 1 or j not in wanted),
                key=lambda j: (counts[j], -j),
            )
            counts[donor] -= 1
            counts[i] += 1
    return counts


def stratified_split(
    keys: Sequence[str],
    labels: Sequence[str],
    fractions: Mapping[str, float],
    *,
    seed: int,
) -> dict[str, str]:
    """Assign each key to a split, keeping label proportions in every split.

    Within each label the keys are sorted, then permuted by a generator seeded with
    ``(seed, crc32(label))``: the result depends only on the seed and the keys, not on the
    order they are given in, and adding a label never reshuffles the others. A label with at
    least as many keys as there are splits of positive fraction has a key in each of them (the
    rounding alone would put both keys of a 2-clip genre in ``train`` at 80/20); a label with
    fewer fills them in the order of ``fractions``.

    Args:
        keys: unique item ids (``(n,)``).
        labels: the stratum of each key (``(n,)``).
        fractions: split name -> fraction, non-negative, summing to 1 (in the order the
            rounding favours on ties, e.g. ``{"train": 0.7, "valid": 0.15, "test": 0.15}``).
        seed: random seed.

    Returns:
        key -> split name.

    Raises:
        DatasetError: bad fractions or mismatched lengths.

    Example:
        >>> s = stratified_split(["a", "b", "c", "d"], ["x", "x", "y", "y"], {"train": 0.5,
        ...     "test": 0.5}, seed=0)
        >>> sorted(s.values())
        ['test', 'test', 'train', 'train']
    """
    if len(keys) != len(labels):
        raise DatasetError(f"{len(keys)} keys but {len(labels)} labels")
    names = list(fractions)
    values = [float(fractions[n]) for n in names]
    if not names or any(v < 0 or not math.isfinite(v) for v in values):
        raise DatasetError(f"split fractions must be non-negative numbers, got {dict(fractions)}")
    if abs(sum(values) - 1.0) > 1e-6:
        raise DatasetError(f"split fractions must sum to 1, got {dict(fractions)} = {sum(values)}")
    by_label: dict[str, list[str]] = {}
    for key, label in zip(keys, labels, strict=True):
        by_label.setdefault(label, []).append(key)
    out: dict[str, str] = {}
    for label in sorted(by_label):
        members = sorted(by_label[label])
        rng = np.random.default_rng([int(seed) % 2**64, zlib.crc32(label.encode("utf-8"))])
        perm = rng.permutation(len(members))
        start = 0
        for name, count in zip(names, _allocate(len(members), values), strict=True):
            for i in perm[start : start + count]:
                out[members[i]] = name
            start += count
    return out
