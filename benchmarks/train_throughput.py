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

With ``--pipelines``, it measures instead how the shipped ``gtzan-vae-plus`` recipe's model trains
from each input path, side by side in one process, on the same clips (``--data`` GTZAN, else
synthetic 30-s clips written as WAV files):

- **old**: ``SegmentDataset``, the protocol's grid of windows read batch by batch from the
  decoded-audio cache (warmed first, as every epoch after a run's first one finds it);
- **new**: ``CropDataset`` random crops (with gain and polarity) from an in-memory int16
  ``AudioBank``; and **new, on device**: the same crops cut by ``keras.ops`` from the bank
  held as one backend tensor (``training.device_audio``);

each as the input alone (batches/s) and ``model.fit`` (segments/s), plus where a training
step's time goes (compiled forward passes of the log-mel layer, encoder and decoder, and a
batch of each input path). On JAX with a GPU it adds the on-device path at ``--gpu-batch``,
named by the GPU; without one it says so. ``--json PATH`` writes every figure.

Example::

    python benchmarks/train_throughput.py --batch-size 32 --steps 20 --repeats 3
    KERAS_BACKEND=jax python benchmarks/train_throughput.py
    python benchmarks/train_throughput.py --pipelines --data path/to/gtzan --json cpu.json
    KERAS_BACKEND=jax python benchmarks/train_throughput.py --pipelines --gpu-batch 256
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
    parser.add_argument(
        "--pipelines",
        action="store_true",
        help="compare the training input paths on the gtzan-vae-plus recipe's model",
    )
    parser.add_argument(
        "--data", default=None, help="--pipelines: a GTZAN folder (default: synthetic clips)"
    )
    parser.add_argument(
        "--gpu-batch", type=int, default=256, help="--pipelines: batch size on a GPU"
    )
    parser.add_argument("--json", default=None, help="write the figures to this JSON file")
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

    if args.pipelines:
        return pipelines(args)

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


def _recipe_model(tiny: bool, seed: int) -> Any:
    from keras_musiclatent.train.config import read_config_file, resolve_recipe
    from keras_musiclatent.train.loop import build_model

    # The CRNN VAE of the published figures (the first gtzan-vae's architecture): the input
    # paths are compared on it, so the figures stay comparable across model versions.
    config = dict(read_config_file(resolve_recipe("gtzan-vae-plus"))["model"])
    if tiny:
        config.update(TINY_MODEL)
    config.update(seed=seed)
    return build_model(config)


def _clip_table(args: argparse.Namespace, folder: str, sample_rate: int) -> Any:
    """GTZAN train + excluded, or 24 synthetic 30-s clips written as 16-bit WAV files."""
    import numpy as np
    import soundfile as sf

    from keras_musiclatent.data import load_folder, load_gtzan

    if args.data:
        table = load_gtzan(args.data)
        return table.filter(lambda clip: clip.split in ("train", "excluded"))
    rng = np.random.default_rng(args.seed)
    seconds = 4 if args.tiny else 30
    for i in range(6 if args.tiny else 24):
        path = os.path.join(folder, "synthetic", f"clip{i:02d}.wav")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        y = synthetic_audio(rng, 1, seconds * sample_rate, sample_rate)[0]
        sf.write(path, y, sample_rate, subtype="PCM_16")
    return load_folder(folder)


