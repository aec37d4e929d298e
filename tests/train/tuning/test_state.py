"""Search folders: one process per folder, and keras-tuner state files cut by a kill."""

from __future__ import annotations

import csv
import json
import shutil
import signal
import subprocess
import sys

import pytest

from keras_musiclatent.train.state import DamagedStateError, FolderInUseError, folder_lock
from keras_musiclatent.train.tuning.search import read_executions, run_search
from tests.conftest import REPO_ROOT
from tests.train.tuning.conftest import tiny_search, tune_command, write_search

# Runs ``musiclatent tune`` and SIGKILLs itself just before the ``nth`` os.replace into a file
# named ``target``.
KILL_SCRIPT = """
import os, signal, sys
target, nth = sys.argv[1], int(sys.argv[2])
real_replace, seen = os.replace, [0]

def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.fspath(dst)) == target:
        seen[0] += 1
        if seen[0] == nth:
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace
from keras_musiclatent.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def statuses(out) -> list[str]:
    with open(out / "trials.csv", newline="") as fh:
        return [row["status"] for row in csv.DictReader(fh)]


def test_second_search_on_a_folder_is_refused(tiny_data, tmp_path, monkeypatch):
    out = tmp_path / "out"
    with folder_lock(out), pytest.raises(FolderInUseError, match="in use by another process"):
        run_search(tiny_search(tiny_data), out=out, verbose=0)
    assert not (out / "keras_tuner").exists()
    # A distributed worker locks its own id only; the chief's lock does not stop it.
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "1")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "worker0")
    with folder_lock(out, name=".lock-worker0"), pytest.raises(FolderInUseError):
        run_search(tiny_search(tiny_data), out=out, verbose=0)


@pytest.mark.slow
def test_cut_state_files(tiny_data, tmp_path):
    """A cut trial.json of the running trial: the trial runs again; a cut oracle.json or a cut
    file of a finished trial: one error naming the file."""
    search = tiny_search(tiny_data, max_trials=1)
    done = tmp_path / "done"
    assert run_search(search, out=done, verbose=0).completed == 1

    # As a kill in the middle of the trial's last write under keras-tuner's own writer left it.
    cut = tmp_path / "cut"
    shutil.copytree(done, cut)
    oracle_path = cut / "keras_tuner" / "oracle.json"
    oracle = json.loads(oracle_path.read_text())
    oracle["end_order"].remove("0")
    oracle["ongoing_trials"] = {"tuner0": "0"}
    oracle_path.write_text(json.dumps(oracle))
    (cut / "keras_tuner" / "trial_0" / "trial.json").write_text("")
    result = run_search(search, out=cut, verbose=0)
    assert result.completed == 1 and statuses(cut) == ["COMPLETED"]
    assert [r["trial_id"] for r in read_executions(cut)] == ["0", "0"]  # it ran again

    finished = tmp_path / "finished"
    shutil.copytree(done, finished)
    (finished / "keras_tuner" / "trial_0" / "trial.json").write_text('{"trial_')
    with pytest.raises(DamagedStateError, match=r"trial_0/trial\.json is damaged"):
        run_search(search, out=finished, verbose=0)

    (done / "keras_tuner" / "oracle.json").write_text("")
    with pytest.raises(DamagedStateError, match=r"oracle\.json is damaged"):
        run_search(search, out=done, verbose=0)


@pytest.mark.slow
@pytest.mark.parametrize("target", ["trial.json", "oracle.json"])
def test_kill_while_writing_search_state(tiny_data, tmp_path, target):
    search = write_search(tmp_path / "search.json", tiny_data, max_trials=2)
    out = tmp_path / "out"
    cmd = tune_command(search, out)[3:]  # the arguments after "-m keras_musiclatent.cli"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, target, "3", *cmd],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    resumed = subprocess.run(
        tune_command(search, out), cwd=REPO_ROOT, capture_output=True, text=True, timeout=400
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert statuses(out) == ["COMPLETED", "COMPLETED"]
    assert not list(out.rglob(".*.part"))


def test_execution_log_cut_by_a_kill(tmp_path):
    log = tmp_path / "keras_tuner" / "executions.jsonl"
    log.parent.mkdir()
    log.write_text('{"trial_id": "0"}\n{"trial_id": "1", "tun\n{"trial_id": "2"}\n')
    with pytest.warns(UserWarning, match=r"executions\.jsonl: line 2 is cut"):
        assert read_executions(tmp_path) == [{"trial_id": "0"}, {"trial_id": "2"}]
