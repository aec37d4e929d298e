from __future__ import annotations

import keras
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.models import AttentionEncoder, CRNNEncoder, MelDecoder
from tests.models.harness import assert_trees_close, check_config_round_trip

TINY = {"conv_filters": (4, 8), "pool_sizes": ((2, 4), (2, 2))}


def check_model(model, x, expected_shape, tmp_path):
    check_config_round_trip(model)
    out = model(x, training=False)
    assert tuple(out.shape) == expected_shape
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert_trees_close(out, loaded(x, training=False))


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_crnn_encoder(tmp_path, rng, pooling):
    model = CRNNEncoder(frames=43, n_mels=32, rnn_units=8, output_dim=12, pooling=pooling, **TINY)
    check_model(model, rng.normal(size=(2, 43, 32)).astype("float32"), (2, 12), tmp_path)


def test_attention_encoder(tmp_path, rng):
    model = AttentionEncoder(
        frames=43, n_mels=32, hidden_dim=8, num_heads=2, intermediate_dim=16, output_dim=12, **TINY
    )
    check_model(model, rng.normal(size=(2, 43, 32)).astype("float32"), (2, 12), tmp_path)


@pytest.mark.parametrize(("frames", "n_mels"), [(44, 32), (41, 30), (130, 40)])
@pytest.mark.parametrize("sequence", ["gru", "transformer"])
def test_decoder_hits_the_exact_frame_grid(tmp_path, rng, frames, n_mels, sequence):
    model = MelDecoder(
        latent_dim=4,
        frames=frames,
        n_mels=n_mels,
        rnn_units=8,
        hidden_dim=16,
        num_heads=2,
        num_layers=1,
        sequence=sequence,
        **TINY,
    )
    check_model(model, rng.normal(size=(3, 4)).astype("float32"), (3, frames, n_mels), tmp_path)


def test_mobilenet_stem_builds_without_downloads(rng):
    model = CRNNEncoder(
        frames=64, n_mels=64, rnn_units=8, output_dim=8, stem="mobilenet_v2", **TINY
    )
    assert model(rng.normal(size=(1, 64, 64)).astype("float32")).shape == (1, 8)
    assert check_config_round_trip(model).count_params() == model.count_params()


def test_bad_configs_raise():
    with pytest.raises(ConfigError):
        CRNNEncoder(frames=10, n_mels=8, conv_filters=(4,), pool_sizes=((2, 2), (2, 2)))
    with pytest.raises(ConfigError):
        CRNNEncoder(frames=10, n_mels=8, stem="resnet")
    with pytest.raises(ConfigError):
        MelDecoder(latent_dim=2, frames=10, n_mels=8, sequence="lstm")
