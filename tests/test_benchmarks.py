"""Smoke run of benchmarks/train_throughput.py (a benchmark, not a timed test)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_train_throughput_smoke():
    script = REPO_ROOT / "benchmarks" / "train_throughput.py"
    cmd = [sys.executable, str(script), "--tiny", "--steps", "1", "--repeats", "1"]
    cmd += ["--batch-size", "4", "--encode-batches", "1"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ratio encode ours/baseline:" in proc.stdout
    assert "load average" in proc.stdout


@pytest.mark.slow
def test_encode_zoo_smoke(tiny_space_dir):
    script = REPO_ROOT / "benchmarks" / "encode_zoo.py"
    cmd = [sys.executable, str(script), "--model", str(tiny_space_dir), "--batch-size", "4"]
    cmd += ["--repeats", "1", "--long-minutes", "0.2"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ratio encode ours/baseline:" in proc.stdout
    assert "12 segments" in proc.stdout  # 0.2 min of 1-s segments
    assert "ratio memory added/decoded size:" in proc.stdout


@pytest.mark.slow
def test_train_pipelines_smoke(tmp_path):
    script = REPO_ROOT / "benchmarks" / "train_throughput.py"
    out = tmp_path / "pipelines.json"
    cmd = [sys.executable, str(script), "--pipelines", "--tiny", "--steps", "2", "--repeats", "1"]
    cmd += ["--batch-size", "4", "--json", str(out)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.run(
        cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "ratio fit segments/s new/old:" in proc.stdout
    report = json.loads(out.read_text())
    for path in ("old", "new", "new_on_device"):
        assert report[path]["fit_segments_per_s"] > 0
    assert report["gpu"]["measured"] is False and report["gpu"]["reason"]
