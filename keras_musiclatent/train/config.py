"""Training configs: defaults, merging a file over them, validation.

A config is plain data (JSON or YAML) with four sections, ``data``, ``model``, ``optimizer``
and ``training``; :data:`DEFAULT_CONFIG` lists every key with its default. This module imports
neither Keras nor a backend, so searches and the command line can read configs cheaply.

Example:
    >>> config = load_config({"data": {"root": "data/gtzan"}, "training": {"epochs": 3}})
    >>> config["training"]["epochs"], config["training"]["batch_size"]
    (3, 32)
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Mapping, Sequence
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from keras_musiclatent.errors import ConfigError

__all__ = [
    "DEFAULT_CONFIG",
    "DISTRIBUTE_BACKENDS",
    "apply_settings",
    "check_data_root",
    "default_cache_dir",
    "load_config",
    "merge_config",
    "parse_setting",
    "read_config_file",
    "resolve_cache_dir",
    "resolve_recipe",
    "shipped_recipes",
]

#: The package that ships the zoo folder (``zoo/`` of a checkout), recipes included.
_ZOO_PACKAGE = "keras_musiclatent.zoo_models"
_RECIPES = "recipes"

#: Every key a config may set, with its default. A config file overrides what it names.
DEFAULT_CONFIG: dict[str, Any] = {
    "data": {
        # "gtzan" | "fma" | "folder" | "shards" (a `musiclatent shards` export: train/ and
        # valid/ audio banks, for a machine without the original audio)
        "dataset": "gtzan",
        "root": None,  # dataset folder (required); its valid split validates every run
        "split_file": None,  # GTZAN: a clip,genre,split CSV (default: split.csv in root)
        "train_split": "train",
        "valid_split": "valid",
        # Unlabelled extra splits added to training (e.g. GTZAN's "excluded" clips help the
        # unsupervised model and never touch the validation set).
        "extra_train_splits": [],
        "split_seed": None,  # a seeded stratified random split instead of the split file
        # Decoded-audio cache, so that epochs after the first skip decoding: null is the
        # per-user cache (default_cache_dir()), false none, a path that folder.
        "cache_dir": None,
        "max_clips": None,  # cap per split, for quick experiments
        # How much the training audio of data.root is drawn, beside the extra sources (with
        # training.sampling: crops; every weight 1 draws each second of audio equally).
        "weight": 1.0,
        # More training audio, by name: {NAME: {dataset: unlabelled | folder | gtzan | fma,
        # root: DIR, weight: 1.0, splits: [train]}}; "unlabelled" takes every audio file under
        # root. Set a root from the command line with --set data.extra_sources.NAME.root=DIR.
        "extra_sources": {},
        "segment_seconds": 3.0,
        "sample_rate": 22050,
    },
    "model": {"class": "MusicVAE"},  # the rest are keyword arguments of that class
    "optimizer": {"learning_rate": 1e-3, "clipnorm": 1.0},
    "training": {
        "epochs": 30,
        "batch_size": 32,
        "early_stopping_patience": 8,
        # "grid": the evaluation protocol's fixed windows, decoded per batch (through
        # data.cache_dir); "crops": windows at random clips and offsets, fresh every epoch,
        # drawn from the training audio held in memory as int16 (decoded once).
        "sampling": "grid",
        "segments_per_epoch": None,  # crops per epoch (default: the audio's length in windows)
        # Crops only: a random gain in +-gain_db decibels; flip the sign of half the windows.
        "augment": {"gain_db": 0.0, "polarity": False},
        # With sampling: crops, keep the training audio on the accelerator and cut the crops
        # there (a GPU then receives offsets, not audio, every step).
        "device_audio": False,
        "monitor": "val_spectral_rmse_db",
        "reconstruction_examples": 3,  # written to TensorBoard each epoch
        # Start linear_path models at the PCA solution of the training segments.
        "pca_init": False,
        "seed": 0,
        # null | "mirrored" (TensorFlow, every local GPU) | "data_parallel" (JAX, every
        # local device)
        "distribute": None,
    },
}

#: Sections whose keys the user names; merged whole, checked by ``_validate``.
_OPEN_SECTIONS = ("model", "extra_sources")
#: ``data.dataset`` choices.
DATASET_CHOICES = ("gtzan", "fma", "folder", "shards")
#: ``data.extra_sources.NAME.dataset`` choices.
SOURCE_CHOICES = ("unlabelled", "folder", "gtzan", "fma")
_SOURCE_KEYS = {"dataset": None, "root": None, "weight": 1.0, "splits": None}

#: ``training.distribute`` options, by the Keras backend they run on.
DISTRIBUTE_BACKENDS: dict[str, str] = {
    "mirrored": "tensorflow",
    # Several machines (or processes): tf.distribute.MultiWorkerMirroredStrategy over the
    # cluster in TF_CONFIG.
    "multi_worker": "tensorflow",
    "data_parallel": "jax",
}


def merge_config(
    base: Mapping[str, Any], override: Mapping[str, Any], where: str = ""
) -> dict[str, Any]:
    """``base`` with ``override`` merged in, section by section (a copy; inputs untouched).

    The ``model`` and ``data.extra_sources`` sections are replaced whole: their keys (the
    model class's arguments, the sources' names) are the user's, which the defaults cannot
    list; :func:`load_config` checks them.

    Raises:
        ConfigError: a key that ``base`` does not have (outside ``model``).

    Example:
        >>> merge_config(DEFAULT_CONFIG, {"training": {"epochs": 2}})["training"]["epochs"]
        2
    """
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if key not in base and where not in _OPEN_SECTIONS:
            raise ConfigError(f"unknown config key {where + '.' if where else ''}{key}")
        if key in _OPEN_SECTIONS and isinstance(value, Mapping):
            out[key] = copy.deepcopy(dict(value))
        elif isinstance(value, Mapping) and isinstance(base.get(key), dict):
            out[key] = merge_config(base[key], value, key)
        else:
            out[key] = value
    return out


def read_config_file(path: str | os.PathLike, *, what: str = "config") -> Any:
    """The parsed content of a JSON or YAML file (``.yaml``/``.yml``: YAML).

    Raises:
        ConfigError: a missing or unparsable file (one line naming it).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such {what} file")
    text = path.read_text()
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except Exception as exc:
        raise ConfigError(f"{path}: cannot parse ({exc})") from None


