"""``musiclatent tune SEARCH --data DIR --out OUT``: run, resume or join a hyper-parameter
search. ``SEARCH`` is a search file or the name of a shipped one (``gtzan-vae``).

Imports nothing heavy at module level: keras-tuner loads when a search runs.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from keras_musiclatent.cli._command import Command, add_config_options, print_json
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train import tuning
from keras_musiclatent.train.config import apply_settings, read_config_file
from keras_musiclatent.train.tuning.config import load_search, resolve_search

__all__ = ["COMMANDS", "HELP", "configure", "run"]

HELP = (
    "search hyper-parameters with keras-tuner (random, Bayesian, Hyperband); resumes an "
    "interrupted search; chief/worker via KERASTUNER_* variables"
)


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the ``tune`` arguments to ``parser``.

    Example:
        >>> p = argparse.ArgumentParser(); configure(p)
        >>> p.parse_args(["s.yaml", "--out", "runs/tune/s", "--max-trials", "4"]).max_trials
        4
    """
    parser.add_argument(
        "search",
        metavar="SEARCH",
        help="a search file (YAML/JSON), or the name of a shipped search (gtzan-vae)",
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="search folder; the same folder resumes"
    )
    add_config_options(parser)
    parser.add_argument("--max-trials", type=int, default=None, help="overrides search.max_trials")
    parser.add_argument("--seed", type=int, default=None, help="overrides search.seed")
    parser.add_argument(
        "--export",
        type=Path,
        default=None,
        help="also write the result tables and best.json here (not keras-tuner's state)",
    )


def _command_line(args: argparse.Namespace) -> str:
    words = ["musiclatent", "tune", str(args.search), "--out", str(args.out)]
    if args.data is not None:
        words += ["--data", str(args.data)]
    for setting in args.settings:
        words += ["--set", setting]
    for flag, value in (("--max-trials", args.max_trials), ("--seed", args.seed)):
        if value is not None:
            words += [flag, str(value)]
    if args.export is not None:
        words += ["--export", str(args.export)]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    """Run the search ``args`` describe; prints a JSON summary; returns the exit status."""
    if args.max_trials is not None and args.max_trials < 1:
        raise ConfigError(f"--max-trials must be >= 1, got {args.max_trials}")
    path = resolve_search(args.search)
    raw = read_config_file(path, what="search")
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    raw = apply_settings(raw, args.settings, data=args.data)
    if isinstance(raw.get("search"), dict):
        raw["search"].setdefault("name", path.stem)
    search = load_search(raw, max_trials=args.max_trials, seed=args.seed, where=str(path))

    # tuning.run_search loads Keras and keras-tuner on first use (the package's __getattr__).
    result = tuning.run_search(
        search,
        out=args.out,
        verbose=1 if sys.stdout.isatty() else 2,
        export=args.export,
        command=_command_line(args),
    )
    summary = {
        "out": str(result.out),
        "role": result.role,
        "trials": result.trials,
        "completed": result.completed,
        "best_trial": result.best_trial,
        "best_" + search.objective.name: result.best_value,
        "seconds": round(result.seconds, 1),
    }
    print_json(summary)
    return 0


COMMANDS = {"tune": Command(HELP, configure, run)}
