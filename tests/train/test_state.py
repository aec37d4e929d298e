"""Run-folder state: finished runs stay finished, kills at any point lose nothing, one writer,
damaged state files, and resumed runs that reproduce uninterrupted ones."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_musiclatent.train.loop import train
from tests.conftest import REPO_ROOT
from tests.train.test_loop import make_folder_dataset, tiny_config

# Runs ``train`` and, just before the ``nth`` os.replace into a file named ``target`` (the
# moment a file of that name would be completed), SIGKILLs itself or hangs there.
KILL_SCRIPT = """
import os, signal, sys, time
config, out, target, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
hang = sys.argv[5:] == ["hang"]
real_replace, seen = os.replace, [0]

def replace(src, dst, *args, **kwargs):
    if os.path.basename(os.fspath(dst)) == target:
        seen[0] += 1
        if seen[0] == nth:
            if hang:
                open(out + ".hanging", "w").close()
                time.sleep(600)
            os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace
from keras_musiclatent.train.loop import train
train(config, out=out, verbose=0)
"""

ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=str(REPO_ROOT))


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("state-data")
    make_folder_dataset(root, clips_per_label=4)
    return root


def history_epochs(out: Path) -> list[int]:
    with open(out / "history.csv", newline="") as fh:
        return [int(row["epoch"]) for row in csv.DictReader(fh)]


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    """Every file of a run folder but the lock and TensorBoard logs: content and mtime."""
    files = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel != ".lock" and not rel.startswith("logs/"):
            files[rel] = (path.read_bytes(), path.stat().st_mtime_ns)
    return files


def error_lines(stderr: str) -> list[str]:
    """The command's own error lines (TensorFlow's start-up banner aside)."""
    return [line for line in stderr.splitlines() if line.startswith("musiclatent:")]


def assert_consistent(out: Path, epochs: int) -> None:
    """History, counters and checkpoints agree; nothing temporary is left."""
    assert history_epochs(out) == list(range(epochs))
    assert json.loads((out / "training.json").read_text())["epochs_completed"] == epochs
    state = json.loads((out / "state.json").read_text())
    assert state["epochs_completed"] == epochs and len(state["history"]) == epochs
    leftovers = [
        p.name for p in [*out.iterdir(), *(out / "checkpoints").iterdir()] if p.name != ".lock"
    ]
    assert not [n for n in leftovers if n.startswith(".")], leftovers
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        f"epoch-{epochs:04d}.weights.h5"
    ]
    # last.keras holds the committed epoch's weights.
    model = keras.saving.load_model(out / "last.keras", safe_mode=True)
    last = [keras.ops.convert_to_numpy(w) for w in model.weights]
    model.load_weights(out / state["weights"])
    for a, b in zip(last, model.weights, strict=True):
        np.testing.assert_array_equal(a, keras.ops.convert_to_numpy(b))


# --- 1. a finished run stays finished ---------------------------------------------------------


def test_resuming_a_finished_run_changes_nothing(data, tmp_path, capsys):
    config = tiny_config(data, epochs=2)
    out = tmp_path / "run"
    first = train(config, out=out, verbose=0)
    before = snapshot(out)
    again = train(config, out=out, resume=True, verbose=1)
    assert snapshot(out) == before
    assert history_epochs(out) == [0, 1]
    assert "the run is complete (2 epochs" in capsys.readouterr().out
    assert first.finished and first.stop_reason == "epochs" and first.epochs_trained == 2
    assert again.finished and again.epochs_trained == 0 and again.epochs_completed == 2


# --- 2. a kill at any point of an epoch's commit loses nothing --------------------------------


def kill_during_run(config: dict, out: Path, tmp_path: Path, target: str, nth: int) -> None:
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(cfg), str(out), target, str(nth)],
        cwd=REPO_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


@pytest.mark.parametrize(
    "target",
    [
        # After the epoch's state is committed, before last.keras is in place (the window
        # where Keras's backup used to be ahead of history.csv and last.keras).
        pytest.param("last.keras", marks=pytest.mark.slow),
        pytest.param("state.json", marks=pytest.mark.slow),  # before the commit
        pytest.param("history.csv", marks=pytest.mark.slow),  # after it, before the history
        pytest.param("training.json", marks=pytest.mark.slow),  # before the counters
    ],
)
def test_kill_during_an_epoch_commit(data, tmp_path, target):
    config = tiny_config(data, epochs=3)
    out = tmp_path / "run"
    kill_during_run(config, out, tmp_path, target, nth=2)
    result = train(config, out=out, resume=True, verbose=0)
    assert_consistent(out, 3)
    assert result.finished and result.epochs_completed == 3


# --- 3. one process per run folder ---------------------------------------------------------------


def test_second_process_on_a_run_folder_is_refused(data, tmp_path):
    from keras_musiclatent.train.state import FolderInUseError, folder_lock

    config = tiny_config(data, epochs=1)
    out = tmp_path / "run"
    train(config, out=out, verbose=0)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    cmd = [sys.executable, "-m", "keras_musiclatent.cli", "train", str(cfg), "--out", str(out)]
    with folder_lock(out):
        with pytest.raises(FolderInUseError, match="in use by another process"):
            train(config, out=out, resume=True, verbose=0)
        done = subprocess.run(
            [*cmd, "--resume"], cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1
    assert len(error_lines(done.stderr)) == 1
    assert "in use by another process" in done.stderr.splitlines()[-1]
    assert history_epochs(out) == [0]


def train_config_json(config: dict) -> dict:
    from keras_musiclatent.train.config import load_config

    return json.loads(json.dumps(load_config(config), default=str))


@pytest.mark.slow
def test_kill_the_holder_then_resume(data, tmp_path):
    """A second process exits with one line while the first trains; kill -9 frees the folder."""
    config = tiny_config(data, epochs=3)
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / "run"
    # The first process stops just before committing its second epoch, holding the lock.
    holder = [sys.executable, "-c", KILL_SCRIPT, str(cfg), str(out), "state.json", "2", "hang"]
    with open(tmp_path / "first.log", "wb") as log:
        first = subprocess.Popen(holder, cwd=REPO_ROOT, env=ENV, stdout=log, stderr=log)
    try:
        deadline = time.time() + 240
        while not Path(f"{out}.hanging").is_file():
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-2000:]
            assert time.time() < deadline
            time.sleep(0.1)
        cmd = [sys.executable, "-m", "keras_musiclatent.cli", "train", str(cfg), "--out", str(out)]
        second = subprocess.run(
            [*cmd, "--resume"], cwd=REPO_ROOT, env=ENV, capture_output=True, text=True, timeout=120
        )
        assert second.returncode == 1, second.stderr[-2000:]
        assert len(error_lines(second.stderr)) == 1
        assert "in use by another process" in second.stderr.splitlines()[-1]
        assert first.poll() is None
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    result = train(config, out=out, resume=True, verbose=0)
    assert result.epochs_trained == 2
    assert_consistent(out, 3)


# --- 4. damaged state files ---------------------------------------------------------------------


def make_legacy_run(data: Path, tmp_path: Path, metadata: bytes, bkp: bytes | None) -> tuple:
    """A run folder as Keras BackupAndRestore left it, killed while writing its metadata."""
    config = tiny_config(data, epochs=3)
    out = tmp_path / "run"
    train(tiny_config(data, epochs=2), out=out, verbose=0)
    state = json.loads((out / "state.json").read_text())
    (out / "config.json").write_text(json.dumps(train_config_json(config)))
    backup = out / "backup"
    backup.mkdir()
    weights = (out / state["weights"]).read_bytes()
    (backup / "latest.weights.h5").write_bytes(weights)
    (backup / "latest.weights.h5.bkp").write_bytes(weights)
    (backup / "training_metadata.json").write_bytes(metadata)
    if bkp is not None:
        (backup / "training_metadata.json.bkp").write_bytes(bkp)
    for name in ("state.json", "training.json"):
        (out / name).unlink()
    for path in (out / "checkpoints").iterdir():
        path.unlink()
    return config, out


@pytest.mark.slow
def test_cut_keras_metadata_is_recovered_from_its_copy(data, tmp_path):
    config, out = make_legacy_run(data, tmp_path, b"", b'{"epoch": 2, "batch": 0}')
    result = train(config, out=out, resume=True, verbose=0)
    assert result.epochs_trained == 1 and result.epochs_completed == 3
    assert not (out / "backup").exists()
    assert_consistent(out, 3)


def test_damaged_state_names_the_file(data, tmp_path):
    from keras_musiclatent.train.state import DamagedStateError

    config, out = make_legacy_run(data, tmp_path, b'{"epo', b"")
    with pytest.raises(DamagedStateError, match=r"training_metadata\.json .*damaged"):
        train(config, out=out, resume=True, verbose=0)
    cut = tmp_path / "cut"
    train(tiny_config(data, epochs=1), out=cut, verbose=0)
    (cut / "state.json").write_text("")
    with pytest.raises(DamagedStateError, match=r"state\.json is damaged"):
        train(tiny_config(data, epochs=1), out=cut, resume=True, verbose=0)


# --- 5. a resumed run reproduces the uninterrupted one ------------------------------------------


class SimulatedCrashError(Exception):
    pass


def stop_in_epoch_two(self, epoch, logs=None):
    """Patched over ``TerminateOnNaN.on_epoch_end``: a crash at the end of the second epoch."""
    if epoch == 1:
        raise SimulatedCrashError


def test_resumed_run_reproduces_the_uninterrupted_one(data, tmp_path, monkeypatch):
    config = tiny_config(data, epochs=3)
    reference = train(config, out=tmp_path / "whole", verbose=0).history

    with monkeypatch.context() as patch:
        patch.setattr(keras.callbacks.TerminateOnNaN, "on_epoch_end", stop_in_epoch_two)
        with pytest.raises(SimulatedCrashError):
            train(config, out=tmp_path / "cut", verbose=0)
    np.random.seed(12345)  # a different global state must not matter
    resumed = train(config, out=tmp_path / "cut", resume=True, verbose=0).history
    assert [int(r["epoch"]) for r in resumed] == [0, 1, 2]
    for whole, cut in zip(reference, resumed, strict=True):
        assert set(whole) == set(cut)
        for key in whole:
            assert cut[key] == pytest.approx(whole[key], rel=1e-5, abs=1e-6), key


@pytest.mark.slow
@pytest.mark.parametrize("device_audio", [False, True])
def test_resumed_crop_run_with_an_extra_source_reproduces_the_uninterrupted_one(
    data, tmp_path, monkeypatch, device_audio
):
    make_folder_dataset(tmp_path / "music" / "album" / "disc1", clips_per_label=2, seconds=4.0)
    config = tiny_config(data, epochs=3)
    config["data"]["extra_sources"] = {
        "music": {"dataset": "unlabelled", "root": str(tmp_path / "music"), "weight": 2.0}
    }
    config["training"].update(
        sampling="crops",
        segments_per_epoch=12,
        augment={"gain_db": 6.0, "polarity": True},
        device_audio=device_audio,
    )
    whole = train(config, out=tmp_path / "whole", verbose=0)
    info = json.loads((tmp_path / "whole" / "training.json").read_text())
    assert info["sampling"] == "crops" and info["train_segments"] == 12
    assert info["train_clips"] > 4  # the folder's train split and the extra source's clips

    with monkeypatch.context() as patch:
        patch.setattr(keras.callbacks.TerminateOnNaN, "on_epoch_end", stop_in_epoch_two)
        with pytest.raises(SimulatedCrashError):
            train(config, out=tmp_path / "cut", verbose=0)
    resumed = train(config, out=tmp_path / "cut", resume=True, verbose=0).history
    assert [int(r["epoch"]) for r in resumed] == [0, 1, 2]
    for a, b in zip(whole.history, resumed, strict=True):
        for key in a:
            assert b[key] == pytest.approx(a[key], rel=1e-5, abs=1e-6), key
