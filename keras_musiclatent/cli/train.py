"""``musiclatent train CONFIG --data DIR --out RUN``: train a model; checkpoints every epoch,
resumable. ``CONFIG`` is a config file or the name of a shipped recipe (``gtzan-vae``).

``musiclatent shards CONFIG --data DIR --out FOLDER``: the config's training and validation
audio as int16 shards of at most 50 MB, for a machine without the original audio."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keras_musiclatent.cli._command import Command, add_config_options, print_json
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import (
    apply_settings,
    check_data_root,
    load_config,
    read_config_file,
    resolve_recipe,
    shipped_recipes,
)
from keras_musiclatent.train.datasets import export_shards
from keras_musiclatent.train.loop import train

__all__ = ["COMMANDS"]


def _add_config_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "config",
        metavar="CONFIG",
        help="a config file (YAML/JSON) or a shipped recipe name: " + ", ".join(shipped_recipes()),
    )


def _configure(p: argparse.ArgumentParser) -> None:
    _add_config_argument(p)
    p.add_argument("--out", required=True, type=Path, help="run folder")
    add_config_options(p)
    p.add_argument("--resume", action="store_true", help="continue the interrupted run in --out")
    p.add_argument("--seed", type=int, default=None, help="overrides training.seed")


def _config(args: argparse.Namespace) -> dict:
    path = resolve_recipe(args.config)
    raw = read_config_file(path)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    config = load_config(apply_settings(raw, args.settings, data=args.data), name=str(path))
    check_data_root(config)
    return config


def _run(args: argparse.Namespace) -> int:
    config = _config(args)
    result = train(
        config,
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


def _configure_shards(p: argparse.ArgumentParser) -> None:
    _add_config_argument(p)
    p.add_argument("--out", required=True, type=Path, help="folder for the shards")
    add_config_options(p)
    p.add_argument("--max-mb", type=float, default=50.0, help="largest shard, in MB (default: 50)")


def _run_shards(args: argparse.Namespace) -> int:
    if args.max_mb <= 0:
        raise ConfigError(f"--max-mb must be positive, got {args.max_mb}")
    config = _config(args)
    print_json(export_shards(config, args.out, max_bytes=int(args.max_mb * 1e6)))
    return 0


COMMANDS = {
    "train": Command(
        "train a model from a config file or shipped recipe; checkpoints every epoch, resumable",
        _configure,
        _run,
    ),
    "shards": Command(
        "write a config's training and validation audio as int16 shards (at most 50 MB each)",
        _configure_shards,
        _run_shards,
    ),
}
