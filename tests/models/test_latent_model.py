"""The one latent model family: both bottlenecks from one class, fixed-bottleneck subclasses."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.models import LatentAudioModel, MusicAutoencoder, MusicVAE
from tests.models.harness import check_latent_model, sinusoids, tiny_model_kwargs


@pytest.mark.parametrize("bottleneck", ["gaussian", "deterministic"])
def test_family_harness(tmp_path, bottleneck):
    model = LatentAudioModel(bottleneck=bottleneck, **tiny_model_kwargs())
    assert model.is_variational == (bottleneck == "gaussian")
    check_latent_model(model, sinusoids(2), tmp_path=tmp_path)
    config = model.get_config()
    assert config["bottleneck"] == bottleneck
    assert "dtype" in config and config["name"] == model.name


def test_family_member_equals_its_subclass():
    kwargs = tiny_model_kwargs(bits=4)
    a = LatentAudioModel(bottleneck="deterministic", **kwargs)
    b = MusicAutoencoder(**kwargs)
    b.set_weights(a.get_weights())
    x = sinusoids(2)
    np.testing.assert_allclose(a.reconstruct(x), b.reconstruct(x), atol=1e-5)
    assert [w.shape for w in a.weights] == [w.shape for w in b.weights]


def test_subclasses_refuse_the_other_bottleneck():
    with pytest.raises(ConfigError, match="bits"):
        MusicVAE(bits=4, **tiny_model_kwargs())
    with pytest.raises(ConfigError, match="beta"):
        MusicAutoencoder(beta=1e-3, **tiny_model_kwargs())
    with pytest.raises(ConfigError, match="bottleneck"):
        MusicVAE(bottleneck="deterministic", **tiny_model_kwargs())
    with pytest.raises(ConfigError, match="bottleneck must be one of"):
        LatentAudioModel(bottleneck="vq", **tiny_model_kwargs())


def test_option_names_follow_the_bottleneck():
    assert {"beta", "free_bits", "bits", "bottleneck"} <= LatentAudioModel.option_names()
    assert "beta" in MusicVAE.option_names() and "bits" not in MusicVAE.option_names()
    assert "bits" in MusicAutoencoder.option_names()
    assert "beta" not in MusicAutoencoder.option_names()
    assert "bottleneck" not in MusicVAE.option_names()


def test_configs_saved_before_the_family_still_load():
    """A MusicVAE config as the zoo's config.json holds it: no bottleneck, no dtype."""
    config = MusicVAE(**tiny_model_kwargs()).get_config()
    assert "bottleneck" not in config
    config.pop("dtype")
    model = keras.saving.deserialize_keras_object(
        {
            "module": "keras_musiclatent.models.music_vae",
            "class_name": "MusicVAE",
            "config": config,
            "registered_name": "keras_musiclatent>MusicVAE",
        },
        safe_mode=True,
    )
    assert isinstance(model, MusicVAE) and model.is_variational


def test_compress_needs_the_deterministic_bottleneck():
    vae = MusicVAE(**tiny_model_kwargs())
    assert vae.bitrate_bps is None
    with pytest.raises(ConfigError, match="deterministic"):
        vae.compress(sinusoids(1))