def pipelines(args: argparse.Namespace) -> int:
    """The ``--pipelines`` report (see the module docstring)."""
    import tempfile

    import keras

    from keras_musiclatent.data import AudioBank, CropDataset, SegmentDataset

    keras.utils.set_random_seed(args.seed)
    backend = keras.backend.backend()
    model = _recipe_model(args.tiny, args.seed)
    bs, sr, seconds = args.batch_size, model.sample_rate, model.segment_seconds
    report: dict[str, Any] = {
        "machine": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "load_before": list(os.getloadavg()),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": backend,
        "backend_version": _backend_version(backend),
        "model": f"gtzan-vae-plus recipe{' (tiny)' if args.tiny else ''}",
        "parameters": int(model.count_params()),
        "batch_size": bs,
        "steps": args.steps,
        "repeats": args.repeats,
    }
    print(f"machine: {report['machine']}, {report['processor']}, {report['cpus']} cpus")
    print(f"load average (1/5/15 min): {_load(os.getloadavg())}")
    print(f"keras {keras.__version__}, backend {backend} {report['backend_version']}")
    print(f"model: {report['model']}, {report['parameters']:,} parameters, batch {bs}")

    with tempfile.TemporaryDirectory() as tmp:
        table = _clip_table(args, tmp, sr)
        cache = os.path.join(tmp, "cache")
        old = SegmentDataset(
            table,
            batch_size=bs,
            sample_rate=sr,
            segment_seconds=seconds,
            cache_dir=cache,
            include_labels=False,
            seed=args.seed,
        )
        start = time.perf_counter()
        for i in range(len(old)):  # the first pass decodes and fills the cache
            old[i]
        report["old_first_pass_s"] = time.perf_counter() - start
        start = time.perf_counter()
        bank = AudioBank.from_tables([table], sample_rate=sr, cache_dir=cache)
        report["bank_build_s"] = time.perf_counter() - start
        report["audio_hours"] = bank.seconds / 3600
        report["bank_bytes"] = bank.nbytes
        crops = dict(batch_size=bs, segment_seconds=seconds, gain_db=6.0, polarity=True)
        paths = {
            "old": old,
            "new": CropDataset(bank, seed=args.seed, **crops),
            "new_on_device": CropDataset(bank, seed=args.seed, on_device=True, **crops),
        }
        print(
            f"clips: {len(table)} ({bank.seconds / 3600:.2f} h), "
            f"{'GTZAN train+excluded' if args.data else 'synthetic'}; bank "
            f"{bank.nbytes / 1e6:.0f} MB built in {report['bank_build_s']:.1f} s"
        )

        model.adapt([old[0]])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, clipnorm=1.0))
        steps = min(args.steps, len(old))
        rows = []
        for name, ds in paths.items():
            batch_s = timed(lambda ds=ds: [ds[i] for i in range(steps)], args.repeats)
            model.fit(ds, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)  # warm-up
            fit_s = timed(
                lambda ds=ds: model.fit(
                    ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False
                ),
                args.repeats,
            )
            input_ms = 1000 * statistics.median(batch_s) / steps
            rate = steps * bs / statistics.median(fit_s)
            report[name] = {"input_ms_per_batch": input_ms, "fit_segments_per_s": rate}
            rows.append((name, input_ms, rate, fit_s))

        # Where a step's time goes: compiled forward passes of the model's parts.
        x = paths["old"][0][0]
        parts = _forward_times(model, x, args.repeats)
        report["forward_ms"] = parts
        step_ms = 1000 * bs / report["new"]["fit_segments_per_s"]
        report["train_step_ms"] = step_ms

    print()
    print(f"{'input path':<16} {'input ms/batch':>15} {'fit segments/s':>15}  fit s per repeat")
    for name, input_ms, rate, fit_s in rows:
        print(f"{name:<16} {input_ms:>15.2f} {rate:>15.1f}  {' '.join(f'{t:.2f}' for t in fit_s)}")
    print(
        f"forward ms per batch of {bs}: "
        + ", ".join(f"{k} {v:.1f}" for k, v in parts.items())
        + f"; a whole training step (new path) {step_ms:.1f} ms"
    )
    ratio = report["new"]["fit_segments_per_s"] / report["old"]["fit_segments_per_s"]
    ratio_device = (
        report["new_on_device"]["fit_segments_per_s"] / report["old"]["fit_segments_per_s"]
    )
    report["ratio_new_over_old"] = ratio
    report["ratio_on_device_over_old"] = ratio_device
    print(f"ratio fit segments/s new/old: {ratio:.2f}")
    print(f"ratio fit segments/s new on device/old: {ratio_device:.2f}")
    report["gpu"] = _gpu_run(args, model, bank, report)
    report["load_after"] = list(os.getloadavg())
    print(f"load average after (1/5/15 min): {_load(os.getloadavg())}")
    if args.json:
        from keras_musiclatent._files import write_json

        write_json(args.json, report)
        print(f"wrote {args.json}")
    return 0


def _forward_times(model: Any, x: dict[str, Any], repeats: int) -> dict[str, float]:
    """Milliseconds of compiled forward passes of the log-mel layer, encoder and decoder."""
    import keras
    import numpy as np

    mel = model.log_mel(x["audio"][:2])  # NumPy, through the model's own layer
    feats = np.repeat(mel, len(x["audio"]) // 2 + 1, axis=0)[: len(x["audio"])]
    z = np.zeros((len(x["audio"]), model.latent_dim), np.float32)
    out = {}
    for name, layer, arg in (
        ("log_mel", model.log_mel_layer, x["audio"]),
        ("encoder", model.encoder, feats),
        ("decoder", model.decoder, z),
    ):
        inputs = keras.Input(shape=arg.shape[1:], dtype="float32")
        wrapper = keras.Model(inputs, layer(inputs))
        wrapper.predict_on_batch(arg)  # compiles
        seconds = timed(lambda w=wrapper, a=arg: w.predict_on_batch(a), max(repeats, 3))
        out[name] = 1000 * statistics.median(seconds)
    return out


def _gpu_run(args: argparse.Namespace, model: Any, bank: Any, report: dict[str, Any]) -> Any:
    """The on-device path at ``--gpu-batch`` on JAX's first GPU, or why it did not run."""
    import keras

    if keras.backend.backend() != "jax":
        print("gpu: not measured (the GPU path is measured on the JAX backend)")
        return {"measured": False, "reason": "backend is not jax"}
    import jax

    gpus = [d for d in jax.devices() if d.platform == "gpu"]
    if not gpus:
        print("gpu: none found (JAX sees only CPU devices); skipped")
        return {"measured": False, "reason": "no GPU"}
    from keras_musiclatent.data import CropDataset

    name = getattr(gpus[0], "device_kind", str(gpus[0]))
    ds = CropDataset(
        bank,
        batch_size=args.gpu_batch,
        segment_seconds=model.segment_seconds,
        gain_db=6.0,
        polarity=True,
        seed=args.seed,
        on_device=True,
    )
    steps = max(args.steps, 10)
    model.fit(ds, epochs=1, steps_per_epoch=3, verbose=0, shuffle=False)  # compiles
    fit_s = timed(
        lambda: model.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False),
        args.repeats,
    )
    rate = steps * args.gpu_batch / statistics.median(fit_s)
    print(f"gpu: {name}, batch {args.gpu_batch}, on-device crops: {rate:.1f} segments/s")
    return {"measured": True, "name": name, "batch_size": args.gpu_batch, "segments_per_s": rate}


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
