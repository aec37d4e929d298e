"""Log-mel → audio inversion: speed and audio RMSE of ``logmel_to_audio`` against baselines.

On real 3-s segments (the middle segment of the first clip of each GTZAN genre folder, from
``--data``, ``$MUSICLATENT_GTZAN`` or ``../shared/data/gtzan`` beside the checkout) or, when
none is found or with ``--synthetic``, on synthetic harmonic clips. The target is the reference
log-mel of the evaluation protocol (docs/evaluation.md); the error is its *audio RMSE*:
``metrics.spectral_rmse_db`` between the target and the log-mel of the inverted audio (all
frames of full 3-s segments).

Measured in one process, in seconds per 3-s clip:

- **ours**: ``inversion.logmel_to_audio`` on the whole batch (median of ``--repeats`` runs),
  the same one clip at a time, and without the mel-consistent Griffin-Lim
  (``mel_consistent=False``);
- **previous**: the implementation ``logmel_to_audio`` replaced: pseudo-inverse + 30
  projected-gradient steps in float64, then ``librosa.griffinlim`` (median of ``--repeats``);
- **pinv + GL**: ``librosa.griffinlim`` (batched, same iterations and momentum) on the
  pseudo-inverse of the mel filterbank clipped at zero (median of ``--repeats`` runs);
- **per-frame NNLS + GL**: ``scipy.optimize.nnls`` frame by frame, then ``librosa.griffinlim``
  (on the first ``--nnls-clips`` clips, one run);
- **librosa mel_to_audio**: ``librosa.feature.inverse.mel_to_audio`` (its NNLS is a bounded
  L-BFGS-B over the whole spectrogram, seconds to minutes per clip at n_fft 2048 depending on
  the machine), on the first ``--librosa-clips`` clips, one run.

Each row gives the RMSE of ours on the same clips, and the ratios (baseline seconds / ours:
above 1 means ours is faster).

Example::

    python benchmarks/inversion.py                      # 10 clips, all methods
    python benchmarks/inversion.py --synthetic --clips 2 --librosa-clips 0 --repeats 1
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=10, help="3-s clips inverted by ours")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats (median)")
    parser.add_argument("--n-iter", type=int, default=32, help="Griffin-Lim iterations (all)")
    parser.add_argument(
        "--librosa-clips",
        type=int,
        default=10,
        help="clips given to librosa's mel_to_audio (slow; 0 skips it)",
    )
    parser.add_argument(
        "--nnls-clips", type=int, default=2, help="clips for per-frame NNLS + GL (0 skips it)"
    )
    parser.add_argument("--data", type=Path, default=None, help="a GTZAN folder (genre/*.ogg)")
    parser.add_argument("--synthetic", action="store_true", help="synthetic clips, no data")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads (threadpoolctl); 1 makes every method single-threaded, like the FFTs",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if min(args.clips, args.repeats, args.n_iter, args.blas_threads) < 1:
        parser.error("--clips, --repeats and --n-iter must be >= 1")
    if min(args.librosa_clips, args.nnls_clips) < 0:
        parser.error("--librosa-clips and --nnls-clips must be >= 0")
    return args


def find_gtzan(data: Path | None) -> Path | None:
    """The GTZAN folder: ``data``, else ``$MUSICLATENT_GTZAN``, else beside the checkout."""
    env = os.environ.get("MUSICLATENT_GTZAN")
    candidates = [data] if data else [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "gtzan")
    for path in candidates:
        if path and path.is_dir():
            return path
    return None


def real_segments(root: Path, clips: int):
    """The middle 3-s segment of the first clip of each genre, cycling genres: ``(n, 66150)``."""
    import numpy as np

    from keras_musiclatent import audio

    genres = sorted(p for p in root.iterdir() if p.is_dir())
    files = [sorted(g.glob("*.*")) for g in genres]
    files = [f for f in files if f]
    out, names = [], []
    rank = 0
    while len(out) < clips and files:
        batch = [f[rank] for f in files if rank < len(f)]
        if not batch:
            break
        for path in batch[: clips - len(out)]:
            windows, lengths = audio.segment(audio.load(path))
            full = [i for i, n in enumerate(lengths) if n == windows.shape[1]] or [0]
            out.append(windows[full[len(full) // 2]])
            names.append(path.name)
        rank += 1
    return np.stack(out).astype(np.float32), names


def synthetic_segments(clips: int, seed: int):
    """Harmonic tones with vibrato, noise and a rhythmic envelope: ``(n, 66150)``."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sr, samples = 22050, 66150
    t = np.arange(samples) / sr
    y = np.zeros((clips, samples))
    f0 = rng.uniform(80.0, 600.0, size=(clips, 1))
    vibrato = 1.0 + 0.01 * np.sin(2 * np.pi * 5.0 * t)
    for h in range(1, 6):
        y += np.sin(2 * np.pi * h * f0 * np.cumsum(vibrato) / sr) / h
    beat = np.exp(-((t * rng.uniform(1.5, 3.0, size=(clips, 1))) % 1.0) * 5.0)
    y = 0.2 * y * beat + 0.01 * rng.standard_normal((clips, samples))
    return y.astype(np.float32), [f"synthetic-{i}" for i in range(clips)]


