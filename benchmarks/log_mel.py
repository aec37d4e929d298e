"""Log-mel throughput: the package's ``LogMelSpectrogram`` layer against librosa, same batch.

Measures, in one process, on a batch of synthetic 3-s clips (22050 Hz, STFT 2048/512,
128 mels, the layer's defaults):

- **ours, eager**: ``layer(batch)`` converted to NumPy (what ``model.encode`` and the demo do);
- **ours, compiled**: the layer inside a ``keras.Model``, ``predict_on_batch`` (a traced
  ``tf.function`` on TensorFlow, ``jit`` on JAX), the path training and ``predict`` take;
- **librosa**: ``librosa.feature.melspectrogram`` on the whole batch, then
  ``librosa.power_to_db(ref=1.0, amin=1e-10, top_db=None)`` (the reference of the evaluation
  protocol (docs/evaluation.md)).

Each is timed ``--repeats`` times after a warm-up call; the medians give clips per second and
the ratios (ours / librosa: above 1 means the layer is faster). The script also checks that
both give the same numbers (max difference over bins within 80 dB of each clip's peak).

Example::

    python benchmarks/log_mel.py                            # batch 32, 7 repeats
    python benchmarks/log_mel.py --single-thread            # TensorFlow on one core, like NumPy
    python benchmarks/log_mel.py --batch-size 2 --repeats 1   # smoke run
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


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-size", type=int, default=32, help="3-s clips per batch")
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats (median)")
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax", "torch"),
        default=None,
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument(
        "--single-thread",
        action="store_true",
        help="TensorFlow on one thread (librosa's NumPy FFT uses one): a per-core comparison",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.batch_size, args.repeats) < 1:
        parser.error("--batch-size and --repeats must be >= 1")
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


def timed(fn: Callable[[], Any], repeats: int) -> tuple[list[float], list[float], Any]:
    """Wall and CPU (this process, all threads) seconds of ``repeats`` calls, last result."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return wall, cpu, result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if args.single_thread:
        if (args.backend or os.environ.get("KERAS_BACKEND", "tensorflow")) != "tensorflow":
            raise SystemExit("--single-thread is implemented for the TensorFlow backend only")
        import tensorflow as tf

        # Must precede the first TensorFlow op.
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)

    import keras
    import librosa
    import numpy as np

    from keras_musiclatent.layers import LogMelSpectrogram

    layer = LogMelSpectrogram()
    sr, samples = layer.sample_rate, 3 * layer.sample_rate
    batch = synthetic_audio(np.random.default_rng(args.seed), args.batch_size, samples, sr)
    inputs = keras.Input((samples,))
    model = keras.Model(inputs, layer(inputs))

    def eager() -> np.ndarray:
        return keras.ops.convert_to_numpy(layer(batch))

    def compiled() -> np.ndarray:
        return np.asarray(model.predict_on_batch(batch))

    def reference() -> np.ndarray:
        power = librosa.feature.melspectrogram(
            y=batch,
            sr=sr,
            n_fft=layer.n_fft,
            hop_length=layer.hop_length,
            n_mels=layer.n_mels,
            center=True,
            pad_mode="constant",
        )
        return np.swapaxes(librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=None), 1, 2)

    backend = keras.backend.backend()
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, load average (1/5/15 min): {_load(os.getloadavg())}")
    print(
        f"python {platform.python_version()}, keras {keras.__version__}, "
        f"backend {backend} {_backend_version(backend)}, numpy {np.__version__}, "
        f"librosa {librosa.__version__}"
    )
    print(
        f"batch: {args.batch_size} synthetic 3-s clips at {sr} Hz, STFT {layer.n_fft}/"
        f"{layer.hop_length}, {layer.n_mels} mels, {args.repeats} repeats after a warm-up"
    )
    print(f"threads: {'1 (TensorFlow intra/inter-op)' if args.single_thread else 'default'}")

    results = {}
    for name, fn in (("eager", eager), ("compiled", compiled), ("librosa", reference)):
        fn()  # warm-up: tracing, compilation, filterbank and FFT plans
        results[name] = timed(fn, args.repeats)

    ref = results["librosa"][2]
    within = ref >= ref.max(axis=(1, 2), keepdims=True) - 80.0
    labels = {
        "eager": "ours, eager (layer(batch))",
        "compiled": "ours, compiled (Model.predict_on_batch)",
        "librosa": "librosa melspectrogram + power_to_db",
    }
    print()
    print(
        f"{'path':<42} {'clips/s':>8} {'wall s':>8} {'CPU s':>8} {'clips/CPU-s':>11}"
        "  wall seconds per repeat"
    )
    rates = {}
    for name, (wall, cpu, _) in results.items():
        w, c = statistics.median(wall), statistics.median(cpu)
        rates[name] = (args.batch_size / w, args.batch_size / c)
        runs = " ".join(f"{s:.3f}" for s in wall)
        print(
            f"{labels[name]:<42} {rates[name][0]:>8.1f} {w:>8.4f} {c:>8.4f} "
            f"{rates[name][1]:>11.1f}  {runs}"
        )
    print("(medians per batch; clips/CPU-s: clips per second of CPU time, all threads)")
    for name in ("eager", "compiled"):
        diff = np.abs(results[name][2] - ref)[within].max()
        print(f"max |{name} - librosa| within 80 dB of the peak: {diff:.2g} dB")
    for name in ("eager", "compiled"):
        print(
            f"ratio {name} ours/librosa (clips/s): {rates[name][0] / rates['librosa'][0]:.2f} "
            f"wall, {rates[name][1] / rates['librosa'][1]:.2f} CPU"
        )
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
