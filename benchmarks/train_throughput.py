"""Training and encoding throughput of ``MusicVAE`` on synthetic 3-s clips, with a baseline.

Measures, in one process:

- **train**: ``model.fit`` on a ``PyDataset`` of synthetic waveforms (the in-graph log-mel
  included), in 3-s clips per second, median of ``--repeats`` timed epochs of ``--steps``
  batches after a warm-up epoch (graph tracing / compilation excluded);
- **encode**: ``model.encode(waveforms, sample=False)``, clips per second;
- **baseline**: the two-stage pipeline the in-graph log-mel replaces: librosa log-mel features
  computed on CPU (NumPy), then the same model's encoder fed those features (band
  normalisation → encoder → ``z_mean``, without the log-mel layer); and librosa's log-mel
  alone, as a reference rate for a CPU feature pipeline.

Prints the machine, versions, load average and medians, then ``ratio`` lines (ours /
baseline; above 1 means the model's path is faster).

Example::

    python benchmarks/train_throughput.py --batch-size 32 --steps 20 --repeats 3
    KERAS_BACKEND=jax python benchmarks/train_throughput.py
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

#: A model a few hundred times cheaper than the default, for a smoke run.
TINY_MODEL: dict[str, Any] = {
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 32,
    "conv_filters": (8, 8),
    "pool_sizes": ((2, 2), (2, 4)),
    "rnn_units": 8,
    "hidden_dim": 16,
    "latent_dim": 4,
    "segment_seconds": 1.0,
}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32, help="clips per batch")
    parser.add_argument("--steps", type=int, default=20, help="training batches per repeat")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    parser.add_argument(
        "--encode-batches",
        type=int,
        default=4,
        help="batches of clips encoded per repeat",
    )
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax", "torch"),
        default=None,
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument("--tiny", action="store_true", help="small model on 1-s clips (smoke)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.batch_size, args.steps, args.repeats, args.encode_batches) < 1:
        parser.error("--batch-size, --steps, --repeats and --encode-batches must be >= 1")
    return args


def synthetic_audio(rng, clips: int, samples: int, sample_rate: int):
    """Harmonic tones with noise and a decaying envelope: float32 ``(clips, samples)``."""
    import numpy as np

    t = np.arange(samples, dtype=np.float32) / sample_rate
    f0 = rng.uniform(80.0, 800.0, size=(clips, 1)).astype(np.float32)
    y = np.zeros((clips, samples), np.float32)
    for harmonic in (1, 2, 3):
        y += np.sin(2 * np.pi * harmonic * f0 * t) / harmonic
    beat = np.exp(-((t * rng.uniform(1.0, 4.0, size=(clips, 1))) % 1.0) * 6.0)
    y = 0.2 * y * beat + 0.02 * rng.standard_normal((clips, samples)).astype(np.float32)
    return y.astype(np.float32)


def timed(fn: Callable[[], Any], repeats: int) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn``."""
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    import keras
    import librosa
    import numpy as np
    from keras import ops

    from keras_musiclatent.models import MusicVAE

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = MusicVAE(seed=args.seed, **(TINY_MODEL if args.tiny else {}))
    bs, sr, samples = args.batch_size, model.sample_rate, model.samples
    # A pool of distinct batches, cycled: memory stays small whatever --steps is.
    pool = [
        {
            "audio": synthetic_audio(rng, bs, samples, sr),
            "length": np.full((bs,), samples, np.int32),
        }
        for _ in range(4)
    ]

    class Batches(keras.utils.PyDataset):
        def __init__(self, steps: int) -> None:
            super().__init__()
            self.steps = steps

        def __len__(self) -> int:
            return self.steps

        def __getitem__(self, idx: int):
            return (pool[idx % len(pool)],)

    model.adapt(pool[:2])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0))

    load_before = os.getloadavg()
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, load average (1/5/15 min): {_load(load_before)}")
    print(
        f"python {platform.python_version()}, keras {keras.__version__}, "
        f"backend {keras.backend.backend()} {_backend_version(keras.backend.backend())}, "
        f"numpy {np.__version__}, librosa {librosa.__version__}"
    )
    print(
        f"model: MusicVAE({'tiny' if args.tiny else 'default'}), "
        f"{model.count_params():,} parameters, clips {model.segment_seconds:g} s at {sr} Hz, "
        f"log-mel {model.frames}x{model.n_mels}"
    )
    print(f"batch size {bs}, {args.steps} steps x {args.repeats} repeats")

    # === Training ===
    model.fit(Batches(min(2, args.steps)), epochs=1, verbose=0, shuffle=False)  # warm-up
    train_ds = Batches(args.steps)
    train_s = timed(lambda: model.fit(train_ds, epochs=1, verbose=0, shuffle=False), args.repeats)
    train_rate = args.steps * bs / statistics.median(train_s)

    # === Encoding (ours: waveform in, in-graph log-mel) ===
    clips = np.concatenate([pool[i % len(pool)]["audio"] for i in range(args.encode_batches)])
    n = clips.shape[0]
    model.encode(clips[:bs], sample=False, batch_size=bs)  # warm-up
    encode_s = timed(lambda: model.encode(clips, sample=False, batch_size=bs), args.repeats)
    encode_rate = n / statistics.median(encode_s)

    # === Baseline: librosa log-mel on CPU, then the same encoder without the log-mel layer ===
    def librosa_log_mel(audio):
        power = librosa.feature.melspectrogram(
            y=audio,
            sr=sr,
            n_fft=model.n_fft,
            hop_length=model.hop_length,
            n_mels=model.n_mels,
            center=True,
            pad_mode="constant",
        )
        return np.swapaxes(librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None), 1, 2)

    def encode_features(features):
        x = model.band_norm(ops.convert_to_tensor(features.astype(np.float32)))
        return ops.convert_to_numpy(model.z_mean_dense(model.encoder(x, training=False)))

    def baseline():
        for i in range(0, n, bs):
            encode_features(librosa_log_mel(clips[i : i + bs]))

    def librosa_only():
        for i in range(0, n, bs):
            librosa_log_mel(clips[i : i + bs])

    # Same features as the model's layer (a wrong baseline would time something else).
    check = np.abs(librosa_log_mel(clips[:2]) - model.log_mel(clips[:2])).max()
    baseline()  # warm-up
    baseline_s = timed(baseline, args.repeats)
    baseline_rate = n / statistics.median(baseline_s)
    librosa_s = timed(librosa_only, args.repeats)
    librosa_rate = n / statistics.median(librosa_s)

    print()
    print(f"{'measure':<44} {'clips/s':>9}  seconds per repeat")
    rows = (
        ("train (fit, in-graph log-mel)", train_rate, train_s),
        ("encode (model.encode, sample=False)", encode_rate, encode_s),
        ("baseline encode (librosa log-mel + encoder)", baseline_rate, baseline_s),
        ("baseline features only (librosa log-mel)", librosa_rate, librosa_s),
    )
    for name, rate, seconds in rows:
        print(f"{name:<44} {rate:>9.1f}  {' '.join(f'{s:.2f}' for s in seconds)}")
    print(f"log-mel max |ours - librosa|: {check:.2g} dB")
    print(f"ratio encode ours/baseline: {encode_rate / baseline_rate:.2f}")
    print(f"ratio train clips/s / librosa log-mel clips/s: {train_rate / librosa_rate:.2f}")
    print(f"load average after (1/5/15 min): {_load(os.getloadavg())}")
    return 0


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def _backend_version(name: str) -> str:
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(name)
    try:
        return __import__(module).__version__ if module else ""
    except ImportError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
