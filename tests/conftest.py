"""Shared fixtures: seeded randomness, generated audio, and the optional real GTZAN clips."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

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