def _package_folder(package: str) -> Path | None:
    try:
        folder = Path(str(files(package)))
    except (ModuleNotFoundError, TypeError):
        return None
    return folder if folder.is_dir() else None


def shipped_recipes() -> dict[str, Path]:
    """Names of the training recipes that ship with the package, mapped to their files.

    They are ``zoo/recipes/*.yaml`` of the source tree, installed as package data of
    ``keras_musiclatent.zoo_models``.

    Example:
        >>> "gtzan-vae" in shipped_recipes()
        True
    """
    folder = _package_folder(_ZOO_PACKAGE)
    if folder is None or not (folder / _RECIPES).is_dir():
        folder = Path(__file__).resolve().parents[2] / "zoo"
    return {p.stem: p for p in sorted((folder / _RECIPES).glob("*.y*ml"))}


def resolve_named_file(spec: str | os.PathLike, shipped: Mapping[str, Path], *, what: str) -> Path:
    """``spec`` if it is a file, else the shipped file of that name.

    Raises:
        ConfigError: neither a file nor a shipped name (the message lists the names).

    Example:
        >>> resolve_named_file("gtzan-vae", shipped_recipes(), what="recipe").name
        'gtzan-vae.yaml'
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return path
    if str(spec) in shipped:
        return shipped[str(spec)]
    names = ", ".join(shipped) or "none found"
    raise ConfigError(f"{spec}: no such {what} file or shipped {what} name (shipped: {names})")


def resolve_recipe(spec: str | os.PathLike) -> Path:
    """A training config from a path, or from the name of a shipped recipe (``gtzan-vae``).

    Example:
        >>> resolve_recipe("gtzan-vae").name
        'gtzan-vae.yaml'
    """
    return resolve_named_file(spec, shipped_recipes(), what="config")


def parse_setting(text: str) -> tuple[tuple[str, ...], Any]:
    """``"model.latent_dim=8"`` → ``(("model", "latent_dim"), 8)``: a dotted key and a YAML value.

    Raises:
        ConfigError: no ``=``, or an empty key part.

    Example:
        >>> parse_setting("model.conv_filters=[4, 8]")
        (('model', 'conv_filters'), [4, 8])
    """
    key, sep, value = text.partition("=")
    parts = tuple(part.strip() for part in key.split("."))
    if not sep or not all(parts):
        raise ConfigError(f"--set {text!r}: expected KEY=VALUE with a dotted KEY (data.root=DIR)")
    try:
        parsed = yaml.safe_load(value) if value.strip() else None
    except yaml.YAMLError as exc:
        problem = str(exc).splitlines()[0]
        raise ConfigError(f"--set {text!r}: the value is not YAML ({problem})") from None
    return parts, parsed


def apply_settings(
    raw: Mapping[str, Any],
    settings: Sequence[str] = (),
    *,
    data: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """``raw`` (an unmerged config or search file) with command-line settings applied.

    Args:
        raw: the file's content.
        settings: ``KEY=VALUE`` strings (:func:`parse_setting`), applied in order; a key the
            file lacks is added (validation comes with :func:`load_config`).
        data: sets ``data.root`` (made absolute, so a saved config works from anywhere).

    Returns:
        A copy of ``raw`` with the settings in place.

    Raises:
        ConfigError: a malformed setting, or one that goes through a value that is not a
            mapping.

    Example:
        >>> apply_settings({"training": {"epochs": 9}}, ["training.epochs=1"])
        {'training': {'epochs': 1}}
    """
    out = copy.deepcopy(dict(raw))
    pairs = [parse_setting(text) for text in settings]
    if data is not None:
        pairs.insert(0, (("data", "root"), str(Path(data).expanduser().absolute())))
    for parts, value in pairs:
        node = out
        for i, part in enumerate(parts[:-1]):
            child = node.setdefault(part, {})
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                where = ".".join(parts[: i + 1])
                raise ConfigError(f"--set {'.'.join(parts)}: {where} is not a section")
            node = child
        node[parts[-1]] = value
    return out


def default_cache_dir() -> Path:
    """The per-user decoded-audio cache: ``$XDG_CACHE_HOME/musiclatent/audio``, else
    ``~/.cache/musiclatent/audio``. Entries are keyed by a file's real path, size and
    modification time, so runs and datasets share it safely."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "musiclatent" / "audio"


