"""training.distribute: option checks, MirroredStrategy (TF) and DataParallel (JAX) runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.loop import load_config, train
from tests.conftest import REPO_ROOT
from tests.train.test_loop import make_folder_dataset, tiny_config

# Two replicas on one CPU: logical CPU devices (TensorFlow) or host devices (JAX), set up
# before the backend starts, in a fresh process.
SCRIPT = """
import json, sys
if sys.argv[3] == "tensorflow":
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import keras
from keras_musiclatent.train.loop import train
result = train(sys.argv[1], out=sys.argv[2], verbose=0)
print(json.dumps({"history": result.history}))
"""


def test_distribute_option_is_checked(tmp_path):
    with pytest.raises(ConfigError, match=r"training\.distribute must be"):
        load_config({"data": {"root": "x"}, "training": {"distribute": "tpu"}})
    make_folder_dataset(tmp_path / "data", clips_per_label=2)
    other = "data_parallel" if keras.backend.backend() != "jax" else "mirrored"
    config = tiny_config(tmp_path / "data", distribute=other)
    with pytest.raises(ConfigError, match=r"needs the .* backend"):
        train(config, out=tmp_path / "run", verbose=0)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "distribute"), [("tensorflow", "mirrored"), ("jax", "data_parallel")]
)
def test_two_replicas(tmp_path, backend, distribute):
    pytest.importorskip(backend)
    make_folder_dataset(tmp_path / "data", clips_per_label=4)
    config = tiny_config(tmp_path / "data", epochs=1, distribute=distribute)
    config["training"]["reconstruction_examples"] = 1
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / "run"
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        XLA_FLAGS="--xla_force_host_platform_device_count=2",
        PYTHONPATH=str(REPO_ROOT),
    )
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(cfg), str(out), backend],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    history = json.loads(proc.stdout.strip().splitlines()[-1])["history"]
    assert len(history) == 1
    row = history[0]
    # The logged loss is the batch loss (not summed over replicas): reconstruction + β·KL.
    assert row["loss"] == pytest.approx(row["reconstruction_loss"], rel=0.05)
    model = keras.saving.load_model(out / "last.keras", safe_mode=True)
    assert model.latent_dim == 4


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_multi_worker_on_two_local_processes(tmp_path):
    """MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 train one model."""
    pytest.importorskip("tensorflow")
    make_folder_dataset(tmp_path / "data", clips_per_label=4)
    config = tiny_config(tmp_path / "data", epochs=2, distribute="multi_worker")
    config["training"]["reconstruction_examples"] = 1
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    workers = [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]
    procs = []
    try:
        for index in range(2):
            tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            env = dict(
                os.environ,
                KERAS_BACKEND="tensorflow",
                TF_CPP_MIN_LOG_LEVEL="3",
                TF_CONFIG=json.dumps(tf_config),
                PYTHONPATH=str(REPO_ROOT),
            )
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "keras_musiclatent.cli",
                        "train",
                        str(cfg),
                        "--out",
                        str(tmp_path / "run"),
                    ],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        outputs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, (_out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    # Keras prints epoch lines before the command's JSON summary.
    summaries = [json.loads(out[out.index("{\n") :]) for out, _ in outputs]
    # The chief writes the run folder; the other worker keeps its own checkpoints beside it.
    assert summaries[0]["out"] == str(tmp_path / "run")
    assert summaries[1]["out"] == str(tmp_path / "run.worker-1")
    assert summaries[0]["epochs_completed"] == summaries[1]["epochs_completed"] == 2
    # Gradients are all-reduced: both workers end with the same trainable weights (batch-norm
    # moving statistics stay local to each worker's data).
    a = keras.saving.load_model(tmp_path / "run" / "last.keras", safe_mode=True)
    b = keras.saving.load_model(tmp_path / "run.worker-1" / "last.keras", safe_mode=True)
    for wa, wb in zip(a.trainable_weights, b.trainable_weights, strict=True):
        np.testing.assert_allclose(wa.numpy(), wb.numpy(), rtol=1e-4, atol=1e-6)


def test_multi_worker_needs_tf_config(tmp_path, monkeypatch):
    pytest.importorskip("tensorflow")
    if keras.backend.backend() != "tensorflow":
        pytest.skip("multi_worker runs on the TensorFlow backend")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    make_folder_dataset(tmp_path / "data", clips_per_label=2)
    with pytest.raises(ConfigError, match="TF_CONFIG"):
        train(tiny_config(tmp_path / "data", distribute="multi_worker"), out=tmp_path / "r")
