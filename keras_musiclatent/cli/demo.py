"""The main job on an embedded default: the shipped ``gtzan-vae`` on two built-in demo clips."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent._files import write_json, write_npz
from keras_musiclatent.cli._command import Command, print_json
from keras_musiclatent.data.synthetic import demo_clip
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.evaluate import metrics
from keras_musiclatent.evaluate.plots import save_log_mel_strip
from keras_musiclatent.latent_space import LatentSpace

__all__ = ["COMMANDS", "run_demo"]


def run_demo(
    *,
    out: Path,
    model: str = "gtzan-vae",
    inputs: tuple[str | Path, str | Path] | None = None,
    steps: int = 9,
    seed: int = 0,
) -> dict[str, Any]:
    """Encode two clips, reconstruct them, interpolate between them, classify, write it all.

    Without ``inputs`` the clips are built in: two synthetic pop-like clips at different
    tempi and drum seeds. Writes under ``out``: ``a.wav``, ``b.wav`` (the inputs),
    ``a.reconstruction.wav``, ``b.reconstruction.wav``, ``interpolation_00.wav`` ...
    (``steps`` WAVs from a to b), ``interpolation.png`` (their log-mels), ``latent.npz``
    (mean, log_var, z of both clips) and ``summary.json`` (genres, spectral RMSE, smoothness).

    Args:
        out: output folder (created).
        model: zoo name or model folder.
        inputs: two audio files to use instead of the built-in clips.
        steps: interpolation points, ends included.
        seed: seeds the built-in clips.

    Returns:
        The summary written to ``summary.json``.
    """

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    space = LatentSpace.load(model)
    sr = space.sample_rate
    if inputs is None:
        clips = [
            demo_clip(seconds=6.0, tempo=96.0, seed=seed, sample_rate=sr),
            demo_clip(seconds=6.0, tempo=132.0, seed=seed + 1, sample_rate=sr),
        ]
        sources = ["built-in demo clip (96 bpm)", "built-in demo clip (132 bpm)"]
    else:
        clips = [audio.load(p, sr=sr) for p in inputs]
        sources = [str(p) for p in inputs]
    summary: dict[str, Any] = {"model": space.name, "clips": {}}
    encodings = []
    for name, clip, source in zip(("a", "b"), clips, sources, strict=True):
        audio.save(out / f"{name}.wav", clip, sr)
        enc = space.encode(clip)
        encodings.append(enc)
        decoded = space.decode(enc)
        heard = space.to_audio(decoded, num_samples=enc.num_samples)
        audio.save(out / f"{name}.reconstruction.wav", heard, sr)
        reference = space.log_mel(clip)
        frames = metrics.real_frames(
            enc.lengths, hop_length=space.model.hop_length, frames=reference.shape[1]
        )
        rmse = float(metrics.spectral_rmse_db(reference, decoded, frames=frames).mean())
        entry: dict[str, Any] = {
            "source": source,
            "seconds": round(len(clip) / sr, 3),
            "segments": enc.segments,
            "latent_rmse_db": round(rmse, 3),
        }
        if space.genre_head is not None:
            entry["genres"] = {g: round(p, 3) for g, p in list(space.classify(enc).items())[:3]}
        summary["clips"][name] = entry
    path = space.interpolate(encodings[0], encodings[1], steps=steps)
    for i, step in enumerate(path):
        audio.save(out / f"interpolation_{i:02d}.wav", step.audio, sr)
    save_log_mel_strip(
        out / "interpolation.png",
        [s.log_mel[0] for s in path],
        titles=[f"t={t:.2f}" for t in np.linspace(0, 1, steps)],
        ends=("clip A", "clip B"),
        title=f"slerp in {steps} steps from clip A (a.wav, left) to clip B (b.wav, right), "
        f"first {space.segment_seconds:g}-s segment",
        sample_rate=sr,
        hop_length=space.model.hop_length,
    )
    write_npz(
        out / "latent.npz",
        **{
            f"{k}_{n}": getattr(e, k)
            for n, e in zip("ab", encodings, strict=True)
            for k in ("mean", "log_var", "z")
        },
    )
    summary["interpolation"] = {
        "steps": steps,
        "method": "slerp",
        "smoothness": round(
            metrics.interpolation_smoothness(np.stack([s.log_mel for s in path])), 3
        ),
    }
    summary["files"] = sorted(
        [
            "a.wav",
            "b.wav",
            "a.reconstruction.wav",
            "b.reconstruction.wav",
            *(f"interpolation_{i:02d}.wav" for i in range(steps)),
            "interpolation.png",
            "latent.npz",
            "summary.json",
        ]
    )
    write_json(out / "summary.json", summary)
    return summary


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", nargs="?", type=Path, default=None, metavar="A")
    p.add_argument("b", nargs="?", type=Path, default=None, metavar="B")
    p.add_argument("--out", default="musiclatent-demo", help="output folder (default: %(default)s)")
    p.add_argument("--model", default="gtzan-vae", help="zoo name or model folder")
    p.add_argument("--steps", type=int, default=9, help="interpolation points, ends included")
    p.add_argument("--seed", type=int, default=0)


def _run(args: argparse.Namespace) -> int:
    inputs = None
    if args.a is not None or args.b is not None:
        if args.a is None or args.b is None:
            raise ConfigError("give both clips (A and B) or neither")
        inputs = (args.a, args.b)
    summary = run_demo(
        out=Path(args.out), model=args.model, inputs=inputs, steps=args.steps, seed=args.seed
    )
    print_json(summary)
    return 0


COMMANDS = {
    "demo": Command(
        "the main job: reconstruct two clips with gtzan-vae, interpolate between them, "
        "classify them; WAVs, PNG and JSON (built-in clips unless A and B are given)",
        _configure,
        _run,
    ),
}
