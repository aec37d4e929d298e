"""The in-model polyphase resampler: exact on tones in the passband, aliases removed, close to
soxr, any length, saved by its recipe."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import soxr

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers import Resample


def _sine(freq: float, sr: int, n: int) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(n) / sr).astype(np.float32)


@pytest.fixture(scope="module")
def layer() -> Resample:
    return Resample(source_rate=22050, target_rate=16000)


@pytest.mark.parametrize("freq", [110.0, 1000.0, 5000.0, 7000.0])
def test_passband_tones_come_out_exact(layer, freq):
    y = keras.ops.convert_to_numpy(layer(_sine(freq, 22050, 22050)[None]))[0]
    assert y.shape == (16000,)
    # away from the zero-padded edges the tone is the tone sampled at 16 kHz
    np.testing.assert_allclose(y[200:-200], _sine(freq, 16000, 16000)[200:-200], atol=2e-4)


def test_tones_above_the_new_nyquist_are_removed(layer):
    y = keras.ops.convert_to_numpy(layer(_sine(9000.0, 22050, 22050)[None]))[0]
    assert np.abs(y[200:-200]).max() < 1e-4  # > 80 dB down


def test_close_to_soxr_on_noise(layer, rng):
    x = rng.standard_normal(66150).astype(np.float32)
    y = keras.ops.convert_to_numpy(layer(x[None]))[0]
    ref = soxr.resample(x, 22050, 16000, quality="HQ")
    assert y.shape == ref.shape == (48000,)
    # white noise: the filters differ only between 7.7 and 8 kHz
    err = np.sqrt(np.mean((y - ref)[200:-200] ** 2)) / np.std(ref)
    assert err < 0.06


def test_any_length_and_identity(rng):
    layer = Resample(source_rate=22050, target_rate=16000)
    for n in (1, 441, 1000, 12345):
        out = layer(rng.standard_normal((2, n)).astype(np.float32))
        assert tuple(out.shape) == (2, layer.output_length(n)) == (2, -(-n * 320 // 441))
    same = Resample(source_rate=16000, target_rate=16000)
    x = rng.standard_normal((1, 100)).astype(np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(same(x)), x)
    up = Resample(source_rate=16000, target_rate=22050)
    assert tuple(up(x).shape) == (1, 138)


def test_config_round_trip_and_bad_options(layer, rng):
    clone = Resample.from_config(layer.get_config())
    x = rng.standard_normal((1, 4410)).astype(np.float32)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x)), layer(x))
    assert not layer.weights
    with pytest.raises(ConfigError):
        Resample(source_rate=0, target_rate=16000)
    with pytest.raises(ConfigError):
        Resample(source_rate=22050, target_rate=16000, rolloff=1.5)