@dataclass
class Timing:
    """Per-run wall and CPU (this process, all threads) seconds, and the last result."""

    wall: list[float]
    cpu: list[float]
    result: Any


def timed(fn: Callable[[], Any], repeats: int) -> Timing:
    """Time ``repeats`` calls of ``fn``."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
    return Timing(wall, cpu, result)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # then BLAS keeps its default threads
        return run(args, blas="default (threadpoolctl missing)")
    with threadpool_limits(limits=args.blas_threads, user_api="blas"):
        return run(args, blas=str(args.blas_threads))


def run(args: argparse.Namespace, *, blas: str) -> int:
    """Measure and print, under the caller's thread settings."""
    import librosa
    import numpy as np
    import scipy
    import scipy.optimize

    from keras_musiclatent.audio import inversion
    from keras_musiclatent.evaluate import metrics

    sr, n_fft, hop, n_mels = 22050, 2048, 512, 128
    root = None if args.synthetic else find_gtzan(args.data)
    if root is not None:
        clips, names = real_segments(root, args.clips)
        source = f"real: middle 3-s segment of {len(clips)} GTZAN clips ({root})"
    else:
        clips, names = synthetic_segments(args.clips, args.seed)
        source = f"synthetic: {len(clips)} harmonic 3-s clips"
    n, length = clips.shape
    target = metrics.logmel_db(clips, sample_rate=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    mel_power = np.power(10.0, target / 10.0)
    fb = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)

    def rmse(audio: np.ndarray, count: int) -> np.ndarray:
        est = metrics.logmel_db(audio, sample_rate=sr, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
        return metrics.spectral_rmse_db(target[:count], est)

    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()}")
    print(f"cpus: {os.cpu_count()}, load average (1/5/15 min): {_load(os.getloadavg())}")
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
        f"librosa {librosa.__version__}"
    )
    print(f"clips: {source}")
    print(f"STFT {n_fft}/{hop}, {n_mels} mels, {args.n_iter} Griffin-Lim iterations (all methods)")
    print(f"BLAS threads: {blas}; FFTs (NumPy, SciPy) single-threaded")

    def ours(**kw: Any) -> Callable[[], np.ndarray]:
        return lambda: inversion.logmel_to_audio(
            target, n_iter=args.n_iter, length=length, seed=args.seed, **kw
        )

    def pinv_gl(count: int) -> np.ndarray:
        linear = np.maximum(np.einsum("bm,ntm->nbt", np.linalg.pinv(fb), mel_power[:count]), 0)
        return librosa.griffinlim(
            np.sqrt(linear),
            n_iter=args.n_iter,
            hop_length=hop,
            n_fft=n_fft,
            momentum=0.99,
            init="random",
            random_state=args.seed,
            length=length,
        )

    def previous(count: int) -> np.ndarray:
        fb64 = fb.astype(np.float64)
        target_t = mel_power[:count].reshape(-1, n_mels).T
        x = np.maximum(np.linalg.pinv(fb64) @ target_t, 0.0)
        gram, rhs = fb64.T @ fb64, fb64.T @ target_t
        step = 1.0 / np.linalg.norm(gram, 2)
        for _ in range(30):
            x = np.maximum(x - step * (gram @ x - rhs), 0.0)
        linear = x.T.reshape(count, -1, fb.shape[1]).astype(np.float32)
        return librosa.griffinlim(
            np.sqrt(np.swapaxes(linear, 1, 2)),
            n_iter=args.n_iter,
            hop_length=hop,
            n_fft=n_fft,
            momentum=0.99,
            init="random",
            random_state=args.seed,
            length=length,
        )

    def nnls_gl(count: int) -> np.ndarray:
        linear = np.zeros((count, fb.shape[1], mel_power.shape[1]))
        for i in range(count):
            for t in range(mel_power.shape[1]):
                linear[i, :, t] = scipy.optimize.nnls(fb, mel_power[i, t])[0]
        return librosa.griffinlim(
            np.sqrt(linear),
            n_iter=args.n_iter,
            hop_length=hop,
            n_fft=n_fft,
            momentum=0.99,
            init="random",
            random_state=args.seed,
            length=length,
        )

    def librosa_mel_to_audio(count: int) -> np.ndarray:
        return np.stack(
            [
                librosa.feature.inverse.mel_to_audio(
                    mel_power[i].T,
                    sr=sr,
                    n_fft=n_fft,
                    hop_length=hop,
                    power=2.0,
                    n_iter=args.n_iter,
                    length=length,
                )
                for i in range(count)
            ]
        )

    def one_by_one() -> np.ndarray:
        return np.stack(
            [
                inversion.logmel_to_audio(
                    target[i], n_iter=args.n_iter, length=length, seed=args.seed
                )
                for i in range(n)
            ]
        )

    ours()()  # warm-up: filterbank, pseudo-inverse, FFT plans
    pinv_gl(1)
    runs: list[tuple[str, int, Timing]] = [
        ("ours (logmel_to_audio)", n, timed(ours(), args.repeats)),
        ("ours, one clip per call", n, timed(one_by_one, args.repeats)),
        (
            "ours, plain GL (mel_consistent=False)",
            n,
            timed(ours(mel_consistent=False), args.repeats),
        ),
        ("pinv + librosa GL", n, timed(lambda: pinv_gl(n), args.repeats)),
        ("previous (pinv + 30 PG + librosa GL)", n, timed(lambda: previous(n), args.repeats)),
    ]
    for label, count, fn in (
        ("per-frame NNLS + librosa GL", min(args.nnls_clips, n), nnls_gl),
        ("librosa mel_to_audio", min(args.librosa_clips, n), librosa_mel_to_audio),
    ):
        if count:
            runs.append((label, count, timed(lambda fn=fn, count=count: fn(count), 1)))

    ours_err = rmse(runs[0][2].result, n)
    ours_wall = statistics.median(runs[0][2].wall) / n
    ours_cpu = statistics.median(runs[0][2].cpu) / n
    print()
    print(
        f"{'method':<38} {'clips':>5} {'wall s':>7} {'CPU s':>7} {'RMSE dB':>8} {'ours RMSE':>9} "
        f"{'wall x':>7} {'CPU x':>7}  wall seconds per run"
    )
    table = []
    for label, count, timing in runs:
        wall = statistics.median(timing.wall) / count
        cpu = statistics.median(timing.cpu) / count
        err = rmse(timing.result, count).mean()
        mine = ours_err[:count].mean()
        table.append((label, count, wall, cpu, err, mine))
        print(
            f"{label:<38} {count:>5} {wall:>7.3f} {cpu:>7.3f} {err:>8.3f} {mine:>9.3f} "
            f"{wall / ours_wall:>7.2f} {cpu / ours_cpu:>7.2f}  {_runs(timing.wall)}"
        )
    print(
        "(wall s / CPU s: median seconds per 3-s clip; x: the method's seconds / ours; "
        "ours RMSE: ours on the same clips)"
    )
    for label, _count, wall, cpu, err, mine in table[1:]:
        print(
            f"ratio {label}: {cpu / ours_cpu:.2f}x the CPU time ({wall / ours_wall:.2f}x wall), "
            f"RMSE {err:.3f} vs {mine:.3f} dB ({err - mine:+.3f} dB)"
        )
    print(
        "ours per clip RMSE: "
        + " ".join(f"{name}={e:.2f}" for name, e in zip(names, ours_err, strict=True))
    )
    print(f"load average after (1/5/15 min): {_load(os.getloadavg())}")
    return 0


def _runs(seconds: list[float]) -> str:
    return " ".join(f"{s:.2f}" for s in seconds)


def _load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


if __name__ == "__main__":
    sys.exit(main())
