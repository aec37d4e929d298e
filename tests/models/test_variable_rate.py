"""One autoencoder, several precisions: ``min_bits`` and the codes of each precision."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers import DeterministicBottleneck
from keras_musiclatent.models import MusicAutoencoder, MusicVAE
from tests.conftest import TINY_SPACE_MODEL

CODEC = {**TINY_SPACE_MODEL, "time_latent_dim": 2, "bits": 5, "min_bits": 2}


def _waves(n: int = 3, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((n, 22050))).astype("float32")


def test_training_noise_takes_every_precision_of_the_range():
    layer = DeterministicBottleneck(bits=6, min_bits=2, seed=0)
    z = np.zeros((4000, 1), "float32")
    spread = np.abs(np.asarray(layer(z, training=True)))[:, 0]
    # Half a step at 2 bits is 1/3; at 6 bits 1/63: both ends of the range occur.
    assert spread.max() > 0.25 and (spread < 1 / 63).mean() > 0.05
    steps = {round(2 / (2**b - 1), 6) for b in range(2, 7)}
    assert len(steps) == 5
    fixed = DeterministicBottleneck(bits=6, seed=0)
    assert np.abs(np.asarray(fixed(z, training=True))).max() <= 1 / 63 + 1e-6


def test_bottleneck_refuses_precisions_it_was_not_trained_for():
    with pytest.raises(ConfigError, match="min_bits"):
        DeterministicBottleneck(bits=4, min_bits=5)
    with pytest.raises(ConfigError, match="min_bits"):
        DeterministicBottleneck(bits=None, min_bits=2)
    layer = DeterministicBottleneck(bits=4, min_bits=2)
    with pytest.raises(ConfigError, match="bits must be in"):
        layer.quantize_codes(np.zeros((1, 2), "float32"), bits=5)
    assert layer.get_config()["min_bits"] == 2


def test_codes_of_each_precision_decode_and_coarser_codes_lose_more():
    model = MusicAutoencoder(**CODEC)
    x = _waves()
    assert model.code_bits == [2, 3, 4, 5]
    z, _, _, z_time = model.encode_with_time(x, sample=False)
    errors = []
    for bits in model.code_bits:
        codes, time_codes = model.encode_codes(x, bits=bits)
        assert codes.shape == (3, model.latent_dim) and time_codes.shape == z_time.shape
        assert codes.min() >= 0 and codes.max() < 2**bits and time_codes.max() < 2**bits
        again = model.codes_of(z, z_time, bits=bits)
        np.testing.assert_array_equal(again[0], codes)
        np.testing.assert_array_equal(again[1], time_codes)
        decoded = model.decode_codes(codes, time_codes, bits=bits)
        assert decoded.shape == (3, model.frames, model.n_mels)
        back = model.bottleneck.dequantize_codes(codes, bits=bits)
        errors.append(float(np.abs(np.asarray(back) - z).max()))
    assert errors[0] > errors[-1]
    assert errors[-1] < 1e-5  # the finest precision is the bottleneck's own grid
    with pytest.raises(ConfigError, match=r"trained for 2\.\.5"):
        model.encode_codes(x, bits=1)


def test_min_bits_survives_the_config_and_old_configs_load_without_it():
    model = MusicAutoencoder(**CODEC)
    restored = MusicAutoencoder.from_config(model.get_config())
    assert restored.min_bits == 2 and restored.code_bits == model.code_bits
    plain = MusicAutoencoder(**{**TINY_SPACE_MODEL, "bits": 4})
    assert "min_bits" not in plain.get_config() and plain.code_bits == [4]
    with pytest.raises(ConfigError):
        MusicVAE(**{**TINY_SPACE_MODEL, "min_bits": 2})
