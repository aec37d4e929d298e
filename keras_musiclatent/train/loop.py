"""Train a latent model from a config file, with checkpoints that survive a crash.

A run folder holds everything a run needs to go on or to be used::

    OUT/config.json         the resolved config (a resumed run must match it)
    OUT/backup/             Keras BackupAndRestore state: weights + epoch, written every epoch
    OUT/last.keras          the model after the last completed epoch (atomic)
    OUT/best.keras          the model with the lowest validation spectral RMSE so far (atomic)
    OUT/history.csv         one row per epoch (appended across resumes)
    OUT/logs/               TensorBoard: scalars, log-mel images and audio of reconstructions
    OUT/training.json       what the run did: epochs, time, best metric, versions

A run killed at any point (even ``kill -9`` mid-epoch) continues with ``resume=True`` from the
last completed epoch; the epochs it had finished are not trained again.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent._files import write_json
from keras_musiclatent.errors import ConfigError

__all__ = ["DEFAULT_CONFIG", "TrainResult", "build_model", "load_config", "tables", "train"]

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


#: Batches of training audio that set the per-band normalisation before training.
ADAPT_BATCHES = 24


def _merge(base: dict[str, Any], override: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if key not in base and where != "model":
            raise ConfigError(f"unknown config key {where + '.' if where else ''}{key}")
        if isinstance(value, Mapping) and isinstance(base.get(key), dict) and key != "model":
            out[key] = _merge(base[key], value, key)
        elif key == "model" and isinstance(value, Mapping):
            out[key] = dict(value)
        else:
            out[key] = value
    return out


def load_config(source: str | os.PathLike | Mapping[str, Any]) -> dict[str, Any]:
    """Read a JSON or YAML training config and fill in the defaults.

    Args:
        source: a ``.json``/``.yaml``/``.yml`` path or a mapping.

    Returns:
        The complete config (see :data:`DEFAULT_CONFIG`).

    Raises:
        ConfigError: unreadable file, unknown keys, or invalid values.
    """
    if isinstance(source, Mapping):
        raw: Any = source
        name = "config"
    else:
        path = Path(source)
        name = str(path)
        if not path.is_file():
            raise ConfigError(f"{path}: no such config file")
        text = path.read_text()
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                raw = yaml.safe_load(text)
            else:
                raw = json.loads(text)
        except Exception as exc:
            raise ConfigError(f"{path}: cannot parse ({exc})") from None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{name}: expected a mapping at the top level")
    config = _merge(DEFAULT_CONFIG, raw)
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
    return config


def _distribution(distribute: str | None) -> tuple[Any, Any]:
    """Set up ``training.distribute`` for the current Keras backend.

    Returns:
        ``(scope, reset)``: the context to build and train in, and a callable that undoes a
        global setting (or ``None``).

    Raises:
        ConfigError: an option of another backend.
    """
    import contextlib

    import keras

    if distribute is None:
        return contextlib.nullcontext(), None
    backend = keras.backend.backend()
    wanted = DISTRIBUTE_BACKENDS[distribute]
    if backend != wanted:
        raise ConfigError(
            f"training.distribute={distribute!r} needs the {wanted} backend, but Keras runs on "
            f"{backend}; set KERAS_BACKEND={wanted} or choose "
            + " / ".join(
                [repr(k) for k, v in DISTRIBUTE_BACKENDS.items() if v == backend] + ["null"]
            )
        )
    if distribute == "data_parallel":
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext(), lambda: keras.distribution.set_distribution(previous)
    import tensorflow as tf

    if distribute == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ConfigError(
                "training.distribute='multi_worker' needs TF_CONFIG (the cluster and this "
                "worker's task) in the environment of every worker"
            )
        return tf.distribute.MultiWorkerMirroredStrategy().scope(), None
    return tf.distribute.MirroredStrategy().scope(), None


def worker_out(out: Path) -> Path:
    """Where this worker writes: ``out`` for the chief (or no cluster), else a sibling.

    Under ``TF_CONFIG`` the chief is the ``chief`` task, or worker 0 when there is none; every
    other worker keeps its own checkpoints in ``<out>.<type>-<index>``.
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return out
    try:
        tf_config = json.loads(raw)
        task = tf_config["task"]
        kind, index = str(task["type"]), int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError("TF_CONFIG is not JSON with a task type and index") from None
    has_chief = "chief" in tf_config.get("cluster", {})
    if kind == "chief" or (kind == "worker" and index == 0 and not has_chief):
        return out
    return out.with_name(f"{out.name}.{kind}-{index}")


