"""Search definitions: a training config plus a ``search`` section (tuner, objective, space).

A search file is a training config (``data``, ``model``, ``optimizer``, ``training``; see
:data:`keras_musiclatent.train.config.DEFAULT_CONFIG`) with one more section::

    search:
      tuner: bayesian               # random | bayesian | hyperband
      objective: val_spectral_rmse_db
      max_trials: 12
      epochs: 6                     # per trial (hyperband: the most a trial trains)
      seed: 0
      space: {...}                  # see keras_musiclatent.train.tuning.space

The model section holds what every trial shares; the space what trials vary. ``objective`` is a
metric name (minimised), ``{name, direction}``, or a stated combination::

    objective: {name: val_score, combine: {val_spectral_rmse_db: 1.0, val_kl: 0.01}}

This module imports neither Keras nor keras-tuner.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import load_config, read_config_file, resolve_named_file
from keras_musiclatent.train.tuning.space import Param, parse_space

__all__ = [
    "SEARCH_DEFAULTS",
    "TUNERS",
    "Objective",
    "SearchConfig",
    "load_search",
    "resolve_search",
    "shipped_searches",
]

TUNERS = ("random", "bayesian", "hyperband")

#: Every key of the ``search`` section, with its default.
SEARCH_DEFAULTS: dict[str, Any] = {
    "name": None,  # default: the file's stem
    "tuner": "bayesian",
    "objective": "val_spectral_rmse_db",
    "max_trials": 10,
    "epochs": 5,
    "seed": None,  # default: training.seed
    "executions_per_trial": 1,
    # Bayesian: random trials before the Gaussian process takes over (default 3 per dim).
    "num_initial_points": None,
    "hyperband_factor": 3,
    "hyperband_iterations": 1,
    # A crashed trial (not a killed search: that one is rerun anyway) is retried this often.
    "max_retries_per_trial": 0,
    "max_consecutive_failed_trials": 3,
    "space": None,  # None: the default space of the model class
}


@dataclass(frozen=True)
class Objective:
    """What a search optimises: one logged metric, or a weighted sum of several.

    Attributes:
        name: the metric the tuner reads (a Keras log key, e.g. ``val_spectral_rmse_db``).
        direction: ``"min"`` or ``"max"``.
        combine: ``metric -> weight``; when set, ``name`` is logged each epoch as the
            weighted sum of those metrics.

    Example:
        >>> Objective.parse({"name": "val_score", "combine": {"val_spectral_rmse_db": 1}})
        Objective(name='val_score', direction='min', combine={'val_spectral_rmse_db': 1.0})
    """

    name: str
    direction: str = "min"
    combine: dict[str, float] | None = None

    @classmethod
    def parse(cls, spec: Any) -> Objective:
        """An objective from a metric name or a ``{name, direction, combine}`` mapping."""
        if isinstance(spec, str):
            spec = {"name": spec}
        if not isinstance(spec, Mapping):
            raise ConfigError("search.objective: a metric name or {name, direction, combine}")
        unknown = set(spec) - {"name", "direction", "combine"}
        if unknown:
            raise ConfigError(f"search.objective: unknown key(s) {', '.join(sorted(unknown))}")
        name = spec.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError("search.objective: name is required")
        direction = spec.get("direction", "min")
        if direction not in ("min", "max"):
            raise ConfigError("search.objective.direction must be min or max")
        combine = spec.get("combine")
        if combine is not None:
            if not isinstance(combine, Mapping) or not combine:
                raise ConfigError("search.objective.combine: a mapping of metric -> weight")
            try:
                combine = {str(k): float(v) for k, v in combine.items()}
            except (TypeError, ValueError):
                raise ConfigError("search.objective.combine: weights must be numbers") from None
            if name in combine:
                raise ConfigError("search.objective: name must differ from the combined metrics")
        return cls(name, direction, combine)


@dataclass(frozen=True)
class SearchConfig:
    """A parsed search file.

    Attributes:
        name: the search's name (results go under ``tuning/results/<name>/``).
        base: the complete training config every trial starts from.
        tuner: ``random``, ``bayesian`` or ``hyperband``.
        objective: what the search optimises.
        max_trials: trials in total (a resumed search counts those done).
        epochs: epochs per trial (Hyperband: the most a trial trains).
        seed: seeds the tuner and every trial's weights and shuffling.
        space: the hyper-parameters; ``None`` for the model class's default space.
        options: the remaining ``search`` keys (see :data:`SEARCH_DEFAULTS`).
    """

    name: str
    base: dict[str, Any]
    tuner: str
    objective: Objective
    max_trials: int
    epochs: int
    seed: int
    space: tuple[Param, ...] | None
    options: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict of everything that defines the search."""
        out = asdict(self)
        out["objective"] = asdict(self.objective)
        out["space"] = None if self.space is None else {p.name: p.to_json() for p in self.space}
        return json.loads(json.dumps(out, default=str))


