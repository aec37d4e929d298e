"""A latent space whose model has a time-varying latent beside the global one."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent.errors import LatentShapeError
from keras_musiclatent.genre_head import LatentStats
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.models import MusicVAE
from tests.conftest import TINY_SPACE_MODEL


@pytest.fixture(scope="module")
def space():
    model = MusicVAE(**TINY_SPACE_MODEL, time_latent_dim=2)
    rng = np.random.default_rng(3)
    clips = (0.1 * rng.standard_normal((2, 44100))).astype("float32")
    model.adapt(clips.reshape(-1, 22050))
    space = LatentSpace(model, name="tiny-timed")
    space.latent_stats = LatentStats.fit(np.concatenate([space.encode(c).mean for c in clips]))
    return space, clips


def test_encode_returns_both_latents_and_decode_uses_the_encodings_time(space):
    space, clips = space
    enc = space.encode(clips[0])
    assert enc.mean.shape == (2, 4) and enc.time.shape == (2, space.model.time_steps, 2)
    np.testing.assert_allclose(space.decode(enc), space.decode(enc.mean, time=enc.time))
    # The global latent alone decodes with the prior's envelope: another log-mel.
    assert np.abs(space.decode(enc.mean) - space.decode(enc)).max() > 1e-4


def test_interpolation_keeps_the_first_clips_time_latent(space):
    space, clips = space
    a, b = space.encode(clips[0]), space.encode(clips[1])
    walk = space.interpolate(a, b, steps=3, audio=False)
    np.testing.assert_allclose(walk[0].log_mel, space.decode(a), atol=1e-4)
    np.testing.assert_allclose(walk[-1].log_mel, space.decode(b.mean, time=a.time), atol=1e-4)


def test_probe_and_shift_keep_the_clips_time_latent(space):
    space, clips = space
    enc = space.encode(clips[0])
    shifted = space.shift(enc, np.zeros(4, "float32"), audio=False)
    np.testing.assert_allclose(shifted.log_mel, space.decode(enc), atol=1e-5)
    probe = space.probe(enc, 0, values=[float(enc.mean[0, 0]), 1.0], n_iter=2)
    np.testing.assert_allclose(probe.decoded.log_mel[0], space.decode(enc)[0], atol=1e-4)


def test_a_model_without_a_time_latent_refuses_one(tiny_space_dir):
    space = LatentSpace.load(tiny_space_dir)
    assert not space.has_time_latent and space.encode(np.zeros(22050, "float32")).time is None
    with pytest.raises(LatentShapeError, match="no time-varying latent"):
        space.decode(np.zeros((1, 4), "float32"), time=np.zeros((1, 22, 2), "float32"))
