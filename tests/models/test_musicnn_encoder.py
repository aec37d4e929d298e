"""encoder="musicnn": the ported network as a latent model's front end, frozen or fine-tuned,
initialised from the shipped musicnn-msd files."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import soxr

from keras_musiclatent.errors import ConfigError, IncompatibleModelError
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.models import MusicAutoencoder, MusicVAE
from keras_musiclatent.presets import registry as zoo
from keras_musiclatent.presets.files import load_model_files, save_model_files
from keras_musiclatent.presets.pretrained import load_encoder_weights
from keras_musiclatent.train.loop import build_model
from tests.conftest import TINY_MUSICNN, TINY_SPACE_MODEL

TINY = {**TINY_SPACE_MODEL, "encoder": "musicnn", "musicnn_backbone": TINY_MUSICNN}
# The decoder and latent of the tiny models, around the full MSD_musicnn front end.
TINY_DECODER = {k: v for k, v in TINY_SPACE_MODEL.items() if k != "segment_seconds"}


@pytest.fixture
def waves(rng) -> np.ndarray:
    return (0.1 * rng.standard_normal((4, 22050))).astype(np.float32)


def _train_one_epoch(model, waves):
    model.adapt(waves)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(waves, epochs=1, batch_size=2, verbose=0)


def test_a_frozen_front_end_does_not_move_while_the_rest_trains(waves):
    model = MusicVAE(**TINY, encoder_trainable=False)
    assert not model.encoder.trainable and not model.encoder.trainable_weights
    before = [keras.ops.convert_to_numpy(w) for w in model.encoder.weights]
    head = keras.ops.convert_to_numpy(model.z_mean_dense.kernel)
    _train_one_epoch(model, waves)
    for old, new in zip(before, model.encoder.weights, strict=True):
        # batch-norm statistics too
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))
    assert not np.array_equal(head, keras.ops.convert_to_numpy(model.z_mean_dense.kernel))


def test_a_trainable_front_end_is_fine_tuned(waves):
    model = MusicAutoencoder(**TINY)
    before = [keras.ops.convert_to_numpy(w) for w in model.encoder.trainable_weights]
    _train_one_epoch(model, waves)
    moved = [
        not np.array_equal(b, keras.ops.convert_to_numpy(w))
        for b, w in zip(before, model.encoder.trainable_weights, strict=True)
    ]
    assert any(moved)


def test_saves_and_loads_with_identical_latents(waves, tmp_path):
    model = MusicVAE(**TINY, encoder_trainable=False)
    model.adapt(waves)
    z = model.encode(waves, sample=False)[0]
    assert z.shape == (4, TINY["latent_dim"])
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    assert config["config"]["encoder_trainable"] is False
    folder = save_model_files(tmp_path / "m", model)
    loaded = load_model_files(folder).model
    assert not loaded.encoder.trainable
    np.testing.assert_allclose(loaded.encode(waves, sample=False)[0], z, atol=1e-5)
    space = LatentSpace.load(folder)
    assert space.has_decoder and space.decode(z).shape[0] == 4
    with pytest.raises(ConfigError, match="encodes waveforms"):
        model.encode_log_mel(model.log_mel(waves))


def test_old_configs_keep_their_encoder():
    model = MusicVAE(**TINY_SPACE_MODEL)
    assert model.encoder_type == "crnn" and model.encoder_trainable
    assert model.get_config()["musicnn_backbone"] is None


def test_weights_must_fit_the_layout():
    with pytest.raises(IncompatibleModelError, match="encoder='musicnn'"):
        load_encoder_weights(MusicVAE(**TINY_SPACE_MODEL))
    if "musicnn-msd" in zoo.list_models():
        with pytest.raises(IncompatibleModelError, match="layout differs"):
            load_encoder_weights(MusicVAE(**TINY))


@pytest.mark.skipif("musicnn-msd" not in zoo.list_models(), reason="musicnn-msd not in the zoo")
def test_the_zoo_weights_give_musicnns_embedding_of_the_resampled_audio(rng):
    model = MusicVAE(**TINY_DECODER, encoder="musicnn", encoder_trainable=False)
    load_encoder_weights(model, "musicnn-msd")
    peer = LatentSpace.load("musicnn-msd")
    for got, want in zip(model.encoder.backbone.weights, peer.model.weights, strict=True):
        np.testing.assert_array_equal(*map(keras.ops.convert_to_numpy, (got, want)))
    # A band-limited 3-s clip at 22050 Hz, quiet enough for musicnn's float16 range.
    t = np.arange(66150) / 22050
    y = sum(0.05 * np.sin(2 * np.pi * f * t) for f in (220.0, 550.0, 1300.0, 3100.0))
    y = (y + 0.01 * rng.standard_normal(len(t))).astype(np.float32)
    features = keras.ops.convert_to_numpy(model.encoder(y[None]))
    reference = peer.model.embed_windows(soxr.resample(y, 22050, 16000)[None])["embedding"]
    # Two resamplers (the in-model filter and soxr) differ only near 8 kHz.
    rel = np.linalg.norm(features - reference) / np.linalg.norm(reference)
    assert features.shape == (1, 200) and rel < 0.02


def test_a_teacher_adds_a_loss_and_stays_frozen(waves, tmp_path):
    model = MusicVAE(**TINY_SPACE_MODEL, teacher="musicnn", musicnn_backbone=TINY_MUSICNN)
    assert model.encoder_type == "crnn" and not model.teacher.trainable
    before = [keras.ops.convert_to_numpy(w) for w in model.teacher.weights]
    model.adapt(waves)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    history = model.fit(waves, epochs=2, batch_size=2, verbose=0).history
    assert np.isfinite(history["teacher_loss"]).all()
    for old, new in zip(before, model.teacher.weights, strict=True):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))
    # the teacher is training-only: encoding needs none of it, and it saves and loads
    loaded = load_model_files(save_model_files(tmp_path / "t", model)).model
    assert loaded.teacher_type == "musicnn" and loaded.teacher_weight == 1.0
    np.testing.assert_allclose(
        loaded.encode(waves, sample=False)[0], model.encode(waves, sample=False)[0], atol=1e-5
    )
    with pytest.raises(ConfigError, match="teacher"):
        MusicVAE(**TINY_SPACE_MODEL, teacher="vgg")


@pytest.mark.skipif("musicnn-msd" not in zoo.list_models(), reason="musicnn-msd not in the zoo")
def test_the_zoo_weights_fill_the_teacher():
    model = MusicAutoencoder(**TINY_DECODER, teacher="musicnn")
    load_encoder_weights(model, "musicnn-msd")
    peer = LatentSpace.load("musicnn-msd")
    for got, want in zip(model.teacher.backbone.weights, peer.model.weights, strict=True):
        np.testing.assert_array_equal(*map(keras.ops.convert_to_numpy, (got, want)))


@pytest.mark.skipif("musicnn-msd" not in zoo.list_models(), reason="musicnn-msd not in the zoo")
def test_a_training_config_names_the_zoo_weights():
    config = {"class": "MusicVAE", **TINY_DECODER, "encoder": "musicnn"}
    model = build_model({**config, "encoder_trainable": False, "encoder_weights": "musicnn-msd"})
    peer = LatentSpace.load("musicnn-msd")
    got = keras.ops.convert_to_numpy(model.encoder.backbone.get_layer("tags").kernel)
    np.testing.assert_array_equal(
        got, keras.ops.convert_to_numpy(peer.model.get_layer("tags").kernel)
    )
    assert "encoder_weights" not in model.get_config()
