"""``musiclatent train CONFIG --out RUN``: train a model; checkpoints every epoch, resumable."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keras_musiclatent.cli._command import Command, print_json
from keras_musiclatent.train.loop import train

__all__ = ["COMMANDS"]


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", type=Path, metavar="CONFIG")
    p.add_argument("--out", required=True, type=Path, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    p.add_argument("--seed", type=int, default=None, help="overrides training.seed")


def _run(args: argparse.Namespace) -> int:
    result = train(
        args.config,
        out=args.out,
        resume=args.resume,
        seed=args.seed,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    last = result.history[-1] if result.history else {}
    print_json(
        {
            "out": str(result.out),
            "epochs_completed": result.epochs_completed,
            "best_val_spectral_rmse_db": result.best,
            "last_epoch": last,
            "seconds": round(result.seconds, 1),
        }
    )
    return 0


COMMANDS = {
    "train": Command(
        "train a model from a JSON/YAML config; checkpoints every epoch, resumable",
        _configure,
        _run,
    ),
}
