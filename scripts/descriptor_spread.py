"""Measure how much each audio descriptor varies over real music, the unit of ``probe`` effects.

Writes ``keras_musiclatent/audio/descriptor_spread.py``: for every descriptor of
:mod:`keras_musiclatent.audio.features`, the standard deviation over the 3-s segments of the
GTZAN train split (fault-filtered), plus the segment count. ``LatentSpace.probe`` states how
far a dimension moves a descriptor in these units, so effects of different descriptors compare.

Usage: ``python scripts/descriptor_spread.py GTZAN_DIR``
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent._files import atomic_path
from keras_musiclatent.audio.features import DESCRIPTORS, describe_batch

OUT = Path(__file__).resolve().parents[1] / "keras_musiclatent" / "audio" / "descriptor_spread.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gtzan", type=Path, help="folder with MANIFEST.csv and <genre>/ audio")
    args = parser.parse_args()
    with open(args.gtzan / "MANIFEST.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["split"] == "train"]
    values: dict[str, list[np.ndarray]] = {name: [] for name in DESCRIPTORS}
    for row in sorted(rows, key=lambda r: r["clip"]):
        windows, lengths = audio.segment(audio.load(args.gtzan / row["file"]), 22050)
        # Only windows that are whole real audio: padding would fake quiet, dull segments.
        whole = windows[lengths == windows.shape[1]]
        if len(whole) == 0:
            continue
        for name, v in describe_batch(whole, sample_rate=22050).items():
            values[name].append(v)
    spread = {name: float(np.std(np.concatenate(v))) for name, v in values.items()}
    count = int(sum(len(v) for v in values["rms"]))
    lines = [
        '"""Standard deviation of each descriptor over 3-s segments of real music.',
        "",
        f"Written by ``python scripts/descriptor_spread.py GTZAN_DIR`` from {count} whole",
        "segments of the GTZAN train split (fault-filtered); do not edit by hand.",
        '"""',
        "",
        f"SEGMENTS = {count}",
        "SPREAD: dict[str, float] = {",
        *[f'    "{name}": {value:.6g},' for name, value in spread.items()],
        "}",
        "",
    ]
    with atomic_path(OUT) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {OUT} ({count} segments)")


if __name__ == "__main__":
    main()
