"""Search spaces written as data: one entry per hyper-parameter, declared on a keras-tuner ``hp``.

A space is a mapping ``name -> spec`` (YAML or a dict), in declaration order::

    encoder: [crnn, attention]                           # a list: a choice
    rnn_units: {type: choice, values: [64, 128], when: {encoder: crnn}}
    latent_dim: {type: int, min: 16, max: 128, step: 16}
    learning_rate: {type: float, min: 1.0e-4, max: 3.0e-3, sampling: log}
    linear_path: {type: boolean}
    n_mels: 128                                          # a scalar: fixed

``when`` makes an entry conditional on an earlier choice or boolean: it is only active (and
only tuned) for those values. This module imports neither Keras nor keras-tuner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from keras_musiclatent.errors import ConfigError

__all__ = ["DEFAULT_SPACE", "KINDS", "Param", "parse_space"]

#: Kinds of entries and the keys each accepts besides ``type`` and ``when``.
KINDS: dict[str, frozenset[str]] = {
    "choice": frozenset({"values", "default"}),
    "int": frozenset({"min", "max", "step", "sampling", "default"}),
    "float": frozenset({"min", "max", "step", "sampling", "default"}),
    "boolean": frozenset({"default"}),
    "fixed": frozenset({"value"}),
}

_SAMPLINGS = ("linear", "log", "reverse_log")

#: The space searched when none is given: every model choice of ``MusicVAE`` worth tuning.
#: Ranges stay where a 3-s segment model trains on a CPU in minutes per epoch.
DEFAULT_SPACE: dict[str, Any] = {
    "encoder": {"type": "choice", "values": ["crnn", "attention"]},
    # ImageNet weights need a download; a search compares architectures, so weights=None.
    "stem": {"type": "choice", "values": ["cnn", "mobilenet_v2"]},
    "conv_blocks": {"type": "int", "min": 3, "max": 5},
    "conv_width": {"type": "choice", "values": [8, 16, 32]},
    "rnn_units": {"type": "choice", "values": [64, 128, 192], "when": {"encoder": "crnn"}},
    "attention_dim": {"type": "choice", "values": [64, 128], "when": {"encoder": "attention"}},
    "num_layers": {"type": "int", "min": 1, "max": 3, "when": {"encoder": "attention"}},
    "hidden_dim": {"type": "choice", "values": [128, 256, 384]},
    "latent_dim": {"type": "choice", "values": [16, 32, 64, 128]},
    "linear_path": {"type": "boolean"},
    "beta": {"type": "float", "min": 1e-5, "max": 1e-3, "sampling": "log"},
    "kl_warmup_steps": {"type": "int", "min": 0, "max": 3000, "step": 250},
    "learning_rate": {"type": "float", "min": 1e-4, "max": 3e-3, "sampling": "log"},
    "segment_seconds": {"type": "choice", "values": [2.0, 3.0]},
}


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


@dataclass(frozen=True)
class Param:
    """One hyper-parameter of a search space.

    Attributes:
        name: the hyper-parameter's name (what it sets; see ``hypermodels.route``).
        kind: ``choice``, ``int``, ``float``, ``boolean`` or ``fixed``.
        options: the kind's settings (``values``, ``min``, ``max``, ``step``, ``sampling``,
            ``default``, ``value``), as keyword arguments of keras-tuner's declaration.
        when: ``(parent, values)``: active only while ``parent`` takes one of ``values``.

    Example:
        >>> Param("latent_dim", "choice", {"values": (32, 64)}).options["values"]
        (32, 64)
    """

    name: str
    kind: str
    options: Mapping[str, Any]
    when: tuple[str, tuple[Any, ...]] | None = None

    def declare(self, hp: Any) -> Any:
        """Declare this entry on a keras-tuner ``HyperParameters`` and return its value.

        Returns ``None`` for a conditional entry whose condition does not hold.
        """
        if self.when is None:
            return self._declare(hp)
        parent, values = self.when
        with hp.conditional_scope(parent, list(values)):
            return self._declare(hp)

    def _declare(self, hp: Any) -> Any:
        o = dict(self.options)
        if self.kind == "choice":
            return hp.Choice(self.name, list(o["values"]), default=o.get("default"))
        if self.kind == "boolean":
            return hp.Boolean(self.name, default=bool(o.get("default", False)))
        if self.kind == "fixed":
            return hp.Fixed(self.name, o["value"])
        make = hp.Int if self.kind == "int" else hp.Float
        kwargs = {"step": o.get("step"), "sampling": o.get("sampling", "linear")}
        if "default" in o:
            kwargs["default"] = o["default"]
        return make(self.name, min_value=o["min"], max_value=o["max"], **kwargs)

    def to_json(self) -> dict[str, Any]:
        """The entry as the spec it was parsed from (``type`` first)."""
        out: dict[str, Any] = {"type": self.kind}
        out.update({k: list(v) if isinstance(v, tuple) else v for k, v in self.options.items()})
        if self.when is not None:
            out["when"] = {self.when[0]: list(self.when[1])}
        return out


def _parse_choice(name: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    values = spec.get("values")
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        raise ConfigError(f"search space {name}: a choice needs a non-empty list of values")
    if not all(_scalar(v) for v in values):
        raise ConfigError(f"search space {name}: choice values must be strings or numbers")
    kinds = {bool if isinstance(v, bool) else str if isinstance(v, str) else float for v in values}
    if len(kinds) > 1:
        raise ConfigError(f"search space {name}: choice values must all be of one type")
    # keras-tuner needs one type: 2 and 2.5 become 2.0 and 2.5.
    if any(isinstance(v, float) for v in values):
        values = [float(v) for v in values]
    if len(set(values)) != len(values):
        raise ConfigError(f"search space {name}: choice values repeat")
    out: dict[str, Any] = {"values": tuple(values)}
    if "default" in spec:
        if spec["default"] not in values:
            raise ConfigError(f"search space {name}: default {spec['default']!r} is not a value")
        out["default"] = values[list(values).index(spec["default"])]
    return out


def _parse_range(name: str, kind: str, spec: Mapping[str, Any]) -> dict[str, Any]:
    number = int if kind == "int" else float
    try:
        low, high = number(spec["min"]), number(spec["max"])
    except KeyError:
        raise ConfigError(f"search space {name}: {kind} needs min and max") from None
    except (TypeError, ValueError):
        raise ConfigError(f"search space {name}: min and max must be numbers") from None
    if kind == "int" and (low != spec["min"] or high != spec["max"]):
        raise ConfigError(f"search space {name}: int min and max must be whole numbers")
    if not low < high:
        raise ConfigError(f"search space {name}: min must be below max")
    sampling = spec.get("sampling", "linear")
    if sampling not in _SAMPLINGS:
        raise ConfigError(f"search space {name}: sampling must be one of {', '.join(_SAMPLINGS)}")
    if sampling != "linear" and low <= 0:
        raise ConfigError(f"search space {name}: {sampling} sampling needs min > 0")
    out: dict[str, Any] = {"min": low, "max": high, "sampling": sampling}
    if spec.get("step") is not None:
        step = number(spec["step"])
        if step <= 0:
            raise ConfigError(f"search space {name}: step must be positive")
        out["step"] = step
    if "default" in spec:
        default = number(spec["default"])
        if not low <= default <= high:
            raise ConfigError(f"search space {name}: default must lie in [min, max]")
        out["default"] = default
    return out


def _parse_entry(name: str, spec: Any) -> tuple[str, dict[str, Any], Any]:
    if isinstance(spec, list | tuple):
        spec = {"type": "choice", "values": list(spec)}
    elif _scalar(spec):
        spec = {"type": "fixed", "value": spec}
    if not isinstance(spec, Mapping):
        raise ConfigError(f"search space {name}: expected a list, a value or a mapping")
    kind = spec.get("type")
    if kind not in KINDS:
        raise ConfigError(f"search space {name}: type must be one of {', '.join(KINDS)}")
    unknown = set(spec) - KINDS[kind] - {"type", "when"}
    if unknown:
        raise ConfigError(f"search space {name}: unknown key(s) {', '.join(sorted(unknown))}")
    if kind == "choice":
        options = _parse_choice(name, spec)
    elif kind in ("int", "float"):
        options = _parse_range(name, kind, spec)
    elif kind == "boolean":
        options = {"default": bool(spec.get("default", False))}
    else:
        if not _scalar(spec.get("value")):
            raise ConfigError(f"search space {name}: fixed needs a string or number value")
        options = {"value": spec["value"]}
    return kind, options, spec.get("when")


def _parse_when(name: str, when: Any, earlier: Mapping[str, Param]) -> tuple[str, tuple[Any, ...]]:
    if not isinstance(when, Mapping) or len(when) != 1:
        raise ConfigError(f"search space {name}: when must map one earlier entry to its values")
    ((parent, values),) = when.items()
    if parent not in earlier:
        raise ConfigError(f"search space {name}: when names {parent!r}, not an earlier entry")
    if earlier[parent].kind not in ("choice", "boolean", "fixed"):
        raise ConfigError(f"search space {name}: when needs a choice or boolean, not {parent!r}")
    values = tuple(values) if isinstance(values, list | tuple) else (values,)
    if earlier[parent].kind == "choice":
        allowed = earlier[parent].options["values"]
        if any(v not in allowed for v in values):
            raise ConfigError(f"search space {name}: when {parent} takes one of {list(allowed)}")
    return str(parent), values


def parse_space(space: Mapping[str, Any] | None) -> tuple[Param, ...]:
    """Validate a space mapping and turn it into :class:`Param` entries, in order.

    Args:
        space: ``name -> spec`` (see the module docstring); ``None`` or empty: no entries.

    Returns:
        The entries, in the mapping's order.

    Raises:
        ConfigError: a malformed entry, a ``when`` on a later or non-categorical entry.

    Example:
        >>> [p.kind for p in parse_space({"latent_dim": [32, 64], "beta": 1e-4})]
        ['choice', 'fixed']
    """
    if space is None:
        return ()
    if not isinstance(space, Mapping):
        raise ConfigError("search space: expected a mapping of hyper-parameter names to specs")
    params: dict[str, Param] = {}
    for name, spec in space.items():
        if not isinstance(name, str) or not name or "/" in name:
            raise ConfigError(f"search space: bad hyper-parameter name {name!r}")
        kind, options, when = _parse_entry(name, spec)
        condition = None if when is None else _parse_when(name, when, params)
        params[name] = Param(name, kind, options, condition)
    return tuple(params.values())
