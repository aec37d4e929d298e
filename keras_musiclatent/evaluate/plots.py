"""Figures of the CLI, the report and the projector (matplotlib, Agg), each PNG written atomically.

- :func:`save_log_mel_strip`: log-mels side by side (interpolations, reconstructions);
- :func:`log_mel_rgb`: one log-mel as a small RGB thumbnail (the projector's sprite);
- :func:`embed_2d` and :func:`save_scatter`: 2-D maps of latents by genre;
- :func:`save_confusion`: a confusion matrix;
- :func:`read_history` and :func:`save_history`: loss curves of a training ``history.csv``;
- :func:`plot_rate_quality`: quality against bitrate of latent and reference codecs.

matplotlib is imported on first use (:func:`_pyplot`), and so are the embedding methods
(:func:`_embedder`; UMAP is optional), so importing this module stays cheap.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from keras_musiclatent._files import atomic_path

__all__ = [
    "embed_2d",
    "log_mel_rgb",
    "mel_band_centres",
    "plot_rate_quality",
    "read_history",
    "save_confusion",
    "save_history",
    "save_log_mel_strip",
    "save_scatter",
]


def _pyplot() -> Any:
    """matplotlib's pyplot; the file-only Agg backend unless the user chose one.

    A backend is the user's choice when pyplot is already imported or ``MPLBACKEND`` is set
    (a notebook's inline backend); otherwise Agg, which needs no display.
    """
    import matplotlib

    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _embedder(method: str) -> Any:
    """The estimator class of a 2-D embedding method (scikit-learn's PCA/TSNE, umap-learn's UMAP).

    Raises:
        ImportError: ``"umap"`` without umap-learn installed.
        ValueError: an unknown method.
    """
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA
    if method == "tsne":
        from sklearn.manifold import TSNE

        return TSNE
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ImportError("UMAP needs umap-learn (pip install umap-learn)") from None
        return umap.UMAP
    raise ValueError(f"unknown method {method!r}; choose from pca, tsne, umap")


def _save(fig: Any, path: str | os.PathLike, *, dpi: int) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    _pyplot().close(fig)


def mel_band_centres(n_mels: int, *, fmin: float = 0.0, fmax: float) -> np.ndarray:
    """Centre frequencies in Hz ``(n_mels,)`` of slaney mel bands (``librosa.mel_frequencies``).

    The slaney scale is linear (200/3 Hz per mel) below 1 kHz and logarithmic above.
    """
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, step = min_log_hz / f_sp, np.log(6.4) / 27.0

    def to_mel(hz: float) -> float:
        return hz / f_sp if hz < min_log_hz else min_log_mel + np.log(hz / min_log_hz) / step

    mels = np.linspace(to_mel(fmin), to_mel(fmax), n_mels + 2)[1:-1]
    return np.where(
        mels < min_log_mel, mels * f_sp, min_log_hz * np.exp(step * (mels - min_log_mel))
    )


def _hz_label(hz: float) -> str:
    return f"{hz / 1000:g}k" if hz >= 1000 else f"{hz:g}"


def save_log_mel_strip(
    path: str | os.PathLike,
    log_mels: Sequence[np.ndarray],
    *,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    ends: tuple[str, str] | None = None,
    sample_rate: int = 22050,
    hop_length: int = 512,
    fmin: float = 0.0,
    fmax: float | None = None,
    dynamic_range_db: float = 80.0,
    dpi: int = 80,
) -> None:
    """Write log-mels ``(frames, mels)`` dB side by side as one PNG, with axes and a colour bar.

    Time runs left to right in seconds, mel bands bottom to top (ticks at the bands' centre
    frequencies in Hz); one colour bar in dB spans the top ``dynamic_range_db`` of all panels.

    Args:
        path: the PNG to write.
        log_mels: ``(frames, mels)`` arrays, one panel each.
        titles: one title per panel.
        title: a title over the whole strip.
        ends: names of the first and last panel's sources (an interpolation's clips): they
            label those panels, and ``title`` defaults to "A (left) → B (right)".
        sample_rate, hop_length: the log-mels' frame rate, for the time axis.
        fmin, fmax: the mel bands' range (``fmax`` ``None``: ``sample_rate / 2``).
        dynamic_range_db: colour range below the loudest bin.
        dpi: resolution.

    Example:
        >>> strip = [np.zeros((130, 128))] * 3
        >>> save_log_mel_strip("strip.png", strip, ends=("a", "b"))  # doctest: +SKIP
    """
    plt = _pyplot()
    mels = [np.asarray(m, dtype=np.float32) for m in log_mels]
    top = max(float(m.max()) for m in mels)
    n_bands = mels[0].shape[1]
    centres = mel_band_centres(n_bands, fmin=fmin, fmax=fmax or sample_rate / 2)
    # Ticks where the band centres pass round frequencies (interpolated between bands).
    marks = [hz for hz in (100, 500, 1000, 2000, 5000, 10000) if centres[0] <= hz <= centres[-1]]
    ticks = np.interp(marks, centres, np.arange(n_bands))
    labels = list(titles) if titles is not None else [""] * len(mels)
    if ends is not None:
        labels[0] = f"{ends[0]}\n{labels[0]}".strip()
        labels[-1] = f"{ends[1]}\n{labels[-1]}".strip()
        title = title or f"{ends[0]} (left) \u2192 {ends[1]} (right)"
    width = 1.5 * len(mels) + 1.6
    fig, axes = plt.subplots(
        1, len(mels), figsize=(width, 2.9), squeeze=False, sharey=True, layout="constrained"
    )
    image = None
    for i, (ax, m) in enumerate(zip(axes[0], mels, strict=True)):
        seconds = m.shape[0] * hop_length / sample_rate
        image = ax.imshow(
            m.T,
            origin="lower",
            aspect="auto",
            cmap="magma",
            vmin=top - dynamic_range_db,
            vmax=top,
            extent=(0.0, seconds, -0.5, n_bands - 0.5),
            interpolation="nearest",
        )
        ax.set_xticks([0.0, round(seconds / 2, 1)] if seconds >= 1 else [0.0])
        ax.tick_params(labelsize=7)
        if labels[i]:
            ax.set_title(labels[i], fontsize=8)
    axes[0, 0].set_yticks(ticks)
    axes[0, 0].set_yticklabels([_hz_label(hz) for hz in marks])
    axes[0, 0].set_ylabel("mel band centre (Hz)", fontsize=8)
    fig.supxlabel("time (s)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=9)
    bar = fig.colorbar(image, ax=axes[0].tolist(), fraction=0.02, pad=0.01)
    bar.set_label("dB", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    _save(fig, path, dpi=dpi)


def log_mel_rgb(log_mel: np.ndarray, *, size: int, dynamic_range_db: float = 80.0) -> np.ndarray:
    """A ``(frames, mels)`` dB log-mel as a ``(size, size, 3)`` uint8 magma image.

    The top ``dynamic_range_db`` below the maximum spans the colour map; low frequencies are at
    the bottom, time runs left to right.
    """
    m = np.asarray(log_mel, np.float32)
    top = float(m.max())
    scaled = np.clip((m - (top - dynamic_range_db)) / dynamic_range_db, 0.0, 1.0)
    rgb = (_pyplot().get_cmap("magma")(scaled.T[::-1])[..., :3] * 255).astype(np.uint8)
    return np.asarray(Image.fromarray(rgb).resize((size, size), Image.Resampling.BILINEAR))


def embed_2d(latents: np.ndarray, *, method: str, seed: int = 0) -> np.ndarray | None:
    """2-D coordinates of ``(n, d)`` latents by ``"pca"``, ``"tsne"`` or ``"umap"``.

    Returns:
        ``(n, 2)``, or ``None`` when there are too few points for the method.

    Raises:
        ImportError: ``"umap"`` without umap-learn installed.
        ValueError: an unknown method.
    """
    estimator = _embedder(method)
    x = np.asarray(latents, np.float64)
    n = len(x)
    if n < 3 or x.shape[1] < 2 or (method != "pca" and n < 5):
        return None
    if method == "pca":
        return estimator(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        # Perplexity must stay below the point count; 30 is scikit-learn's default.
        perplexity = float(min(30.0, max(2.0, (n - 1) / 3)))
        return estimator(
            n_components=2, perplexity=perplexity, init="pca", random_state=seed
        ).fit_transform(x)
    reducer = estimator(n_components=2, n_neighbors=min(15, n - 1), random_state=seed)
    return np.asarray(reducer.fit_transform(x))


def save_scatter(
    path: str | os.PathLike,
    coords: np.ndarray,
    labels: Sequence[str],
    *,
    title: str,
    dpi: int = 90,
) -> None:
    """Scatter of ``(n, 2)`` points coloured by their ``(n,)`` labels, with a legend."""
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
    """Confusion matrix ``(len(true_labels), len(predicted_labels))`` with counts in the cells.

    Rows are true genres, columns predicted ones.
    """
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
    """Numeric columns of a Keras ``CSVLogger`` file (``history.csv``), by name, ``(epochs,)``.

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
    """One panel per metric of :func:`read_history`'s columns, training and validation together.

    Returns:
        The metrics drawn.

    Raises:
        ValueError: no metric column.
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


# Panel titles of plot_rate_quality, by row key (the keys of evaluate.rate_quality's rows).
_RATE_QUALITY_TITLES = {
    "rmse_db": "log-mel RMSE (dB), lower is better",
    "visqol": "ViSQOL (MOS 1-5)",
    "onset_r": "onset r",
    "chroma_r": "chroma r",
    "beat_f": "beat F",
    "tempo_ok": "tempo kept (share)",
    "embedding_cos": "musicnn embedding cosine",
    "tag_overlap": "top-5 tag overlap",
}


def plot_rate_quality(
    rows: Sequence[dict[str, Any]],
    path: str | os.PathLike,
    *,
    measures: Sequence[str] = ("visqol", "rmse_db", "onset_r", "chroma_r"),
    dpi: int = 90,
) -> None:
    """Quality against real bitrate, one panel per measure, one curve per codec family.

    A family's points (a latent model's operating points, Opus's rates) are joined in rate
    order; a family of one point (MP3) is a marker; the ceiling (no rate) is a dashed
    horizontal line. A panel whose measure no row has says "not measured".

    Args:
        rows: :func:`keras_musiclatent.evaluate.rate_quality.rate_quality`'s rows (``kind``,
            ``family``, ``kbps`` and the measures).
        path: the PNG to write (atomically).
        measures: row keys, one panel each.
        dpi: resolution.

    Example:
        >>> plot_rate_quality(rows, "rate-quality.png")  # doctest: +SKIP
    """
    plt = _pyplot()
    from matplotlib.ticker import FormatStrFormatter

    def finite(value: Any) -> bool:
        return isinstance(value, float | int) and bool(np.isfinite(value))

    families: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row.get("kind") != "ceiling":
            families.setdefault(str(row.get("family") or row["system"]), []).append(row)
    ceilings = [r for r in rows if r.get("kind") == "ceiling"]
    colours = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(1, len(measures), figsize=(3.4 * len(measures), 3.0), squeeze=False)
    for ax, key in zip(axes[0], measures, strict=True):
        drawn = points_drawn = False
        for i, (family, members) in enumerate(families.items()):
            points = sorted(
                (float(r["kbps"]), float(r[key]))
                for r in members
                if finite(r.get("kbps")) and r["kbps"] > 0 and finite(r.get(key))
            )
            if not points:
                continue
            x, y = zip(*points, strict=True)
            latent = members[0].get("kind") == "latent"
            ax.plot(
                x,
                y,
                marker="o" if latent else "s",
                linestyle="-" if len(points) > 1 else "none",
                color=colours[i % len(colours)],
                label=family,
            )
            drawn = points_drawn = True
        for j, row in enumerate(ceilings):
            if finite(row.get(key)):
                ax.axhline(
                    float(row[key]),
                    linestyle="--",
                    color="0.4" if j == 0 else colours[(len(families) + j) % len(colours)],
                    linewidth=1,
                    label=str(row["system"]),
                )
                drawn = True
        if points_drawn:
            ax.set_xscale("log")
            # Plain numbers (0.1, 1, 10) read faster as kbit/s than powers of ten.
            ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        if not drawn:
            ax.text(0.5, 0.5, "not measured", ha="center", va="center", transform=ax.transAxes)
        ax.set_title(_RATE_QUALITY_TITLES.get(key, key), fontsize=9)
        ax.set_xlabel("kbit/s (log)", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, which="both", alpha=0.25)
    # One legend for all panels: every panel shows the same families.
    legend: dict[str, Any] = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    if legend:
        fig.legend(
            list(legend.values()),
            list(legend),
            loc="lower center",
            ncol=min(len(legend), 4),
            fontsize=7,
            frameon=False,
        )
    rows_of_labels = -(-len(legend) // 4)
    fig.tight_layout(rect=(0, min(0.4, 0.07 * rows_of_labels + 0.02), 1, 1))
    _save(fig, path, dpi=dpi)
