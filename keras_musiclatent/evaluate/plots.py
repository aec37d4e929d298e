"""Small matplotlib figures written atomically (log-mel strips, probe sweeps)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

__all__ = ["save_log_mel_strip"]


def save_log_mel_strip(
    path: str | os.PathLike,
    log_mels: Sequence[np.ndarray],
    *,
    titles: Sequence[str] | None = None,
    dynamic_range_db: float = 80.0,
    dpi: int = 80,
) -> None:
    """Write log-mels ``(frames, mels)`` side by side as one PNG (low frequencies at the bottom).

    Example:
        >>> save_log_mel_strip("strip.png", [np.zeros((130, 128))])  # doctest: +SKIP
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from keras_musiclatent._files import atomic_path

    mels = [np.asarray(m, dtype=np.float32) for m in log_mels]
    top = max(float(m.max()) for m in mels)
    fig, axes = plt.subplots(1, len(mels), figsize=(1.6 * len(mels) + 0.4, 2.2), squeeze=False)
    for i, (ax, m) in enumerate(zip(axes[0], mels, strict=True)):
        ax.imshow(
            m.T, origin="lower", aspect="auto", cmap="magma", vmin=top - dynamic_range_db, vmax=top
        )
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[i], fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    plt.close(fig)
