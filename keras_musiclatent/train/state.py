"""The state of a run folder: one small JSON says what is valid; a lock keeps one writer.

Every epoch of :func:`keras_musiclatent.train.loop.train` ends with one commit:

1. everything of epoch ``N`` is written beside the run under new names
   (``checkpoints/epoch-N.weights.h5`` for resuming, ``checkpoints/last-N.keras`` and,
   when the monitored metric improved, ``checkpoints/best-N.keras``);
2. ``state.json`` is replaced atomically by one naming them, with the history, the
   early-stopping counters and the random-generator states: this rename *is* the commit;
3. the named model files are renamed to ``last.keras``/``best.keras`` and ``history.csv``
   and ``training.json`` are rewritten from the state.

A kill before step 2 leaves the previous epoch committed (its files untouched; the new ones
are removed on the next start); a kill after it is finished by :func:`open_run` on the next
start, which also removes temporary files of killed writes. So ``history.csv``, the counters
in ``training.json`` and the checkpoints always agree with ``state.json``.

A run folder written before ``state.json`` existed (Keras ``BackupAndRestore`` in
``backup/``) is read as well: its ``training_metadata.json`` is recovered from the ``.bkp``
copy when a kill cut it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import fcntl
import io
import json
import math
import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from keras_musiclatent._files import atomic_path, write_json
from keras_musiclatent.errors import DamagedStateError, FolderInUseError

__all__ = [
    "CHECKPOINTS",
    "STATE",
    "DamagedStateError",
    "FolderInUseError",
    "RunState",
    "clean_temporary_files",
    "commit",
    "folder_lock",
    "open_run",
    "read_json_file",
]

STATE = "state.json"
CHECKPOINTS = "checkpoints"
LOCK = ".lock"
#: Files of a Keras ``BackupAndRestore`` folder (run folders of earlier versions).
LEGACY_BACKUP = "backup"


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, *, name: str = LOCK) -> Iterator[Path]:
    """Hold an exclusive lock on ``folder`` (created if missing) while the block runs.

    The lock is ``fcntl.flock`` on ``folder/name``: the system drops it when the process
    ends, even by ``kill -9``, so a crashed run never leaves a stale lock.

    Raises:
        FolderInUseError: another process (or another open of the lock in this one) holds it.

    Example:
        >>> with folder_lock("runs/vae"):  # doctest: +SKIP
        ...     train(config, out="runs/vae", resume=True)
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    fh = open(path, "a+")  # noqa: SIM115 - held open for the lock's lifetime
    try:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            who = f" (pid {holder})" if holder.isdigit() else ""
            raise FolderInUseError(
                f"{folder} is in use by another process{who}; wait for it to end or choose "
                "another --out"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        yield folder
    finally:
        fh.close()  # closing the descriptor releases the lock


def read_json_file(path: Path, *, backup: Path | None = None, what: str = "state") -> Any:
    """Parse a JSON state file, falling back to an intact ``backup`` copy.

    Raises:
        DamagedStateError: the file (and its backup) is empty, cut or not JSON; the message
            names the file.

    Example:
        >>> read_json_file(Path("runs/vae/state.json"))["epochs_completed"]  # doctest: +SKIP
        4
    """
    try:
        return json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        problem = f"{path} is damaged ({exc})"
    if backup is not None and backup.is_file():
        try:
            return json.loads(backup.read_text())
        except (ValueError, UnicodeDecodeError):
            problem += f" and so is its copy {backup.name}"
    raise DamagedStateError(f"{problem}; the {what} cannot be recovered from it")


@dataclasses.dataclass(frozen=True)
class RunState:
    """What a run folder holds, as of its last committed epoch.

    Attributes:
        epochs_completed: epochs trained and committed.
        weights: the resume checkpoint (model and optimizer), relative to the run folder;
            ``None`` before the first epoch.
        rng: each random seed generator's state, in ``model.variables`` order (Keras does
            not save them with the weights).
        history: one log dict per epoch, ``epoch`` first.
        best: lowest value of the monitored metric so far, and ``best_epoch`` where.
        wait: epochs since it last improved (early stopping).
        finished: the run ended (all epochs, early stopping, or a NaN loss).
        stop_reason: ``"epochs"``, ``"early_stopping"`` or ``"nan_loss"`` once finished.
        pending: ``{final name: file}`` model files of the last epoch still to be renamed.
        seconds: training time summed over every call.
        info: facts for ``training.json`` (clip counts, parameters, versions).
    """

    epochs_completed: int = 0
    weights: str | None = None
    rng: tuple[tuple[int, ...], ...] = ()
    history: tuple[dict[str, float], ...] = ()
    best: float | None = None
    best_epoch: int | None = None
    wait: int = 0
    finished: bool = False
    stop_reason: str | None = None
    pending: dict[str, str] = dataclasses.field(default_factory=dict)
    seconds: float = 0.0
    info: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``state.json``)."""
        out = dataclasses.asdict(self)
        out["rng"] = [list(r) for r in self.rng]
        out["history"] = list(self.history)
        return {"version": 1, **out}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> RunState:
        """The state a ``state.json`` holds."""
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in raw.items() if k in fields}
        kwargs["rng"] = tuple(tuple(int(x) for x in r) for r in raw.get("rng", ()))
        kwargs["history"] = tuple(dict(row) for row in raw.get("history", ()))
        return cls(**kwargs)


def _is_temporary(path: Path) -> bool:
    # _files.atomic_path writes ".<name>.<random><suffix>" beside the destination.
    name = path.name
    return name.startswith(".") and name.endswith((".part", ".keras", ".h5"))


def clean_temporary_files(out: Path, state: RunState | None = None) -> list[Path]:
    """Remove what killed writes left in a run folder; returns the removed paths.

    Temporary files of atomic writes go, and so do checkpoint files the committed ``state``
    does not name (an epoch killed before its commit).
    """
    removed = []
    for folder in (out, out / CHECKPOINTS):
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and _is_temporary(path):
                path.unlink()
                removed.append(path)
    keep = set()
    if state is not None:
        keep = {state.weights, *state.pending.values()} - {None}
    ckpt = out / CHECKPOINTS
    if ckpt.is_dir():
        for path in ckpt.iterdir():
            if path.is_file() and f"{CHECKPOINTS}/{path.name}" not in keep:
                path.unlink()
                removed.append(path)
    return removed


def _history_csv(history: Sequence[Mapping[str, float]]) -> str:
    keys = sorted({k for row in history for k in row} - {"epoch"})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for row in history:
        epoch = int(row["epoch"])
        writer.writerow([epoch, *(repr(float(row[k])) if k in row else "" for k in keys)])
    return buffer.getvalue()


def _training_json(state: RunState, monitor: str) -> dict[str, Any]:
    return {
        "epochs_completed": state.epochs_completed,
        "finished": state.finished,
        "stop_reason": state.stop_reason,
        "best": {monitor: state.best},
        "best_epoch": state.best_epoch,
        "seconds": round(state.seconds, 1),
        **state.info,
    }


def _apply(out: Path, state: RunState, monitor: str) -> None:
    """Bring the derived files of ``out`` in line with a committed ``state``."""
    for final, source in state.pending.items():
        if (out / source).is_file():
            os.replace(out / source, out / final)
    text = _history_csv(state.history) if state.history else None
    history = out / "history.csv"
    if text is not None and (not history.is_file() or history.read_text() != text):
        with atomic_path(history) as tmp:
            tmp.write_text(text)
    if state.epochs_completed:
        training = _training_json(state, monitor)
        path = out / "training.json"
        current = None
        if path.is_file():
            with contextlib.suppress(ValueError):
                current = json.loads(path.read_text())
        if current != json.loads(json.dumps(training, default=str)):
            write_json(path, training)
    clean_temporary_files(out, state)
    if (out / LEGACY_BACKUP).is_dir() and not str(state.weights).startswith(LEGACY_BACKUP):
        shutil.rmtree(out / LEGACY_BACKUP)


def commit(out: Path, state: RunState, *, monitor: str) -> None:
    """Make ``state`` the run's state (one atomic rename), then update the derived files.

    Every file ``state`` names must be written (completely) before the call.
    """
    write_json(out / STATE, state.to_json())
    _apply(out, state, monitor)


def _read_history(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        rows = [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(fh)]
    for row in rows:
        row["epoch"] = int(row["epoch"])
    return rows


def _legacy_state(out: Path, *, epochs: int, monitor: str) -> RunState:
    """The state of a run folder written with Keras ``BackupAndRestore`` (no ``state.json``)."""
    history = _read_history(out / "history.csv")
    backup = out / LEGACY_BACKUP
    weights = backup / "latest.weights.h5"
    metadata = backup / "training_metadata.json"
    if not weights.is_file():
        training = out / "training.json"
        if training.is_file() and history:
            # Keras deletes backup/ when fit returns: the run ended.
            values = [r[monitor] for r in history if math.isfinite(r.get(monitor, math.nan))]
            return RunState(
                epochs_completed=len(history),
                history=tuple(history),
                best=min(values) if values else None,
                finished=True,
                stop_reason="epochs" if len(history) >= epochs else "early_stopping",
            )
        return RunState()  # killed before its first epoch ended
    if not metadata.is_file():
        raise DamagedStateError(f"{metadata} is missing; the run cannot be resumed from it")
    try:
        meta = json.loads(metadata.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        # A kill cut the file after the epoch's weights were replaced: the previous epoch's
        # copies (metadata and weights, ".bkp") belong together.
        previous, previous_weights = Path(f"{metadata}.bkp"), Path(f"{weights}.bkp")
        if not (previous.is_file() and previous_weights.is_file()):
            raise DamagedStateError(
                f"{metadata} is damaged ({exc}) and has no intact .bkp copy; remove "
                f"{backup} to train this run again from epoch 0, or choose another --out"
            ) from None
        try:
            meta = json.loads(previous.read_text())
        except (ValueError, UnicodeDecodeError):
            raise DamagedStateError(
                f"{metadata} and its copy {previous.name} are damaged ({exc}); remove "
                f"{backup} to train this run again from epoch 0, or choose another --out"
            ) from None
        weights = previous_weights
    done = int(meta["epoch"])
    if weights.name.endswith(".bkp"):
        # Keras loads weights only from files named *.weights.h5.
        copy = out / CHECKPOINTS / f"epoch-{done:04d}.weights.h5"
        with atomic_path(copy, suffix=".weights.h5") as tmp:
            shutil.copyfile(weights, tmp)
        weights = copy
    kept = tuple(r for r in history if r["epoch"] < done)
    values = [r[monitor] for r in kept if math.isfinite(r.get(monitor, math.nan))]
    best = min(values) if values else None
    best_epoch = next((r["epoch"] for r in kept if r.get(monitor) == best), None)
    return RunState(
        epochs_completed=done,
        weights=str(weights.relative_to(out)),
        history=kept,
        best=best,
        best_epoch=best_epoch,
        wait=0 if best_epoch is None else done - 1 - best_epoch,
    )


def open_run(out: Path, *, epochs: int, monitor: str) -> RunState:
    """Read the committed state of a run folder and finish what a kill interrupted.

    Call it holding :func:`folder_lock`. A committed epoch whose files were not all in place
    is completed; temporary files and uncommitted checkpoints are removed. A run folder of
    an earlier version (``backup/``) is read without changes to it.

    Raises:
        DamagedStateError: a state file that cannot be read (the message names it).
    """
    path = out / STATE
    if path.is_file():
        state = RunState.from_json(read_json_file(path))
        _apply(out, state, monitor)
        return state
    state = _legacy_state(out, epochs=epochs, monitor=monitor)
    if not state.finished:
        clean_temporary_files(out, state)
    return state
