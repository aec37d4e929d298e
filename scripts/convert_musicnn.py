"""Convert musicnn's MSD_musicnn checkpoint (TF1) into the ``musicnn-msd`` zoo folder.

Reads the checkpoint shipped inside the installed ``musicnn`` package (0.1.0, ISC licence),
maps every variable onto :class:`keras_musiclatent.models.musicnn.MusicnnBackbone` (optimizer
slots aside; any other unmapped, missing or mis-shaped variable stops the conversion), and
writes ``config.json``, ``model.weights.h5`` and ``metadata.json``, each atomically. Other files
in the folder (``card.md``) are left alone; the zoo index is not touched: the sha256 of each
written file is printed for it.

Usage (from the repository root; needs ``pip install --no-deps musicnn`` and TensorFlow)::

    python scripts/convert_musicnn.py --out zoo/musicnn-msd
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import keras  # noqa: E402

import keras_musiclatent  # noqa: E402
from keras_musiclatent._files import atomic_path, sha256_file  # noqa: E402
from keras_musiclatent.models.musicnn import MSD_TAGS, MusicnnBackbone  # noqa: E402

COMMAND = "python scripts/convert_musicnn.py --out zoo/musicnn-msd"
MAX_WEIGHTS_BYTES = 10 * 1024 * 1024

# tf.compat.v1.layers names layers by creation order; musicnn creates them as: input batch
# norm, the two timbral and three temporal branches (conv, batch norm), the three mid-end
# convs with their batch norms, then the back end.
LAYER_MAP: dict[str, str] = {
    "batch_normalization": "input_bn",
    "conv2d": "timbral_38_conv",
    "batch_normalization_1": "timbral_38_bn",
    "conv2d_1": "timbral_67_conv",
    "batch_normalization_2": "timbral_67_bn",
    "conv2d_2": "temporal_128_conv",
    "batch_normalization_3": "temporal_128_bn",
    "conv2d_3": "temporal_64_conv",
    "batch_normalization_4": "temporal_64_bn",
    "conv2d_4": "temporal_32_conv",
    "batch_normalization_5": "temporal_32_bn",
    "conv2d_5": "midend_1_conv",
    "batch_normalization_6": "midend_1_bn",
    "conv2d_6": "midend_2_conv",
    "batch_normalization_7": "midend_2_bn",
    "conv2d_7": "midend_3_conv",
    "batch_normalization_8": "midend_3_bn",
    "batch_normalization_9": "pool_bn",
    "dense": "penultimate_dense",
    "batch_normalization_10": "penultimate_bn",
    "dense_1": "tags",
}

# The mid-end convs are 2-D in musicnn, (7, channels, 1, filters) kernels sliding over time
# only; the port's Conv1D kernels are the same numbers without the unit axis.
SQUEEZED_KERNELS = {"midend_1_conv", "midend_2_conv", "midend_3_conv"}


class ConversionError(RuntimeError):
    """The checkpoint does not match the port, variable for variable."""


def is_optimizer_state(name: str) -> bool:
    """Adam's slots and step powers: training state, not part of the network."""
    return name.split("/")[-1].startswith("Adam") or name in ("beta1_power", "beta2_power")


