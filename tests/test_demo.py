"""The README's main job: `musiclatent demo` on the built-in clip."""

from __future__ import annotations

import json

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent.demo import demo_clip
from keras_musiclatent.demo_job import run_demo


def test_demo_clip_is_deterministic_music():
    a, b = demo_clip(seed=3), demo_clip(seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (132300,) and a.dtype == np.float32
    assert 0.5 < np.abs(a).max() <= 0.8 + 1e-6
    assert not np.array_equal(a, demo_clip(seed=4))  # the drums' noise follows the seed


def test_run_demo_writes_every_file(tmp_path):
    summary = run_demo(out=tmp_path / "demo", seed=0)
    files = sorted(p.name for p in (tmp_path / "demo").iterdir())
    assert files == summary["files"]
    assert json.loads((tmp_path / "demo" / "summary.json").read_text()) == summary
    latent = np.load(tmp_path / "demo" / "latent.npz")
    assert latent["mean"].shape == (2, summary["latent_dim"])
    assert np.isfinite(latent["z"]).all()
    logmel = np.load(tmp_path / "demo" / "logmel.npz")
    assert logmel["input"].shape == logmel["decoded"].shape == (2, 130, 128)
    heard = audio.load(tmp_path / "demo" / "reconstruction.wav")
    assert len(heard) == 132300
