"""Hyper-parameter search over the latent models with keras-tuner.

- :mod:`.space`: search spaces as data (YAML), declared on a keras-tuner ``hp``
- :mod:`.config`: search files (a training config plus a ``search`` section)
- :mod:`.hypermodels`: ``LatentHyperModel`` (``MusicVAEHyperModel``,
  ``MusicAutoencoderHyperModel``): a space → a compiled model → a fit on the config's data
- :mod:`.tuners`: random, Bayesian and Hyperband tuners that time and log their trials
- :mod:`.search`: ``run_search``: resumable, chief/worker-distributable searches
- :mod:`.results`: trials tables, ``best.json``, ``summary.json``
- ``musiclatent tune`` lives in :mod:`keras_musiclatent.cli.tune`

Importing this package loads neither Keras nor keras-tuner; the names below load their module
on first use.

Example:
    >>> from keras_musiclatent.train.tuning import run_search  # doctest: +SKIP
    >>> run_search("tuning/searches/gtzan-vae.yaml", out="runs/tune/gtzan-vae")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "DEFAULT_SPACE": "space",
    "Param": "space",
    "parse_space": "space",
    "Objective": "config",
    "SearchConfig": "config",
    "load_search": "config",
    "resolve_search": "config",
    "LatentHyperModel": "hypermodels",
    "MusicAutoencoderHyperModel": "hypermodels",
    "MusicVAEHyperModel": "hypermodels",
    "conv_stack": "hypermodels",
    "make_tuner": "tuners",
    "SearchResult": "search",
    "read_executions": "search",
    "run_search": "search",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    globals()[name] = value
    return value
