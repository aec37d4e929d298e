from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers import DeterministicBottleneck
from tests.models.harness import check_layer


def test_layer_harness_inference_is_on_the_grid(tmp_path, rng):
    x = rng.normal(size=(4, 6)).astype("float32")
    out = np.asarray(
        check_layer(
            DeterministicBottleneck,
            {"bits": 3, "seed": 0},
            x,
            expected_output_shape=(4, 6),
            tmp_path=tmp_path,
        )
    )
    step = 2.0 / 7.0
    np.testing.assert_allclose((out + 1.0) / step, np.round((out + 1.0) / step), atol=1e-4)
    assert np.max(np.abs(out - np.tanh(x))) <= step / 2 + 1e-6


def test_training_noise_is_at_most_half_a_step(rng):
    x = rng.normal(size=(512, 8)).astype("float32")
    layer = DeterministicBottleneck(bits=4, seed=1)
    noisy = np.asarray(layer(x, training=True))
    diff = noisy - np.tanh(x)
    assert np.max(np.abs(diff)) <= layer.step / 2 + 1e-6
    assert np.std(diff) > layer.step / 5  # really noisy, not rounded


def test_codes_round_trip(rng):
    layer = DeterministicBottleneck(bits=5)
    codes = np.asarray(layer.quantize_codes(rng.normal(size=(10, 4)).astype("float32")))
    assert codes.dtype == np.int32 and codes.min() >= 0 and codes.max() < 32
    again = np.asarray(layer.quantize_codes(layer.dequantize_codes(codes), bounded=True))
    np.testing.assert_array_equal(again, codes)


def test_unquantised_is_tanh(rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    out = DeterministicBottleneck(bits=None)(x, training=True)
    np.testing.assert_allclose(np.asarray(out), np.tanh(x), rtol=1e-6)


def test_bits_need_a_bounded_code():
    with pytest.raises(ConfigError):
        DeterministicBottleneck(bits=4, bounded=False)
    with pytest.raises(ConfigError):
        DeterministicBottleneck(bits=0)
