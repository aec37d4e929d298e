"""Run a search: the search file → a tuner → trials → result files. Resumable, distributable.

An output folder holds::

    OUT/search.json         the resolved search (a resumed search must match it, max_trials
                            aside)
    OUT/keras_tuner/        keras-tuner's state: oracle.json, trial_*/ (trial.json, the best
                            epoch's weights), executions.jsonl
    OUT/trials.csv          one row per trial: objective, seconds, epochs, hyper-parameters
    OUT/trials.md           the same ranked best first, as a Markdown table
    OUT/best.json           the best trial's model/optimizer (+ data.segment_seconds) sections
    OUT/summary.json        best trial and value, counts, time per trial, versions
    OUT/.lock               held by the process running the search (``.lock-<id>``: a worker)

A search killed at any point (even ``kill -9``) goes on when run again with the same ``OUT``:
completed trials are kept and the interrupted one runs again. keras-tuner's state files are
written atomically, and one cut by a kill under an earlier version is repaired or named
(:func:`repair_search_state`).

Distributed search uses keras-tuner's chief/worker mode, chosen by the environment
(``KERASTUNER_TUNER_ID`` = ``chief`` or a worker name, ``KERASTUNER_ORACLE_IP``,
``KERASTUNER_ORACLE_PORT``): the chief runs the oracle and writes the result files once every
worker is done; the workers train.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import keras_tuner as kt

from keras_musiclatent._files import write_json
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import check_data_root
from keras_musiclatent.train.datasets import tables
from keras_musiclatent.train.state import DamagedStateError, folder_lock
from keras_musiclatent.train.tuning.config import SearchConfig, load_search
from keras_musiclatent.train.tuning.hypermodels import LatentHyperModel, _model_arguments
from keras_musiclatent.train.tuning.results import write_results
from keras_musiclatent.train.tuning.tuners import EXECUTIONS_FILE, make_tuner

__all__ = [
    "SearchResult",
    "distributed_role",
    "read_executions",
    "repair_search_state",
    "run_search",
    "trial_records",
]

PROJECT = "keras_tuner"


@dataclass
class SearchResult:
    """What :func:`run_search` did.

    Attributes:
        out: the output folder.
        role: ``"standalone"``, ``"chief"`` or ``"worker"``.
        trials: trials the oracle holds (standalone/chief); trials this process ran (worker).
        completed: completed trials (standalone/chief); as ``trials`` for a worker.
        best_trial: the best trial's id (``None`` on a worker or before any completed trial).
        best_value: its objective value.
        best_config: its ``best.json`` content.
        seconds: wall time of this call.
    """

    out: Path
    role: str
    trials: int
    completed: int
    best_trial: str | None
    best_value: float | None
    best_config: dict[str, Any] | None
    seconds: float


def distributed_role() -> str:
    """``"standalone"``, ``"chief"`` or ``"worker"``, from keras-tuner's environment variables.

    Raises:
        ConfigError: ``KERASTUNER_ORACLE_IP`` set without the port or the tuner id.

    Example:
        >>> os.environ.get("KERASTUNER_ORACLE_IP") is None and distributed_role()
        'standalone'
    """
    if "KERASTUNER_ORACLE_IP" not in os.environ:
        return "standalone"
    missing = [v for v in ("KERASTUNER_ORACLE_PORT", "KERASTUNER_TUNER_ID") if v not in os.environ]
    if missing:
        raise ConfigError(f"KERASTUNER_ORACLE_IP is set but {' and '.join(missing)} is not")
    return "chief" if "chief" in os.environ["KERASTUNER_TUNER_ID"] else "worker"


def _comparable(search: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(search)
    out.pop("max_trials", None)  # raising it is how a finished search is extended
    return out


def _claim(out: Path, search: SearchConfig) -> None:
    saved = out / "search.json"
    current = search.to_json()
    if saved.is_file():
        previous = json.loads(saved.read_text())
        if _comparable(previous) != _comparable(current):
            changed = sorted(
                k for k in set(previous) | set(current) if previous.get(k) != current.get(k)
            )
            raise ConfigError(
                f"{out} holds a search with another definition ({', '.join(changed)} differ); "
                "choose another --out to start a new one"
            )
    write_json(saved, current)


def _parses(path: Path) -> bool:
    try:
        json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _forget_trial(oracle_path: Path, trial_id: str) -> None:
    """Remove an unfinished trial from keras-tuner's oracle state, so it is created again."""
    state = json.loads(oracle_path.read_text())
    state["ongoing_trials"] = {
        tuner: trial for tuner, trial in state["ongoing_trials"].items() if trial != trial_id
    }
    state["start_order"] = [t for t in state["start_order"] if t != trial_id]
    state["retry_queue"] = [t for t in state["retry_queue"] if t != trial_id]
    state["run_times"].pop(trial_id, None)
    values_hash = state["id_to_hash"].pop(trial_id, None)
    state["tried_so_far"] = [h for h in state["tried_so_far"] if h != values_hash]
    display = state.get("display", {})
    for key in ("trial_start", "trial_number"):
        if isinstance(display.get(key), dict):
            display[key].pop(trial_id, None)
    write_json(oracle_path, state)


