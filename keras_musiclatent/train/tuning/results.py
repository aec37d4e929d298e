"""Results of a search as files: a trials table (CSV and Markdown), the best config, a summary.

Works on plain records (one dict per trial), so it imports neither Keras nor keras-tuner::

    {"trial": "03", "status": "COMPLETED", "score": 8.1,
     "hyperparameters": {...}, "metrics": {"trial_seconds": 95.0, ...}}
"""

from __future__ import annotations

import csv
import io
import math
import os
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from keras_musiclatent._files import atomic_path, write_json

__all__ = ["RESULT_FILES", "markdown_table", "ranked", "write_results"]

#: What :func:`write_results` writes (the light files that may be kept in a repository).
RESULT_FILES = ("trials.csv", "trials.md", "best.json", "summary.json")

# Trial facts shown before the hyper-parameters, in this order.
_FACT_COLUMNS = ("trial_seconds", "epochs_run", "best_epoch", "parameters")


def ranked(records: Sequence[Mapping[str, Any]], *, direction: str) -> list[Mapping[str, Any]]:
    """Completed trials best first, then the others in trial order.

    Example:
        >>> [r["trial"] for r in ranked([{"trial": "0", "status": "COMPLETED", "score": 2.0},
        ...                              {"trial": "1", "status": "FAILED", "score": None},
        ...                              {"trial": "2", "status": "COMPLETED", "score": 1.0}],
        ...                             direction="min")]
        ['2', '0', '1']
    """
    done = [r for r in records if r["status"] == "COMPLETED" and _finite(r.get("score"))]
    done.sort(key=lambda r: r["score"], reverse=direction == "max")
    rest = [r for r in records if r not in done]
    return done + rest


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def _columns(records: Sequence[Mapping[str, Any]], objective: str) -> tuple[list, list, list]:
    hp_names: list[str] = []
    metric_names: list[str] = []
    for r in records:
        for k in r["hyperparameters"]:
            if k not in hp_names:
                hp_names.append(k)
        for k in r["metrics"]:
            if k not in metric_names and k != objective and k not in _FACT_COLUMNS:
                metric_names.append(k)
    facts = [c for c in _FACT_COLUMNS if any(c in r["metrics"] for r in records)]
    return facts, hp_names, sorted(metric_names)


def _cell(value: Any, *, short: bool = True) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # counts (epochs, parameters) logged as floats
        # The CSV keeps every digit (it is data); the Markdown table is for reading.
        return f"{value:.6g}" if short else repr(value)
    return str(value)


def _rows(records: Sequence[Mapping[str, Any]], objective: str) -> tuple[list, list]:
    facts, hp_names, metric_names = _columns(records, objective)
    header = ["trial", "status", objective, *facts, *hp_names, *metric_names]
    rows = []
    for r in records:
        m, h = r["metrics"], r["hyperparameters"]
        rows.append(
            [r["trial"], r["status"], r.get("score")]
            + [m.get(c) for c in facts]
            + [h.get(c) for c in hp_names]
            + [m.get(c) for c in metric_names]
        )
    return header, rows


def markdown_table(records: Sequence[Mapping[str, Any]], *, objective: str) -> str:
    """A Markdown table of trials: objective, time and hyper-parameters, one row per trial."""
    header, rows = _rows(records, objective)
    # The per-metric columns make a wide table; the CSV keeps them.
    keep = len(header) - len(_columns(records, objective)[2])
    lines = ["| " + " | ".join(header[:keep]) + " |", "|" + "---|" * keep]
    for row in rows:
        lines.append("| " + " | ".join(_cell(v) for v in row[:keep]) + " |")
    return "\n".join(lines) + "\n"


def write_results(
    out: str | os.PathLike,
    records: Sequence[Mapping[str, Any]],
    *,
    objective: str,
    direction: str,
    best_config: Mapping[str, Any] | None,
    summary: Mapping[str, Any],
) -> None:
    """Write :data:`RESULT_FILES` to ``out`` (each atomically).

    Args:
        out: the folder (created).
        records: one per trial (see the module docstring).
        objective: the objective's name (a column of the tables).
        direction: ``"min"`` or ``"max"``: how the tables are ranked.
        best_config: ``best.json``'s content (training-config sections); ``None``: no
            completed trial yet, no file.
        summary: extra facts for ``summary.json`` (search name, tuner, command, ...).

    Example:
        >>> write_results("runs/tune/x", records, objective="val_spectral_rmse_db",
        ...               direction="min", best_config=cfg, summary={})  # doctest: +SKIP
    """
    out = Path(out)
    order = ranked(records, direction=direction)
    header, rows = _rows(sorted(records, key=lambda r: _trial_key(r["trial"])), objective)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([[_cell(v, short=False) for v in row] for row in rows])
    with atomic_path(out / "trials.csv") as tmp:
        tmp.write_text(buffer.getvalue())
    with atomic_path(out / "trials.md") as tmp:
        tmp.write_text(markdown_table(order, objective=objective))
    if best_config is not None:
        write_json(out / "best.json", best_config)
    done = [r for r in records if r["status"] == "COMPLETED" and _finite(r.get("score"))]
    seconds = [r["metrics"]["trial_seconds"] for r in done if "trial_seconds" in r["metrics"]]
    best = order[0] if done else None
    write_json(
        out / "summary.json",
        {
            **summary,
            "objective": {"name": objective, "direction": direction},
            "trials": len(records),
            "completed": len(done),
            "failed": sum(r["status"] in ("FAILED", "INVALID") for r in records),
            "best_trial": None if best is None else best["trial"],
            "best_value": None if best is None else best["score"],
            "best_hyperparameters": None if best is None else dict(best["hyperparameters"]),
            "seconds_per_trial": {
                "median": round(statistics.median(seconds), 1) if seconds else None,
                "mean": round(statistics.fmean(seconds), 1) if seconds else None,
                "total": round(sum(seconds), 1),
            },
        },
    )


def _trial_key(trial_id: str) -> tuple[int, str]:
    return (int(trial_id), trial_id) if trial_id.isdigit() else (1 << 30, trial_id)
