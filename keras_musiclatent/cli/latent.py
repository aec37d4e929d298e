"""``musiclatent`` commands over :class:`~keras_musiclatent.latent_space.LatentSpace` and the zoo.

Every output is written atomically under ``--out`` (or to ``-o``), so a failure never leaves a
partial file.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent import audio, codec
from keras_musiclatent._files import atomic_path, write_json, write_npz
from keras_musiclatent._progress import progress_bar
from keras_musiclatent.cli._command import Command, print_json
from keras_musiclatent.data.folder import audio_files
from keras_musiclatent.data.sources import load_table
from keras_musiclatent.errors import CompressedStreamError, LatentShapeError
from keras_musiclatent.evaluate import metrics
from keras_musiclatent.evaluate.plots import save_log_mel_strip
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.presets import registry as zoo
from keras_musiclatent.train.package import package_model

DEFAULT_MODEL = "gtzan-vae"

__all__ = ["COMMANDS"]


def _progress(items: Iterable[Any], *, desc: str, total: int | None = None):
    return progress_bar(items, desc=desc, total=total)


def _space(args: argparse.Namespace):
    return LatentSpace.load(args.model)


def _model_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="zoo name or model folder / training run (default: %(default)s)",
    )


def _stems(paths: list[Path]) -> list[str]:
    """Output names per input; inputs that share a stem get a numeric suffix."""
    seen: dict[str, int] = {}
    out = []
    for p in paths:
        stem = p.stem
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out


def _files_arg(p: argparse.ArgumentParser, *, help: str = "audio files or folders") -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE", help=help)


def _inputs(args: argparse.Namespace, *, extensions: tuple[str, ...] | None = None) -> list[Path]:
    """``args.files`` with each folder replaced by its audio (or ``extensions``) files, sorted."""
    if extensions is None:
        return audio_files(args.files)
    return audio_files(args.files, extensions=extensions)


def _axes(space: LatentSpace) -> dict[str, Any]:
    """The time and frequency axes of ``space``'s log-mels, for :func:`save_log_mel_strip`."""
    return {"sample_rate": space.sample_rate, "hop_length": space.model.hop_length}


# --- encode / decode / reconstruct --------------------------------------------------------


def _configure_encode(p: argparse.ArgumentParser) -> None:
    _files_arg(p)
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path, help="folder for one .npz per input")
    p.add_argument("--sample", action="store_true", help="z is a posterior sample, not the mean")


def _run_encode(args: argparse.Namespace) -> int:
    files = _inputs(args)
    space = _space(args)
    rows = []
    for path, stem in _progress(
        zip(files, _stems(files), strict=True), desc="encode", total=len(files)
    ):
        enc = space.encode(path, sample=args.sample)
        dest = args.out / f"{stem}.npz"
        write_npz(
            dest,
            mean=enc.mean,
            log_var=enc.log_var,
            z=enc.z,
            lengths=enc.lengths,
            num_samples=np.int64(enc.num_samples),
            sample_rate=np.int64(enc.sample_rate),
            **({} if enc.time is None else {"time": enc.time}),
        )
        rows.append({"file": str(path), "out": str(dest), "segments": enc.segments})
    print_json(rows)
    return 0


def _load_latents(path: Path) -> tuple[Any, Any, int | None]:
    """``(global latents, time-varying latents or None, samples or None)`` of an .npz."""
    try:
        with np.load(path, allow_pickle=False) as f:
            key = "z" if "z" in f and "mean" not in f else "mean"
            if key not in f:
                raise LatentShapeError(f"{path}: no 'mean' or 'z' array (write it with encode)")
            n = int(f["num_samples"]) if "num_samples" in f else None
            return f[key], f.get("time"), n
    except (OSError, ValueError) as exc:
        raise LatentShapeError(f"{path}: not a latent .npz file ({exc})") from None


def _configure_decode(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "files", nargs="+", type=Path, metavar="NPZ", help=".npz from encode, or folders of them"
    )
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--iterations", type=int, default=32, help="Griffin-Lim iterations")


def _run_decode(args: argparse.Namespace) -> int:
    files = _inputs(args, extensions=(".npz",))
    space = _space(args)
    rows = []
    for path, stem in zip(files, _stems(files), strict=True):
        z, time, n = _load_latents(path)
        log_mel = space.decode(z, time=time if space.has_time_latent else None)
        y = space.to_audio(log_mel, n_iter=args.iterations, num_samples=n)
        write_npz(args.out / f"{stem}.logmel.npz", log_mel=log_mel)
        audio.save(args.out / f"{stem}.wav", y, space.sample_rate)
        save_log_mel_strip(args.out / f"{stem}.png", list(log_mel[:8]), **_axes(space))
        rows.append({"file": str(path), "wav": str(args.out / f"{stem}.wav")})
    print_json(rows)
    return 0


