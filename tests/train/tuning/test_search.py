"""tuning.search: a tiny search end to end, resuming, extending, and the other tuners."""

from __future__ import annotations

import csv
import json
import shutil

import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.loop import build_model, load_config
from keras_musiclatent.train.tuning.search import distributed_role, read_executions, run_search
from tests.train.tuning.conftest import tiny_search


def read_trials(out) -> list[dict]:
    with open(out / "trials.csv", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def tiny_run(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny-search") / "out"
    export = out.parent / "export"
    result = run_search(tiny_search(tiny_data), out=out, verbose=0, export=export)
    return result, out, export


def test_tiny_search_writes_its_results(tiny_run):
    result, out, export = tiny_run
    assert (result.role, result.trials, result.completed) == ("standalone", 2, 2)
    rows = read_trials(out)
    assert [r["status"] for r in rows] == ["COMPLETED", "COMPLETED"]
    assert all(float(r["val_spectral_rmse_db"]) > 0 and float(r["trial_seconds"]) > 0 for r in rows)
    assert {"learning_rate", "latent_dim", "linear_path"} <= set(rows[0])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["best_value"] == pytest.approx(result.best_value)
    assert summary["best_value"] == min(float(r["val_spectral_rmse_db"]) for r in rows)
    # best.json is training-config sections that build the winning model.
    best = json.loads((out / "best.json").read_text())
    config = load_config({**best, "data": {**best["data"], "root": "x"}})
    model = build_model({**config["model"], "segment_seconds": 1.0})
    assert model.latent_dim == summary["best_hyperparameters"]["latent_dim"]
    # The export holds the result files, not keras-tuner's state.
    assert sorted(p.name for p in export.iterdir()) == sorted(
        ["best.json", "summary.json", "trials.csv", "trials.md"]
    )
    assert [r["trial_id"] for r in read_executions(out)] == ["0", "1"]


def test_rerun_keeps_trials_and_max_trials_extends(tiny_run, tiny_data, tmp_path):
    _, done, _ = tiny_run
    out = tmp_path / "out"
    shutil.copytree(done, out)
    again = run_search(tiny_search(tiny_data), out=out, verbose=0)
    assert again.completed == 2 and len(read_executions(out)) == 2  # nothing ran again
    more = run_search(tiny_search(tiny_data), out=out, verbose=0, max_trials=3)
    assert more.completed == 3
    assert [r["trial_id"] for r in read_executions(out)] == ["0", "1", "2"]
    assert len(read_trials(out)) == 3


def test_another_definition_is_refused(tiny_run, tiny_data):
    _, out, _ = tiny_run
    changed = tiny_search(tiny_data, space={"latent_dim": [2, 8]})
    with pytest.raises(ConfigError, match=r"another definition \(space differ\)"):
        run_search(changed, out=out, verbose=0)


def test_distributed_role(monkeypatch):
    for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert distributed_role() == "standalone"
    monkeypatch.setenv("KERASTUNER_ORACLE_IP", "127.0.0.1")
    with pytest.raises(ConfigError, match="KERASTUNER_ORACLE_PORT"):
        distributed_role()
    monkeypatch.setenv("KERASTUNER_ORACLE_PORT", "8000")
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "chief")
    assert distributed_role() == "chief"
    monkeypatch.setenv("KERASTUNER_TUNER_ID", "tuner0")
    assert distributed_role() == "worker"


@pytest.mark.slow
def test_hyperband_continues_the_best_model(tiny_data, tmp_path):
    # max_epochs 2, factor 2: two 1-epoch trials, then the better one trains a second epoch.
    search = tiny_search(tiny_data, tuner="hyperband", epochs=2, hyperband_factor=2, max_trials=3)
    result = run_search(search, out=tmp_path / "out", verbose=0)
    assert result.completed == 3
    rows = {r["trial"]: r for r in read_trials(tmp_path / "out")}
    continued = rows["2"]
    assert continued["tuner/trial_id"] in ("0", "1")
    assert (continued["tuner/initial_epoch"], continued["tuner/epochs"]) == ("1", "2")
    assert continued["epochs_run"] == "1" and continued["best_epoch"] == "1"


@pytest.mark.slow
def test_bayesian_search_with_a_combined_objective(tiny_data, tmp_path):
    objective = {
        "name": "val_score",
        "combine": {"val_spectral_rmse_db": 1.0, "val_kl": 0.01},
    }
    search = tiny_search(
        tiny_data, tuner="bayesian", num_initial_points=1, max_trials=2, objective=objective
    )
    result = run_search(search, out=tmp_path / "out", verbose=0)
    assert result.completed == 2
    for row in read_trials(tmp_path / "out"):
        expected = float(row["val_spectral_rmse_db"]) + 0.01 * float(row["val_kl"])
        assert float(row["val_score"]) == pytest.approx(expected, rel=1e-4)
