"""Measure a trained model per EVALUATION.md, beside baselines computed in the same run.

Reconstruction: latent spectral RMSE (decoder output vs the input's log-mel, real frames only)
against PCA with as many components as the model has latent dimensions, fitted on the same
training segments. Latent usage: active units.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent.errors import IncompatibleModelError
from keras_musiclatent.evaluate import metrics

__all__ = ["evaluate_reconstruction", "fit_pca", "load_trained_model", "log_mels", "pca_baseline"]


def load_trained_model(path: str | os.PathLike):
    """Load a ``.keras`` model, or ``best.keras`` of a training run folder, in safe mode."""
    import keras

    import keras_musiclatent.models  # noqa: F401  - registers the classes

    path = Path(path)
    if path.is_dir():
        for name in ("best.keras", "last.keras", "model.keras"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise IncompatibleModelError(f"{path}: no best.keras, last.keras or model.keras")
    if not path.is_file():
        raise IncompatibleModelError(f"{path}: no such model file")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:
        raise IncompatibleModelError(f"{path}: cannot load model ({exc})") from None


def _floored(log_mel: np.ndarray, frames: np.ndarray, dynamic_range_db: float = 80.0):
    mask = np.arange(log_mel.shape[1])[None, :] < frames[:, None]
    peak = np.where(mask[..., None], log_mel, -np.inf).max(axis=(1, 2))
    return np.maximum(log_mel, (peak - dynamic_range_db)[:, None, None])


def fit_pca(
    train_log_mel: np.ndarray, train_frames: np.ndarray, *, n_components: int, seed: int = 0
):
    """scikit-learn PCA of training log-mels ``(n, frames, mels)``, floored at ``max - 80 dB``.

    Fitted on flattened segments; ``n_components`` is capped by the data's size.
    """
    from sklearn.decomposition import PCA

    n, t, f = train_log_mel.shape
    x = _floored(train_log_mel, train_frames).reshape(n, t * f)
    k = int(min(n_components, n, t * f))
    return PCA(n_components=k, svd_solver="randomized", random_state=seed).fit(x)


def pca_baseline(
    train_log_mel: np.ndarray,
    train_frames: np.ndarray,
    test_log_mel: np.ndarray,
    *,
    n_components: int,
    seed: int = 0,
) -> np.ndarray:
    """PCA reconstruction of ``test_log_mel`` with ``n_components`` fitted on the train set.

    Both sets are floored at ``max - 80 dB`` per segment first (the range the RMSE measures).

    Args:
        train_log_mel: ``(n, frames, mels)`` dB.
        train_frames: ``(n,)`` real frames per training segment.
        test_log_mel: ``(m, frames, mels)`` dB.
        n_components: principal components kept.
        seed: randomised-SVD seed.

    Returns:
        ``(m, frames, mels)`` reconstruction in dB.
    """
    pca = fit_pca(train_log_mel, train_frames, n_components=n_components, seed=seed)
    test = test_log_mel.reshape(len(test_log_mel), -1)
    return pca.inverse_transform(pca.transform(test)).reshape(test_log_mel.shape)


def log_mels(model, waveforms: np.ndarray, *, batch_size: int = 32) -> np.ndarray:
    """The model's input log-mel dB ``(n, frames, mels)`` of waveforms, in batches."""
    return np.concatenate(
        [model.log_mel(waveforms[i : i + batch_size]) for i in range(0, len(waveforms), batch_size)]
    )


def evaluate_reconstruction(
    model: Any,
    test_table: Any,
    *,
    train_table: Any | None = None,
    batch_size: int = 32,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Latent spectral RMSE of ``model`` on a table's segments, with the PCA baseline.

    Args:
        model: a trained ``MusicVAE`` or ``MusicAutoencoder``.
        test_table: clips to measure (a :class:`~keras_musiclatent.data.ClipTable`).
        train_table: clips whose segments fit the PCA baseline (skipped when ``None``).
        batch_size: segments per forward pass.
        cache_dir: decoded-audio cache of the data module.
        seed: PCA seed.

    Returns:
        A JSON-ready dict: segment and clip counts, ``latent_rmse_db`` (mean over segments),
        ``pca_rmse_db`` and the relative improvement, ``active_units``, timings.
    """
    from keras_musiclatent.data import segments_array
    from keras_musiclatent.models.losses import active_units

    start = time.time()
    kwargs = {
        "sample_rate": int(model.sample_rate),
        "segment_seconds": float(model.segment_seconds),
        "cache_dir": cache_dir,
    }
    waveforms, lengths, _, _ = segments_array(test_table, **kwargs)
    reference = log_mels(model, waveforms, batch_size=batch_size)
    z_mean, _, _ = model.encode(waveforms, sample=False, batch_size=batch_size)
    decoded = model.decode(z_mean, batch_size=batch_size)
    frames = metrics.real_frames(
        lengths, hop_length=int(model.hop_length), frames=reference.shape[1]
    )
    rmse = metrics.spectral_rmse_db(reference, decoded, frames=frames)
    result: dict[str, Any] = {
        "clips": len(test_table),
        "segments": len(waveforms),
        "latent_dim": int(z_mean.shape[1]),
        "latent_rmse_db": float(rmse.mean()),
        "active_units": int(active_units(z_mean)),
    }
    if train_table is not None:
        train_waves, train_lengths, _, _ = segments_array(train_table, **kwargs)
        train_ref = log_mels(model, train_waves, batch_size=batch_size)
        del train_waves
        train_frames = metrics.real_frames(
            train_lengths, hop_length=int(model.hop_length), frames=train_ref.shape[1]
        )
        pca = pca_baseline(
            train_ref, train_frames, reference, n_components=int(z_mean.shape[1]), seed=seed
        )
        pca_rmse = float(metrics.spectral_rmse_db(reference, pca, frames=frames).mean())
        result.update(
            {
                "train_segments": len(train_ref),
                "pca_rmse_db": pca_rmse,
                "rmse_reduction_vs_pca": 1.0 - result["latent_rmse_db"] / pca_rmse,
            }
        )
    result["seconds"] = round(time.time() - start, 1)
    return result
