"""Train a latent model from a config file, with checkpoints that survive a crash.

A run folder holds everything a run needs to go on or to be used::

    OUT/config.json         the resolved config (a resumed run must match it)
    OUT/state.json          what is valid: epochs done, the resume checkpoint, history,
                            early-stopping counters, random-generator states (one atomic
                            write per epoch: see :mod:`keras_musiclatent.train.state`)
    OUT/checkpoints/        the resume checkpoint (weights and optimizer) of the last epoch
    OUT/last.keras          the model after the last completed epoch
    OUT/best.keras          the model with the lowest validation spectral RMSE so far
    OUT/history.csv         one row per completed epoch
    OUT/logs/               TensorBoard: scalars, log-mel images and audio of reconstructions
    OUT/training.json       what the run did: epochs, why it stopped, time, best metric, versions
    OUT/.lock               held by the process training in the folder

A run killed at any point (even ``kill -9``) continues with ``resume=True`` from its last
completed epoch, reproducing what the uninterrupted run would have done (same batches, same
noise); a finished run, resumed, changes nothing. Two processes never train in one folder.
"""

from __future__ import annotations

import contextlib
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
from keras_musiclatent.presets.pretrained import load_encoder_weights
from keras_musiclatent.train._optional import has_tensorflow
from keras_musiclatent.train.callbacks import (
    EpochCommit,
    ReconstructionSummary,
    restore_seed_states,
)
from keras_musiclatent.train.config import DEFAULT_CONFIG, DISTRIBUTE_BACKENDS, load_config
from keras_musiclatent.train.datasets import (
    ADAPT_BATCHES,
    adapt_batches,
    segment_datasets,
    training_sources,
)
from keras_musiclatent.train.distribute import distribution, fit_for_mirrored, worker_out
from keras_musiclatent.train.state import (
    LEGACY_BACKUP,
    STATE,
    RunState,
    clean_temporary_files,
    folder_lock,
    open_run,
)

__all__ = [
    "ADAPT_BATCHES",
    "DEFAULT_CONFIG",
    "DISTRIBUTE_BACKENDS",
    "TrainResult",
    "build_model",
    "load_config",
    "train",
    "training_sources",
    "worker_out",
]


def build_model(model_config: Mapping[str, Any]) -> keras.Model:
    """Instantiate ``model_config["class"]`` with the remaining keys as keyword arguments.

    ``encoder_weights`` (a zoo name, e.g. ``musicnn-msd``) is not an argument: the built
    model's pretrained encoder and teacher start from that zoo model's shipped files
    (:func:`keras_musiclatent.presets.load_encoder_weights`).

    Raises:
        ConfigError: an unknown class, or arguments it does not take.

    Example:
        >>> build_model({"class": "MusicVAE", "latent_dim": 8}).latent_dim  # doctest: +SKIP
        8
    """
    kwargs = dict(model_config)
    name = kwargs.pop("class")
    encoder_weights = kwargs.pop("encoder_weights", None)
    cls = getattr(models, name, None)
    if cls is None:
        raise ConfigError(f"unknown model class {name!r}")
    pretrained = [k for k in ("teacher", "musicnn_features") if kwargs.get(k)]
    if pretrained and not encoder_weights and not kwargs.get("musicnn_backbone"):
        # A musicnn left at its random initialisation teaches nothing and is frozen.
        raise ConfigError(
            f"model.{pretrained[0]} needs pretrained weights: set model.encoder_weights: "
            "musicnn-msd"
        )
    try:
        model = cls(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"model {name}: {exc}") from None
    if encoder_weights:
        load_encoder_weights(model, encoder_weights)
    return model


def _check_saved_config(out: Path, config: dict[str, Any]) -> None:
    previous = json.loads((out / "config.json").read_text())
    # Runs saved before ``training.distribute`` existed resume as undistributed runs.
    previous.get("training", {}).setdefault("distribute", None)
    if previous != json.loads(json.dumps(config, default=str)):
        raise ConfigError(f"{out}: --resume with a config that differs from the saved one")


@dataclass
class TrainResult:
    """What :func:`train` did.

    Attributes:
        out: the run folder.
        epochs_completed: epochs finished in total (across resumes).
        history: per-epoch logs (all of ``history.csv``).
        best: the best value of the monitored metric.
        seconds: wall time of this call.
        finished: the run has ended (all epochs, early stopping or a NaN loss).
        stop_reason: ``"epochs"``, ``"early_stopping"`` or ``"nan_loss"`` when finished.
        epochs_trained: epochs this call trained (0 when the run was complete already).
    """

    out: Path
    epochs_completed: int
    history: list[dict[str, float]]
    best: float | None
    seconds: float
    finished: bool = False
    stop_reason: str | None = None
    epochs_trained: int = 0


def _result(out: Path, state: RunState, *, seconds: float, trained: int) -> TrainResult:
    return TrainResult(
        out=out,
        epochs_completed=state.epochs_completed,
        history=[dict(row) for row in state.history],
        best=state.best,
        seconds=seconds,
        finished=state.finished,
        stop_reason=state.stop_reason,
        epochs_trained=trained,
    )


