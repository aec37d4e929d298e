"""tuning.hypermodels: hyper-parameters → training config → a compiled model."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.loop import build_model, load_config
from keras_musiclatent.train.tuning.config import Objective
from keras_musiclatent.train.tuning.hypermodels import (
    LatentHyperModel,
    MusicAutoencoderHyperModel,
    MusicVAEHyperModel,
    TrialLogs,
    conv_stack,
    default_space,
    route,
)
from tests.train.tuning.conftest import tiny_search

SPACE = {
    "learning_rate": [1e-3, 3e-3],
    "segment_seconds": [1.0, 1.5],
    "batch_size": [4, 8],
    "conv_blocks": {"type": "int", "min": 2, "max": 3},
    "latent_dim": [4, 8],
    "linear_path": {"type": "boolean", "default": True},
}


def base(tmp_path) -> dict:
    raw = tiny_search(tmp_path)
    raw.pop("search")
    return raw


def test_route_and_conv_stack():
    assert [route(n) for n in ("learning_rate", "segment_seconds", "batch_size", "conv_width")] == [
        "optimizer",
        "data",
        "training",
        "conv",
    ]
    assert route("beta") == "model"
    filters, pools = conv_stack(blocks=5, width=8)
    assert filters == [8, 16, 32, 64, 64] and len(pools) == 5
    # Every depth pools 128 mel bands by 64.
    for blocks in (2, 3, 4, 5):
        assert np.prod([p[1] for p in conv_stack(blocks=blocks, width=8)[1]]) == 64
    with pytest.raises(ConfigError, match="conv_blocks"):
        conv_stack(blocks=9, width=8)


def test_trial_config_routes_each_value(tmp_path):
    hm = LatentHyperModel(base(tmp_path), SPACE)
    config = hm.trial_config(kt.HyperParameters())
    assert config["optimizer"]["learning_rate"] == 1e-3
    assert config["data"]["segment_seconds"] == 1.0
    assert config["training"]["batch_size"] == 4
    assert config["model"]["conv_filters"] == [8, 16] and config["model"]["linear_path"] is True
    best = hm.best_config(kt.HyperParameters())
    assert set(best) == {"model", "optimizer", "data", "training"}
    # best.json merges into a training config that builds the model.
    merged = load_config({**best, "data": {**best["data"], "root": "x"}})
    model = build_model({**merged["model"], "segment_seconds": merged["data"]["segment_seconds"]})
    assert model.latent_dim == 4


def test_build_is_seeded_and_follows_the_segment_length(tmp_path):
    hm = LatentHyperModel(base(tmp_path), SPACE)
    hp = kt.HyperParameters()
    hm.build(hp)  # declares the space
    hp.values["segment_seconds"] = 1.5
    first, second = hm.build(hp), hm.build(hp)
    assert first.segment_samples == round(1.5 * 22050)
    assert first.optimizer is not None
    for a, b in zip(first.get_weights(), second.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_space_entries_must_fit_the_model_class(tmp_path):
    with pytest.raises(ConfigError, match="MusicVAE has no such argument"):
        LatentHyperModel(base(tmp_path), {"bits": [4, 8]})
    with pytest.raises(ConfigError, match="MusicAutoencoder has no such argument"):
        MusicAutoencoderHyperModel(base(tmp_path), {"beta": [1e-4, 1e-3]})
    assert "beta" not in default_space("MusicAutoencoder")
    hm = MusicAutoencoderHyperModel(base(tmp_path), {"bits": [4, 8]})
    assert hm.base["model"]["class"] == "MusicAutoencoder"
    assert MusicVAEHyperModel(base(tmp_path)).space  # the default space


def test_trial_logs_combine_the_objective():
    callback = TrialLogs(Objective("val_score", combine={"val_a": 1.0, "val_b": 0.5}))
    logs = {"val_a": 2.0, "val_b": 4.0}
    callback.on_epoch_end(0, logs)
    assert logs["val_score"] == 4.0
    # A missing metric is a config error that stops the search, not one failed trial.
    with pytest.raises(ConfigError, match="val_b not logged") as info:
        callback.on_epoch_end(0, {"val_a": 1.0})
    assert isinstance(info.value, kt.errors.FatalError)
