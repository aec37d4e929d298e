"""Start a model with linear paths (``linear_path=True``) from the PCA of its training data.

The linear encoder path is set to whitened PCA scores and the linear decoder path to the
matching reconstruction, while the conv paths start silent (zero output weights). Training
therefore starts at PCA's reconstruction error at the same latent size, and the nonlinear
paths can only be kept where they lower it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from keras import ops

from keras_musiclatent.errors import ConfigError

__all__ = ["initialize_from_pca"]


def _normalised_log_mels(model, batches: Iterable[Any], limit: int) -> np.ndarray:
    rows, count = [], 0
    for batch in batches:
        x = batch[0] if isinstance(batch, tuple) else batch
        audio = x["audio"] if isinstance(x, dict) else x
        normalised = model.band_norm(model.log_mel_layer(ops.convert_to_tensor(audio)))
        arr = ops.convert_to_numpy(normalised).reshape(len(audio), -1)
        rows.append(arr)
        count += len(arr)
        if count >= limit:
            break
    return np.concatenate(rows)[:limit]


def _zero(layer) -> None:
    for w in layer.weights:
        w.assign(np.zeros(w.shape, dtype="float32"))


def initialize_from_pca(
    model, batches: Iterable[Any], *, max_examples: int = 8192, seed: int = 0
) -> dict[str, float]:
    """Set a ``linear_path`` model's linear paths to the PCA of its (normalised) inputs.

    Call after :meth:`adapt` (PCA runs on the band-normalised log-mel).

    Args:
        model: a ``MusicVAE`` or ``MusicAutoencoder`` built with ``linear_path=True``.
        batches: training batches (arrays, ``{"audio", ...}`` dicts or ``(x, y)`` tuples).
        max_examples: cap on the segments used.
        seed: seeds the randomised SVD.

    Returns:
        ``{"examples", "explained_variance_ratio"}``.

    Example:
        >>> initialize_from_pca(vae, train_ds)  # doctest: +SKIP
    """
    from sklearn.decomposition import PCA

    if not getattr(model, "linear_path", False) or getattr(model, "z_linear", None) is None:
        raise ConfigError("initialize_from_pca needs a model built with linear_path=True")
    x = _normalised_log_mels(model, batches, max_examples)
    d = getattr(model, "linear_path_dims", None) or model.latent_dim
    if x.shape[0] <= d:
        raise ConfigError(f"PCA of {d} dims needs more than {d} training segments, got {len(x)}")
    pca = PCA(n_components=d, svd_solver="randomized", random_state=seed).fit(x)
    components = pca.components_.astype(np.float64)  # (d, D)
    scale = np.sqrt(np.maximum(pca.explained_variance_, 1e-8))  # (d,)
    # The autoencoder's tanh bound squashes large codes: keep the scores in its linear range.
    if not model.is_variational and model.bounded:
        scale = 3.0 * scale
    mean = pca.mean_.astype(np.float64)
    kernel = components.T / scale  # (D, d): whitened scores
    # Dims past linear_path_dims get zero linear paths both ways: no PCA in or out.
    rest = model.latent_dim - d
    kernel = np.pad(kernel, ((0, 0), (0, rest)))
    bias = np.pad(-(mean @ components.T) / scale, (0, rest))
    model.z_linear.kernel.assign(kernel.astype("float32"))
    model.z_linear.bias.assign(bias.astype("float32"))
    decoder_linear = model.decoder.get_layer("linear_path")
    out_kernel = np.pad(scale[:, None] * components, ((0, rest), (0, 0)))
    decoder_linear.kernel.assign(out_kernel.astype("float32"))
    decoder_linear.bias.assign(mean.astype("float32"))
    # The conv paths start silent, so the first step begins exactly at the PCA solution.
    _zero(model.decoder.get_layer("to_log_mel"))
    _zero(model.z_mean_dense if model.is_variational else model.code_dense)
    if model.is_variational:
        # Small posterior noise at the start (std ~0.14 of a unit-variance score).
        model.z_log_var_dense.kernel.assign(np.zeros(model.z_log_var_dense.kernel.shape, "float32"))
        model.z_log_var_dense.bias.assign(np.full((model.latent_dim,), -4.0, "float32"))
    return {
        "examples": int(x.shape[0]),
        "explained_variance_ratio": float(pca.explained_variance_ratio_.sum()),
    }
