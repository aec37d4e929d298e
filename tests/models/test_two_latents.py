"""The time-varying latent, musicnn features and the genre term of the latent model family."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.models import MusicAutoencoder, MusicVAE, TimeLatentEncoder
from keras_musiclatent.models.losses import genre_terms
from tests.conftest import TINY_MUSICNN, TINY_SPACE_MODEL

TWO = {**TINY_SPACE_MODEL, "time_latent_dim": 2}


def _waves(n: int = 4, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal((n, 22050))).astype("float32")


def test_time_encoder_pools_to_the_decoders_grid():
    enc = TimeLatentEncoder(frames=87, n_mels=32, steps=22, dim=3)
    out = enc(np.zeros((2, 87, 32), "float32"))
    assert out["mean"].shape == (2, 22, 3) and out["log_var"].shape == (2, 22, 3)
    with pytest.raises(ConfigError, match="pooled"):
        TimeLatentEncoder(frames=87, n_mels=32, steps=80, dim=3)


def test_vae_with_a_time_latent_encodes_and_decodes_both_parts():
    model = MusicVAE(**TWO)
    x = _waves()
    out = model(x)
    steps = model.time_steps
    assert steps == model.decoder.steps == 22  # 87 frames pooled by 2 twice
    assert out["z_time"].shape == (4, steps, 2) and out["z_time_mean"].shape == (4, steps, 2)
    z_time = model.encode_time(x)
    assert z_time.shape == (4, steps, 2)
    z, _, _ = model.encode(x, sample=False)
    own = model.decode(z, z_time=z_time)
    prior = model.decode(z)
    np.testing.assert_allclose(model.reconstruct(x), own, atol=1e-5)
    np.testing.assert_allclose(prior, model.decode(z, z_time=model.prior_time_latent(4)), atol=1e-6)
    # The decoder uses the time latent: another envelope, another log-mel.
    assert np.abs(model.decode(z, z_time=z_time + 3.0) - own).max() > 1e-3
    with pytest.raises(ConfigError, match="z_time of shape"):
        model.decode(z, z_time=z_time[:, :3])


def test_models_without_a_time_latent_refuse_one():
    model = MusicVAE(**TINY_SPACE_MODEL)
    assert model.time_steps == 0
    with pytest.raises(ConfigError, match="no time-varying latent"):
        model.encode_time(_waves(1))
    with pytest.raises(ConfigError, match="no time-varying latent"):
        model.decode(np.zeros((1, 4), "float32"), z_time=np.zeros((1, 22, 2), "float32"))


def test_time_kl_and_genre_loss_train_and_round_trip(tmp_path):
    model = MusicVAE(**TWO, genres=("a", "b"), genre_weight=1.0)
    model.compile(optimizer="adam")
    x = {"audio": _waves(8), "length": np.full(8, 22050, "int32")}
    labels = np.array([0, 1, -1, 0, 1, -1, 0, 1], "int32")
    history = model.fit(x, labels, batch_size=4, epochs=1, verbose=0).history
    for name in ("time_kl", "genre_loss", "genre_accuracy", "kl"):
        assert np.isfinite(history[name][0]), name
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_allclose(
        loaded.reconstruct(x["audio"]), model.reconstruct(x["audio"]), atol=1e-4
    )


def test_genre_terms_ignore_unlabelled_rows():
    logits = np.array([[5.0, 0.0], [0.0, 5.0], [9.0, -9.0]], "float32")
    loss, acc = genre_terms(logits, np.array([0, 0, -1]))
    expected = -np.mean([np.log(1 / (1 + np.exp(-5.0))), np.log(1 / (1 + np.exp(5.0)))])
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    assert float(acc) == pytest.approx(0.5)
    loss, acc = genre_terms(logits, np.array([-1, -1, -1]))
    assert float(loss) == 0.0 and float(acc) == 0.0


def test_genre_weight_needs_genres():
    with pytest.raises(ConfigError, match="at least 2 genres"):
        MusicVAE(**TINY_SPACE_MODEL, genre_weight=1.0)


def test_autoencoder_time_latent_is_quantised_and_not_compressed_silently():
    model = MusicAutoencoder(**TWO, bits=4)
    codes = model.encode_time(_waves(2))
    # Bounded, on a 4-bit grid of [-1, 1].
    assert np.abs(codes).max() <= 1.0
    np.testing.assert_allclose(np.round((codes + 1) / 2 * 15), (codes + 1) / 2 * 15, atol=1e-4)
    with pytest.raises(ConfigError, match="global code only"):
        model.compress(_waves(1))


def test_musicnn_features_join_the_encoder_features():
    model = MusicVAE(**TINY_SPACE_MODEL, musicnn_features=True, musicnn_backbone=TINY_MUSICNN)
    assert not model.semantic.trainable and not model.encodes_log_mel
    x = _waves(2)
    z, _, _ = model.encode(x, sample=False)
    np.testing.assert_allclose(z, model(x)["z_mean"], atol=1e-5)
    with pytest.raises(ConfigError, match="musicnn_features"):
        model.encode_log_mel(model.log_mel(x))


def test_a_config_with_an_untrained_musicnn_is_refused():
    from keras_musiclatent.train.loop import build_model

    for option in ({"teacher": "musicnn"}, {"musicnn_features": True}):
        with pytest.raises(ConfigError, match="encoder_weights: musicnn-msd"):
            build_model({"class": "MusicVAE", **TINY_SPACE_MODEL, **option})
