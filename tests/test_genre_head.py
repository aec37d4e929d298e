"""Genre head and latent statistics: fit, predict, and safe storage."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from keras_musiclatent.errors import ConfigError, CorruptModelError, LatentShapeError
from keras_musiclatent.genre_head import GenreHead, LatentStats


def test_matches_scikit_learn(rng):
    z = rng.normal(size=(60, 3)) + np.repeat(np.eye(3) * 3, 20, axis=0)
    labels = ["a"] * 20 + ["b"] * 20 + ["c"] * 20
    head = GenreHead.fit(z, labels)
    mean, scale = z.mean(0), z.std(0)
    ref = LogisticRegression(max_iter=5000, random_state=0).fit((z - mean) / scale, labels)
    np.testing.assert_allclose(
        head.predict_proba(z), ref.predict_proba((z - mean) / scale), atol=1e-5
    )


def test_two_classes_and_round_trip(rng, tmp_path):
    z = np.r_[rng.normal(-1, 1, (20, 2)), rng.normal(1, 1, (20, 2))]
    head = GenreHead.fit(z, ["x"] * 20 + ["y"] * 20)
    p = head.predict_proba(np.array([[3.0, 3.0], [-3.0, -3.0]]))
    assert p.shape == (2, 2) and p[0, 1] > 0.9 and p[1, 0] > 0.9
    head.save(tmp_path / "h.npz")
    again = GenreHead.load(tmp_path / "h.npz")
    np.testing.assert_allclose(again.predict_proba(z), head.predict_proba(z))
    assert again.genres == ["x", "y"]


def test_errors(rng, tmp_path):
    with pytest.raises(ConfigError, match="two genres"):
        GenreHead.fit(rng.normal(size=(5, 2)), ["a"] * 5)
    with pytest.raises(LatentShapeError):
        GenreHead.fit(rng.normal(size=(5, 2)), ["a", "b"])
    head = GenreHead.fit(rng.normal(size=(6, 2)), ["a", "b"] * 3)
    with pytest.raises(LatentShapeError, match=r"\(n, 2\)"):
        head.predict_proba(np.zeros((1, 3)))
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(CorruptModelError):
        GenreHead.load(tmp_path / "bad.npz")


def test_latent_stats(rng, tmp_path):
    z = rng.normal(2.0, 3.0, size=(500, 4))
    stats = LatentStats.fit(z)
    np.testing.assert_allclose(stats.mean, z.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats.std, z.std(0), rtol=1e-5)
    stats.save(tmp_path / "s.npz")
    assert LatentStats.load(tmp_path / "s.npz").count == 500
    with pytest.raises(LatentShapeError):
        LatentStats.fit(np.zeros((1, 4)))
