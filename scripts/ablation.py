"""Train and evaluate each row of a recipe's ablation, and write the table of its model card.

Every row is ``musiclatent train RECIPE --set KEY=VALUE ...`` (the settings of the row file)
followed by ``musiclatent evaluate RUN --split valid --no-peer --audio-segments 1 --pairs 1``
on the GTZAN valid split; finished runs and evaluations are kept, so an interrupted ablation
resumes where it stopped. The table (Markdown) lists each row's command and its figures.

Usage::

    python scripts/ablation.py scripts/gtzan-vae-ablation.yaml --data path/to/gtzan \\
        --music path/to/unlabelled --out runs/ablation --table zoo/gtzan-vae/ablation.md
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from keras_musiclatent._files import atomic_path

EVALUATE = ["--split", "valid", "--no-peer", "--audio-segments", "1", "--pairs", "1"]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _value(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    return str(v)


def row_settings(row: dict[str, Any]) -> list[str]:
    """The ``--set KEY=VALUE`` arguments of a row."""
    out = []
    for key, value in (row.get("set") or {}).items():
        out += ["--set", f"{key}={_value(value)}"]
    return out


def run_row(recipe: str, row: dict[str, Any], args: argparse.Namespace) -> Path:
    """Train (or resume) and evaluate one row; returns its evaluation JSON."""
    folder = args.out / _slug(row["name"])
    run, result = folder / "run", folder / "eval.json"
    if not result.exists():
        train = ["musiclatent", "train", recipe, "--data", str(args.data), "--out", str(run)]
        train += ["--set", f"data.extra_sources.unlabelled.root={args.music}", *row_settings(row)]
        if (run / "state.json").exists():
            train.append("--resume")
        subprocess.run(train, check=True)
        evaluate = ["musiclatent", "evaluate", str(run), "--data", str(args.data), *EVALUATE]
        subprocess.run([*evaluate, "--json", str(result)], check=True)
    return result


def table(recipe: str, rows: list[dict[str, Any]], results: list[dict[str, Any]]) -> str:
    """The Markdown ablation table of evaluated rows."""
    lines = [
        "| row | valid probe | MFCC probe | global-latent RMSE (dB) | PCA-64 (dB) "
        "| global + time RMSE (dB) | PCA, same numbers (dB) |",
        "|---|---|---|---|---|---|---|",
    ]
    for row, r in zip(rows, results, strict=True):
        rec, genre = r["reconstruction"], r["genre"]
        both = rec.get("global_time_rmse_db")
        both = "" if both is None else f"{both:.2f}"
        same = rec.get("pca_same_numbers_rmse_db")
        if same is not None:
            same = f"{same:.2f} ({rec['numbers_per_segment']})"
        lines.append(
            f"| {row['name']} | {100 * genre['latent_probe']['accuracy']:.1f}% "
            f"| {100 * genre['mfcc_logistic']['accuracy']:.1f}% "
            f"| {rec['latent_rmse_db']:.2f} | {rec['pca_same_dims_rmse_db']:.2f} "
            f"| {both} | {same or ''} |"
        )
    lines += ["", "Commands (each row's run, then its evaluation):", ""]
    for row in rows:
        sets = " ".join(row_settings(row))
        lines += [
            f"- {row['name']}: `musiclatent train {recipe} --data path/to/gtzan --set "
            f"data.extra_sources.unlabelled.root=path/to/music {sets} --out RUN` "
            f"then `musiclatent evaluate RUN --data path/to/gtzan {' '.join(EVALUATE)}`".replace(
                "  ", " "
            )
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=Path, help="the ablation file (recipe and rows)")
    parser.add_argument("--data", type=Path, required=True, help="GTZAN folder")
    parser.add_argument("--music", type=Path, required=True, help="unlabelled music folder")
    parser.add_argument("--out", type=Path, required=True, help="folder of the runs")
    parser.add_argument("--table", type=Path, help="write the Markdown table here")
    parser.add_argument("--only", nargs="*", help="row names to run (default: all)")
    args = parser.parse_args()
    spec = yaml.safe_load(args.rows.read_text())
    rows = [r for r in spec["rows"] if not args.only or r["name"] in args.only]
    results = []
    for row in rows:
        print(f"== {row['name']}", file=sys.stderr, flush=True)
        results.append(json.loads(run_row(spec["recipe"], row, args).read_text()))
    if args.table:
        with atomic_path(args.table) as tmp:
            Path(tmp).write_text(table(spec["recipe"], rows, results))
    print(table(spec["recipe"], rows, results))


if __name__ == "__main__":
    main()
