"""The report's figures: latent scatters, the confusion matrix and loss curves (matplotlib, Agg).

Every PNG is written atomically.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "embed_2d",
    "read_history",
    "save_confusion",
    "save_history",
    "save_scatter",
]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | os.PathLike, *, dpi: int) -> None:
    from keras_musiclatent._files import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    _pyplot().close(fig)


def embed_2d(latents: np.ndarray, *, method: str, seed: int = 0) -> np.ndarray | None:
    """2-D coordinates of ``(n, d)`` latents by ``"pca"``, ``"tsne"`` or ``"umap"``.

    Returns:
        ``(n, 2)``, or ``None`` when there are too few points for the method.

    Raises:
        ImportError: ``"umap"`` without umap-learn installed.
    """
    x = np.asarray(latents, np.float64)
    n = len(x)
    if n < 3 or x.shape[1] < 2:
        return None
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        from sklearn.manifold import TSNE

        if n < 5:
            return None
        # Perplexity must stay below the point count; 30 is scikit-learn's default.
        perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
        return TSNE(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed
        ).fit_transform(x)
    if method == "umap":
        import umap

        if n < 5:
            return None
        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, n - 1), random_state=seed)
        return np.asarray(reducer.fit_transform(x))
    raise ValueError(f"unknown method {method!r}")


def save_scatter(
    path: str | os.PathLike,
    coords: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    dpi: int = 90,
) -> None:
    """Scatter of 2-D points coloured by label, with a legend."""
    plt = _pyplot()
    names = sorted(set(labels))
    cmap = plt.get_cmap("tab10" if len(names) <= 10 else "tab20")
    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    lab = np.asarray(labels)
    for i, name in enumerate(names):
        sel = lab == name
        ax.scatter(
            coords[sel, 0],
            coords[sel, 1],
            s=12,
            alpha=0.8,
            color=cmap(i % cmap.N),
            label=name or "(unlabelled)",
            edgecolors="none",
        )
    ax.set_title(title, fontsize=10)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    fig.tight_layout()
    _save(fig, path, dpi=dpi)


def save_confusion(
    path: str | os.PathLike,
    matrix: np.ndarray,
    *,
    true_labels: Sequence[str],
    predicted_labels: Sequence[str],
    title: str,
    dpi: int = 90,
) -> None:
    """Confusion matrix (rows: true genre, columns: predicted), counts written in the cells."""
    plt = _pyplot()
    m = np.asarray(matrix)
    size = max(3.6, 0.45 * max(m.shape) + 1.8)
    fig, ax = plt.subplots(figsize=(size + 0.6, size))
    ax.imshow(m, cmap="Blues", vmin=0, vmax=max(1, int(m.max())))
    ax.set_xticks(range(len(predicted_labels)))
    ax.set_xticklabels(predicted_labels, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(true_labels)))
    ax.set_yticklabels(true_labels, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    half = m.max() / 2 if m.size else 0
    for (i, j), v in np.ndenumerate(m):
        if v:
            ax.text(
                j,
                i,
                str(v),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if v > half else "black",
            )
    fig.tight_layout()
    _save(fig, path, dpi=dpi)


def read_history(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Numeric columns of a Keras ``CSVLogger`` file (``history.csv``), by name.

    Raises:
        OSError: unreadable file. ValueError: no numeric column or no rows.
    """
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    if not rows:
        raise ValueError(f"{path}: no rows")
    columns: dict[str, np.ndarray] = {}
    for name in rows[0]:
        try:
            columns[name] = np.asarray([float(r[name]) for r in rows])
        except (TypeError, ValueError):
            continue  # a text column (or a row cut short by a crash) is not a curve
    if not columns:
        raise ValueError(f"{path}: no numeric columns")
    return columns


def save_history(
    path: str | os.PathLike, history: dict[str, np.ndarray], *, dpi: int = 90
) -> list[str]:
    """One panel per metric, training and validation curves together.

    Returns:
        The metrics drawn.
    """
    plt = _pyplot()
    n_rows = len(next(iter(history.values())))
    epochs = history.get("epoch", np.arange(n_rows)) + 1
    metrics = [k for k in history if k != "epoch" and not k.startswith("val_") and k != "lr"]
    metrics += [k[4:] for k in history if k.startswith("val_") and k[4:] not in history]
    metrics = list(dict.fromkeys(metrics))
    if not metrics:
        raise ValueError("no metric columns to draw")
    cols = min(4, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.5 * rows), squeeze=False)
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    for ax, name in zip(axes.ravel(), metrics, strict=False):
        if name in history:
            ax.plot(epochs, history[name], label="train", color="#1f77b4")
        if f"val_{name}" in history:
            ax.plot(epochs, history[f"val_{name}"], label="valid", color="#d62728")
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    _save(fig, Path(path), dpi=dpi)
    return metrics