def _configure_reconstruct(p: argparse.ArgumentParser) -> None:
    _files_arg(p)
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--iterations", type=int, default=32, help="Griffin-Lim iterations")


def _run_reconstruct(args: argparse.Namespace) -> int:
    files = _inputs(args)
    space = _space(args)
    rows = []
    for path, stem in _progress(
        zip(files, _stems(files), strict=True), desc="reconstruct", total=len(files)
    ):
        clip = audio.load(path, sr=space.sample_rate)  # decoded once, for both uses below
        enc = space.encode(clip)
        decoded = space.decode(enc)  # with the clip's time-varying latent, when there is one
        y = space.to_audio(decoded, n_iter=args.iterations, num_samples=enc.num_samples)
        reference = space.log_mel(clip)
        frames = metrics.real_frames(
            enc.lengths, hop_length=space.model.hop_length, frames=reference.shape[1]
        )
        latent_rmse = float(metrics.spectral_rmse_db(reference, decoded, frames=frames).mean())
        audio.save(args.out / f"{stem}.reconstruction.wav", y, space.sample_rate)
        save_log_mel_strip(
            args.out / f"{stem}.png",
            [reference[0], decoded[0]],
            titles=["original (segment 1)", "reconstruction"],
            **_axes(space),
        )
        rows.append(
            {
                "file": str(path),
                "wav": str(args.out / f"{stem}.reconstruction.wav"),
                "segments": enc.segments,
                "latent_rmse_db": round(latent_rmse, 3),
            }
        )
    print_json(rows)
    return 0


# --- interpolate / sample / probe / explain --------------------------------------------------