def _positive_int(section: Mapping[str, Any], key: str, *, minimum: int = 1) -> int:
    value = section[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise ConfigError(f"search.{key} must be a whole number, got {value!r}")
    if int(value) < minimum:
        raise ConfigError(f"search.{key} must be >= {minimum}, got {value}")
    return int(value)


def load_search(
    source: str | os.PathLike | Mapping[str, Any],
    *,
    max_trials: int | None = None,
    seed: int | None = None,
    where: str | None = None,
) -> SearchConfig:
    """Read and validate a search file (YAML or JSON) or mapping.

    Args:
        source: a path, or a mapping with the same content.
        max_trials: overrides ``search.max_trials``.
        seed: overrides ``search.seed`` (and so every trial's seed).
        where: how error messages name the search (default: the path, or ``"search"``).

    Returns:
        A :class:`SearchConfig`.

    Raises:
        ConfigError: unreadable file, unknown keys, or invalid values.

    Example:
        >>> s = load_search(resolve_search("gtzan-vae"), max_trials=3)  # doctest: +SKIP
        >>> s.tuner, s.objective.name
        ('bayesian', 'val_spectral_rmse_db')
    """
    if isinstance(source, Mapping):
        raw, where, stem = dict(source), where or "search", "search"
    else:
        path = Path(source)
        raw, where, stem = read_config_file(path, what="search"), where or str(path), path.stem
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping at the top level")
    raw = dict(raw)
    section = raw.pop("search", None)
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: a search section (tuner, objective, space, ...) is required")
    unknown = set(section) - set(SEARCH_DEFAULTS)
    if unknown:
        raise ConfigError(f"{where}: unknown search key(s) {', '.join(sorted(unknown))}")
    s = {**SEARCH_DEFAULTS, **section}
    if max_trials is not None:
        s["max_trials"] = max_trials
    if seed is not None:
        s["seed"] = seed
    base = load_config(raw, name=where)
    for key in ("segment_seconds", "sample_rate"):
        if key in base["model"]:
            raise ConfigError(f"{where}: set data.{key}, not model.{key} (the data decides it)")
    if s["tuner"] not in TUNERS:
        raise ConfigError(f"{where}: search.tuner must be one of {', '.join(TUNERS)}")
    if s["seed"] is None:
        s["seed"] = base["training"]["seed"]
    base["training"]["seed"] = _positive_int(s, "seed", minimum=0)
    options = {
        "executions_per_trial": _positive_int(s, "executions_per_trial"),
        "hyperband_factor": _positive_int(s, "hyperband_factor", minimum=2),
        "hyperband_iterations": _positive_int(s, "hyperband_iterations"),
        "max_retries_per_trial": _positive_int(s, "max_retries_per_trial", minimum=0),
        "max_consecutive_failed_trials": _positive_int(s, "max_consecutive_failed_trials"),
        "num_initial_points": (
            None if s["num_initial_points"] is None else _positive_int(s, "num_initial_points")
        ),
    }
    space = None if s["space"] is None else parse_space(s["space"])
    if space == ():
        raise ConfigError(f"{where}: search.space is empty")
    name = s["name"] or stem
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        raise ConfigError(f"{where}: search.name must be a plain folder name, got {name!r}")
    epochs = _positive_int(s, "epochs")
    base["training"]["epochs"] = epochs
    config = SearchConfig(
        name=name,
        base=base,
        tuner=s["tuner"],
        objective=Objective.parse(s["objective"]),
        max_trials=_positive_int(s, "max_trials"),
        epochs=epochs,
        seed=base["training"]["seed"],
        space=space,
        options=options,
    )
    if config.tuner == "hyperband" and epochs < 2:
        raise ConfigError(f"{where}: hyperband needs search.epochs >= 2")
    return config


#: The package that ships ``tuning/searches`` of the source tree (see setup.py).
_SEARCHES_PACKAGE = "keras_musiclatent.searches"


def _searches_folder() -> Path:
    try:
        folder = Path(str(files(_SEARCHES_PACKAGE)))
        if folder.is_dir():
            return folder
    except (ModuleNotFoundError, TypeError):
        pass
    # A source checkout (an editable install maps only what it knew when installed).
    return Path(__file__).resolve().parents[3] / "tuning" / "searches"


def shipped_searches() -> dict[str, Path]:
    """Names of the searches that ship with the package, mapped to their files.

    They are ``tuning/searches/*`` of the source tree, installed as the package data of
    ``keras_musiclatent.searches``.

    Example:
        >>> "gtzan-vae" in shipped_searches()
        True
    """
    folder = _searches_folder()
    found: dict[str, Path] = {}
    for path in sorted(folder.glob("*.y*ml")) + sorted(folder.glob("*.json")):
        found.setdefault(path.stem, path)
    return found


def resolve_search(spec: str | os.PathLike) -> Path:
    """A search file from a path, or from the name of a shipped search (``gtzan-vae``).

    Raises:
        ConfigError: neither a file nor a shipped name (the message lists the names).

    Example:
        >>> resolve_search("gtzan-vae").name
        'gtzan-vae.yaml'
    """
    return resolve_named_file(spec, shipped_searches(), what="search")
