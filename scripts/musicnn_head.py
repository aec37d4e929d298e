"""Fit and ship the genre head of ``musicnn-msd``, and state its GTZAN probe accuracy in its card.

The head is the latent probe of the evaluation protocol on musicnn's embeddings, the rule
``musiclatent evaluate`` applies to every model: a standardised logistic regression on the
200-d penultimate embeddings of the labelled train clips' 3-s windows (16 kHz, the window
rule), scored on the valid clips at clip level (the mean of a clip's window probabilities).
The script writes ``genre_head.npz`` into the model folder, records the figures in
``metadata.json`` (with the sha256 of the model files), rewrites the card's "Genre probe"
section and re-registers the folder's sha256 in ``zoo/index.json``. From the repository root::

    python scripts/musicnn_head.py --data ../shared/data/gtzan
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
for path in (REPO_ROOT, REPO_ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from musicnn_card import PROBE_HEADING, probe_section  # noqa: E402

from keras_musiclatent._files import atomic_path, sha256_file, write_json  # noqa: E402
from keras_musiclatent.data.sources import load_table  # noqa: E402
from keras_musiclatent.evaluate.evaluator import embedding_probe  # noqa: E402
from keras_musiclatent.latent_space import LatentSpace  # noqa: E402
from keras_musiclatent.presets import registry  # noqa: E402

NAME = "musicnn-msd"
ZOO_DIR = REPO_ROOT / "zoo" / NAME
COMMAND = "python scripts/musicnn_head.py --data ../shared/data/gtzan"


def replace_probe_section(card: str, section: str) -> str:
    """``card`` with its "Genre probe" section (the last one) replaced by ``section``."""
    head, _, _ = card.partition(f"\n{PROBE_HEADING}")
    return head.rstrip("\n") + "\n\n" + section


def _write_card(folder: Path, metadata: dict, *, register: bool) -> None:
    """Rewrite the card's probe section; refresh the zoo index's sha256 when ``register``."""
    card_path = folder / "card.md"
    card = card_path.read_text(encoding="utf-8")
    with atomic_path(card_path) as tmp:
        tmp.write_text(replace_probe_section(card, probe_section(metadata)), encoding="utf-8")
    if register:
        registry.update_index(NAME, folder, description=metadata["description"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="GTZAN folder (MANIFEST.csv)")
    parser.add_argument("--model", type=Path, default=ZOO_DIR, help="the zoo model folder")
    parser.add_argument("--train-split", default="train")
    parser.add_argument("--split", default="valid", help="split the accuracy is measured on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cache-dir", default=None)
    parser.add_argument(
        "--no-register", action="store_true", help="leave zoo/index.json alone (a copy)"
    )
    parser.add_argument(
        "--card-only",
        action="store_true",
        help="only re-render the card's section from metadata.json (no measuring)",
    )
    args = parser.parse_args(argv)

    folder = args.model.resolve()
    if args.card_only:
        metadata = json.loads((folder / "metadata.json").read_text(encoding="utf-8"))
        _write_card(folder, metadata, register=not args.no_register)
        return 0
    space = LatentSpace.load(folder)
    table = load_table(args.data, dataset="gtzan")
    train, test = table.split(args.train_split), table.split(args.split)
    head, accuracy = embedding_probe(
        space, test, train_table=train, cache_dir=args.cache_dir, seed=args.seed, progress=True
    )
    head.save(folder / "genre_head.npz")

    meta_path = folder / "metadata.json"
    metadata = json.loads(meta_path.read_text(encoding="utf-8"))
    metadata["genres"] = head.genres
    metadata["genre_probe"] = {
        "data": "GTZAN fault-filtered split",
        "train_split": args.train_split,
        "train_clips": accuracy["train_clips"],
        "train_segments": accuracy["train_segments"],
        "split": args.split,
        "accuracy": accuracy["accuracy"],
        "clips": accuracy["clips"],
        "per_genre": accuracy["per_genre"],
        "seed": args.seed,
        "command": COMMAND,
    }
    metadata["files"] = {
        f.name: sha256_file(f)
        for f in sorted(folder.iterdir())
        if f.is_file() and f.name not in ("metadata.json", "card.md")
    }
    write_json(meta_path, metadata)

    _write_card(folder, metadata, register=not args.no_register)
    print(
        json.dumps(
            {"accuracy": accuracy["accuracy"], "clips": accuracy["clips"], "folder": str(folder)}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