def repair_search_state(project: str | os.PathLike) -> list[str]:
    """Make a keras-tuner project folder readable again after a kill; say what was done.

    Temporary files of killed writes are removed. A ``trial.json`` (or ``build_config.json``)
    cut by a kill, of the last trial the oracle had not finished, is dropped with its folder:
    the oracle creates that trial again. Any other damaged state file stops the search with
    one line naming it (keras-tuner keeps no copy to recover from).

    Raises:
        DamagedStateError: a damaged ``oracle.json``, tuner file, or file of a finished trial.
    """
    project = Path(project)
    if not project.is_dir():
        return []
    done = []
    for path in sorted(project.rglob(".*.part")):
        path.unlink()
    damaged = [p for p in sorted(project.rglob("*.json")) if not _parses(p)]
    if not damaged:
        return done
    oracle_path = project / "oracle.json"
    advice = f"restore it, or move {project.parent} aside and start the search again"
    if oracle_path in damaged or not oracle_path.is_file():
        raise DamagedStateError(f"{damaged[0]} is damaged (cut by a kill?); {advice}")
    finished = set(json.loads(oracle_path.read_text())["end_order"])
    trials = sorted(p.name for p in project.glob("trial_*") if p.is_dir())
    for path in damaged:
        folder = path.parent
        trial_id = folder.name.removeprefix("trial_")
        if folder.parent != project or not folder.name.startswith("trial_"):
            raise DamagedStateError(f"{path} is damaged (cut by a kill?); {advice}")
        if trial_id in finished or folder.name != trials[-1]:
            # Trial ids count the trials: only the newest one can be created again.
            raise DamagedStateError(
                f"{path} is damaged (cut by a kill?) and holds trial {trial_id}; {advice}"
            )
        _forget_trial(oracle_path, trial_id)
        shutil.rmtree(folder)
        trials.pop()
        done.append(f"trial {trial_id}: its state was cut by a kill; it runs again")
    return done


def trial_records(oracle: Any) -> list[dict[str, Any]]:
    """One plain record per trial of a keras-tuner oracle (see :mod:`.results`)."""
    records = []
    for trial in oracle.trials.values():
        metrics = {}
        for name in trial.metrics.metrics:
            value = trial.metrics.get_last_value(name)
            if value is not None:
                metrics[name] = float(value)
        records.append(
            {
                "trial": str(trial.trial_id),
                "status": str(trial.status),
                "score": None if trial.score is None else float(trial.score),
                "hyperparameters": dict(trial.hyperparameters.values),
                "metrics": metrics,
            }
        )
    return records


def run_search(
    search: SearchConfig | str | os.PathLike | Mapping[str, Any],
    *,
    out: str | os.PathLike,
    max_trials: int | None = None,
    seed: int | None = None,
    verbose: int | str = "auto",
    export: str | os.PathLike | None = None,
    command: str | None = None,
) -> SearchResult:
    """Run (or resume, or take part in) a hyper-parameter search.

    Args:
        search: a :class:`SearchConfig`, a search file or a mapping.
        out: the output folder (see the module docstring); the same folder resumes.
        max_trials: overrides ``search.max_trials`` (raise it to extend a finished search).
        seed: overrides ``search.seed``.
        verbose: Keras and keras-tuner progress setting.
        export: also copy the result files (not keras-tuner's state) to this folder.
        command: the command line, recorded in ``summary.json``.

    Returns:
        A :class:`SearchResult`.

    Raises:
        ConfigError: a bad search; a missing dataset (checked before anything is written;
            not on the chief); ``out`` holding a search with another definition.
        DatasetError: a dataset that holds no clips or cannot be listed.
        FolderInUseError: another process runs this search (or this worker id) in ``out``.
        DamagedStateError: a state file of keras-tuner that cannot be recovered.

    Example:
        >>> run_search("my-search.yaml", out="runs/tune/mine", max_trials=12)  # doctest: +SKIP
    """
    if not isinstance(search, SearchConfig):
        search = load_search(search, max_trials=max_trials, seed=seed)
    elif max_trials is not None or seed is not None:
        raise ConfigError("pass max_trials and seed to load_search with a SearchConfig")
    role = distributed_role()
    out = Path(out)
    if role != "chief":  # the chief trains nothing and needs no data
        # The data every trial reads, checked before anything is written: a missing or
        # empty dataset is one error here, not a failed trial after another.
        check_data_root(search.base)
        if search.base["data"]["dataset"] != "shards":
            tables(search.base)
    _check_model_keys(search.base["model"])
    created = not out.exists()
    # One process per role in a search folder: the chief (or a standalone search) owns the
    # oracle; each worker id may run once.
    lock = ".lock" if role != "worker" else f".lock-{os.environ['KERASTUNER_TUNER_ID']}"
    try:
        with folder_lock(out, name=lock):
            if role != "worker":
                for line in repair_search_state(out / PROJECT):
                    print(f"search: {line}", flush=True)
            return _run_search(
                search, out=out, role=role, verbose=verbose, export=export, command=command
            )
    except BaseException:
        # A search that failed before it claimed the folder it created leaves nothing behind.
        if created and not (out / "search.json").exists():
            shutil.rmtree(out, ignore_errors=True)
        raise


