"""The musiclatent command line: help, info, and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import soundfile as sf

from tests.conftest import REPO_ROOT, tone


def run_cli(*args: str, cwd=None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("MUSICLATENT_DEBUG", None)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the CLI must quiet TensorFlow by itself
    return subprocess.run(
        [sys.executable, "-m", "keras_musiclatent.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO_ROOT,
        env=env,
        timeout=300,
    )


def test_help():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "info" in result.stdout and "demo" in result.stdout


def test_no_command_prints_help_and_fails():
    result = run_cli()
    assert result.returncode == 2
    assert "usage" in result.stdout


def test_info(tmp_path):
    sf.write(tmp_path / "a.wav", tone(7.0, sr=44100), 44100)
    sf.write(tmp_path / "b.flac", np.zeros((22050 * 2, 2), np.float32), 22050)
    result = run_cli("info", str(tmp_path / "a.wav"), str(tmp_path / "b.flac"), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["segments"] for r in rows] == [3, 1]
    assert rows[0]["sample_rate"] == 44100 and rows[1]["channels"] == 2
    text = run_cli("info", str(tmp_path / "a.wav"))
    assert "7.00 s, 44100 Hz, 1 ch" in text.stdout


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.wav", "no such file"),
        (lambda p: p, "is a directory"),
        (lambda p: (p / "text.wav").write_text("hello") and p / "text.wav", "not a readable"),
    ],
    ids=["missing", "directory", "not-audio"],
)
def test_info_errors_are_one_line(tmp_path, make, message):
    target = make(tmp_path)
    result = run_cli("info", str(target))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("musiclatent: error:") and message in lines[0]
    assert "Traceback" not in result.stderr


def test_usage_error_is_one_line():
    result = run_cli("info")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1


def _quiet_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("MUSICLATENT_DEBUG", None)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    return {**env, **extra}


def test_no_backend_logs_unless_asked(tmp_path):
    # TensorFlow's absl/oneDNN banners went to stderr on every call. ``encode`` loads the
    # backend (``zoo list`` no longer does), so it is the command to watch.
    missing = str(tmp_path / "no-such.wav")
    quiet = run_cli("encode", missing, "--out", str(tmp_path / "out"))
    assert quiet.returncode == 1 and quiet.stderr.count("\n") == 1, quiet.stderr
    assert "no-such.wav" in quiet.stderr
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the start-up banners checked below are TensorFlow's")
    loud = run_cli("--verbose", "encode", missing, "--out", str(tmp_path / "out"))
    assert loud.stderr.count("\n") > 1, "--verbose hid the backend's logs"
    debug = subprocess.run(
        [sys.executable, "-m", "keras_musiclatent.cli", "encode", missing, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=_quiet_env(MUSICLATENT_DEBUG="1"),
        timeout=300,
    )
    assert "oneDNN" in debug.stderr or "absl" in debug.stderr


def test_console_script_is_quiet_too():
    script = shutil.which("musiclatent")
    if script is None:
        pytest.skip("the musiclatent console script is not installed")
    result = subprocess.run(
        [script, "zoo", "list"], capture_output=True, text=True, env=_quiet_env(), timeout=300
    )
    assert result.returncode == 0 and result.stderr == ""


def test_the_command_table_matches_the_modules():
    import importlib

    from keras_musiclatent.cli.main import COMMAND_MODULES

    for module_name, commands in COMMAND_MODULES.items():
        assert tuple(importlib.import_module(module_name).COMMANDS) == commands, module_name


@pytest.mark.parametrize("argv", [["info", "--help"], ["zoo", "list"]])
def test_light_commands_do_not_load_keras(argv):
    code = (
        "import sys\n"
        "from keras_musiclatent.cli import main\n"
        f"status = main({argv!r})\n"
        "assert 'keras' not in sys.modules, 'keras was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
