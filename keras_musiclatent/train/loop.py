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

import csv
import json
import os
import platform
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_musiclatent import models
from keras_musiclatent._files import write_json
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train._optional import has_tensorflow
from keras_musiclatent.train.callbacks import AtomicCheckpoint, ReconstructionSummary
from keras_musiclatent.train.config import DEFAULT_CONFIG, DISTRIBUTE_BACKENDS, load_config
from keras_musiclatent.train.datasets import (
    ADAPT_BATCHES,
    adapt_batches,
    segment_datasets,
    tables,
)
from keras_musiclatent.train.distribute import distribution, fit_for_mirrored, worker_out

__all__ = [
    "ADAPT_BATCHES",
    "DEFAULT_CONFIG",
    "DISTRIBUTE_BACKENDS",
    "TrainResult",
    "build_model",
    "load_config",
    "tables",
    "train",
    "worker_out",
]


def build_model(model_config: Mapping[str, Any]) -> keras.Model:
    """Instantiate ``model_config["class"]`` with the remaining keys as keyword arguments.

    Raises:
        ConfigError: an unknown class, or arguments it does not take.

    Example:
        >>> build_model({"class": "MusicVAE", "latent_dim": 8}).latent_dim  # doctest: +SKIP
        8
    """
    kwargs = dict(model_config)
    name = kwargs.pop("class")
    cls = getattr(models, name, None)
    if cls is None:
        raise ConfigError(f"unknown model class {name!r}")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"model {name}: {exc}") from None


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
    scope, reset = distribution(config["training"]["distribute"])
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
    if (Path(out) / "config.json").exists() and not resume:
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )
    training = config["training"]
    d = config["data"]
    keras.utils.set_random_seed(int(training["seed"]))
    train_table, valid_table = tables(config)
    train_ds, valid_ds = segment_datasets(config, (train_table, valid_table))

    model_config = dict(config["model"])
    model_config.setdefault("sample_rate", int(d["sample_rate"]))
    model_config.setdefault("segment_seconds", float(d["segment_seconds"]))
    model = build_model(model_config)
    first = train_ds[0][0]
    if not (Path(out) / "backup" / "latest.weights.h5").exists():
        # Band statistics from a shuffled sample of batches; a resumed run restores them
        # with the weights.
        model.adapt(adapt_batches(train_ds))
        if training["pca_init"]:
            models.initialize_from_pca(
                model, (train_ds[i] for i in range(len(train_ds))), seed=int(training["seed"])
            )
    model(first)  # BackupAndRestore needs a built model
    # Everything is valid: only now does the run folder get written.
    _claim_run_folder(Path(out), config, resume=resume)
    out = Path(out)
    model.compile(optimizer=keras.optimizers.Adam(**config["optimizer"]))
    if training["distribute"] in ("mirrored", "multi_worker"):
        fit_for_mirrored(model, multi_worker=training["distribute"] == "multi_worker")

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


def _tensorboard_callbacks(logdir: Path, valid_ds, training: Mapping[str, Any]) -> list[Any]:
    if not has_tensorflow():  # TensorBoard summaries are written with TensorFlow
        return []
    callbacks: list[Any] = [keras.callbacks.TensorBoard(str(logdir), write_graph=False)]
    n = int(training["reconstruction_examples"])
    if n > 0:
        callbacks.append(ReconstructionSummary(logdir, valid_ds[0][0], examples=n))
    return callbacks
