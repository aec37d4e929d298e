"""Encoding a zoo model: throughput against a librosa pipeline, and peak memory on a long file.

Measures, in one process (the memory part in child processes, so each peak is its own):

- **encode**: ``LatentSpace.model.encode`` of 3-s clips (in-graph log-mel), clips per second;
- **baseline**: librosa log-mel features (NumPy, CPU) fed to the same model's encoder
  (``encode_log_mel``); ratio ours / baseline (above 1: the in-graph path is faster);
- **memory**: peak resident memory of ``LatentSpace.encode(path)`` on a generated file of
  ``--long-minutes`` (default 60), against the peak of loading the model alone, and the size
  the decoded file would take in memory. Encoding streams the file, so the increase should stay
  far below the decoded size.

Example::

    python benchmarks/encode_zoo.py --model gtzan-vae --batch-size 32 --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

_CHILD = r"""
import json, resource, sys
import numpy as np
from keras_musiclatent.latent_space import LatentSpace
space = LatentSpace.load(sys.argv[1])
space.encode(np.zeros(space.model.samples, "float32"))  # warm-up: graph tracing
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
segments = 0
if sys.argv[2] != "-":
    segments = space.encode(sys.argv[2]).segments
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"model_kib": before, "peak_kib": after, "segments": segments}))
"""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="gtzan-vae", help="zoo name or model folder")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (median)")
    parser.add_argument("--long-minutes", type=float, default=60.0, help="0 skips memory")
    return parser.parse_args(argv)


def _median_rate(fn, clips: int, repeats: int) -> float:
    fn()  # warm-up: graph tracing
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return clips / statistics.median(times)


def _child(model: str, path: str) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, model, path],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _long_file(folder: Path, minutes: float, sample_rate: int) -> Path:
    """A generated mono 16-bit WAV of ``minutes``, written in blocks (never whole in memory)."""
    import numpy as np
    import soundfile as sf

    from keras_musiclatent.data.synthetic import demo_clip

    block = demo_clip(seconds=60.0, sample_rate=sample_rate, seed=0)
    path = folder / "long.wav"
    total = int(minutes * 60 * sample_rate)
    with sf.SoundFile(path, "w", samplerate=sample_rate, channels=1, subtype="PCM_16") as f:
        written = 0
        while written < total:
            chunk = block[: total - written]
            f.write(np.asarray(chunk, np.float32))
            written += len(chunk)
    return path


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    import keras
    import numpy as np

    from keras_musiclatent.data.synthetic import demo_clip
    from keras_musiclatent.evaluate.metrics import logmel_db
    from keras_musiclatent.latent_space import LatentSpace

    space = LatentSpace.load(args.model)
    model = space.model
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}")
    print(
        f"versions: python {platform.python_version()}, keras {keras.__version__} "
        f"({keras.backend.backend()}), numpy {np.__version__}"
    )
    print(f"load average: {os.getloadavg()[0]:.2f}")
    clip = demo_clip(seconds=model.segment_seconds * args.batch_size, seed=1)
    waves = clip[: args.batch_size * model.samples].reshape(args.batch_size, model.samples)

    def ours():
        model.encode(waves, sample=False, batch_size=args.batch_size)

    def baseline():
        feats = logmel_db(
            waves,
            sample_rate=model.sample_rate,
            n_fft=model.n_fft,
            hop_length=model.hop_length,
            n_mels=model.n_mels,
        )
        model.encode_log_mel(feats, batch_size=args.batch_size)

    ours_rate = _median_rate(ours, args.batch_size, args.repeats)
    base_rate = _median_rate(baseline, args.batch_size, args.repeats)
    print(f"encode {args.model}: {ours_rate:.1f} clips/s (median of {args.repeats})")
    print(f"baseline librosa log-mel + same encoder: {base_rate:.1f} clips/s")
    print(f"ratio encode ours/baseline: {ours_rate / base_rate:.2f}")

    if args.long_minutes > 0:
        with tempfile.TemporaryDirectory() as tmp:
            path = _long_file(Path(tmp), args.long_minutes, model.sample_rate)
            run = _child(args.model, str(path))
        decoded_mib = args.long_minutes * 60 * model.sample_rate * 4 / 2**20
        extra_mib = (run["peak_kib"] - run["model_kib"]) / 1024
        print(
            f"memory: {args.long_minutes:g}-min file, {run['segments']} segments; peak RSS "
            f"{run['peak_kib'] / 1024:.0f} MiB, model loaded {run['model_kib'] / 1024:.0f} MiB, "
            f"encoding added {extra_mib:.0f} MiB"
        )
        print(f"decoded file would take {decoded_mib:.0f} MiB as float32")
        print(f"ratio memory added/decoded size: {extra_mib / decoded_mib:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
