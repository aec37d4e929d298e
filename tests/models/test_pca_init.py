"""Starting the linear paths from PCA, on every latent dimension or on the first few."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.decomposition import PCA

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.models import MusicVAE, initialize_from_pca
from tests.conftest import TINY_SPACE_MODEL


def _waves(n: int = 40) -> np.ndarray:
    rng = np.random.default_rng(5)
    t = np.arange(22050) / 22050
    freqs = rng.uniform(100, 3000, (n, 1))
    tone = np.sin(2 * np.pi * freqs * t) * rng.uniform(0.05, 0.5, (n, 1))
    return (tone + 0.01 * rng.standard_normal((n, 22050))).astype("float32")


@pytest.mark.parametrize("dims", [None, 2])
def test_the_model_starts_at_the_pca_solution_of_its_linear_dims(dims):
    model = MusicVAE(**TINY_SPACE_MODEL, linear_path=True, linear_path_dims=dims)
    x = _waves()
    model.adapt(x)
    info = initialize_from_pca(model, [x])
    k = dims or model.latent_dim
    z, _, _ = model.encode(x, sample=False)
    # Dims past linear_path_dims start at zero; the PCA dims are the whitened scores.
    if dims:
        assert np.abs(z[:, k:]).max() == 0.0
    flat = np.asarray(model.band_norm(model.log_mel(x))).reshape(len(x), -1)
    pca = PCA(n_components=k, svd_solver="full").fit(flat)
    expected = pca.inverse_transform(pca.transform(flat)).reshape(len(x), -1)
    decoded = np.asarray(model.band_norm(model.decode(z))).reshape(len(x), -1)
    np.testing.assert_allclose(decoded, expected, atol=2e-2)
    assert 0 < info["explained_variance_ratio"] <= 1


def test_linear_path_dims_must_fit_the_latent():
    with pytest.raises(ConfigError, match="linear_path_dims"):
        MusicVAE(**TINY_SPACE_MODEL, linear_path=True, linear_path_dims=5)
