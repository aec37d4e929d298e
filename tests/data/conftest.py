"""Fixtures of the dataset tests: tiny generated audio files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf


def make_tone(seconds: float, sr: int, *, freq: float = 440.0, seed: int = 0) -> np.ndarray:
    """A sine plus a little seeded noise: float32 ``(round(seconds * sr),)``, peak < 0.6."""
    n = round(seconds * sr)
    t = np.arange(n) / sr
    noise = np.random.default_rng(seed).standard_normal(n) * 0.05
    return (0.5 * np.sin(2 * np.pi * freq * t) + noise).astype(np.float32)


AudioWriter = Callable[..., Path]


@pytest.fixture
def write_audio() -> AudioWriter:
    """``write_audio(path, seconds, *, sr=8000, samples=None, seed=0)`` writes a test tone.

    The format follows the suffix (``.wav``, ``.au``, ``.ogg``, ``.flac``, ``.mp3``).
    """

    formats = {".wav": "WAV", ".au": "AU", ".ogg": "OGG", ".flac": "FLAC", ".mp3": "MP3"}

    def write(
        path: Path, seconds: float, *, sr: int = 8000, samples: int | None = None, seed: int = 0
    ) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        y = make_tone(seconds, sr, freq=220.0 + 40 * seed, seed=seed)
        if samples is not None:
            y = make_tone(samples / sr + 1, sr, seed=seed)[:samples]
        fmt = formats[path.suffix.lower()]
        subtype = {"WAV": "PCM_16", "AU": "PCM_16", "FLAC": "PCM_16"}.get(fmt)
        sf.write(path, y, sr, format=fmt, subtype=subtype)
        return path

    return write


@pytest.fixture
def gtzan_manifest(gtzan_root: Path) -> Path:
    """MANIFEST.csv of the real GTZAN clips (``gtzan_root`` comes from tests/conftest.py)."""
    path = Path(gtzan_root) / "MANIFEST.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found: the real-data checks compare against it")
    return path
