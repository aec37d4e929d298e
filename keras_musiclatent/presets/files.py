"""Model folders on disk: what ``LatentSpace.save`` writes and ``LatentSpace.load`` reads.

A packaged model folder (the zoo's layout, keras-hub style)::

    config.json          the Keras config of the model (no weights, no code)
    model.weights.h5     its weights
    latent_stats.npz     optional: mean/std of training latent means
    genre_head.npz       optional: the latent-probe genre classifier
    entropy.json         optional: fitted priors of a codec's codes (``.mlz`` v2 streams)
    metadata.json        optional: versions, data, parameter count, date, sha256 of the files

A training run folder (``musiclatent train --out DIR``) or a ``.keras`` file loads too.
Everything loads with Keras safe mode and NumPy ``allow_pickle=False``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Importing the models registers their classes for deserialisation.
import keras

import keras_musiclatent.models  # noqa: F401
from keras_musiclatent._files import sha256_file
from keras_musiclatent.entropy import EntropyModel
from keras_musiclatent.errors import (
    CompressedStreamError,
    ConfigError,
    CorruptModelError,
    IncompatibleModelError,
)
from keras_musiclatent.genre_head import GenreHead, LatentStats

__all__ = ["LoadedModel", "load_model_files", "save_model_files"]

CONFIG = "config.json"
WEIGHTS = "model.weights.h5"
STATS = "latent_stats.npz"
HEAD = "genre_head.npz"
ENTROPY = "entropy.json"
METADATA = "metadata.json"


@dataclass
class LoadedModel:
    """A model read from disk with what belongs to it.

    Attributes:
        model: the Keras model.
        path: the folder or file it came from.
        weights_sha256: sha256 of its weights file (names it in compressed streams).
        latent_stats: training latent statistics, when packaged.
        genre_head: the genre head, when packaged.
        metadata: ``metadata.json`` (empty without one).
        entropy_model: a codec's fitted priors, when packaged.
    """

    model: Any
    path: Path
    weights_sha256: str
    latent_stats: LatentStats | None = None
    genre_head: GenreHead | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    entropy_model: EntropyModel | None = None


def _verify(folder: Path, expected: dict[str, str]) -> None:
    for name, sha in expected.items():
        file = folder / name
        if not file.is_file():
            raise CorruptModelError(f"{file}: missing (the model's file list names it)")
        actual = sha256_file(file)
        if actual != sha:
            raise CorruptModelError(
                f"{file}: sha256 {actual[:12]}... does not match the expected {sha[:12]}...; "
                "the file is damaged or was replaced (reinstall the package or retrain)"
            )


def _load_keras_file(path: Path):
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:
        raise CorruptModelError(
            f"{path}: cannot load model ({type(exc).__name__}: {exc})"
        ) from None


def load_model_files(
    path: str | os.PathLike, *, expected_sha256: dict[str, str] | None = None
) -> LoadedModel:
    """Load a packaged model folder, a training run folder or a ``.keras`` file.

    Args:
        path: the folder or file.
        expected_sha256: ``{file name: hex sha256}`` checked before anything is parsed.

    Raises:
        IncompatibleModelError: nothing loadable at ``path``.
        CorruptModelError: a file is missing, fails its sha256, or does not parse.
    """
    path = Path(path)
    if not path.exists():
        raise IncompatibleModelError(f"{path}: no such model file or folder")
    if expected_sha256:
        _verify(path, expected_sha256)
    if path.is_file():
        return LoadedModel(_load_keras_file(path), path, sha256_file(path))
    # A training run folder also holds a config.json (the training config): weights decide.
    if not (path / WEIGHTS).is_file():
        for name in ("best.keras", "last.keras", "model.keras"):
            if (path / name).is_file():
                file = path / name
                return LoadedModel(_load_keras_file(file), path, sha256_file(file))
        raise IncompatibleModelError(
            f"{path}: not a model folder (no {CONFIG} + {WEIGHTS}, best.keras or model.keras)"
        )
    metadata: dict[str, Any] = {}
    if (path / METADATA).is_file():
        try:
            metadata = json.loads((path / METADATA).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptModelError(f"{path / METADATA}: unreadable ({exc})") from None
    files = metadata.get("files") if isinstance(metadata, dict) else None
    if not expected_sha256 and isinstance(files, dict):
        _verify(path, files)  # a user's own folder is checked against its own manifest
    weights = path / WEIGHTS
    if not (path / CONFIG).is_file():
        raise CorruptModelError(f"{path / CONFIG}: missing")
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
        model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except Exception as exc:
        raise CorruptModelError(
            f"{path / CONFIG}: not a model config ({type(exc).__name__}: {exc})"
        ) from None
    try:
        model.load_weights(weights)
    except Exception as exc:
        raise CorruptModelError(
            f"{weights}: cannot load weights ({type(exc).__name__}: {exc})"
        ) from None
    return LoadedModel(
        model=model,
        path=path,
        weights_sha256=sha256_file(weights),
        latent_stats=LatentStats.load(path / STATS) if (path / STATS).is_file() else None,
        genre_head=GenreHead.load(path / HEAD) if (path / HEAD).is_file() else None,
        metadata=metadata,
        entropy_model=_load_entropy(path / ENTROPY) if (path / ENTROPY).is_file() else None,
    )


def _load_entropy(file: Path) -> EntropyModel:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorruptModelError(f"{file}: unreadable ({exc})") from None
    try:
        return EntropyModel.from_json(text)
    except (CompressedStreamError, ConfigError) as exc:
        raise CorruptModelError(f"{file}: {exc}") from None


def save_model_files(
    out: str | os.PathLike,
    model: Any,
    *,
    latent_stats: LatentStats | None = None,
    genre_head: GenreHead | None = None,
    metadata: dict[str, Any] | None = None,
    entropy_model: EntropyModel | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a packaged model folder; the folder appears complete or not at all.

    Files are written into a temporary sibling folder that replaces ``out`` at the end, so an
    interrupted save never leaves a half-written model.

    Raises:
        FileExistsError: ``out`` exists and ``overwrite`` is false.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        tmp.chmod(0o755)
        config = keras.saving.serialize_keras_object(model)
        # Inference needs no optimizer: without a compile config none is built or saved.
        config.pop("compile_config", None)
        (tmp / CONFIG).write_text(json.dumps(config, indent=1, sort_keys=True), encoding="utf-8")
        # A fresh copy carries no optimizer state: the file holds what inference needs.
        fresh = keras.saving.deserialize_keras_object(config, safe_mode=True)
        fresh.set_weights(model.get_weights())
        fresh.save_weights(tmp / WEIGHTS)
        if latent_stats is not None:
            latent_stats.save(tmp / STATS)
        if genre_head is not None:
            genre_head.save(tmp / HEAD)
        if entropy_model is not None:
            (tmp / ENTROPY).write_text(entropy_model.to_json(), encoding="utf-8")
        meta = dict(metadata or {})
        meta["files"] = {
            f.name: sha256_file(f) for f in sorted(tmp.iterdir()) if f.name != METADATA
        }
        (tmp / METADATA).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
