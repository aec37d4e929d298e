"""Tiny searches for the tuning tests: a generated folder dataset and a tiny model."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.train.test_loop import TINY_MODEL, make_folder_dataset

#: Small enough to train an epoch in a second; each trial's cost is mostly graph tracing.
TINY_SPACE: dict[str, Any] = {
    "learning_rate": {"type": "float", "min": 1e-3, "max": 1e-2, "sampling": "log"},
    "latent_dim": [2, 4],
    "linear_path": {"type": "boolean"},
}


def tiny_search(root: Path, **search: Any) -> dict[str, Any]:
    """A search definition over the tiny model on the folder dataset at ``root``."""
    return {
        "data": {"dataset": "folder", "root": str(root), "split_seed": 0, "segment_seconds": 1.0},
        "model": dict(TINY_MODEL),
        "training": {"batch_size": 4},
        "search": {
            "name": "tiny",
            "tuner": "random",
            "max_trials": 2,
            "epochs": 1,
            "space": TINY_SPACE,
            **search,
        },
    }


def write_search(path: Path, root: Path, **search: Any) -> Path:
    path.write_text(json.dumps(tiny_search(root, **search)))
    return path


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny-folder-data")
    make_folder_dataset(root, clips_per_label=4)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tune_command(search: Path, out: Path, *extra: str) -> list[str]:
    cli = [sys.executable, "-m", "keras_musiclatent.cli", "tune", str(search), "--out", str(out)]
    return [*cli, *extra]


def start(cmd: list[str], log: Path, **env: str) -> subprocess.Popen:
    """Start ``cmd`` from the repository root, output to ``log`` (never a pipe: a full pipe
    would block the child)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    environment.update(TF_CPP_MIN_LOG_LEVEL="3", **env)
    with open(log, "wb") as fh:
        return subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=environment, stdout=fh, stderr=subprocess.STDOUT
        )


def stop(processes: list[subprocess.Popen]) -> None:
    """Kill whatever of ``processes`` still runs and reap them."""
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    for proc in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)


def wait_all(processes: list[subprocess.Popen], *, deadline: float) -> None:
    """Wait for every process; fail (the caller kills them) once ``deadline`` passes."""
    while any(p.poll() is None for p in processes):
        if time.time() > deadline:
            pytest.fail("processes still running at the deadline")
        time.sleep(0.5)