#: Model-section keys that are not arguments of the model class's own signature.
_OTHER_MODEL_KEYS = {"class", "encoder_weights", "name", "dtype", "trainable"}


def _check_model_keys(model: Mapping[str, Any]) -> None:
    # Every trial would fail on it, each with keras-tuner's traceback: one line here instead.
    unknown = sorted(set(model) - _OTHER_MODEL_KEYS - _model_arguments(model["class"]))
    if unknown:
        raise ConfigError(f"model {model['class']} does not take {', '.join(unknown)}")


def _run_search(
    search: SearchConfig,
    *,
    out: Path,
    role: str,
    verbose: int | str,
    export: str | os.PathLike | None,
    command: str | None,
) -> SearchResult:
    hypermodel = LatentHyperModel(search.base, search.space, objective=search.objective)
    # Building the tuner builds a model per branch of the space (a bad value fails here) and
    # only reads an existing state; the folder is claimed once all that went well.
    tuner = make_tuner(search, hypermodel, directory=out, project_name=PROJECT)
    _claim(out, search)
    if role != "worker":
        done = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values())
        print(
            f"search {search.name}: {search.tuner}, {done}/{search.max_trials} trials done, "
            f"{search.objective.direction}imise {search.objective.name}; state in "
            f"{out / PROJECT}",
            flush=True,
        )
    start = time.time()
    tuner.search(epochs=search.epochs, verbose=verbose)
    seconds = time.time() - start

    if role == "worker":
        mine = [r for r in read_executions(out) if r["pid"] == os.getpid()]
        print(f"worker {tuner.tuner_id}: ran {len(mine)} trial(s)", flush=True)
        return SearchResult(out, role, len(mine), len(mine), None, None, None, seconds)

    records = trial_records(tuner.oracle)
    best_trials = [t for t in tuner.oracle.get_best_trials(1) if t.status == "COMPLETED"]
    best = best_trials[0] if best_trials else None
    best_config = None if best is None else hypermodel.best_config(best.hyperparameters.copy())
    summary = {
        "search": search.name,
        "tuner": search.tuner,
        "max_trials": search.max_trials,
        "epochs": search.epochs,
        "seed": search.seed,
        "command": command,
        "data": {k: search.base["data"][k] for k in ("dataset", "root", "max_clips")},
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "keras_tuner": kt.__version__,
        "python": platform.python_version(),
    }
    destinations = [out] + ([Path(export)] if export is not None else [])
    for folder in destinations:
        write_results(
            folder,
            records,
            objective=search.objective.name,
            direction=search.objective.direction,
            best_config=best_config,
            summary=summary,
        )
    completed = sum(r["status"] == "COMPLETED" for r in records)
    return SearchResult(
        out,
        role,
        len(records),
        completed,
        None if best is None else str(best.trial_id),
        None if best is None else float(best.score),
        best_config,
        seconds,
    )


def read_executions(out: str | os.PathLike) -> list[dict[str, Any]]:
    """The execution log of a search folder: one record per trial run, in finishing order.

    A line cut by a kill is left out with a warning.

    Example:
        >>> {r["trial_id"] for r in read_executions("runs/tune/gtzan-vae")}  # doctest: +SKIP
        {'00', '01', '02'}
    """
    path = Path(out) / PROJECT / EXECUTIONS_FILE
    if not path.is_file():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            # A line cut by a kill while it was written: the trial is in the oracle's state.
            warnings.warn(f"{path}: line {number} is cut; left out", stacklevel=2)
    return records
