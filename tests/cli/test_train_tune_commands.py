"""The README's ``train`` and ``tune`` commands, run from a folder away from the checkout.

The commands are read from the README's Training and Tuning sections, pointed with ``--data``
at generated clips (a folder dataset), and shrunk with ``--set`` to a model that trains in
seconds. The recipe and the search resolve by name from what ships with the package.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from keras_musiclatent import audio
from keras_musiclatent.cli.main import main
from keras_musiclatent.data.synthetic import demo_clip
from keras_musiclatent.train.config import (
    apply_settings,
    default_cache_dir,
    parse_setting,
    resolve_cache_dir,
    resolve_recipe,
)
from keras_musiclatent.train.tuning.config import resolve_search
from tests.conftest import REPO_ROOT

#: A folder dataset instead of GTZAN's split file, and a model small enough for seconds.
TINY = [
    "data.dataset=folder",
    "data.extra_train_splits=[]",
    "data.segment_seconds=1.0",
    "model.n_fft=512",
    "model.hop_length=256",
    "model.n_mels=32",
    "model.conv_filters=[4, 8]",
    "model.pool_sizes=[[2, 2], [2, 4]]",
    "model.rnn_units=8",
    "model.hidden_dim=16",
    "model.latent_dim=4",
    "training.batch_size=4",
]
TRAIN_TINY = [
    *TINY,
    "training.epochs=1",
    "training.segments_per_epoch=16",
    "model.linear_path_dims=null",  # the recipe gives PCA 16 of 64 dims; these have 4
    "training.reconstruction_examples=1",
]
TUNE_TINY = [
    *TINY,
    "data.max_clips=null",
    "search.tuner=random",
    "search.epochs=1",
    "search.space={latent_dim: [2, 4]}",
]


def readme_command(section: str, prefix: str) -> list[str]:
    """The first command of README section ``section`` that starts with ``prefix``."""
    text = (REPO_ROOT / "README.md").read_text()
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    for line in body.splitlines():
        if line.startswith(prefix):
            return shlex.split(line.split("#", 1)[0])
    raise AssertionError(f"README section {section!r} has no command starting {prefix!r}")


def with_settings(words: list[str], settings: list[str]) -> list[str]:
    return [*words, *(w for s in settings for w in ("--set", s))]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """``<root>/<genre>/*.wav``: generated pop-like clips at a few tempi and seeds."""
    root = tmp_path_factory.mktemp("clips")
    for genre, tempi in (("pop", (96.0, 104.0, 112.0)), ("disco", (120.0, 128.0, 136.0))):
        for i, tempo in enumerate(tempi):
            y = demo_clip(seconds=2.0, tempo=tempo, seed=i)
            audio.save(root / genre / f"{genre}{i}.wav", y)
    return root


def run_cli(words: list[str], cwd: Path, data: Path, cache: Path) -> subprocess.CompletedProcess:
    assert words[0] == "musiclatent"
    # The generated clips stand in for GTZAN and for a folder of unlabelled music.
    words = [
        w.replace("path/to/gtzan", str(data)).replace("path/to/music", str(data)) for w in words
    ]
    env = {**os.environ, "XDG_CACHE_HOME": str(cache), "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("PYTHONPATH", None)  # nothing but the installed package
    return subprocess.run(
        [sys.executable, "-m", "keras_musiclatent.cli", *words[1:]],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_readme_train_and_tune_commands_run_anywhere(clips, tmp_path):
    work = tmp_path / "elsewhere"
    work.mkdir()
    cache = tmp_path / "user-cache"

    train = readme_command("Training", "musiclatent train gtzan-vae")
    assert "--data" in train and "path/to/gtzan" in train
    done = run_cli(with_settings(train, TRAIN_TINY), work, clips, cache)
    assert done.returncode == 0, done.stderr[-3000:]
    run = work / train[train.index("--out") + 1]
    assert (run / "best.keras").is_file() and (run / "last.keras").is_file()
    saved = json.loads((run / "config.json").read_text())
    assert saved["data"]["root"] == str(clips) and saved["model"]["latent_dim"] == 4
    # Decoded audio went to the per-user cache, nowhere near the checkout or the run.
    assert list((cache / "musiclatent" / "audio").glob("*.npy"))

    tune = readme_command("Tuning", "musiclatent tune gtzan-vae")
    assert "--data" in tune and "path/to/gtzan" in tune
    done = run_cli([*with_settings(tune, TUNE_TINY), "--max-trials", "1"], work, clips, cache)
    assert done.returncode == 0, done.stderr[-3000:]
    out = work / tune[tune.index("--out") + 1]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["search"] == "gtzan-vae" and summary["data"]["root"] == str(clips)
    assert (out / "best.json").is_file() and (out / "trials.csv").is_file()


def test_missing_data_is_one_line_and_leaves_nothing(tmp_path, capsys):
    missing = tmp_path / "no-such-data"
    out = tmp_path / "search"
    assert main(["tune", "gtzan-vae", "--data", str(missing), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(missing) in err and "split.csv" in err
    assert not out.exists()

    run = tmp_path / "run"
    assert main(["train", "gtzan-vae", "--data", str(tmp_path), "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--set data.extra_sources.unlabelled.root=DIR" in err
    music = ["--set", f"data.extra_sources.unlabelled.root={tmp_path}"]
    assert main(["train", "gtzan-vae", "--data", str(missing), *music, "--out", str(run)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--data DIR" in err and not run.exists()

    assert main(["train", "gtzan-vae", *music, "--out", str(run)]) == 1
    assert "data.root is required (pass --data DIR" in capsys.readouterr().err


def test_empty_dataset_fails_before_the_tuner_starts(tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "pop").mkdir(parents=True)
    out = tmp_path / "search"
    argv = ["tune", "gtzan-vae", "--data", str(empty), "--out", str(out)]
    assert main([*argv, "--set", "data.dataset=folder"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no audio files" in err and not out.exists()


def test_bad_settings_are_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    for setting, message in (
        ("training.epochs", "expected KEY=VALUE"),
        ("training.epochs=[1", "not YAML"),
        ("training.nope=1", "unknown config key training.nope"),
        ("data.root.x=1", "not a section"),
    ):
        argv = ["train", "gtzan-vae", "--data", str(tmp_path), "--out", str(out)]
        assert main([*argv, "--set", setting]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, (setting, err)
    assert not out.exists()


def test_settings_and_names():
    assert parse_setting("model.pool_sizes=[[2, 2]]") == (("model", "pool_sizes"), [[2, 2]])
    assert parse_setting("data.cache_dir=") == (("data", "cache_dir"), None)
    raw = {"data": {"root": None}, "search": {"space": {"a": [1]}}}
    out = apply_settings(raw, ["search.space={b: [2]}", "training.epochs=2"], data="x")
    assert out["search"]["space"] == {"b": [2]} and out["training"] == {"epochs": 2}
    assert Path(out["data"]["root"]).is_absolute() and raw["data"]["root"] is None
    assert resolve_recipe("gtzan-ae").name == "gtzan-ae.yaml"
    assert resolve_search("gtzan-vae").name == "gtzan-vae.yaml"
    assert resolve_cache_dir(None) == default_cache_dir() and resolve_cache_dir(False) is None


def test_no_file_names_our_machines():
    """Recipes, searches and the README's Training and Tuning commands point nowhere local."""
    files = [*(REPO_ROOT / "zoo" / "recipes").glob("*.yaml")]
    files += [*(REPO_ROOT / "tuning" / "searches").glob("*.yaml")]
    for path in files:
        text = path.read_text()
        assert "../shared" not in text and "runs/cache" not in text, path
        assert re.search(r"^\s*root:", text, re.M) is None, path
    readme = (REPO_ROOT / "README.md").read_text()
    for section in ("Training", "Tuning"):
        body = readme.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
        assert "../shared" not in body and "runs/cache" not in body, section


def test_a_model_argument_every_trial_would_refuse_is_one_line(clips, tmp_path, capsys):
    out = tmp_path / "search"
    argv = ["tune", "gtzan-vae", "--data", str(clips), "--out", str(out)]
    settings = ["data.dataset=folder", "data.extra_train_splits=[]", "model.nonsense=1"]
    assert main(with_settings(argv, settings)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not take nonsense" in err and not out.exists()
