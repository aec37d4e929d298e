"""Smoke runs of benchmarks/log_mel.py and benchmarks/inversion.py (benchmarks, not timed tests)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


def run_benchmark(name: str, *args: str) -> subprocess.CompletedProcess:
    script = REPO_ROOT / "benchmarks" / name
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_log_mel_smoke():
    proc = run_benchmark("log_mel.py", "--batch-size", "2", "--repeats", "1", "--single-thread")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for line in ("ratio eager ours/librosa", "ratio compiled ours/librosa", "load average after"):
        assert line in out
    # The two paths must compute the same features, or the timing compares different work.
    diffs = [float(x) for x in re.findall(r"within 80 dB of the peak: (\S+) dB", out)]
    assert len(diffs) == 2 and max(diffs) < 0.05, out


def test_inversion_smoke():
    proc = run_benchmark(
        "inversion.py",
        "--synthetic",
        "--clips",
        "2",
        "--repeats",
        "1",
        "--n-iter",
        "4",
        "--librosa-clips",
        "0",
        "--nnls-clips",
        "1",
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    for line in (
        "ours (logmel_to_audio)",
        "ratio pinv + librosa GL:",
        "ratio per-frame NNLS + librosa GL:",
        "clips: synthetic",
    ):
        assert line in out, out
    assert "librosa mel_to_audio" not in out  # skipped with --librosa-clips 0
    rmse = re.search(r"ours \(logmel_to_audio\)\s+2\s+\S+\s+(\S+)", out)
    assert rmse and 0.0 < float(rmse.group(1)) < 10.0, out
