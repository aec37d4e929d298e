from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_musiclatent.models import MusicAutoencoder
from tests.models.harness import TINY_FRAMES, check_latent_model, sinusoids, tiny_model_kwargs


@pytest.mark.parametrize("encoder", ["crnn", "attention"])
def test_harness(tmp_path, encoder):
    model = MusicAutoencoder(**tiny_model_kwargs(encoder=encoder, bits=4))
    check_latent_model(model, sinusoids(3), tmp_path=tmp_path)


def test_compress_decompress_is_what_the_model_reconstructs():
    model = MusicAutoencoder(**tiny_model_kwargs(bits=4))
    x = sinusoids(3)
    codes = model.compress(x)
    assert codes.shape == (3, 4) and codes.dtype == np.int32
    assert codes.min() >= 0 and codes.max() < 16
    np.testing.assert_allclose(model.decompress(codes), model.reconstruct(x), atol=1e-4)
    z, zeros, z_again = model.encode(x)
    np.testing.assert_array_equal(zeros, 0.0)
    np.testing.assert_array_equal(z, z_again)
    assert model.bitrate_bps == pytest.approx(4 * 4 / 0.5)
    assert MusicAutoencoder(**tiny_model_kwargs(bits=None)).bitrate_bps is None


def test_fit_logs_reconstruction_metrics():
    keras.utils.set_random_seed(0)
    model = MusicAutoencoder(**tiny_model_kwargs(bits=6))
    x = sinusoids(16, seed=2)
    model.adapt(x)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(x, batch_size=8, epochs=6, verbose=0).history
    assert set(history) == {"loss", "reconstruction_loss", "spectral_rmse_db"}
    assert min(history["loss"][-2:]) < history["loss"][0]
    assert model.decode(np.zeros((1, 4), "float32")).shape == (1, TINY_FRAMES, 32)
