"""In-graph loss and metric helpers (``keras.ops`` only) plus ``active_units``.

Conventions: log-mels are ``(batch, frames, n_mels)`` in dB; ``mask`` is ``(batch, frames)``
with 1 for frames that hold real audio and 0 for zero padding.
"""

from __future__ import annotations

import numpy as np
from keras import ops

__all__ = [
    "active_units",
    "clip_consistency_loss",
    "floor_db",
    "free_bits_kl",
    "gaussian_kl",
    "genre_terms",
    "kl_weight",
    "masked_reconstruction_loss",
    "spectral_rmse_db",
]

_VERY_LOW_DB = -1e4  # below any real dB value; stands in for -inf in masked maxima


def _full_mask(log_mel):
    return ops.ones(ops.shape(log_mel)[:2], dtype="float32")


def floor_db(reference, mask=None, *, top_db: float = 80.0):
    """Per-example floor ``max(reference over real frames) - top_db``, shape ``(batch, 1, 1)``."""
    if mask is None:
        mask = _full_mask(reference)
    masked = ops.where(ops.cast(mask, "bool")[:, :, None], reference, _VERY_LOW_DB)
    return ops.max(masked, axis=(1, 2), keepdims=True) - top_db


def masked_reconstruction_loss(
    target,
    prediction,
    mask=None,
    *,
    kind: str = "mse",
    top_db: float | None = 80.0,
    scale=1.0,
):
    """Mean error over the real frames of a batch.

    Args:
        target: reference log-mel in dB, ``(batch, frames, n_mels)``.
        prediction: decoded log-mel in dB, same shape.
        mask: ``(batch, frames)``; ``None`` means every frame is real.
        kind: ``"mse"`` or ``"l1"``.
        top_db: floor both at ``max(target) - top_db`` per example first (as the spectral
            RMSE does), so the model is not asked to reproduce detail in inaudible silence;
            ``None`` disables the floor.
        scale: divisor of the error, e.g. the per-band standard deviation ``(n_mels,)`` so the
            loss is measured on the normalised log-mel.

    Returns:
        A scalar.

    Example:
        >>> masked_reconstruction_loss(np.zeros((1, 4, 2)), np.ones((1, 4, 2)), top_db=None)
        1.0
    """
    target = ops.cast(target, "float32")
    prediction = ops.cast(prediction, "float32")
    if mask is None:
        mask = _full_mask(target)
    mask = ops.cast(mask, "float32")
    if top_db is not None:
        floor = floor_db(target, mask, top_db=top_db)
        target = ops.maximum(target, floor)
        prediction = ops.maximum(prediction, floor)
    error = (prediction - target) / scale
    if kind == "mse":
        error = ops.square(error)
    elif kind == "l1":
        error = ops.abs(error)
    else:
        raise ValueError(f"kind must be 'mse' or 'l1', got {kind!r}")
    n_mels = ops.cast(ops.shape(target)[-1], "float32")
    total = ops.sum(error * mask[:, :, None])
    return total / ops.maximum(ops.sum(mask) * n_mels, 1.0)


def spectral_rmse_db(reference, estimate, mask=None, *, top_db: float = 80.0):
    """Spectral RMSE in dB per example, as defined in
    the evaluation protocol (docs/evaluation.md).

    ``floor = max(R) - top_db``; ``sqrt(mean((max(R, floor) - max(E, floor))**2))`` over the
    real frames of each example.

    Returns:
        ``(batch,)`` RMSE values in dB.
    """
    reference = ops.cast(reference, "float32")
    estimate = ops.cast(estimate, "float32")
    if mask is None:
        mask = _full_mask(reference)
    mask = ops.cast(mask, "float32")
    floor = floor_db(reference, mask, top_db=top_db)
    diff = ops.maximum(reference, floor) - ops.maximum(estimate, floor)
    n_mels = ops.cast(ops.shape(reference)[-1], "float32")
    sq = ops.sum(ops.square(diff) * mask[:, :, None], axis=(1, 2))
    return ops.sqrt(sq / ops.maximum(ops.sum(mask, axis=1) * n_mels, 1.0))


