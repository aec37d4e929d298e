"""Turn a training run into a packaged model folder (what the zoo ships).

The folder gets the model, the statistics of its training latents (for ``probe`` and
``sample``) and a latent-probe genre head fitted on the labelled training clips.
"""

from __future__ import annotations

import datetime
import os
import platform
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_musiclatent import __version__
from keras_musiclatent.data import segments_array
from keras_musiclatent.entropy import fit_entropy_model
from keras_musiclatent.genre_head import LatentStats
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.presets.files import load_model_files

__all__ = ["package_model"]


def _is_codec(model: Any) -> bool:
    """A deterministic, quantised model with a time-varying latent: it writes ``.mlz`` v2."""
    return (
        not model.is_variational
        and bool(getattr(model, "bits", None))
        and bool(getattr(model, "time_latent_dim", 0))
    )


def package_model(
    model_path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    train_table: Any,
    unlabelled_table: Any | None = None,
    name: str,
    description: str = "",
    data_description: str = "",
    cache_dir: str | os.PathLike | None = None,
    overwrite: bool = False,
    seed: int = 0,
) -> Path:
    """Package a trained model with its latent statistics and genre head (and, for a codec,
    the priors its ``.mlz`` v2 streams are entropy-coded with).

    Args:
        model_path: a training run folder or ``.keras`` file.
        out: the folder to write.
        train_table: labelled training clips (fit the genre head and the statistics).
        unlabelled_table: more training clips for the statistics only (e.g. GTZAN's
            "excluded" clips).
        name: the model's name (written into compressed streams).
        description: one line for the zoo index and metadata.
        data_description: where the training data came from.
        cache_dir: decoded-audio cache of the data module.
        overwrite: replace an existing folder.
        seed: the genre head's random state.

    Returns:
        The folder.
    """
    loaded = load_model_files(model_path)
    space = LatentSpace(loaded.model, name=name, weights_sha256=loaded.weights_sha256)
    model = loaded.model
    kwargs = {
        "sample_rate": int(model.sample_rate),
        "segment_seconds": float(model.segment_seconds),
        "cache_dir": cache_dir,
    }
    # A codec's priors are fitted on the codes of the same training segments.
    codec = _is_codec(model)
    encode = model.encode_with_time if codec else model.encode
    waves, _, label_ids, _ = segments_array(train_table, **kwargs)
    parts = [encode(waves, sample=False)]
    del waves
    if unlabelled_table is not None and len(unlabelled_table):
        extra, _, _, _ = segments_array(unlabelled_table, **kwargs)
        parts.append(encode(extra, sample=False))
        del extra
    z_train = parts[0][0]
    labels = [train_table.labels[i] for i in label_ids]
    z_stats = np.concatenate([p[0] for p in parts])
    space.latent_stats = LatentStats.fit(z_stats)
    if codec:
        z_time = np.concatenate([p[3] for p in parts])
        space.entropy_model = fit_entropy_model(
            {b: model.codes_of(z_stats, z_time, bits=b) for b in model.code_bits},
            steps=int(model.time_steps),
        )
    space.fit_genre_head(z_train, labels, seed=seed)
    metadata = {
        "name": name,
        "description": description,
        "class": type(model).__name__,
        "parameters": int(model.count_params()),
        "latent_dim": int(model.latent_dim),
        "sample_rate": int(model.sample_rate),
        "segment_seconds": float(model.segment_seconds),
        "data": data_description,
        "train_segments_genre_head": len(z_train),
        "stats_segments": len(z_stats),
        "genres": space.genres,
        "created": datetime.date.today().isoformat(),
        "versions": {
            "keras_musiclatent": __version__,
            "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "source_weights_sha256": loaded.weights_sha256,
    }
    if codec:
        # Typical rates under the fitted priors; `musiclatent compress --kbps` picks from them.
        metadata["operating_points"] = [
            {"bits": p["bits"], "kbps": round(p["kbps"], 3)} for p in space.operating_points()
        ]
    return space.save(out, metadata=metadata, overwrite=overwrite)
