"""``musiclatent info FILE...``: duration, rate, channels and 3-s segments of audio files."""

from __future__ import annotations

import argparse
from pathlib import Path

from keras_musiclatent import audio
from keras_musiclatent.cli._command import Command, print_json

__all__ = ["COMMANDS"]


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--segment-seconds", type=float, default=3.0)
    p.add_argument("--json", action="store_true", help="print JSON instead of text")


def _run(args: argparse.Namespace) -> int:
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
        print_json(rows)
        return 0
    for row in rows:
        print(
            f"{row['file']}: {row['duration_s']:.2f} s, {row['sample_rate']} Hz, "
            f"{row['channels']} ch, {row['format']}, "
            f"{row['segments']} x {args.segment_seconds:g}-s segments"
        )
    return 0


COMMANDS = {
    "info": Command("duration, rate, channels and 3-s segments of audio files", _configure, _run),
}
