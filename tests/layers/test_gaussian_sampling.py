from __future__ import annotations

import numpy as np

from keras_musiclatent.layers import GaussianSampling
from tests.models.harness import check_layer


def test_layer_harness_inference_returns_mean(tmp_path, rng):
    mean = rng.normal(size=(3, 6)).astype("float32")
    log_var = rng.normal(size=(3, 6)).astype("float32")
    out = check_layer(
        GaussianSampling,
        {"seed": 3},
        [mean, log_var],
        expected_output_shape=(3, 6),
        tmp_path=tmp_path,
    )
    np.testing.assert_array_equal(np.asarray(out), mean)


def test_training_samples_have_posterior_statistics():
    mean = np.tile(np.array([[1.0, -2.0, 0.0]], "float32"), (20000, 1))
    log_var = np.tile(np.log(np.array([[0.25, 1.0, 4.0]], "float32")), (20000, 1))
    z = np.asarray(GaussianSampling(seed=0)([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(0), [1.0, -2.0, 0.0], atol=0.05)
    np.testing.assert_allclose(z.std(0), [0.5, 1.0, 2.0], rtol=0.03)


def test_same_seed_same_samples_and_generator_advances():
    mean = np.zeros((4, 5), "float32")
    a, b = GaussianSampling(seed=7), GaussianSampling(seed=7)
    first_a = np.asarray(a([mean, mean], training=True))
    np.testing.assert_array_equal(first_a, np.asarray(b([mean, mean], training=True)))
    assert not np.allclose(first_a, np.asarray(a([mean, mean], training=True)))


def test_return_kl_matches_hand_computation():
    mean = np.array([[0.5, -1.0]], "float32")
    log_var = np.array([[np.log(0.5), 0.0]], "float32")
    _, kl = GaussianSampling(return_kl=True)([mean, log_var])
    # KL(N(m, s^2) || N(0, 1)) = (s^2 + m^2 - 1 - ln s^2) / 2 per dim.
    expected = 0.5 * (0.5 + 0.25 - 1 - np.log(0.5)) + 0.5 * (1 + 1 - 1 - 0)
    np.testing.assert_allclose(np.asarray(kl), [expected], rtol=1e-5)
