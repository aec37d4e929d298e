"""The one way a module adds commands to ``musiclatent``.

Each command module defines ``COMMANDS = {name: Command(help, configure, run)}``;
:mod:`keras_musiclatent.cli.main` lists the modules and builds the parser from them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["Command", "add_config_options", "positive_int", "print_json"]


class Command(NamedTuple):
    """One ``musiclatent`` command.

    Attributes:
        help: one line for ``musiclatent --help``.
        configure: adds the command's arguments to its sub-parser.
        run: does the work; returns the exit status.
    """

    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def positive_int(text: str) -> int:
    """An ``argparse`` type: an integer of at least 1 (else a one-line usage error)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def print_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout (what every command reports)."""
    print(json.dumps(payload, indent=2))


def add_config_options(parser: argparse.ArgumentParser) -> None:
    """``--data DIR`` and repeatable ``--set KEY=VALUE``: what ``train`` and ``tune`` change in
    a config or search file without editing it (see
    :func:`keras_musiclatent.train.config.apply_settings`)."""
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        metavar="DIR",
        help="the dataset folder (sets data.root)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a dotted config key to a YAML value, e.g. --set training.epochs=5 (repeatable)",
    )
