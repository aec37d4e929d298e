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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from keras_musiclatent.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "DISTRIBUTE_BACKENDS", "load_config", "merge_config"]

#: Every key a config may set, with its default. A config file overrides what it names.
DEFAULT_CONFIG: dict[str, Any] = {
    "data": {
        "dataset": "gtzan",  # "gtzan" | "fma" | "folder"
        "root": None,  # dataset folder (required)
        "split_file": None,  # GTZAN: a clip,genre,split CSV (default: split.csv in root)
        "train_split": "train",
        "valid_split": "valid",
        # Unlabelled extra splits added to training (e.g. GTZAN's "excluded" clips help the
        # unsupervised model and never touch the validation set).
        "extra_train_splits": [],
        "split_seed": None,  # a seeded stratified random split instead of the split file
        "cache_dir": None,  # decoded-audio cache: epochs after the first skip decoding
        "max_clips": None,  # cap per split, for quick experiments
        "segment_seconds": 3.0,
        "sample_rate": 22050,
    },
    "model": {"class": "MusicVAE"},  # the rest are keyword arguments of that class
    "optimizer": {"learning_rate": 1e-3, "clipnorm": 1.0},
    "training": {
        "epochs": 30,
        "batch_size": 32,
        "early_stopping_patience": 8,
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

    The ``model`` section is replaced whole: its keys are the model class's arguments, which
    the defaults cannot list.

    Raises:
        ConfigError: a key that ``base`` does not have (outside ``model``).

    Example:
        >>> merge_config(DEFAULT_CONFIG, {"training": {"epochs": 2}})["training"]["epochs"]
        2
    """
    out = copy.deepcopy(dict(base))
    for key, value in override.items():
        if key not in base and where != "model":
            raise ConfigError(f"unknown config key {where + '.' if where else ''}{key}")
        if isinstance(value, Mapping) and isinstance(base.get(key), dict) and key != "model":
            out[key] = merge_config(base[key], value, key)
        elif key == "model" and isinstance(value, Mapping):
            out[key] = dict(value)
        else:
            out[key] = value
    return out


def _read(path: Path) -> Any:
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    text = path.read_text()
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            return yaml.safe_load(text)
        return json.loads(text)
    except Exception as exc:
        raise ConfigError(f"{path}: cannot parse ({exc})") from None


def _validate(config: Mapping[str, Any], name: str) -> None:
    data, training = config["data"], config["training"]
    if data["dataset"] not in ("gtzan", "fma", "folder"):
        raise ConfigError(f"{name}: data.dataset must be gtzan, fma or folder")
    if not data["root"]:
        raise ConfigError(f"{name}: data.root is required")
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


def load_config(source: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """Read a JSON or YAML training config and fill in the defaults.

    Args:
        source: a ``.json``/``.yaml``/``.yml`` path or a mapping.

    Returns:
        The complete config (see :data:`DEFAULT_CONFIG`).

    Raises:
        ConfigError: unreadable file, unknown keys, or invalid values.

    Example:
        >>> load_config("configs/gtzan-vae.yaml")["model"]["class"]  # doctest: +SKIP
        'MusicVAE'
    """
    if isinstance(source, Mapping):
        raw, name = source, "config"
    else:
        raw, name = _read(Path(source)), str(source)
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: expected a mapping at the top level")
    config = merge_config(DEFAULT_CONFIG, raw)
    _validate(config, name)
    return config
