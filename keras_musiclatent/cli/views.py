"""``musiclatent`` commands that show a latent space: ``report`` (HTML) and ``projector``
(TensorBoard's embedding projector).

Heavy imports happen inside the commands, so building the parser stays fast.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from keras_musiclatent.cli._command import Command, print_json
from keras_musiclatent.data.sources import DATASETS, load_table, nonempty_split
from keras_musiclatent.evaluate.projector import export_projector
from keras_musiclatent.evaluate.report.build import build_report

__all__ = ["COMMANDS"]


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", metavar="NAME", help="zoo name, model folder, training run or .keras")
    p.add_argument("--data", required=True, type=Path, help="dataset folder")
    p.add_argument(
        "--dataset",
        choices=DATASETS,
        default="gtzan",
        help="gtzan (fault-filtered split), folder (<genre>/<files>, seeded 80/20 train/valid, "
        "at least one clip of a genre in each) "
        "or fma (default: %(default)s)",
    )
    p.add_argument("--split", default="valid", help="split to show; 'all' for every clip")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None, help="decoded-audio cache")


def _describe(args: argparse.Namespace) -> str:
    return f"{args.dataset} dataset at {args.data}"


def _configure_report(p: argparse.ArgumentParser) -> None:
    _data_args(p)
    p.add_argument("--out", required=True, type=Path, help="report folder (index.html + media)")
    p.add_argument(
        "--max-clips",
        type=int,
        default=40,
        help="clips drawn from the split, round-robin over genres (default: %(default)s; 0: all)",
    )
    p.add_argument("--listen", type=int, default=4, help="clips with audio players")
    p.add_argument(
        "--excerpt-seconds", type=float, default=12.0, help="length of each player's excerpt"
    )
    p.add_argument("--pairs", type=int, default=2, help="interpolation walks")
    p.add_argument("--steps", type=int, default=9, help="points per walk, ends included")
    p.add_argument(
        "--probe-dims", type=int, default=8, help="dimensions explained (0: skip the probe)"
    )
    p.add_argument(
        "--history",
        type=Path,
        default=None,
        help="history.csv from musiclatent train (default: the model folder's, if any)",
    )
    p.add_argument("--iterations", type=int, default=32, help="Griffin-Lim iterations")
    p.add_argument(
        "--no-codecs", action="store_true", help="leave out Opus/MP3 even when ffmpeg is there"
    )
    p.add_argument(
        "--no-listener",
        action="store_true",
        help="leave out the listener columns (onset, chroma, beat, ViSQOL, musicnn agreement)",
    )


def _run_report(args: argparse.Namespace) -> int:
    table = load_table(args.data, dataset=args.dataset)
    nonempty_split(table, args.split)  # one line, before the model loads
    summary = build_report(
        args.model,
        table,
        out=args.out,
        split=args.split,
        max_clips=args.max_clips or None,
        listen=args.listen,
        excerpt_seconds=args.excerpt_seconds,
        pairs=args.pairs,
        steps=args.steps,
        probe_dims=args.probe_dims,
        history=args.history,
        iterations=args.iterations,
        codecs=not args.no_codecs,
        listener=not args.no_listener,
        seed=args.seed,
        data_description=_describe(args),
        command="musiclatent " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "",
        cache_dir=args.cache_dir,
    )
    print_json({k: summary[k] for k in ("index", "clips", "segments", "seconds")})
    return 0


def _configure_projector(p: argparse.ArgumentParser) -> None:
    _data_args(p)
    p.add_argument(
        "--logdir", required=True, type=Path, help="folder for TensorBoard (--logdir of it)"
    )
    p.add_argument(
        "--level",
        choices=("segment", "clip"),
        default="segment",
        help="one point per 3-s segment (latent mean) or per clip (mean of its segments' means)",
    )
    p.add_argument("--max-clips", type=int, default=0, help="clips drawn from the split (0: all)")
    p.add_argument("--thumbnail", type=int, default=48, help="sprite thumbnail size in pixels")


def _run_projector(args: argparse.Namespace) -> int:
    table = load_table(args.data, dataset=args.dataset)
    nonempty_split(table, args.split)  # one line, before the model loads
    result = export_projector(
        args.model,
        table,
        logdir=args.logdir,
        split=args.split,
        level=args.level,
        max_clips=args.max_clips or None,
        thumbnail=args.thumbnail,
        seed=args.seed,
        cache_dir=args.cache_dir,
    )
    print_json(result)
    return 0


#: name → (help, configure, run); cli.py adds them to ``musiclatent``.
COMMANDS = {
    "report": Command(
        "static HTML page: players, compression table, latent plots, confusion matrix, loss "
        "curves, interpolations and dimension probes",
        _configure_report,
        _run_report,
    ),
    "projector": Command(
        "TensorBoard embedding-projector files (tensor TSV, metadata, sprite, config)",
        _configure_projector,
        _run_projector,
    ),
}