def resolve_cache_dir(value: str | os.PathLike | bool | None) -> Path | None:
    """The folder ``data.cache_dir`` names: ``None`` the per-user cache, ``False`` no cache.

    Example:
        >>> resolve_cache_dir(False) is None, resolve_cache_dir("/tmp/c")
        (True, PosixPath('/tmp/c'))
    """
    if value is None or value is True:
        return default_cache_dir()
    if value is False:
        return None
    return Path(value).expanduser()


_EXPECTED = {
    "gtzan": "<genre>/<genre>.NNNNN.<audio> folders (or genres/<genre>/) with a split.csv",
    "fma": "fma_small/ audio and fma_metadata/tracks.csv",
    "folder": "a subfolder of audio files per label (<root>/<label>/*.wav)",
    "shards": "train/ and valid/ audio banks written by `musiclatent shards`",
    "unlabelled": "audio files (<root>/**/*.ogg), any layout",
}


def check_data_root(config: Mapping[str, Any]) -> Path:
    """``data.root`` of a loaded config, once it is known to be a folder.

    A cheap check to run before anything is written, so that a run or a search on a
    missing dataset fails in one line.

    Raises:
        ConfigError: ``data.root`` is missing or not a folder (the message says what the
            dataset expects there and how to point at it).
    """
    d = config["data"]
    root = Path(d["root"]).expanduser()
    if not root.is_dir():
        problem = "does not exist" if not root.exists() else "is not a folder"
        raise ConfigError(
            f"data.root {root} {problem}: pass --data DIR, a {d['dataset']} folder holding "
            f"{_EXPECTED.get(d['dataset'], 'the clips')}"
        )
    for key, source in d["extra_sources"].items():
        extra = Path(source["root"]).expanduser()
        if not extra.is_dir():
            raise ConfigError(
                f"data.extra_sources.{key}.root {extra} is not a folder: set it with "
                f"--set data.extra_sources.{key}.root=DIR, a folder holding "
                f"{_EXPECTED.get(source['dataset'], 'audio files')}"
            )
    return root


