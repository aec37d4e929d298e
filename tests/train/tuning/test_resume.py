"""A search killed with SIGKILL mid-trial goes on: completed trials are kept, not rerun."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import time

import pytest

from keras_musiclatent.train.tuning.search import read_executions
from tests.conftest import REPO_ROOT
from tests.train.tuning.conftest import start, stop, tune_command, write_search

TRIALS = 3


@pytest.mark.slow
def test_resume_after_sigkill_mid_search(tiny_data, tmp_path):
    search = write_search(tmp_path / "search.json", tiny_data, max_trials=TRIALS, epochs=2)
    out = tmp_path / "out"
    cmd = tune_command(search, out)
    proc = start(cmd, tmp_path / "first.log")
    deadline = time.time() + 300
    try:
        while not read_executions(out):
            assert proc.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.time() < deadline, "the first trial never finished"
            time.sleep(0.2)
        # The next trial is created (its trial.json written) before it trains; tracing its
        # graphs alone takes seconds, so a kill now lands inside it.
        while not (out / "keras_tuner" / "trial_1" / "trial.json").is_file():
            assert time.time() < deadline, "the second trial never started"
            time.sleep(0.1)
        time.sleep(1.0)
        assert proc.poll() is None, "the search finished before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        stop([proc])
    first = {r["trial_id"] for r in read_executions(out)}
    assert 1 <= len(first) < TRIALS, first

    resumed = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=400)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    runs = read_executions(out)
    ids = [r["trial_id"] for r in runs]
    assert sorted(ids) == [str(i) for i in range(TRIALS)], ids  # each trial ran exactly once
    second = {r["trial_id"] for r in runs} - first
    assert "1" in second  # the killed trial ran again, from its start
    assert {r["pid"] for r in runs if r["trial_id"] in first} == {proc.pid}
    with open(out / "trials.csv", newline="") as fh:
        assert [r["status"] for r in csv.DictReader(fh)] == ["COMPLETED"] * TRIALS
    summary = json.loads(resumed.stdout[resumed.stdout.rindex("\n{") :])
    assert summary["completed"] == TRIALS
