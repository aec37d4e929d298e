"""train.callbacks: reconstructions in the model's own recipe; the epoch commit's early stop."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from keras_musiclatent.models import MusicVAE
from keras_musiclatent.train import callbacks
from keras_musiclatent.train.state import RunState
from tests.conftest import TINY_SPACE_MODEL


@pytest.fixture(scope="module")
def model():
    vae = MusicVAE(**TINY_SPACE_MODEL, sample_rate=16000)
    vae(np.zeros((2, 16000), np.float32))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    return vae


def test_reconstruction_summary_uses_the_model_recipe(model, tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    seen = {}

    def invert(log_mel, **kwargs):
        seen.update(kwargs)
        return np.zeros((len(log_mel), 1000), np.float32)

    monkeypatch.setattr(callbacks, "logmel_to_audio", invert)
    summary = callbacks.ReconstructionSummary(tmp_path, np.zeros((2, 16000), np.float32))
    summary.set_model(model)
    summary.on_epoch_end(0)
    assert seen["sample_rate"] == 16000
    assert (seen["n_fft"], seen["hop_length"]) == (512, 256)
    assert (seen["fmin"], seen["fmax"]) == (model.log_mel_layer.fmin, model.log_mel_layer.fmax)


def test_epoch_commit_stops_early_and_says_why(model, tmp_path):
    commit = callbacks.EpochCommit(tmp_path, RunState(), epochs=10, monitor="val_x", patience=1)
    commit.set_model(model)
    for epoch, value in enumerate([3.0, 2.0, 2.5]):
        model.stop_training = False
        commit.on_epoch_begin(epoch)
        commit.on_epoch_end(epoch, {"loss": 1.0, "val_x": value})
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["finished"] and state["stop_reason"] == "early_stopping"
    assert (state["best"], state["best_epoch"], state["wait"]) == (2.0, 1, 1)
    assert model.stop_training
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["epoch-0003.weights.h5"]
    assert (tmp_path / "best.keras").is_file() and (tmp_path / "last.keras").is_file()
    # The generators' states are part of the state (Keras does not save them with weights).
    assert [tuple(r) for r in state["rng"]] == list(callbacks.seed_states(model))
