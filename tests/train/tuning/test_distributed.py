"""A distributed search: keras-tuner's chief and two workers as processes on 127.0.0.1."""

from __future__ import annotations

import csv
import json
import time

import pytest

from keras_musiclatent.train.tuning.search import read_executions
from tests.train.tuning.conftest import free_port, start, stop, tune_command, wait_all, write_search

TRIALS = 4


@pytest.mark.slow
def test_chief_and_two_workers_share_the_trials(tiny_data, tmp_path):
    search = write_search(tmp_path / "search.json", tiny_data, max_trials=TRIALS)
    out = tmp_path / "out"
    env = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(free_port())}
    roles = ("chief", "tuner0", "tuner1")
    processes = []
    try:
        for role in roles:
            log = tmp_path / f"{role}.log"
            processes.append(start(tune_command(search, out), log, KERASTUNER_TUNER_ID=role, **env))
        # The chief leaves up to 20 s after the last worker (keras-tuner polls that slowly).
        wait_all(processes, deadline=time.time() + 540)
    finally:
        stop(processes)
    for role, proc in zip(roles, processes, strict=True):
        assert proc.returncode == 0, (tmp_path / f"{role}.log").read_text()[-3000:]

    runs = read_executions(out)
    ids = [r["trial_id"] for r in runs]
    assert sorted(ids) == sorted(set(ids)), f"a trial ran twice: {ids}"
    assert len(ids) == TRIALS
    assert {r["tuner_id"] for r in runs} <= {"tuner0", "tuner1"}  # the chief trains nothing

    # Every result reached the chief: its tables hold each trial with the worker's value.
    with open(out / "trials.csv", newline="") as fh:
        rows = {r["trial"]: r for r in csv.DictReader(fh)}
    assert set(rows) == set(ids)
    for run in runs:
        row = rows[run["trial_id"]]
        assert row["status"] == "COMPLETED"
        assert float(row["val_spectral_rmse_db"]) == pytest.approx(run["objective"], rel=1e-5)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["completed"] == TRIALS
    log = (tmp_path / "chief.log").read_text()
    chief_says = json.loads(log[log.rindex("\n{") :])
    assert chief_says["role"] == "chief" and chief_says["completed"] == TRIALS
