"""``musiclatent embed`` and ``musiclatent tags``: a model's features of audio files.

``embed`` writes one ``.npz`` per input (an embedding per 3-s window: the penultimate layer of
``musicnn-msd``, the latent means of a latent model); ``tags`` prints the tag probabilities
of a tagging network as JSON.

Example::

    musiclatent embed a.wav b.mp3 --out features/
    musiclatent tags a.wav --top 5
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from keras_musiclatent._files import write_npz
from keras_musiclatent._progress import progress_bar
from keras_musiclatent.cli._command import Command, print_json
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.latent_space import LatentSpace

__all__ = ["COMMANDS", "DEFAULT_MODEL"]

#: The pretrained tagging network; any zoo name or model folder works for ``embed``.
DEFAULT_MODEL = "musicnn-msd"


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="zoo name or model folder (default: %(default)s)",
    )


def _out_names(paths: list[Path]) -> list[str]:
    """An output name per input: the stem, with a numeric suffix where stems repeat."""
    seen: dict[str, int] = {}
    names = []
    for path in paths:
        seen[path.stem] = seen.get(path.stem, 0) + 1
        count = seen[path.stem]
        names.append(path.stem if count == 1 else f"{path.stem}-{count}")
    return names


def _configure_embed(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files")
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path, help="folder for one .npz per input")


def _run_embed(args: argparse.Namespace) -> int:
    space = LatentSpace.load(args.model)
    rows = []
    names = _out_names(args.files)
    for path, name in progress_bar(
        list(zip(args.files, names, strict=True)), desc="embed", total=len(args.files)
    ):
        embedding = space.embed(path)
        dest = args.out / f"{name}.npz"
        write_npz(
            dest,
            embedding=embedding,
            mean=embedding.mean(axis=0),
            sample_rate=np.int64(space.sample_rate),
            segment_seconds=np.float64(space.segment_seconds),
        )
        rows.append(
            {
                "file": str(path),
                "out": str(dest),
                "segments": len(embedding),
                "dim": int(embedding.shape[1]),
            }
        )
    print_json({"model": space.name, "files": rows})
    return 0


def _configure_tags(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help="audio files")
    _model_arg(p)
    p.add_argument("--top", type=int, default=5, help="tags per file, most likely first")


def _run_tags(args: argparse.Namespace) -> int:
    if args.top < 1:
        raise ConfigError(f"--top must be at least 1, got {args.top}")
    space = LatentSpace.load(args.model)
    out = {}
    for path in progress_bar(list(args.files), desc="tags", total=len(args.files)):
        tags = space.tags(path)
        out[str(path)] = {tag: round(p, 4) for tag, p in list(tags.items())[: args.top]}
    print_json({"model": space.name, "tags": out})
    return 0


COMMANDS = {
    "embed": Command(
        "an embedding per 3-s window of each file (musicnn-msd's penultimate layer by default)",
        _configure_embed,
        _run_embed,
    ),
    "tags": Command(
        "the most likely tags of each file (musicnn-msd's 50 Million Song Dataset tags)",
        _configure_tags,
        _run_tags,
    ),
}
