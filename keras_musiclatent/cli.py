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
from keras_musiclatent.errors import MusicLatentError

__all__ = ["main"]

_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}
# Commands that never touch Keras, so they start fast.
_LIGHT_COMMANDS = {"info"}


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

            keras.ops.zeros(1)  # first op: some backends log on device discovery
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
    from keras_musiclatent.demo_job import run_demo

    summary = run_demo(out=Path(args.out), seed=args.seed)
    print(json.dumps(summary, indent=2))
    return 0


@_command("train")
def _train(args: argparse.Namespace) -> int:
    from keras_musiclatent.training import train

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
    from keras_musiclatent import data
    from keras_musiclatent.evaluation import evaluate_reconstruction, load_trained_model

    model = load_trained_model(args.model)
    table = (
        data.load_gtzan(args.data)
        if args.dataset == "gtzan"
        else data.load_folder(args.data, split_seed=0)
    )
    train_table = None
    if args.train_split:
        train_table = table.filter(lambda c: c.split in set(args.train_split.split("+")))
    result = evaluate_reconstruction(
        model,
        table.split(args.split),
        train_table=train_table,
        cache_dir=args.cache_dir,
    )
    result = {"model": str(args.model), "split": args.split, **result}
    text = json.dumps(result, indent=2)
    if args.json:
        from keras_musiclatent.atomic import write_json

        write_json(args.json, result)
    print(text)
    return 0


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
        help="run the main job on the built-in demo clip: encode it, decode it, write WAVs",
    )
    p.add_argument("--out", default="musiclatent-demo", help="output folder (default: %(default)s)")
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
        help="spectral RMSE of a trained model on a data split, beside PCA at equal dimensions",
    )
    p.add_argument("model", help="a .keras file or a training run folder")
    p.add_argument("--data", required=True, type=Path, help="dataset folder")
    p.add_argument("--dataset", choices=("gtzan", "folder"), default="gtzan")
    p.add_argument("--split", default="valid")
    p.add_argument(
        "--train-split",
        default="train",
        help="split(s) joined by '+' that fit the PCA baseline; empty to skip",
    )
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
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
