"""``musiclatent evaluate MODEL --data DIR``: every model-card figure beside its baselines."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from keras_musiclatent._files import atomic_path, write_json
from keras_musiclatent.cli._command import Command, positive_int, print_json
from keras_musiclatent.data.sources import load_table, nonempty_split
from keras_musiclatent.errors import ConfigError, MusicLatentError
from keras_musiclatent.evaluate.card import render_card
from keras_musiclatent.evaluate.evaluator import evaluate_space
from keras_musiclatent.evaluate.plots import plot_rate_quality
from keras_musiclatent.evaluate.rate_quality import evaluate_codec
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.presets import registry as zoo

__all__ = ["COMMANDS", "PEER"]

#: The pretrained network every model is judged beside (its embeddings' genre probe).
PEER = "musicnn-msd"


def _load_peer(args: argparse.Namespace) -> tuple[LatentSpace | None, str | None]:
    """``(peer, None)``, or ``(None, why there is none)``: a peer that cannot load is skipped."""
    if args.no_peer:
        return None, "left out with --no-peer"
    try:
        return LatentSpace.load(args.peer), None
    except MusicLatentError as exc:
        return None, f"{args.peer} could not be loaded ({exc})"


def _load_embedder() -> LatentSpace | None:
    """``musicnn-msd`` for the rate-quality table's meaning columns; None when it cannot load."""
    try:
        return LatentSpace.load(PEER)
    except MusicLatentError:
        return None


def _configure(p: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--audio-segments", type=positive_int, default=120, help="segments inverted to audio"
    )
    p.add_argument("--pairs", type=positive_int, default=10, help="clip pairs interpolated")
    p.add_argument(
        "--peer",
        default=PEER,
        help="pretrained model whose embeddings are probed beside the model (default: "
        "%(default)s; skipped with a note when it cannot load)",
    )
    p.add_argument("--no-peer", action="store_true", help="leave out the pretrained peer row")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--json", type=Path, default=None, help="also write the result here")
    p.add_argument("--card", type=Path, default=None, help="also write a Markdown model card")
    p.add_argument(
        "--rate-quality",
        type=int,
        default=None,
        metavar="N",
        help="whole clips of the split (one genre after another) on which each operating point, "
        "the log-mel inversion ceiling and Opus/MP3 are judged by rate, RMSE, ViSQOL, onset, "
        "chroma, beat and musicnn agreement (default: 10 for a codec model, 0 otherwise)",
    )
    p.add_argument(
        "--no-visqol", action="store_true", help="leave ViSQOL out of the rate-quality table"
    )
    p.add_argument(
        "--ablation",
        type=Path,
        default=None,
        help="with --card: a Markdown ablation table (scripts/ablation.py) the card includes",
    )


def _read_ablation(args: argparse.Namespace) -> str:
    try:
        return Path(args.ablation).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--ablation {args.ablation}: {exc.strerror or exc}") from None


def _write_card(args: argparse.Namespace, result: dict[str, Any], space: LatentSpace) -> None:
    command = (
        f"musiclatent evaluate {args.model} --data {args.data} --split {args.split}"
        f" --seed {args.seed}" + (" --no-peer" if args.no_peer else "")
    )
    ablation = None
    if args.ablation is not None:
        command += f" --ablation {args.ablation}"
        ablation = _read_ablation(args)
    if args.rate_quality is not None:
        command += f" --rate-quality {args.rate_quality}"
    if args.no_visqol:
        command += " --no-visqol"
    plot = None
    if result.get("rate_quality"):
        plot = Path(args.card).with_name("rate_quality.png")
        plot_rate_quality(result["rate_quality"]["rows"], plot)
    text = render_card(
        result,
        command=command,
        metadata=space.metadata,
        ablation=ablation,
        rate_quality_plot=None if plot is None else plot.name,
    )
    with atomic_path(args.card) as tmp:
        tmp.write_text(text, encoding="utf-8")
    # A card inside a zoo model's folder is one of its files: refresh their sha256.
    if args.model in zoo.list_models() and Path(args.card).resolve().parent == (
        Path(zoo.resolve(args.model)[0]).resolve()
    ):
        entry = zoo.model_info(args.model)
        zoo.update_index(args.model, entry["path"], description=entry["description"])


def _run(args: argparse.Namespace) -> int:
    if args.ablation is not None:
        _read_ablation(args)  # a missing table fails before the long evaluation, not after
    table = load_table(args.data, dataset=args.dataset)
    chosen = nonempty_split(table, args.split)
    space = LatentSpace.load(args.model)
    peer, peer_note = _load_peer(args)
    extra = None
    if args.extra_split:
        names = set(args.extra_split.split("+"))
        extra = table.filter(lambda c: c.split in names)
    result = evaluate_space(
        space,
        chosen,
        train_table=table.split(args.train_split),
        unlabelled_table=extra,
        cache_dir=args.cache_dir,
        audio_segments=args.audio_segments,
        interpolation_pairs=args.pairs,
        peer=peer,
        peer_note=peer_note,
        seed=args.seed,
    )
    clips = args.rate_quality if args.rate_quality is not None else 10 * bool(space.code_bits)
    if clips < 0:
        raise ConfigError(f"--rate-quality must be >= 0, got {clips}")
    if clips:
        embedder = peer if peer is not None and peer.name == PEER else _load_embedder()
        result["rate_quality"] = evaluate_codec(
            space, chosen, clips=clips, embedder=embedder, visqol=not args.no_visqol
        )
    result = {"model_arg": str(args.model), "split": args.split, **result}
    if args.json:
        write_json(args.json, result)
    if args.card:
        _write_card(args, result, space)
    print_json(result)
    return 0


COMMANDS = {
    "evaluate": Command(
        "every model-card figure on a data split, beside baselines measured in the same run",
        _configure,
        _run,
    ),
}
