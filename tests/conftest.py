"""Shared fixtures: seeded randomness, generated audio, and the optional real GTZAN clips."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Training decodes into the per-user cache by default: keep the tests' copies out of the
# user's own cache, and remove them afterwards.
_CACHE = tempfile.mkdtemp(prefix="musiclatent-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)

REPO_ROOT = Path(__file__).resolve().parents[1]


def gtzan_dir() -> Path | None:
    """The real GTZAN clips: $MUSICLATENT_GTZAN, else ../shared/data/gtzan beside the checkout."""
    env = os.environ.get("MUSICLATENT_GTZAN")
    candidates = [Path(env)] if env else []
    candidates.append(REPO_ROOT.parent / "shared" / "data" / "gtzan")
    for path in candidates:
        if (path / "split.csv").is_file():
            return path
    return None


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20241121)


@pytest.fixture(scope="session")
def gtzan_root() -> Path:
    root = gtzan_dir()
    if root is None:
        pytest.skip(
            "real GTZAN clips not found: set MUSICLATENT_GTZAN or place them in "
            "../shared/data/gtzan beside the checkout"
        )
    return root


def tone(seconds: float, sr: int = 22050, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A sine tone, float32 mono."""
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


#: A model small enough to build and run in a second: 1-s segments, 32 mels, 4 latent dims.
TINY_SPACE_MODEL = {
    "segment_seconds": 1.0,
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 32,
    "conv_filters": (8, 8),
    "pool_sizes": ((2, 2), (2, 4)),
    "rnn_units": 8,
    "hidden_dim": 16,
    "latent_dim": 4,
    "seed": 0,
}


def two_genre_clips(rng: np.random.Generator, n: int = 8) -> tuple[list[np.ndarray], list[str]]:
    """Generated 2-s clips of two "genres": low tones and bright noise."""
    clips, labels = [], []
    for i in range(n):
        if i % 2 == 0:
            clips.append(tone(2.0, freq=110.0 + 10 * i, amp=0.4))
            labels.append("low")
        else:
            clips.append((0.3 * rng.uniform(-1, 1, 44100)).astype(np.float32))
            labels.append("bright")
    return clips, labels


@pytest.fixture(scope="session")
def tiny_space_dir(tmp_path_factory) -> Path:
    """A packaged tiny VAE (untrained, adapted) with latent statistics and a two-genre head."""
    from keras_musiclatent.genre_head import LatentStats
    from keras_musiclatent.latent_space import LatentSpace
    from keras_musiclatent.models import MusicVAE

    rng = np.random.default_rng(7)
    model = MusicVAE(**TINY_SPACE_MODEL)
    clips, labels = two_genre_clips(rng)
    windows = np.stack([c[:22050] for c in clips])
    model.adapt(windows)
    space = LatentSpace(model, name="tiny-vae")
    z = np.concatenate([space.encode(c).mean for c in clips])
    seg_labels = [lab for lab in labels for _ in range(2)]
    space.latent_stats = LatentStats.fit(z)
    space.fit_genre_head(z, seg_labels)
    return space.save(tmp_path_factory.mktemp("models") / "tiny-vae")


#: A musicnn small enough to run in a second: the MSD network's layout with few filters.
TINY_MUSICNN = {
    "timbral_filters": 4,
    "temporal_filters": 3,
    "temporal_frames": (16, 8),
    "midend_filters": 4,
    "midend_layers": 2,
    "embedding_dim": 8,
    "num_tags": 4,
}
TINY_MUSICNN_TAGS = ["calm", "loud", "low", "bright"]


@pytest.fixture(scope="session")
def tiny_musicnn_dir(tmp_path_factory) -> Path:
    """A packaged tiny (untrained) musicnn with named tags and no genre head."""
    from keras_musiclatent.models import MusicnnBackbone
    from keras_musiclatent.presets.files import save_model_files

    model = MusicnnBackbone(**TINY_MUSICNN)
    folder = tmp_path_factory.mktemp("models") / "tiny-musicnn"
    return save_model_files(
        folder, model, metadata={"name": "tiny-musicnn", "tags": TINY_MUSICNN_TAGS}
    )
