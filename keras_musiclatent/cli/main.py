"""The ``musiclatent`` command line, thin over the package.

Every command lives in a module of this folder that defines ``COMMANDS`` (see
:mod:`._command`). Errors print one line on stderr and exit non-zero; set
``MUSICLATENT_DEBUG=1`` for tracebacks and ``--verbose`` to see the backend's start-up logs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

# TensorFlow's C++ start-up logging is noise on a command line; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_musiclatent import __version__
from keras_musiclatent.cli._command import Command
from keras_musiclatent.errors import MusicLatentError

__all__ = ["build_parser", "main"]

#: Each command module and the commands it defines (its ``COMMANDS``), in ``--help`` order.
#: Only the module of the command being run is imported, so light commands (``info``,
#: ``zoo``) start without loading Keras; ``tests/cli/test_main.py`` checks this table.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "keras_musiclatent.cli.demo": ("demo",),
    "keras_musiclatent.cli.info": ("info",),
    "keras_musiclatent.cli.zoo": ("zoo",),
    "keras_musiclatent.cli.train": ("train", "shards"),
    "keras_musiclatent.cli.tune": ("tune",),
    "keras_musiclatent.cli.evaluate": ("evaluate",),
    "keras_musiclatent.cli.latent": (
        "encode",
        "decode",
        "reconstruct",
        "interpolate",
        "sample",
        "probe",
        "explain",
        "classify",
        "compress",
        "decompress",
        "package",
    ),
    "keras_musiclatent.cli.embed": ("embed", "tags"),
    "keras_musiclatent.cli.views": ("report", "projector"),
}


#: Commands that never need Keras, so they start in a fraction of a second.
LIGHT_COMMANDS = frozenset({"info", "zoo"})


@contextmanager
def _quiet_stderr(enabled: bool) -> Iterator[None]:
    """Park file descriptor 2 while the backend loads; replay it if loading fails.

    TensorFlow prints absl/oneDNN banners to descriptor 2 at import time, where Python-level
    redirection cannot reach, so the descriptor itself is swapped for a temporary file.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def _command_of(argv: Sequence[str]) -> str | None:
    """The command word of a command line (its first word that is not an option)."""
    return next((a for a in argv if not a.startswith("-")), None)


def _load_command_modules(argv: Sequence[str] = (), *, quiet: bool = False) -> list[ModuleType]:
    """Import the module of ``argv``'s command, or every command module (for ``--help`` and
    for a mistyped command), with the backend's start-up logs hidden when ``quiet``."""
    command = _command_of(argv)
    names = [m for m, commands in COMMAND_MODULES.items() if command in commands]
    with _quiet_stderr(quiet):
        modules = [importlib.import_module(name) for name in names or COMMAND_MODULES]
        if command not in LIGHT_COMMANDS:
            # Commands that load the backend later (tune, through keras-tuner) load it here,
            # where its start-up logs are hidden.
            import keras

            if not os.environ.get("TF_CONFIG"):
                # First op: some backends log on device discovery. Not under a TF_CONFIG
                # cluster: MultiWorkerMirroredStrategy must exist before any op runs.
                keras.ops.zeros(1)
    return modules


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, like every other error
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def build_parser(modules: Sequence[ModuleType] | None = None) -> argparse.ArgumentParser:
    """The ``musiclatent`` parser, from the command modules; ``args.run(args)`` runs a command.

    Example:
        >>> args = build_parser().parse_args(["info", "a.wav"])  # doctest: +SKIP
        >>> args.run(args)  # doctest: +SKIP
        0
    """
    if modules is None:
        modules = _load_command_modules()
    parser = _Parser(
        prog="musiclatent",
        description="Latent spaces of short music clips: encode, decode, interpolate, probe, "
        "classify and compress music with Keras 3 models.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--verbose", action="store_true", help="show the backend's start-up logs on stderr"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for module in modules:
        for name, command in module.COMMANDS.items():
            command = Command(*command)
            p = sub.add_parser(name, help=command.help)
            command.configure(p)
            p.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``musiclatent``; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = bool(os.environ.get("MUSICLATENT_DEBUG"))
    verbose = "--verbose" in argv or debug
    # Accepted anywhere on the line, since it acts before the parser exists.
    argv = [a for a in argv if a != "--verbose"]
    try:
        parser = build_parser(_load_command_modules(argv, quiet=not verbose))
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return 2
        return args.run(args)
    except MusicLatentError as exc:
        if debug:
            raise
        sys.stderr.write(f"musiclatent: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("musiclatent: interrupted\n")
        return 130
    except (OSError, ValueError) as exc:
        if debug:
            raise
        sys.stderr.write(f"musiclatent: error: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