def gaussian_kl(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) per example and dimension, ``(batch, dim)``."""
    return -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))


def free_bits_kl(kl_per_dim, free_bits: float = 0.0):
    """KL term with a per-dimension floor (Kingma et al. 2016), a scalar.

    The batch-mean KL of each dimension is raised to at least ``free_bits`` nats before the
    sum, so dimensions under the floor feel no pressure toward the prior (against posterior
    collapse). ``free_bits=0`` gives the plain batch-mean KL summed over dims.
    """
    per_dim = ops.mean(kl_per_dim, axis=0)
    if free_bits > 0:
        per_dim = ops.maximum(per_dim, free_bits)
    return ops.sum(per_dim)


def kl_weight(step, *, beta: float, warmup_steps: int):
    """``beta * min(1, step / warmup_steps)`` (linear warm-up, Bowman et al. 2016)."""
    step = ops.cast(step, "float32")
    if warmup_steps <= 0:
        return ops.cast(beta, "float32") + 0.0 * step
    return beta * ops.minimum(1.0, step / float(warmup_steps))


def clip_consistency_loss(z, *, temperature: float = 0.1):
    """InfoNCE between the two halves of a batch: row ``i`` and row ``i + half`` are two crops
    of one clip, every other row of the other half a negative (symmetric, mean over rows).

    ``z``: ``(2 * half, dims)``. Cosine similarities divided by ``temperature`` are the logits,
    so the scale of ``z`` (what reconstruction needs) is left alone; only its directions are
    pulled together for crops of one clip and apart for crops of different clips.
    """
    half = ops.shape(z)[0] // 2
    unit = z / ops.maximum(ops.norm(z, axis=-1, keepdims=True), 1e-6)
    a, b = unit[:half], unit[half : 2 * half]
    logits = ops.matmul(a, ops.transpose(b)) / temperature
    rows = ops.log_softmax(logits, axis=-1)
    cols = ops.log_softmax(logits, axis=0)
    diagonal = ops.eye(half, dtype=logits.dtype)
    return (
        -0.5 * (ops.sum(rows * diagonal) + ops.sum(cols * diagonal)) / ops.cast(half, logits.dtype)
    )


def genre_terms(logits, labels):
    """(mean cross-entropy, accuracy) over the labelled rows (``labels >= 0``); 0 for none.

    Shapes: ``(batch, genres)`` logits, ``(batch,)`` int labels → two scalars.
    """
    labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
    known = ops.cast(labels >= 0, "float32")
    count = ops.maximum(ops.sum(known), 1.0)
    safe = ops.maximum(labels, 0)
    log_p = ops.log_softmax(logits, axis=-1)
    picked = ops.take_along_axis(log_p, safe[:, None], axis=-1)[:, 0]
    loss = -ops.sum(picked * known) / count
    hit = ops.cast(ops.argmax(logits, axis=-1) == safe, "float32")
    return loss, ops.sum(hit * known) / count


def active_units(z_means: np.ndarray, *, threshold: float = 0.01) -> int:
    """Latent dimensions in use (Burda et al. 2016).

    A dimension is active when the variance over the data of its posterior mean exceeds
    ``threshold``.

    Args:
        z_means: ``(examples, dim)`` posterior means over a data set.
        threshold: variance threshold.

    Example:
        >>> active_units(np.array([[0.0, 1.0], [0.0, -1.0]]))
        1
    """
    z_means = np.asarray(z_means, dtype="float64")
    if z_means.ndim != 2 or z_means.shape[0] < 2:
        raise ValueError(f"z_means must be (examples >= 2, dim), got shape {z_means.shape}")
    return int(np.sum(np.var(z_means, axis=0) > threshold))
