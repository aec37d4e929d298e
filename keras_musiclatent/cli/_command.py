"""The one way a module adds commands to ``musiclatent``.

Each command module defines ``COMMANDS = {name: Command(help, configure, run)}``;
:mod:`keras_musiclatent.cli.main` lists the modules and builds the parser from them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["Command", "print_json"]


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


def print_json(payload: Any) -> None:
    """Print ``payload`` as indented JSON on stdout (what every command reports)."""
    print(json.dumps(payload, indent=2))