def checkpoint_prefix(model: str = "MSD_musicnn") -> Path:
    """The checkpoint of ``model`` inside the installed musicnn package.

    Each model folder is itself the checkpoint prefix (files ``.index`` and ``.data-*``).
    """
    spec = importlib.util.find_spec("musicnn")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError(
            "the musicnn package is not installed: pip install --no-deps musicnn==0.1.0"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / model
    if not (folder / ".index").is_file():
        raise ConversionError(f"{folder}: no checkpoint (.index) for model {model!r}")
    return folder


def read_checkpoint(prefix: Path) -> dict[str, np.ndarray]:
    """Every non-optimizer variable of a TF1 checkpoint, by name."""
    import tensorflow as tf

    # tf.train.load_checkpoint refuses a prefix that is a folder; the v1 reader accepts it.
    reader = tf.compat.v1.train.NewCheckpointReader(str(prefix) + os.sep)
    return {
        name: np.asarray(reader.get_tensor(name))
        for name in sorted(reader.get_variable_to_shape_map())
        if not is_optimizer_state(name)
    }


def assign_weights(model: MusicnnBackbone, variables: dict[str, np.ndarray]) -> None:
    """Set every weight of ``model`` from checkpoint ``variables``, or raise.

    Raises:
        ConversionError: a variable maps to nothing, a weight gets no variable, or shapes
            differ; the message lists every problem found.
    """
    weights = {w.path: w for w in model.weights}
    problems: list[str] = []
    assigned: set[str] = set()
    values: dict[str, np.ndarray] = {}
    for name, value in variables.items():
        layer, _, kind = name.rpartition("/")
        if layer not in LAYER_MAP:
            problems.append(f"checkpoint variable {name} {value.shape}: no port layer")
            continue
        target = f"{LAYER_MAP[layer]}/{kind}"
        if target not in weights:
            problems.append(f"checkpoint variable {name}: the port has no weight {target}")
            continue
        if LAYER_MAP[layer] in SQUEEZED_KERNELS and kind == "kernel" and value.ndim == 4:
            if value.shape[2] != 1:
                problems.append(f"{name} {value.shape}: expected a unit third axis")
                continue
            value = value[:, :, 0, :]
        expected = tuple(weights[target].shape)
        if value.shape != expected:
            problems.append(f"{name} {value.shape} -> {target} {expected}: shapes differ")
            continue
        if target in assigned:
            problems.append(f"{name}: {target} assigned twice")
            continue
        assigned.add(target)
        values[target] = value
    problems += [
        f"port weight {path}: no checkpoint variable" for path in weights.keys() - assigned
    ]
    if problems:
        raise ConversionError("checkpoint and port differ:\n  " + "\n  ".join(sorted(problems)))
    for path, value in values.items():
        weights[path].assign(value.astype(weights[path].dtype))


def convert(model: str = "MSD_musicnn") -> tuple[MusicnnBackbone, Path]:
    """The port with the checkpoint's weights, and the checkpoint prefix it came from."""
    prefix = checkpoint_prefix(model)
    port = MusicnnBackbone(num_tags=len(MSD_TAGS))
    assign_weights(port, read_checkpoint(prefix))
    return port, prefix


def _write_text(dest: Path, text: str) -> None:
    with atomic_path(dest) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _versions() -> dict[str, str]:
    versions = {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "keras_musiclatent": keras_musiclatent.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        versions["musicnn"] = importlib.metadata.version("musicnn")
    return versions


def write_zoo_folder(port: MusicnnBackbone, prefix: Path, out: Path) -> dict[str, str]:
    """Write ``config.json``, ``model.weights.h5`` and ``metadata.json``; return their sha256."""
    out.mkdir(parents=True, exist_ok=True)
    config = keras.saving.serialize_keras_object(port)
    config.pop("compile_config", None)
    _write_text(out / "config.json", json.dumps(config, indent=1, sort_keys=True))
    with atomic_path(out / "model.weights.h5", suffix=".weights.h5") as tmp:
        port.save_weights(tmp)
    size = (out / "model.weights.h5").stat().st_size
    if size > MAX_WEIGHTS_BYTES:
        raise ConversionError(f"{out / 'model.weights.h5'}: {size} bytes, over the 10 MB limit")
    files = {name: sha256_file(out / name) for name in ("config.json", "model.weights.h5")}
    version = _versions().get("musicnn", "unknown")
    metadata: dict[str, Any] = {
        "name": "musicnn-msd",
        "class": "MusicnnBackbone",
        "description": (
            "musicnn (Pons & Serra 2019) trained by its authors on the Million Song Dataset: "
            "50 Last.fm tag probabilities and a 200-d penultimate embedding per 3-s window at "
            "16 kHz; weights converted from the TF1 checkpoint, not retrained"
        ),
        "licence": "ISC",
        "copyright": "Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019",
        "attribution": (
            "Jordi Pons and Xavier Serra, musicnn: pre-trained convolutional neural networks "
            "for music audio tagging, ISMIR 2019 late-breaking demo; "
            "https://github.com/jordipons/musicnn"
        ),
        "source": f"musicnn {version} (PyPI) MSD_musicnn checkpoint",
        "source_files": {
            p.name: sha256_file(p) for p in sorted(prefix.iterdir()) if p.name.startswith(".")
        },
        "data": "Million Song Dataset audio previews with the 50 most frequent Last.fm tags "
        "(training by the musicnn authors)",
        "conversion_command": COMMAND,
        "created": datetime.date.today().isoformat(),
        "sample_rate": port.sample_rate,
        "segment_seconds": port.segment_seconds,
        "segment_samples": port.samples,
        "frames": port.frames,
        "embedding_dim": port.embedding_dim,
        "tags": list(MSD_TAGS),
        "parameters": int(port.count_params()),
        "versions": _versions(),
        "files": files,
    }
    _write_text(out / "metadata.json", json.dumps(metadata, indent=2, sort_keys=True))
    files["metadata.json"] = sha256_file(out / "metadata.json")
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=REPO_ROOT / "zoo" / "musicnn-msd", help="zoo folder to write"
    )
    args = parser.parse_args(argv)
    try:
        port, prefix = convert()
        files = write_zoo_folder(port, prefix, args.out)
    except ConversionError as exc:
        print(f"convert_musicnn: {exc}", file=sys.stderr)
        return 1
    print(f"converted {prefix} -> {args.out}")
    print(f"  model.weights.h5: {(args.out / 'model.weights.h5').stat().st_size} bytes")
    for name, sha in files.items():
        print(f"  sha256 {sha}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
