"""`musiclatent tune`: a light command module, its arguments and one-line errors."""

from __future__ import annotations

import subprocess
import sys

from keras_musiclatent.cli.main import build_parser, main
from tests.conftest import REPO_ROOT


def test_command_module_imports_nothing_heavy():
    code = (
        "import sys, keras_musiclatent.cli.tune as c, keras_musiclatent.train.tuning as t\n"
        "heavy = {'keras', 'keras_tuner', 'tensorflow', 'jax', 'torch'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "assert c.HELP and callable(c.configure) and callable(c.run)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr


def test_cli_parses_tune():
    args = build_parser().parse_args(
        ["tune", "gtzan-vae", "--out", "runs/t", "--max-trials", "12", "--seed", "3"]
    )
    assert (args.command, args.search, args.max_trials, args.seed) == ("tune", "gtzan-vae", 12, 3)
    assert str(args.out) == "runs/t" and args.export is None


def test_errors_print_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    assert main(["tune", "no-such-search", "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such search file" in err and "gtzan-vae" in err
    assert main(["tune", "gtzan-vae", "--out", str(tmp_path / "o"), "--max-trials", "0"]) == 1
    assert "--max-trials must be >= 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
