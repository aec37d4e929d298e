"""training.py and `musiclatent train`: configs, checkpoints, resume after SIGKILL."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import soundfile as sf

import keras_musiclatent.models  # noqa: F401  - registers the model classes for loading
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.loop import load_config, train
from tests.conftest import REPO_ROOT

TINY_MODEL = {
    "class": "MusicVAE",
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 32,
    "conv_filters": [8, 8],
    "pool_sizes": [[2, 2], [2, 4]],
    "rnn_units": 8,
    "hidden_dim": 16,
    "latent_dim": 4,
    "kl_warmup_steps": 10,
    "seed": 0,
}


def make_folder_dataset(root, *, clips_per_label: int = 6, seconds: float = 2.5) -> None:
    rng = np.random.default_rng(0)
    for label, f0 in (("low", 220.0), ("high", 1760.0)):
        (root / label).mkdir(parents=True, exist_ok=True)
        for i in range(clips_per_label):
            t = np.arange(int(22050 * seconds)) / 22050
            y = 0.4 * np.sin(2 * np.pi * f0 * (1 + 0.05 * i) * t)
            y += 0.02 * rng.standard_normal(len(t))
            sf.write(root / label / f"{label}{i}.wav", y.astype(np.float32), 22050)


def tiny_config(root, **training) -> dict:
    return {
        "data": {"dataset": "folder", "root": str(root), "split_seed": 0, "segment_seconds": 1.0},
        "model": dict(TINY_MODEL),
        "training": {"epochs": 2, "batch_size": 4, "reconstruction_examples": 2, **training},
    }


def test_load_config_defaults_and_errors(tmp_path):
    config = load_config({"data": {"root": "x"}})
    assert config["training"]["batch_size"] == 32 and config["model"]["class"] == "MusicVAE"
    with pytest.raises(ConfigError, match="unknown config key"):
        load_config({"data": {"root": "x", "rooot": 1}})
    with pytest.raises(ConfigError, match=r"data\.root"):
        load_config({})
    bad = tmp_path / "bad.yaml"
    bad.write_text("data: [unclosed")
    with pytest.raises(ConfigError, match="cannot parse"):
        load_config(bad)
    with pytest.raises(ConfigError, match="no such config"):
        load_config(tmp_path / "missing.json")
    good = tmp_path / "good.yaml"
    good.write_text("data:\n  root: somewhere\ntraining:\n  epochs: 3\n")
    assert load_config(good)["training"]["epochs"] == 3


def test_train_writes_a_complete_run(tmp_path):
    make_folder_dataset(tmp_path / "data")
    out = tmp_path / "run"
    result = train(tiny_config(tmp_path / "data"), out=out, verbose=0)
    assert result.epochs_completed == 2
    for name in ("config.json", "last.keras", "best.keras", "history.csv", "training.json"):
        assert (out / name).is_file(), name
    assert any((out / "logs").rglob("*.v2")), "no TensorBoard events"
    assert set(result.history[0]) >= {"loss", "val_loss", "val_spectral_rmse_db", "kl"}
    model = keras.saving.load_model(out / "best.keras", safe_mode=True)
    y = np.zeros((2, 22050), np.float32)
    assert model.decode(model.encode(y, sample=False)[0]).shape == (2, 87, 32)
    # A second run into the same folder must not clobber the first.
    with pytest.raises(ConfigError, match="already holds a run"):
        train(tiny_config(tmp_path / "data"), out=out, verbose=0)
    # Resuming with another config is refused.
    with pytest.raises(ConfigError, match="differs"):
        train(tiny_config(tmp_path / "data", batch_size=2), out=out, resume=True, verbose=0)


def test_bad_model_class_leaves_no_run_folder(tmp_path):
    make_folder_dataset(tmp_path / "data", clips_per_label=3)
    config = tiny_config(tmp_path / "data")
    config["model"]["class"] = "NoSuchModel"
    with pytest.raises(ConfigError, match="unknown model class"):
        train(config, out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


def _epochs_in_history(path) -> list[int]:
    if not path.is_file():
        return []
    with open(path, newline="") as fh:
        return [int(float(row["epoch"])) for row in csv.DictReader(fh)]


@pytest.mark.slow
def test_resume_after_sigkill_mid_epoch(tmp_path):
    make_folder_dataset(tmp_path / "data", clips_per_label=20)
    config = tiny_config(tmp_path / "data", epochs=4, batch_size=2)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "keras_musiclatent.cli", "train", str(cfg), "--out", str(out)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.time() + 240
    try:
        while len(_epochs_in_history(out / "history.csv")) < 1:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            assert time.time() < deadline, "first epoch never finished"
            time.sleep(0.05)
        time.sleep(0.3)  # into the second epoch
        assert proc.poll() is None, "training finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    done_before = _epochs_in_history(out / "history.csv")
    assert 1 <= len(done_before) < 4
    resumed = subprocess.run(
        [*cmd, "--resume"], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    epochs = _epochs_in_history(out / "history.csv")
    assert epochs == [0, 1, 2, 3], epochs  # nothing retrained, nothing lost
    # Progress lines come first; the summary is the JSON object at the end.
    summary = json.loads(resumed.stdout[resumed.stdout.rindex("\n{") :])
    assert summary["epochs_completed"] == 4
    model = keras.saving.load_model(out / "last.keras", safe_mode=True)
    assert np.isfinite(model.encode(np.zeros((1, 22050), np.float32), sample=False)[0]).all()


def test_max_clips_keeps_every_label(tmp_path):
    from keras_musiclatent.train.datasets import tables

    for label in ("a", "b", "c", "d", "e"):
        (tmp_path / label).mkdir()
        for i in range(6):
            sf.write(tmp_path / label / f"{i}.wav", np.zeros(2205, np.float32), 22050)
    config = load_config({"data": {"dataset": "folder", "root": str(tmp_path), "max_clips": 6}})
    train, valid = tables(config)
    assert len(train) == 6 and sorted(set(train.labels)) == ["a", "b", "c", "d", "e"]
    assert len(valid) <= 6
