"""Interpolation measures of models with a time-varying latent or a waveform-only encoder."""

from __future__ import annotations

import numpy as np

from keras_musiclatent.evaluate.evaluator import _genre_confidence, walk_log_mels
from keras_musiclatent.genre_head import GenreHead
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.models import MusicVAE
from tests.conftest import TINY_MUSICNN, TINY_SPACE_MODEL


def _waves(n: int) -> np.ndarray:
    return (0.1 * np.random.default_rng(1).standard_normal((n, 22050))).astype("float32")


def test_a_walk_keeps_the_first_segments_time_latent():
    model = MusicVAE(**TINY_SPACE_MODEL, time_latent_dim=2)
    space = LatentSpace(model, name="timed")
    x = _waves(2)
    z, _, _ = model.encode(x, sample=False)
    time = model.encode_time(x)
    walk = walk_log_mels(space, z[0], z[1], steps=3, time_a=time[0])
    np.testing.assert_allclose(walk[0], model.decode(z[:1], z_time=time[:1])[0], atol=1e-4)
    np.testing.assert_allclose(walk[-1], model.decode(z[1:], z_time=time[:1])[0], atol=1e-4)
    prior = walk_log_mels(space, z[0], z[1], steps=3)
    np.testing.assert_allclose(prior[0], model.decode(z[:1])[0], atol=1e-4)


def test_genre_confidence_of_a_waveform_encoder_goes_through_audio():
    model = MusicVAE(**TINY_SPACE_MODEL, musicnn_features=True, musicnn_backbone=TINY_MUSICNN)
    space = LatentSpace(model, name="waves")
    x = _waves(4)
    z, _, _ = model.encode(x, sample=False)
    head = GenreHead.fit(z, ["a", "b", "a", "b"])
    conf = _genre_confidence(space, head, model.log_mel(x))
    assert 0.5 <= conf <= 1.0
