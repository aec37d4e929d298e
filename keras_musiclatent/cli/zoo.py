"""``musiclatent zoo list|info NAME``: the shipped models, without loading any."""

from __future__ import annotations

import argparse

from keras_musiclatent.cli._command import Command, print_json
from keras_musiclatent.presets import registry as zoo

__all__ = ["COMMANDS"]


def _configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="zoo_command", metavar="ACTION", required=True)
    sub.add_parser("list", help="names and descriptions of the shipped models")
    info = sub.add_parser("info", help="one model's files, metadata and card")
    info.add_argument("name")


def _run(args: argparse.Namespace) -> int:
    if args.zoo_command == "list":
        for name in zoo.list_models():
            print(f"{name}: {zoo.model_info(name).get('description', '')}")
        return 0
    print_json(zoo.model_info(args.name))
    return 0


COMMANDS = {"zoo": Command("list the shipped models, or show one", _configure, _run)}
