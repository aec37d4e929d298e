"""evaluate.plots: every figure is a PNG written atomically; matplotlib loads on first use."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from keras_musiclatent.evaluate.plots import (
    embed_2d,
    log_mel_rgb,
    mel_band_centres,
    read_history,
    save_confusion,
    save_history,
    save_log_mel_strip,
    save_scatter,
)
from tests.conftest import REPO_ROOT

PNG = b"\x89PNG\r\n\x1a\n"


def test_importing_plots_leaves_matplotlib_and_umap_unloaded():
    code = (
        "import sys, keras_musiclatent.evaluate.plots; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('matplotlib', 'umap') or m.startswith('sklearn.manifold')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_figures_are_pngs(tmp_path, rng):
    save_log_mel_strip(
        tmp_path / "strip.png", [rng.normal(-40, 10, (20, 16))] * 3, titles=list("abc")
    )
    coords = rng.normal(size=(6, 2))
    save_scatter(tmp_path / "scatter.png", coords, ["a", "b", ""] * 2, title="t")
    save_confusion(
        tmp_path / "confusion.png",
        np.array([[2, 0], [1, 3], [0, 1]]),
        true_labels=["a", "b", "c"],
        predicted_labels=["a", "b"],
        title="t",
    )
    for name in ("strip", "scatter", "confusion"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == PNG
    assert not list(tmp_path.glob("*.tmp*"))  # nothing half-written is left


def test_history_curves(tmp_path):
    path = tmp_path / "history.csv"
    path.write_text("epoch,loss,val_loss,note\n0,2.0,2.5,x\n1,1.0,1.5,y\n")
    curves = read_history(path)
    assert set(curves) == {"epoch", "loss", "val_loss"}  # the text column is not a curve
    assert save_history(tmp_path / "history.png", curves) == ["loss"]
    assert (tmp_path / "history.png").read_bytes()[:8] == PNG
    (tmp_path / "empty.csv").write_text("epoch,loss\n")
    with pytest.raises(ValueError, match="no rows"):
        read_history(tmp_path / "empty.csv")
    with pytest.raises(ValueError, match="no metric"):
        save_history(tmp_path / "x.png", {"epoch": np.arange(2.0)})


def test_embed_2d(rng):
    z = rng.normal(size=(12, 4))
    assert embed_2d(z, method="pca").shape == (12, 2)
    assert embed_2d(z, method="tsne", seed=0).shape == (12, 2)
    np.testing.assert_allclose(embed_2d(z, method="pca"), embed_2d(z, method="pca"))
    assert embed_2d(z[:2], method="pca") is None  # too few points
    assert embed_2d(z[:4], method="tsne") is None
    with pytest.raises(ValueError, match="unknown method"):
        embed_2d(z, method="mds")


def test_log_mel_rgb():
    ramp = np.tile(np.linspace(-80.0, 0.0, 16), (10, 1))  # (frames, mels), loud at the top band
    image = log_mel_rgb(ramp, size=8)
    assert image.shape == (8, 8, 3) and image.dtype == np.uint8
    # low frequencies at the bottom: the top row (loud) is brighter than the bottom row
    assert image[0].astype(int).sum() > image[-1].astype(int).sum()


def test_mel_band_centres_match_librosa():
    import librosa

    for n_mels, fmin, fmax in ((128, 0.0, 11025.0), (96, 0.0, 8000.0), (40, 50.0, 4000.0)):
        expected = librosa.mel_frequencies(n_mels + 2, fmin=fmin, fmax=fmax)[1:-1]
        np.testing.assert_allclose(mel_band_centres(n_mels, fmin=fmin, fmax=fmax), expected)


def test_strip_has_axes_labels_and_a_colour_bar(tmp_path, rng, monkeypatch):
    from matplotlib.figure import Figure

    saved = []
    monkeypatch.setattr(Figure, "savefig", lambda fig, *a, **k: saved.append(fig))
    mels = [rng.normal(-40, 10, (130, 128)).astype(np.float32) for _ in range(3)]
    save_log_mel_strip(tmp_path / "walk.png", mels, titles=["t=0", "t=0.5", "t=1"], ends=("A", "B"))
    (fig,) = saved
    panels, bar = fig.axes[:3], fig.axes[3]
    assert [ax.get_title() for ax in panels] == ["A\nt=0", "t=0.5", "B\nt=1"]
    assert fig.get_suptitle() == "A (left) \u2192 B (right)"
    assert fig._supxlabel.get_text() == "time (s)"
    assert panels[0].get_xlim() == pytest.approx((0.0, 130 * 512 / 22050))  # seconds
    assert [t.get_text() for t in panels[0].get_yticklabels()] == [
        "100",
        "500",
        "1k",
        "2k",
        "5k",
        "10k",
    ]
    assert "Hz" in panels[0].get_ylabel() and bar.get_ylabel() == "dB"