def _validate(config: Mapping[str, Any], name: str) -> None:
    data, training = config["data"], config["training"]
    if data["dataset"] not in DATASET_CHOICES:
        raise ConfigError(f"{name}: data.dataset must be one of {', '.join(DATASET_CHOICES)}")
    _validate_sources(data, name)
    if training["sampling"] not in ("grid", "crops"):
        raise ConfigError(f"{name}: training.sampling must be grid or crops")
    per_epoch = training["segments_per_epoch"]
    if per_epoch is not None and (not isinstance(per_epoch, int) or per_epoch < 1):
        raise ConfigError(f"{name}: training.segments_per_epoch must be null or >= 1")
    if training["device_audio"] and training["sampling"] != "crops":
        raise ConfigError(f"{name}: training.device_audio needs training.sampling: crops")
    augment = training["augment"]
    if not isinstance(augment["gain_db"], int | float) or augment["gain_db"] < 0:
        raise ConfigError(f"{name}: training.augment.gain_db must be a number >= 0")
    if not data["root"]:
        raise ConfigError(f"{name}: data.root is required (pass --data DIR or set data.root)")
    cache_dir = data["cache_dir"]
    if cache_dir is not None and not isinstance(cache_dir, bool | str):
        raise ConfigError(f"{name}: data.cache_dir must be null, false or a folder")
    if int(training["epochs"]) < 1 or int(training["batch_size"]) < 1:
        raise ConfigError(f"{name}: training.epochs and training.batch_size must be >= 1")
    if "class" not in config["model"]:
        raise ConfigError(f"{name}: model.class is required (MusicVAE or MusicAutoencoder)")
    distribute = training["distribute"]
    if distribute is not None and distribute not in DISTRIBUTE_BACKENDS:
        raise ConfigError(
            f"{name}: training.distribute must be null, "
            + ", ".join(repr(k) for k in DISTRIBUTE_BACKENDS)
            + f"; got {distribute!r}"
        )


def _validate_sources(data: dict[str, Any], name: str) -> None:
    if not isinstance(data["weight"], int | float) or data["weight"] < 0:
        raise ConfigError(f"{name}: data.weight must be a number >= 0")
    sources = data["extra_sources"]
    if not isinstance(sources, Mapping):
        raise ConfigError(f"{name}: data.extra_sources must map names to sources")
    if sources and data["dataset"] == "shards":
        raise ConfigError(f"{name}: data.extra_sources cannot be added to a shards export")
    for key, source in sources.items():
        where = f"{name}: data.extra_sources.{key}"
        if not isinstance(source, Mapping):
            raise ConfigError(f"{where} must be a mapping (dataset, root, weight, splits)")
        unknown = sorted(set(source) - set(_SOURCE_KEYS))
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]}")
        full = {**_SOURCE_KEYS, **source}
        if full["dataset"] not in SOURCE_CHOICES:
            raise ConfigError(f"{where}.dataset must be one of {', '.join(SOURCE_CHOICES)}")
        if not full["root"]:
            raise ConfigError(
                f"{where}.root is not set: pass --set data.extra_sources.{key}.root=DIR"
            )
        if not isinstance(full["weight"], int | float) or full["weight"] < 0:
            raise ConfigError(f"{where}.weight must be a number >= 0")
        splits = full["splits"]
        if splits is not None and (
            not isinstance(splits, list) or not all(isinstance(x, str) for x in splits)
        ):
            raise ConfigError(f"{where}.splits must be null or a list of split names")
        sources[key] = full


def load_config(
    source: str | os.PathLike | Mapping[str, Any], *, name: str | None = None
) -> dict[str, Any]:
    """Read a JSON or YAML training config and fill in the defaults.

    Args:
        source: a ``.json``/``.yaml``/``.yml`` path or a mapping.
        name: how error messages name the config (default: the path, or ``"config"``).

    Returns:
        The complete config (see :data:`DEFAULT_CONFIG`).

    Raises:
        ConfigError: unreadable file, unknown keys, or invalid values.

    Example:
        >>> load_config("configs/gtzan-vae.yaml")["model"]["class"]  # doctest: +SKIP
        'MusicVAE'
    """
    if isinstance(source, Mapping):
        raw, name = source, name or "config"
    else:
        raw, name = read_config_file(source), name or str(source)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: expected a mapping at the top level")
    config = merge_config(DEFAULT_CONFIG, raw)
    _validate(config, name)
    return config
