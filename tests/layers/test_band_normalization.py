from __future__ import annotations

import numpy as np

from keras_musiclatent.layers import BandNormalization
from tests.models.harness import check_layer


def test_layer_harness(tmp_path, rng):
    x = rng.normal(-30, 20, (2, 7, 5)).astype("float32")
    out = check_layer(
        BandNormalization,
        {"n_bands": 5},
        x,
        expected_output_shape=(2, 7, 5),
        tmp_path=tmp_path,
    )
    np.testing.assert_allclose(np.asarray(out), (x + 30.0) / 25.0, rtol=1e-5, atol=1e-5)


def test_adapt_standardises_each_band_and_inverse_undoes_it(rng):
    data = rng.normal([-60.0, -20.0, 10.0], [5.0, 10.0, 2.0], (64, 50, 3)).astype("float32")
    norm = BandNormalization(n_bands=3)
    norm.adapt(data)
    out = np.asarray(norm(data))
    np.testing.assert_allclose(out.reshape(-1, 3).mean(0), 0.0, atol=1e-3)
    np.testing.assert_allclose(out.reshape(-1, 3).std(0), 1.0, atol=1e-3)
    np.testing.assert_allclose(np.asarray(norm(out, inverse=True)), data, atol=1e-3)


def test_adapt_ignores_masked_frames(rng):
    data = rng.normal(0.0, 1.0, (4, 10, 2)).astype("float32")
    mask = np.ones((4, 10), "float32")
    mask[:, 6:] = 0.0
    garbage = data.copy()
    garbage[:, 6:] = -1000.0
    a, b = BandNormalization(n_bands=2), BandNormalization(n_bands=2)
    a.adapt(data[:, :6])
    b.adapt(garbage, mask=mask)
    np.testing.assert_allclose(np.asarray(b.mean), np.asarray(a.mean), atol=1e-5)
    np.testing.assert_allclose(np.asarray(b.std), np.asarray(a.std), atol=1e-5)
