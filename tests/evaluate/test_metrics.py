"""metrics.py against hand computations and librosa."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from keras_musiclatent.evaluate import metrics
from tests.conftest import tone


def test_logmel_matches_librosa_definition():
    y = tone(1.0)
    ours = metrics.logmel_db(y)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=y, sr=22050), ref=1.0, amin=1e-10, top_db=None
    )
    np.testing.assert_allclose(ours, ref.T, atol=1e-4)
    assert metrics.logmel_db(np.stack([y, y])).shape == (2, 44, 128)


def test_spectral_rmse_hand_computation():
    ref = np.array([[[0.0, -10.0], [-100.0, -5.0]]])  # max 0 -> floor -80
    est = np.array([[[1.0, -13.0], [-90.0, -5.0]]])
    # floored: ref [[0,-10],[-80,-5]], est [[1,-13],[-80,-5]] -> diffs 1, 3, 0, 0
    expected = np.sqrt((1 + 9) / 4)
    assert metrics.spectral_rmse_db(ref, est)[0] == pytest.approx(expected)
    assert float(metrics.spectral_rmse_db(ref[0], est[0])) == pytest.approx(expected)


def test_spectral_rmse_masks_padded_frames_and_crops():
    rng = np.random.default_rng(0)
    ref = rng.normal(-30, 10, (2, 20, 8))
    est = ref.copy()
    est[:, 12:] += 50.0  # garbage in the padded tail
    assert np.allclose(metrics.spectral_rmse_db(ref, est, frames=[12, 12]), 0.0)
    assert (metrics.spectral_rmse_db(ref, est) > 1.0).all()
    # crop to the shorter frame count
    assert np.allclose(metrics.spectral_rmse_db(ref[:, :12], est), 0.0)
    # the floor comes from real frames only
    loud_tail = ref.copy()
    loud_tail[:, 15:] = 100.0
    assert np.allclose(metrics.spectral_rmse_db(loud_tail, loud_tail, frames=12), 0.0)


def test_spectral_rmse_rejects_mismatched_shapes():
    with pytest.raises(ValueError):
        metrics.spectral_rmse_db(np.zeros((2, 5, 4)), np.zeros((3, 5, 4)))
    with pytest.raises(ValueError):
        metrics.spectral_rmse_db(np.zeros(5), np.zeros(5))


def test_real_frames():
    assert metrics.real_frames(66150, frames=130).item() == 130
    assert metrics.real_frames([22050, 1, 513], frames=130).tolist() == [44, 1, 2]


def test_bitrate_and_ratio():
    rate = metrics.bitrate(latent_dims=64, bits_per_dim=8, segment_seconds=3.0)
    assert rate == pytest.approx(64 * 8 / 3)
    assert metrics.compression_ratio(rate) == pytest.approx(352800 / rate)
    with_header = metrics.bitrate(
        latent_dims=64, bits_per_dim=8, header_bits=800, clip_seconds=30.0
    )
    assert with_header == pytest.approx(rate + 800 / 30)
    with pytest.raises(ValueError):
        metrics.bitrate(latent_dims=0, bits_per_dim=8)
