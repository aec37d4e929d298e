"""The ``musiclatent`` command line, thin over the package.

Errors print one line on stderr and exit non-zero; set ``MUSICLATENT_DEBUG=1`` for tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# TensorFlow's C++ start-up logging is noise on a command line; users can still raise it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from keras_musiclatent import __version__
from keras_musiclatent.errors import ConfigError, MusicLatentError

__all__ = ["main"]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
# Commands that never touch Keras, so they start fast.
_LIGHT_COMMANDS = {"info", "zoo"}
# Commands that live beside the feature they drive. Each module defines ``HELP`` (str),
# ``configure(parser)`` and ``run(args) -> int``, and imports nothing heavy at module level.
_MODULE_COMMANDS: dict[str, str] = {
    "tune": "keras_musiclatent.cli.tune",
}
# Modules that define several commands: ``COMMANDS = {name: (help, configure, run)}``.
_COMMAND_GROUPS = ("keras_musiclatent.cli.latent", "keras_musiclatent.cli.views")


def _command(name: str):
    def register(func: Callable[[argparse.Namespace], int]):
        _COMMANDS[name] = func
        return func

    return register


def _import_backend_quietly() -> None:
    """Import Keras (and its backend) with C++ start-up logging kept off the terminal.

    TensorFlow prints absl/oneDNN banners to file descriptor 2 at import time, and in-process
    environment settings come too late to stop them, so the descriptor is parked meanwhile.
    Anything printed by an import that fails is replayed.
    """
    if "keras" in sys.modules or os.environ.get("MUSICLATENT_DEBUG"):
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            import keras

            # First op: some backends log on device discovery. Not under a TF_CONFIG
            # cluster: MultiWorkerMirroredStrategy must be created before any op runs.
            if not os.environ.get("TF_CONFIG"):
                keras.ops.zeros(1)
        except BaseException:
            os.dup2(saved, 2)
            sink.seek(0)
            sys.stderr.write(sink.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, like every other error
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


@_command("info")
def _info(args: argparse.Namespace) -> int:
    from keras_musiclatent import audio

    rows = []
    for path in args.files:
        meta = audio.info(path)
        rows.append(
            {
                "file": str(path),
                "duration_s": round(meta.duration, 3),
                "sample_rate": meta.sample_rate,
                "channels": meta.channels,
                "format": f"{meta.format}/{meta.subtype}",
                "segments": meta.segments(seconds=args.segment_seconds),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(
                f"{row['file']}: {row['duration_s']:.2f} s, {row['sample_rate']} Hz, "
                f"{row['channels']} ch, {row['format']}, "
                f"{row['segments']} x {args.segment_seconds:g}-s segments"
            )
    return 0


@_command("demo")
def _demo(args: argparse.Namespace) -> int:
    from keras_musiclatent.cli.demo import run_demo

    inputs = None
    if args.a is not None or args.b is not None:
        if args.a is None or args.b is None:
            raise ConfigError("give both clips (A and B) or neither")
        inputs = (args.a, args.b)
    summary = run_demo(
        out=Path(args.out), model=args.model, inputs=inputs, steps=args.steps, seed=args.seed
    )
    print(json.dumps(summary, indent=2))
    return 0


@_command("train")
def _train(args: argparse.Namespace) -> int:
    from keras_musiclatent.train.loop import train

    result = train(
        args.config,
        out=args.out,
        resume=args.resume,
        seed=args.seed,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    last = result.history[-1] if result.history else {}
    summary = {
        "out": str(result.out),
        "epochs_completed": result.epochs_completed,
        "best_val_spectral_rmse_db": result.best,
        "last_epoch": last,
        "seconds": round(result.seconds, 1),
    }
    print(json.dumps(summary, indent=2))
    return 0


@_command("evaluate")
def _evaluate(args: argparse.Namespace) -> int:
    from keras_musiclatent._files import write_json
    from keras_musiclatent.data.sources import load_table
    from keras_musiclatent.evaluate.card_figures import evaluate_space
    from keras_musiclatent.latent_space import LatentSpace

    space = LatentSpace.load(args.model)
    table = load_table(args.data, dataset=args.dataset)
    extra = None
    if args.extra_split:
        names = set(args.extra_split.split("+"))
        extra = table.filter(lambda c: c.split in names)
    result = evaluate_space(
        space,
        table.split(args.split),
        train_table=table.split(args.train_split),
        unlabelled_table=extra,
        cache_dir=args.cache_dir,
        audio_segments=args.audio_segments,
        interpolation_pairs=args.pairs,
        seed=args.seed,
    )
    result = {"model_arg": str(args.model), "split": args.split, **result}
    if args.json:
        write_json(args.json, result)
    if args.card:
        _write_card(args, result, space)
    print(json.dumps(result, indent=2))
    return 0


def _write_card(args: argparse.Namespace, result: dict, space) -> None:
    from keras_musiclatent._files import atomic_path
    from keras_musiclatent.evaluate.card import render_card
    from keras_musiclatent.presets import registry as zoo

    command = (
        f"musiclatent evaluate {args.model} --data {args.data} --split {args.split}"
        f" --seed {args.seed}"
    )
    text = render_card(result, command=command, metadata=space.metadata)
    with atomic_path(args.card) as tmp:
        tmp.write_text(text, encoding="utf-8")
    # A card inside a zoo model's folder is one of its files: refresh their sha256.
    if args.model in zoo.list_models() and Path(args.card).resolve().parent == (
        Path(zoo.resolve(args.model)[0]).resolve()
    ):
        entry = zoo.model_info(args.model)
        zoo.update_index(args.model, entry["path"], description=entry["description"])


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="musiclatent",
        description="Latent spaces of short music clips: encode, decode, interpolate, probe, "
        "classify and compress music with Keras 3 models.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("info", help="duration, rate, channels and 3-s segments of audio files")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--segment-seconds", type=float, default=3.0)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")

    p = sub.add_parser(
        "demo",
        help="the main job: reconstruct two clips with gtzan-vae, interpolate between them, "
        "classify them; WAVs, PNG and JSON (built-in clips unless A and B are given)",
    )
    p.add_argument("a", nargs="?", type=Path, default=None, metavar="A")
    p.add_argument("b", nargs="?", type=Path, default=None, metavar="B")
    p.add_argument("--out", default="musiclatent-demo", help="output folder (default: %(default)s)")
    p.add_argument("--model", default="gtzan-vae", help="zoo name or model folder")
    p.add_argument("--steps", type=int, default=9, help="interpolation points, ends included")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser(
        "train",
        help="train a model from a JSON/YAML config; checkpoints every epoch, resumable",
    )
    p.add_argument("config", type=Path, metavar="CONFIG")
    p.add_argument("--out", required=True, type=Path, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    p.add_argument("--seed", type=int, default=None, help="overrides training.seed")

    p = sub.add_parser(
        "evaluate",
        help="every model-card figure on a data split, beside baselines measured in the same run",
    )
    p.add_argument("model", help="zoo name, model folder, training run or .keras file")
    p.add_argument("--data", required=True, type=Path, help="dataset folder")
    p.add_argument("--dataset", choices=("gtzan", "folder"), default="gtzan")
    p.add_argument("--split", default="valid")
    p.add_argument("--train-split", default="train", help="labelled split of the baselines")
    p.add_argument(
        "--extra-split",
        default="excluded",
        help="unlabelled split(s) joined by '+' added to PCA's training data; '' for none",
    )
    p.add_argument("--audio-segments", type=int, default=120, help="segments inverted to audio")
    p.add_argument("--pairs", type=int, default=10, help="clip pairs interpolated")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    p.add_argument("--card", type=Path, default=None, help="also write a Markdown model card")

    import importlib

    def optional(module_name: str):
        try:
            return importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only a missing command module itself is skipped, never a broken import inside it.
            if not exc.name or not (module_name + ".").startswith(exc.name + "."):
                raise
            return None

    for module_name in _COMMAND_GROUPS:
        group = optional(module_name)
        for name, (help_text, configure, run) in getattr(group, "COMMANDS", {}).items():
            configure(sub.add_parser(name, help=help_text))
            _COMMANDS[name] = run
    for name, module_name in _MODULE_COMMANDS.items():
        module = optional(module_name)
        if module is None:
            continue
        p = sub.add_parser(name, help=module.HELP)
        module.configure(p)
        _COMMANDS[name] = module.run
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``musiclatent``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        if args.command not in _LIGHT_COMMANDS:
            _import_backend_quietly()
        return _COMMANDS[args.command](args)
    except MusicLatentError as exc:
        if os.environ.get("MUSICLATENT_DEBUG"):
            raise
        sys.stderr.write(f"musiclatent: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("musiclatent: interrupted\n")
        return 130
    except (OSError, ValueError) as exc:
        if os.environ.get("MUSICLATENT_DEBUG"):
            raise
        sys.stderr.write(f"musiclatent: error: {exc}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
