"""The tiny models train, save and reload on TensorFlow, JAX and PyTorch (one process each)."""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT

BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def run_backend(backend: str, checks: str) -> dict:
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        pytest.skip(f"the {backend} backend is not installed ({BACKEND_MODULES[backend]})")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.models.backend_check", checks],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT ") :])


def check_reload(entry: dict) -> None:
    assert entry["decode_shape"] == [16, 44, 32]
    assert entry["reload_encode_max_diff"] < 1e-5
    assert entry["reload_decode_max_diff"] < 1e-4


@pytest.mark.parametrize(
    "backend",
    [
        # The in-process tests already train on TensorFlow; its subprocess run is a duplicate.
        pytest.param("tensorflow", marks=pytest.mark.slow),
        "jax",
        # One other backend in the main run keeps it short; PyTorch runs with the slow tests.
        pytest.param("torch", marks=pytest.mark.slow),
    ],
)
def test_fit_save_load_on_backend(backend: str) -> None:
    result = run_backend(backend, "vae,autoencoder")
    assert result["backend"] == backend
    vae = result["vae"]
    for key in ("loss", "reconstruction_loss", "kl", "spectral_rmse_db"):
        assert all(math.isfinite(v) for v in vae[key]), key
    assert min(vae["reconstruction_loss"][-3:]) < vae["reconstruction_loss"][0]
    assert vae["spectral_rmse_db"][-1] < vae["spectral_rmse_db"][0]
    # 10 epochs x 2 batches: the warm-up counter is state that advances under jit too.
    assert vae["kl_step"] == 20.0
    assert set(result["autoencoder"]) >= {"loss", "reconstruction_loss", "spectral_rmse_db"}
    check_reload(vae)
    check_reload(result["autoencoder"])


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_attention_model_on_backend(backend: str) -> None:
    entry = run_backend(backend, "vae_attention")["vae_attention"]
    assert all(math.isfinite(v) for v in entry["loss"])
    assert entry["kl_step"] == 2.0
    check_reload(entry)
