from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent.models import losses


def numpy_spectral_rmse(reference, estimate):
    """The spectral RMSE of docs/evaluation.md, written out in numpy for one example."""
    floor = reference.max() - 80.0
    return np.sqrt(np.mean((np.maximum(reference, floor) - np.maximum(estimate, floor)) ** 2))


def test_gaussian_kl_matches_hand_computation(rng):
    mean = rng.normal(size=(3, 4)).astype("float32")
    log_var = rng.normal(size=(3, 4)).astype("float32")
    expected = 0.5 * (np.exp(log_var) + mean**2 - 1.0 - log_var)
    np.testing.assert_allclose(np.asarray(losses.gaussian_kl(mean, log_var)), expected, rtol=1e-5)
    zero = np.asarray(losses.gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3))))
    np.testing.assert_allclose(zero, 0.0, atol=1e-7)


def test_masked_reconstruction_ignores_padded_frames(rng):
    target = rng.uniform(-60, 20, (2, 10, 4)).astype("float32")
    prediction = target + rng.normal(0, 3, target.shape).astype("float32")
    mask = np.ones((2, 10), "float32")
    mask[1, 6:] = 0.0
    base = float(losses.masked_reconstruction_loss(target, prediction, mask))
    changed_t, changed_p = target.copy(), prediction.copy()
    changed_t[1, 6:] = 35.0  # would raise the floor and the error if it counted
    changed_p[1, 6:] = -90.0
    again = float(losses.masked_reconstruction_loss(changed_t, changed_p, mask))
    assert again == pytest.approx(base, rel=1e-6)
    real = np.concatenate([(prediction - target)[0], (prediction - target)[1, :6]])
    assert base == pytest.approx(float(np.mean(real**2)), rel=1e-4)


def test_reconstruction_floor_scale_and_l1():
    target = np.array([[[0.0, -100.0]]], "float32")
    prediction = np.array([[[2.0, -120.0]]], "float32")
    # Both floored at max - 80 = -80: the quiet band's error vanishes.
    assert float(losses.masked_reconstruction_loss(target, prediction)) == pytest.approx(2.0)
    no_floor = losses.masked_reconstruction_loss(target, prediction, top_db=None, kind="l1")
    assert float(no_floor) == pytest.approx(11.0)
    scaled = losses.masked_reconstruction_loss(target, prediction, scale=np.array([2.0, 1.0]))
    assert float(scaled) == pytest.approx(0.5)


def test_spectral_rmse_matches_evaluation_definition(rng):
    reference = rng.uniform(-110, 30, (3, 12, 6)).astype("float32")
    estimate = reference + rng.normal(0, 4, reference.shape).astype("float32")
    got = np.asarray(losses.spectral_rmse_db(reference, estimate))
    expected = [numpy_spectral_rmse(r, e) for r, e in zip(reference, estimate, strict=True)]
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    mask = np.ones((3, 12), "float32")
    mask[0, 5:] = 0
    masked = np.asarray(losses.spectral_rmse_db(reference, estimate, mask))
    assert masked[0] == pytest.approx(numpy_spectral_rmse(reference[0, :5], estimate[0, :5]))


def test_kl_weight_warms_up_linearly():
    weights = [float(losses.kl_weight(s, beta=0.5, warmup_steps=10)) for s in (0, 5, 10, 50)]
    assert weights == pytest.approx([0.0, 0.25, 0.5, 0.5])
    assert float(losses.kl_weight(0, beta=0.5, warmup_steps=0)) == pytest.approx(0.5)


def test_free_bits_floor_each_dimension():
    kl = np.array([[0.1, 2.0, 0.0], [0.3, 4.0, 0.0]], "float32")  # batch means 0.2, 3, 0
    assert float(losses.free_bits_kl(kl, 0.0)) == pytest.approx(3.2)
    assert float(losses.free_bits_kl(kl, 0.5)) == pytest.approx(0.5 + 3.0 + 0.5)


def test_active_units():
    rng = np.random.default_rng(0)
    z = np.concatenate([rng.normal(0, 1, (100, 3)), rng.normal(0, 0.01, (100, 2))], axis=1)
    assert losses.active_units(z) == 3
    assert losses.active_units(z, threshold=10.0) == 0
    with pytest.raises(ValueError):
        losses.active_units(z[:1])


def test_clip_consistency_loss_rewards_pairs_and_ignores_scale(rng):
    z = rng.normal(size=(8, 6)).astype("float32")
    paired = np.concatenate([z[:4], 3.0 * z[:4]])  # same directions, another scale
    low = float(losses.clip_consistency_loss(paired, temperature=0.1))
    chance = float(losses.clip_consistency_loss(z, temperature=1e3))  # logits ~ equal
    assert low < 0.1
    assert chance == pytest.approx(np.log(4), rel=1e-3)
    shuffled = np.concatenate([z[:4], z[[1, 2, 3, 0]]])  # every pair mismatched
    assert float(losses.clip_consistency_loss(shuffled, temperature=0.1)) > np.log(4)
