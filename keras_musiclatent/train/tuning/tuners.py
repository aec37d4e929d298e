"""keras-tuner tuners that time their trials and log every trial they run.

:func:`make_tuner` builds a random, Bayesian or Hyperband tuner. Each trial reports to the
oracle the metrics of its best epoch plus ``trial_seconds`` (wall time), ``epochs_run`` and
``best_epoch``, so the chief of a distributed search knows them too; and each run of a trial
appends one line to ``<project>/executions.jsonl`` (trial, tuner id, process, host,
seconds), which shows which worker ran what and that no trial ran twice.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import warnings
from collections.abc import Sequence
from typing import Any

import keras_tuner as kt
import numpy as np
from keras_tuner.src import utils as kt_utils

from keras_musiclatent._files import atomic_path
from keras_musiclatent.train.tuning.config import SearchConfig

__all__ = ["EXECUTIONS_FILE", "atomic_save_json", "best_epoch_metrics", "make_tuner"]

EXECUTIONS_FILE = "executions.jsonl"

_KERAS_TUNER_SAVE_JSON = kt_utils.save_json


def atomic_save_json(path: str | os.PathLike, obj: Any) -> str:
    """keras-tuner's ``save_json``, but written whole or not at all.

    keras-tuner rewrites ``oracle.json`` and each ``trial.json`` in place, so a kill in the
    middle left an empty file that stopped the search from resuming; :func:`make_tuner`
    installs this in its place. Remote paths (``gs://...``) keep keras-tuner's own writer.
    """
    if "://" in os.fspath(path):
        return _KERAS_TUNER_SAVE_JSON(path, obj)
    text = json.dumps(obj)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return text


def best_epoch_metrics(histories: Sequence[Any], objective: Any) -> dict[str, float]:
    """The logs of each history's best epoch (by ``objective``), averaged over histories.

    Args:
        histories: Keras ``History`` objects (one per execution of a trial).
        objective: a keras-tuner ``Objective`` (``name``, ``direction``).

    Raises:
        keras_tuner.errors.FailedTrialError: a history never logged the objective (e.g. a
            run stopped on NaN before its first validation).

    Example:
        >>> h = type("H", (), {"history": {"val_x": [3.0, 1.0, 2.0]}, "epoch": [0, 1, 2]})()
        >>> best_epoch_metrics([h], kt.Objective("val_x", "min"))["best_epoch"]
        1.0
    """
    rows = []
    for history in histories:
        logs = history.history
        values = np.asarray(logs.get(objective.name, []), dtype="float64")
        if values.size == 0 or not np.isfinite(values).any():
            raise kt.errors.FailedTrialError(
                f"no finite {objective.name} was logged (logged: {', '.join(sorted(logs))})"
            )
        finite = np.where(np.isfinite(values), values, np.nan)
        best = int(np.nanargmax(finite) if objective.direction == "max" else np.nanargmin(finite))
        row = {k: float(v[best]) for k, v in logs.items() if len(v) > best}
        epochs = list(getattr(history, "epoch", range(len(values))))
        row["best_epoch"] = float(epochs[best])
        row["epochs_run"] = float(len(values))
        rows.append(row)
    keys = set.intersection(*(set(r) for r in rows))
    return {k: float(np.mean([r[k] for r in rows])) for k in sorted(keys)}


class _Recorded:
    """Mixin over a keras-tuner ``Tuner``: best-epoch metrics, trial time, an execution log."""

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        start = time.monotonic()
        histories = super().run_trial(trial, *args, **kwargs)
        seconds = time.monotonic() - start
        metrics = best_epoch_metrics(histories, self.oracle.objective)
        metrics["trial_seconds"] = round(seconds, 2)
        self._log_execution(trial, metrics)
        return metrics

    def _log_execution(self, trial: Any, metrics: dict[str, float]) -> None:
        record = {
            "trial_id": trial.trial_id,
            "tuner_id": self.tuner_id,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "seconds": metrics["trial_seconds"],
            "epochs_run": int(metrics["epochs_run"]),
            "objective": metrics.get(self.oracle.objective.name),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        # One short write in append mode: lines from concurrent workers do not interleave.
        line = (json.dumps(record) + "\n").encode()
        with open(os.path.join(self.project_dir, EXECUTIONS_FILE), "ab+") as fh:
            end = fh.seek(0, os.SEEK_END)
            if end and fh.seek(end - 1) is not None and fh.read(1) != b"\n":
                line = b"\n" + line  # a line cut by a kill stays on its own
            fh.write(line)

    def on_trial_begin(self, trial: Any) -> None:
        if self._is_worker():
            # The chief's oracle prints the trial table; a worker says what it took.
            values = dict(trial.hyperparameters.values)
            print(f"[{self.tuner_id}] trial {trial.trial_id}: {values}", flush=True)
        super().on_trial_begin(trial)

    def on_trial_end(self, trial: Any) -> None:
        if trial.status in ("INVALID", "FAILED") and trial.message:
            # keras-tuner keeps the traceback in the trial; the last line says what happened.
            last = trial.message.strip().splitlines()[-1]
            sys.stderr.write(f"trial {trial.trial_id} failed: {last}\n")
        super().on_trial_end(trial)


class RandomSearch(_Recorded, kt.RandomSearch):
    """``keras_tuner.RandomSearch`` with trial times and an execution log."""


class BayesianOptimization(_Recorded, kt.BayesianOptimization):
    """``keras_tuner.BayesianOptimization`` with trial times and an execution log."""


class Hyperband(_Recorded, kt.Hyperband):
    """``keras_tuner.Hyperband`` with trial times, an execution log and a trial cap."""

    def __init__(self, *args: Any, max_trials: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Hyperband sizes its own brackets; the base oracle stops at max_trials when set.
        if max_trials is not None and hasattr(self.oracle, "trials"):
            self.oracle.max_trials = int(max_trials)

    def _build_hypermodel(self, hp: Any) -> Any:
        with warnings.catch_warnings():
            # A continued trial loads its parent's weights into a fresh optimizer on purpose.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return super()._build_hypermodel(hp)


def make_tuner(
    search: SearchConfig,
    hypermodel: kt.HyperModel,
    *,
    directory: str | os.PathLike,
    project_name: str = "keras_tuner",
) -> kt.Tuner:
    """The tuner a search asks for, reloading its state from ``directory`` when there is one.

    Example:
        >>> tuner = make_tuner(load_search("s.yaml"), hm, directory="runs/tune/s")  # doctest: +SKIP
        >>> tuner.search(epochs=5)  # doctest: +SKIP
    """
    kt_utils.save_json = atomic_save_json  # every state file of keras-tuner goes through it
    o = search.options
    common: dict[str, Any] = {
        "hypermodel": hypermodel,
        "objective": kt.Objective(search.objective.name, search.objective.direction),
        # keras-tuner reads a seed of 0 as "none" and draws one at random.
        "seed": int(search.seed) + 1,
        "max_retries_per_trial": o["max_retries_per_trial"],
        "max_consecutive_failed_trials": o["max_consecutive_failed_trials"],
        "executions_per_trial": o["executions_per_trial"],
        "directory": str(directory),
        "project_name": project_name,
        "overwrite": False,  # an interrupted search goes on where it stopped
    }
    if search.tuner == "random":
        return RandomSearch(max_trials=search.max_trials, **common)
    if search.tuner == "bayesian":
        return BayesianOptimization(
            max_trials=search.max_trials, num_initial_points=o["num_initial_points"], **common
        )
    return Hyperband(
        max_epochs=search.epochs,
        factor=o["hyperband_factor"],
        hyperband_iterations=o["hyperband_iterations"],
        max_trials=search.max_trials,
        **common,
    )