def _configure_interpolate(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", type=Path, metavar="A")
    p.add_argument("b", type=Path, metavar="B")
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--steps", type=int, default=9)
    p.add_argument("--method", choices=("slerp", "lerp"), default="slerp")
    p.add_argument("--iterations", type=int, default=32, help="Griffin-Lim iterations")


def _run_interpolate(args: argparse.Namespace) -> int:
    space = _space(args)
    steps = space.interpolate(
        args.a, args.b, steps=args.steps, method=args.method, n_iter=args.iterations
    )
    files = []
    for i, step in enumerate(steps):
        dest = args.out / f"interpolation_{i:02d}.wav"
        audio.save(dest, step.audio, space.sample_rate)
        files.append(str(dest))
    strip = [s.log_mel[0] for s in steps]
    save_log_mel_strip(
        args.out / "interpolation.png",
        strip,
        titles=[f"t={t:.2f}" for t in np.linspace(0, 1, len(steps))],
        ends=(f"A: {args.a.name}", f"B: {args.b.name}"),
        **_axes(space),
    )
    summary = {
        "a": str(args.a),
        "b": str(args.b),
        "method": args.method,
        "steps": len(steps),
        "segments": int(steps[0].z.shape[0]),
        "smoothness": metrics.interpolation_smoothness(np.stack([s.log_mel for s in steps])),
        "wavs": files,
        "image": str(args.out / "interpolation.png"),
    }
    if space.genre_head is not None:
        summary["genre_path"] = [
            space.classify(s.z) for s in (steps[0], steps[len(steps) // 2], steps[-1])
        ]
    write_json(args.out / "interpolation.json", summary)
    print_json(summary)
    return 0


def _configure_sample(p: argparse.ArgumentParser) -> None:
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("-n", "--num", type=int, default=4, help="3-s segments to draw")
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=0)


def _run_sample(args: argparse.Namespace) -> int:
    space = _space(args)
    out = space.sample(args.num, temperature=args.temperature, seed=args.seed)
    samples = space.model.samples
    files = []
    for i in range(args.num):
        dest = args.out / f"sample_{i:02d}.wav"
        audio.save(dest, out.audio[i * samples : (i + 1) * samples], space.sample_rate)
        files.append(str(dest))
    write_npz(args.out / "samples.npz", z=out.z, log_mel=out.log_mel)
    save_log_mel_strip(args.out / "samples.png", list(out.log_mel), **_axes(space))
    print_json({"wavs": files, "latents": str(args.out / "samples.npz")})
    return 0


def _configure_probe(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, metavar="FILE")
    _model_arg(p)
    p.add_argument("--dim", type=int, required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--segment", type=int, default=0, help="which 3-s segment of the clip")


def _run_probe(args: argparse.Namespace) -> int:
    space = _space(args)
    probe = space.probe(args.file, args.dim, segment=args.segment)
    audio.save(args.out / f"probe_dim{probe.dim}.wav", probe.decoded.audio, space.sample_rate)
    save_log_mel_strip(
        args.out / f"probe_dim{probe.dim}.png",
        list(probe.decoded.log_mel),
        titles=[f"{s:+.1f} sd" for s in probe.sds],
        **_axes(space),
    )
    summary = {
        "file": str(args.file),
        "dim": probe.dim,
        "summary": probe.summary(),
        "sds": probe.sds.round(3).tolist(),
        "values": probe.values.round(4).tolist(),
        "effects": {k: round(v, 3) for k, v in probe.effects.items()},
        "descriptors": {k: v.round(5).tolist() for k, v in probe.descriptors.items()},
        "wav": str(args.out / f"probe_dim{probe.dim}.wav"),
    }
    write_json(args.out / f"probe_dim{probe.dim}.json", summary)
    print(probe.summary())
    return 0


def _configure_explain(p: argparse.ArgumentParser) -> None:
    _files_arg(p, help="reference clips: audio files or folders")
    _model_arg(p)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--dims", type=int, nargs="*", default=None, help="default: every dimension")
    p.add_argument(
        "--max-segments", type=int, default=8, help="reference segments, spread over every clip"
    )
    p.add_argument(
        "--min-r",
        type=float,
        default=0.5,
        help="a dimension counts as named when its descriptor's |r| reaches this",
    )


def _run_explain(args: argparse.Namespace) -> int:
    files = _inputs(args)
    space = _space(args)
    reports = space.explain_dimensions(
        [str(f) for f in files],
        dims=args.dims,
        max_segments=args.max_segments,
        progress=None,  # a bar on stderr in a terminal
    )
    rows = [
        {
            "dim": r.dim,
            "change_db": round(r.change_db, 3),
            "descriptor": r.descriptor,
            "correlation": round(r.correlation, 3),
            "correlations": {k: round(v, 3) for k, v in r.correlations.items()},
        }
        for r in reports
    ]
    named = sum(abs(r.correlation) >= args.min_r for r in reports)
    write_json(
        args.out / "explain.json",
        {
            "model": space.name,
            "clips": len(files),
            "named_dimensions": int(named),
            "min_r": args.min_r,
            "dimensions": rows,
        },
    )
    for r in rows:
        print(
            f"dim {r['dim']:3d}  changes {r['change_db']:6.2f} dB  "
            f"{r['descriptor']:<20s} r={r['correlation']:+.2f}"
        )
    print(f"{named} of {len(rows)} dimensions have a descriptor with |r| >= {args.min_r:g}")
    return 0


# --- classify / compress -------------------------------------------------------------------


def _configure_classify(p: argparse.ArgumentParser) -> None:
    _files_arg(p)
    _model_arg(p)
    p.add_argument("--top", type=int, default=3, help="genres shown per file")
    p.add_argument("--json", action="store_true")


def _run_classify(args: argparse.Namespace) -> int:
    files = _inputs(args)
    space = _space(args)
    results = {}
    for path in _progress(files, desc="classify"):
        results[str(path)] = space.classify(path)
    if args.json:
        print_json(results)
    else:
        for path, probs in results.items():
            top = list(probs.items())[: args.top]
            print(f"{path}: " + ", ".join(f"{g} {p:.2f}" for g, p in top))
    return 0


def _configure_compress(p: argparse.ArgumentParser) -> None:
    _files_arg(p)
    _model_arg(p)
    p.add_argument(
        "-o",
        "--output",
        required=True,
        type=Path,
        help="the .mlz to write; a folder for several files or a folder (one <stem>.mlz each)",
    )
    rate = p.add_mutually_exclusive_group()
    rate.add_argument(
        "--kbps",
        type=float,
        default=None,
        help="a codec model's target rate: the finest operating point whose typical rate "
        "fits (default: its finest)",
    )
    rate.add_argument(
        "--bits", type=int, default=None, help="a codec model's precision, bits per number"
    )


def _run_compress(args: argparse.Namespace) -> int:
    files = _inputs(args)
    one = len(args.files) == 1 and not args.files[0].is_dir()
    space = _space(args)
    rows = []
    for path, stem in _progress(
        zip(files, _stems(files), strict=True), desc="compress", total=len(files)
    ):
        blob = space.compress(path, bits=args.bits, kbps=args.kbps)
        dest = args.output if one else args.output / f"{stem}.mlz"
        with atomic_path(dest) as tmp:
            tmp.write_bytes(blob)
        seconds = audio.info(path).duration
        header = codec.read_header(blob)
        rows.append(
            {
                "file": str(path),
                "out": str(dest),
                "bytes": len(blob),
                "format_version": header.version,
                "bits_per_number": header.bits,
                # A v1 stream's rate is fixed; a v2 stream's is what its entropy coding made.
                **({"latent_bitrate_bps": space.bitrate} if header.version == 1 else {}),
                "file_bitrate_bps": round(8 * len(blob) / max(seconds, 1e-9), 1),
            }
        )
    print_json(rows[0] if one else rows)
    return 0


def _configure_decompress(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, metavar="MLZ")
    p.add_argument(
        "--model",
        default=None,
        help="zoo name or model folder / training run (default: the zoo model the stream "
        f"names, else {DEFAULT_MODEL})",
    )
    p.add_argument("-o", "--output", required=True, type=Path, help="the .wav to write")
    p.add_argument("--iterations", type=int, default=32, help="Griffin-Lim iterations")


def _run_decompress(args: argparse.Namespace) -> int:
    try:
        blob = args.file.read_bytes()
    except FileNotFoundError:
        raise CompressedStreamError(f"{args.file}: no such file") from None
    except IsADirectoryError:
        raise CompressedStreamError(f"{args.file}: is a directory") from None
    if args.model is None:
        # A stream names the model that wrote it; the weights' sha256 is still checked.
        named = codec.read_header(blob).model
        args.model = named if named in zoo.list_models() else DEFAULT_MODEL
    space = _space(args)
    y = space.decompress(blob, n_iter=args.iterations)
    audio.save(args.output, y, space.sample_rate)
    print_json(
        {"file": str(args.file), "out": str(args.output), "seconds": len(y) / space.sample_rate}
    )
    return 0


# --- packaging and the zoo ----------------------------------------------------------------


def _configure_package(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_path", type=Path, metavar="RUN", help="training run folder or .keras file")
    p.add_argument("--data", required=True, type=Path, help="labelled dataset folder")
    p.add_argument("--dataset", choices=("gtzan", "folder"), default="gtzan")
    p.add_argument("--out", required=True, type=Path, help="packaged model folder to write")
    p.add_argument("--name", required=True)
    p.add_argument("--description", default="")
    p.add_argument(
        "--data-description",
        default=None,
        help="what the model trained on, for its card (default: the labelled clips counted)",
    )
    p.add_argument("--cache-dir", default=None)
    p.add_argument("--overwrite", action="store_true")
    p.add_argument(
        "--zoo", action="store_true", help="also record the folder in the zoo index (sha256)"
    )


def _run_package(args: argparse.Namespace) -> int:
    table = load_table(args.data, dataset=args.dataset)
    train = table.split("train")
    extra = table.split("excluded") if args.dataset == "gtzan" else None
    # No local path: a packaged model's metadata travels to other machines.
    if args.data_description:
        described = args.data_description
    elif args.dataset == "gtzan":
        described = f"GTZAN fault-filtered split: {len(train)} train clips"
    else:
        described = f"a folder of audio: {len(train)} train clips"
    folder = package_model(
        args.run_path,
        args.out,
        train_table=train,
        unlabelled_table=extra,
        name=args.name,
        description=args.description,
        data_description=described,
        cache_dir=args.cache_dir,
        overwrite=args.overwrite,
    )
    result: dict[str, Any] = {"out": str(folder)}
    if args.zoo:
        result["index"] = zoo.update_index(args.name, folder, description=args.description)
    print_json(result)
    return 0


COMMANDS = {
    "encode": Command("latents of audio files, one .npz each", _configure_encode, _run_encode),
    "decode": Command(
        "log-mel, WAV and PNG of latents from encode", _configure_decode, _run_decode
    ),
    "reconstruct": Command(
        "encode + decode + invert audio files; WAV, PNG and spectral RMSE",
        _configure_reconstruct,
        _run_reconstruct,
    ),
    "interpolate": Command(
        "walk from clip A to clip B in latent space; a WAV per step",
        _configure_interpolate,
        _run_interpolate,
    ),
    "sample": Command("decode random latents", _configure_sample, _run_sample),
    "probe": Command(
        "sweep one latent dimension on a clip and say what it does",
        _configure_probe,
        _run_probe,
    ),
    "explain": Command(
        "rank the latent dimensions by effect, with the descriptor each moves",
        _configure_explain,
        _run_explain,
    ),
    "classify": Command("genre probabilities of audio files", _configure_classify, _run_classify),
    "compress": Command(
        "audio file → .mlz (quantised latents)", _configure_compress, _run_compress
    ),
    "decompress": Command(".mlz → WAV", _configure_decompress, _run_decompress),
    "package": Command(
        "package a training run with latent statistics and a genre head",
        _configure_package,
        _run_package,
    ),
}