def build_model(model_config: Mapping[str, Any]):
    """Instantiate ``model_config["class"]`` with the remaining keys as keyword arguments."""
    from keras_musiclatent import models

    kwargs = dict(model_config)
    name = kwargs.pop("class")
    cls = getattr(models, name, None)
    if cls is None:
        raise ConfigError(f"unknown model class {name!r}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"model {name}: {exc}") from None


def tables(config: dict[str, Any]):
    """``(train, valid)`` clip tables a (loaded) config names, thinned to ``data.max_clips``."""
    from keras_musiclatent import data as data_mod

    d = config["data"]
    root = Path(d["root"]).expanduser()
    if d["dataset"] == "gtzan":
        table = data_mod.load_gtzan(root, split_file=d["split_file"], split_seed=d["split_seed"])
    elif d["dataset"] == "fma":
        table = data_mod.load_fma(root)
    else:
        seed = 0 if d["split_seed"] is None else d["split_seed"]
        table = data_mod.load_folder(root, split_seed=seed)
    train_splits = {d["train_split"], *d["extra_train_splits"]}
    train = table.filter(lambda clip: clip.split in train_splits)
    valid = table.split(d["valid_split"])
    if d["max_clips"]:
        # Evenly spaced clips of a table sorted by genre keep every genre, in proportion.
        def thin(t):
            if len(t) <= int(d["max_clips"]):
                return t
            picks = np.unique(np.linspace(0, len(t) - 1, int(d["max_clips"])).round().astype(int))
            keep = {t[int(i)].clip_id for i in picks}
            return t.filter(lambda clip: clip.clip_id in keep)

        train, valid = thin(train), thin(valid)
    if len(train) == 0:
        raise ConfigError(f"split {d['train_split']!r} of {root} holds no clips")
    if len(valid) == 0:
        raise ConfigError(f"split {d['valid_split']!r} of {root} holds no clips")
    return train, valid


def _claim_run_folder(out: Path, config: dict[str, Any], *, resume: bool) -> None:
    saved = out / "config.json"
    if saved.exists():
        if not resume:
            raise ConfigError(
                f"{out} already holds a run; pass --resume to continue it or choose another --out"
            )
        previous = json.loads(saved.read_text())
        # Runs saved before ``training.distribute`` existed resume as undistributed runs.
        previous.get("training", {}).setdefault("distribute", None)
        if previous != json.loads(json.dumps(config, default=str)):
            raise ConfigError(f"{out}: --resume with a config that differs from the saved one")
    elif resume and (out / "backup").exists():
        raise ConfigError(f"{out}: cannot resume, config.json is missing")
    out.mkdir(parents=True, exist_ok=True)
    write_json(saved, config)


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes:
        out: the run folder.
        epochs_completed: epochs finished in total (across resumes).
        history: per-epoch logs (all of ``history.csv``).
        best: the best value of the monitored metric.
        seconds: wall time of this call.
    """

    out: Path
    epochs_completed: int
    history: list[dict[str, float]]
    best: float | None
    seconds: float


def _read_history(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(fh)]


def train(
    config: str | os.PathLike | Mapping[str, Any],
    *,
    out: str | os.PathLike,
    resume: bool = False,
    seed: int | None = None,
    verbose: int | str = "auto",
) -> TrainResult:
    """Train the model a config describes, checkpointing every epoch.

    With ``training.distribute`` set, the model is built, compiled and trained inside a
    ``tf.distribute.MirroredStrategy`` (``"mirrored"``: every local GPU, TensorFlow) or under
    ``keras.distribution.DataParallel`` (``"data_parallel"``: every local device, JAX; the
    global distribution is restored afterwards). ``training.batch_size`` is the global batch,
    split over the replicas, so it should be a multiple of their count.

    Args:
        config: config path or mapping (see :data:`DEFAULT_CONFIG`).
        out: the run folder.
        resume: go on with an interrupted run in ``out`` (its config must match).
        seed: overrides ``training.seed``.
        verbose: Keras progress bar setting.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ConfigError: bad config; a ``training.distribute`` option of another backend;
            ``out`` holds a run and ``resume`` is false (nothing is overwritten); ``resume``
            with a different config.

    Example:
        >>> train("configs/gtzan-vae.yaml", out="runs/vae")  # doctest: +SKIP
    """
    config = load_config(config)
    if seed is not None:
        config["training"]["seed"] = int(seed)
    scope, reset = _distribution(config["training"]["distribute"])
    out = Path(out)
    if config["training"]["distribute"] == "multi_worker":
        out = worker_out(out)
    try:
        with scope:
            return _train(config, out=out, resume=resume, verbose=verbose)
    finally:
        if reset is not None:
            reset()


def _train(config: dict[str, Any], *, out: Path, resume: bool, verbose: int | str) -> TrainResult:
    import keras

    from keras_musiclatent.train.callbacks import AtomicCheckpoint

    if (Path(out) / "config.json").exists() and not resume:
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )
    training = config["training"]
    d = config["data"]
    keras.utils.set_random_seed(int(training["seed"]))
    from keras_musiclatent.data import SegmentDataset

    train_table, valid_table = tables(config)
    common = {
        "batch_size": int(training["batch_size"]),
        "sample_rate": int(d["sample_rate"]),
        "segment_seconds": float(d["segment_seconds"]),
        "cache_dir": d["cache_dir"],
        "include_labels": False,
    }
    train_ds = SegmentDataset(train_table, shuffle=True, seed=int(training["seed"]), **common)
    valid_ds = SegmentDataset(valid_table, shuffle=False, **common)

    model_config = dict(config["model"])
    model_config.setdefault("sample_rate", int(d["sample_rate"]))
    model_config.setdefault("segment_seconds", float(d["segment_seconds"]))
    model = build_model(model_config)
    first = train_ds[0][0]
    if not (Path(out) / "backup" / "latest.weights.h5").exists():
        # Band statistics from a shuffled sample of batches; a resumed run restores them
        # with the weights.
        model.adapt(train_ds[i] for i in range(min(len(train_ds), ADAPT_BATCHES)))
        if training["pca_init"]:
            from keras_musiclatent.models import initialize_from_pca

            initialize_from_pca(
                model, (train_ds[i] for i in range(len(train_ds))), seed=int(training["seed"])
            )
    model(first)  # BackupAndRestore needs a built model
    # Everything is valid: only now does the run folder get written.
    _claim_run_folder(Path(out), config, resume=resume)
    out = Path(out)
    model.compile(optimizer=keras.optimizers.Adam(**config["optimizer"]))
    if training["distribute"] in ("mirrored", "multi_worker"):
        _fit_for_mirrored(model, multi_worker=training["distribute"] == "multi_worker")

    monitor = training["monitor"]
    callbacks: list[Any] = [
        keras.callbacks.BackupAndRestore(str(out / "backup"), double_checkpoint=True),
        AtomicCheckpoint(out, monitor=monitor),
        keras.callbacks.CSVLogger(str(out / "history.csv"), append=True),
        keras.callbacks.EarlyStopping(
            monitor=monitor,
            mode="min",
            patience=int(training["early_stopping_patience"]),
            restore_best_weights=False,
        ),
        keras.callbacks.TerminateOnNaN(),
    ]
    tensorboard = _tensorboard_callbacks(out / "logs", valid_ds, training)
    callbacks.extend(tensorboard)

    start = time.time()
    model.fit(
        train_ds,
        validation_data=valid_ds,
        epochs=int(training["epochs"]),
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds = time.time() - start
    history = _read_history(out / "history.csv")
    values = [row[monitor] for row in history if monitor in row]
    best = min(values) if values else None
    write_json(
        out / "training.json",
        {
            "epochs_completed": len(history),
            "seconds_last_call": round(seconds, 1),
            "best": {monitor: best},
            "train_clips": len(train_table),
            "valid_clips": len(valid_table),
            "train_segments": train_ds.num_segments,
            "valid_segments": valid_ds.num_segments,
            "parameters": int(model.count_params()),
            "backend": keras.backend.backend(),
            "distribute": training["distribute"],
            "keras": keras.__version__,
            "python": platform.python_version(),
            "numpy": np.__version__,
        },
    )
    return TrainResult(out, len(history), history, best, seconds)


def _fit_for_mirrored(model, *, multi_worker: bool = False) -> None:
    """Adapt a compiled model to ``fit`` under ``tf.distribute.MirroredStrategy``.

    Keras sums the replicas' gradients and expects ``compute_loss`` to return each replica's
    share (the built-in one divides by the replica count); a model's own ``compute_loss``
    returns the batch mean, so it is divided here. And Keras first reduces a whole input batch
    across replicas to build the model symbolically, which fails for dict inputs; the model is
    built already and has no compiled loss or metrics, so building the optimizer is all that
    step would do.
    """
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    compute_loss = model.compute_loss

    def per_replica_loss(*args: Any, **kwargs: Any):
        return compute_loss(*args, **kwargs) / replicas

    model.compute_loss = per_replica_loss
    model.optimizer.build(model.trainable_variables)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    if multi_worker:
        # Keras reduces each log across workers with reduce(MEAN, axis=0), which fails for
        # the scalars a train step returns ("Invalid reduction dimension 0 for input with 0
        # dimensions"); one-element vectors reduce to the same mean.
        for name in ("train_step", "test_step"):
            step = getattr(model, name)

            def as_vectors(data, _step=step):
                return {k: tf.reshape(v, [1]) for k, v in _step(data).items()}

            setattr(model, name, as_vectors)


def _tensorboard_callbacks(logdir: Path, valid_ds, training: Mapping[str, Any]) -> list[Any]:
    try:
        import tensorflow  # noqa: F401  - TensorBoard summaries need it
    except ImportError:
        return []
    import keras

    from keras_musiclatent.train.callbacks import ReconstructionSummary

    callbacks: list[Any] = [keras.callbacks.TensorBoard(str(logdir), write_graph=False)]
    n = int(training["reconstruction_examples"])
    if n > 0:
        callbacks.append(ReconstructionSummary(logdir, valid_ds[0][0], examples=n))
    return callbacks
