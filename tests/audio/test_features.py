"""Audio descriptors against librosa and hand computations."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from keras_musiclatent.audio.features import DESCRIPTORS, describe, describe_batch
from keras_musiclatent.errors import ConfigError, InvalidAudioError
from tests.conftest import tone


def test_every_descriptor_is_computed():
    d = describe(tone(1.0))
    assert set(d) == set(DESCRIPTORS) and all(np.isfinite(v) for v in d.values())


def test_values_match_librosa_and_intuition(rng):
    y = tone(1.0, freq=1000.0, amp=0.5)
    d = describe(y)
    expected = librosa.feature.spectral_centroid(y=y, sr=22050).mean()
    assert d["spectral_centroid"] == pytest.approx(expected, rel=1e-4)
    assert d["rms"] == pytest.approx(0.5 / np.sqrt(2), rel=0.05)
    # 1000 Hz: 2000 zero crossings per second = 2000 / 22050 per sample.
    assert d["zero_crossing_rate"] == pytest.approx(2000 / 22050, rel=0.05)
    noise = describe((0.3 * rng.uniform(-1, 1, 22050)).astype(np.float32))
    assert noise["spectral_flatness"] > 10 * d["spectral_flatness"]
    assert noise["chroma_entropy"] > d["chroma_entropy"]


def test_onset_rate_counts_clicks():
    y = np.zeros(22050 * 2, np.float32)
    for k in range(8):  # 4 clicks per second
        start = k * 22050 // 4
        y[start : start + 200] = tone(200 / 22050, freq=2000.0)[:200]
    assert describe(y, names=["onset_rate"])["onset_rate"] == pytest.approx(4.0, abs=1.0)


def test_batch_and_errors():
    out = describe_batch(np.stack([tone(0.5), tone(0.5, amp=0.1)]), names=["rms"])
    assert out["rms"].shape == (2,) and out["rms"][0] > out["rms"][1]
    with pytest.raises(ConfigError, match="unknown descriptor"):
        describe(tone(0.5), names=["loudness"])
    with pytest.raises(InvalidAudioError):
        describe(np.zeros((2, 10)))
    with pytest.raises(InvalidAudioError, match="NaN"):
        describe(np.full(100, np.nan, np.float32))