def train(
    config: str | os.PathLike | Mapping[str, Any],
    *,
    out: str | os.PathLike,
    resume: bool = False,
    seed: int | None = None,
    verbose: int | str = "auto",
) -> TrainResult:
    """Train the model a config describes, committing its state every epoch.

    With ``training.distribute`` set, the model is built, compiled and trained inside a
    ``tf.distribute.MirroredStrategy`` (``"mirrored"``: every local GPU, TensorFlow) or under
    ``keras.distribution.DataParallel`` (``"data_parallel"``: every local device, JAX; the
    global distribution is restored afterwards). ``training.batch_size`` is the global batch,
    split over the replicas, so it should be a multiple of their count.

    Args:
        config: config path or mapping (see :data:`DEFAULT_CONFIG`).
        out: the run folder.
        resume: go on with an interrupted run in ``out`` (its config must match); a finished
            run is left as it is.
        seed: overrides ``training.seed``.
        verbose: Keras progress bar setting.

    Returns:
        A :class:`TrainResult`.

    Raises:
        ConfigError: bad config; a ``training.distribute`` option of another backend;
            ``out`` holds a run and ``resume`` is false (nothing is overwritten); ``resume``
            with a different config.
        FolderInUseError: another process trains in ``out``.
        DamagedStateError: a state file of ``out`` cannot be read (the message names it).

    Example:
        >>> train("configs/gtzan-vae.yaml", out="runs/vae")  # doctest: +SKIP
    """
    config = load_config(config)
    training = config["training"]
    if seed is not None:
        training["seed"] = int(seed)
    scope, reset = distribution(training["distribute"])
    out = Path(out)
    if training["distribute"] == "multi_worker":
        out = worker_out(out)
    try:
        with contextlib.ExitStack() as held:
            state = None
            if (out / "config.json").exists():
                if not resume:
                    raise ConfigError(
                        f"{out} already holds a run; pass --resume to continue it or choose "
                        "another --out"
                    )
                held.enter_context(folder_lock(out))
                _check_saved_config(out, config)
                state = open_run(out, epochs=int(training["epochs"]), monitor=training["monitor"])
                if state.finished:
                    if verbose:
                        print(
                            f"{out}: the run is complete ({state.epochs_completed} epochs, "
                            f"{state.stop_reason}); nothing to train",
                            flush=True,
                        )
                    return _result(out, state, seconds=0.0, trained=0)
            elif resume and ((out / STATE).exists() or (out / LEGACY_BACKUP).exists()):
                raise ConfigError(f"{out}: cannot resume, config.json is missing")
            with scope:
                return _train(config, out=out, state=state, held=held, verbose=verbose)
    finally:
        if reset is not None:
            reset()


def _claim_new_run(out: Path, config: dict[str, Any], held: contextlib.ExitStack) -> RunState:
    held.enter_context(folder_lock(out))
    if (out / "config.json").exists():  # another process claimed it first
        raise ConfigError(
            f"{out} already holds a run; pass --resume to continue it or choose another --out"
        )
    clean_temporary_files(out)
    write_json(out / "config.json", config)
    return RunState()


def _train(
    config: dict[str, Any],
    *,
    out: Path,
    state: RunState | None,
    held: contextlib.ExitStack,
    verbose: int | str,
) -> TrainResult:
    training = config["training"]
    d = config["data"]
    seed = int(training["seed"])
    keras.utils.set_random_seed(seed)
    loaded = training_sources(config, progress=bool(verbose))
    train_ds, valid_ds = segment_datasets(config, loaded)

    model_config = dict(config["model"])
    model_config.setdefault("sample_rate", int(d["sample_rate"]))
    model_config.setdefault("segment_seconds", float(d["segment_seconds"]))
    model = build_model(model_config)
    if state is None or state.weights is None:
        # Band statistics from a shuffled sample of batches; a resumed run restores them
        # with the weights.
        model.adapt(adapt_batches(train_ds))
        if training["pca_init"]:
            models.initialize_from_pca(
                model, (train_ds[i] for i in range(len(train_ds))), seed=seed
            )
    model(train_ds[0][0])  # built, so that weights can be loaded
    if state is None:
        # Everything is valid: only now does the run folder get written.
        state = _claim_new_run(out, config, held)
    model.compile(optimizer=keras.optimizers.Adam(**config["optimizer"]))
    if training["distribute"] in ("mirrored", "multi_worker"):
        fit_for_mirrored(model, multi_worker=training["distribute"] == "multi_worker")
    if state.weights is not None:
        if not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(out / state.weights)
        if state.rng:
            restore_seed_states(model, state.rng)

    commit = EpochCommit(
        out,
        state,
        epochs=int(training["epochs"]),
        monitor=training["monitor"],
        patience=int(training["early_stopping_patience"]),
        train_data=train_ds,
        info={
            **loaded.summary(),
            "sampling": training["sampling"],
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
    callbacks = [
        *_tensorboard_callbacks(out / "logs", valid_ds, training),
        keras.callbacks.TerminateOnNaN(),
        commit,  # last: the epoch is committed once everything else has seen it
    ]
    start = time.time()
    model.fit(
        train_ds,
        validation_data=valid_ds,
        epochs=int(training["epochs"]),
        initial_epoch=state.epochs_completed,
        # The dataset shuffles itself from (seed, epoch); Keras's own shuffle of the batch
        # order would not be reproduced by a resumed run.
        shuffle=False,
        callbacks=callbacks,
        verbose=verbose,
    )
    trained = commit.state.epochs_completed - state.epochs_completed
    return _result(out, commit.state, seconds=time.time() - start, trained=trained)


def _tensorboard_callbacks(logdir: Path, valid_ds, training: Mapping[str, Any]) -> list[Any]:
    if not has_tensorflow():  # TensorBoard summaries are written with TensorFlow
        return []
    callbacks: list[Any] = [keras.callbacks.TensorBoard(str(logdir), write_graph=False)]
    n = int(training["reconstruction_examples"])
    if n > 0:
        callbacks.append(ReconstructionSummary(logdir, valid_ds[0][0], examples=n))
    return callbacks
