"""tuning.results: trials tables, best.json and summary.json from plain trial records."""

from __future__ import annotations

import csv
import json

from keras_musiclatent.train.tuning.results import (
    RESULT_FILES,
    markdown_table,
    ranked,
    write_results,
)

RECORDS = [
    {
        "trial": "0",
        "status": "COMPLETED",
        "score": 9.5,
        "hyperparameters": {"latent_dim": 16, "encoder": "crnn"},
        "metrics": {"trial_seconds": 30.0, "epochs_run": 3.0, "val_kl": 2.0},
    },
    {
        "trial": "1",
        "status": "FAILED",
        "score": None,
        "hyperparameters": {"latent_dim": 64, "encoder": "attention", "num_layers": 2},
        "metrics": {},
    },
    {
        "trial": "2",
        "status": "COMPLETED",
        "score": 8.25,
        "hyperparameters": {"latent_dim": 32, "encoder": "crnn"},
        "metrics": {"trial_seconds": 50.0, "epochs_run": 3.0, "val_kl": 3.0},
    },
]


def test_write_results(tmp_path):
    best = {"model": {"class": "MusicVAE", "latent_dim": 32}, "optimizer": {}}
    write_results(
        tmp_path,
        RECORDS,
        objective="val_spectral_rmse_db",
        direction="min",
        best_config=best,
        summary={"search": "x"},
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(RESULT_FILES)
    with open(tmp_path / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["trial"] for r in rows] == ["0", "1", "2"]  # trial order
    assert rows[1]["num_layers"] == "2" and rows[0]["num_layers"] == ""
    assert rows[2]["val_kl"] == "3" and rows[2]["val_spectral_rmse_db"] == "8.25"
    table = (tmp_path / "trials.md").read_text().splitlines()
    assert table[2].startswith("| 2 | COMPLETED | 8.25 | 50")  # best first
    assert table[-1].startswith("| 1 | FAILED")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["best_trial"] == "2" and summary["best_value"] == 8.25
    assert summary["completed"] == 2 and summary["failed"] == 1
    assert summary["seconds_per_trial"] == {"median": 40.0, "mean": 40.0, "total": 80.0}
    assert json.loads((tmp_path / "best.json").read_text()) == best


def test_ranking_follows_the_direction():
    assert [r["trial"] for r in ranked(RECORDS, direction="min")] == ["2", "0", "1"]
    assert [r["trial"] for r in ranked(RECORDS, direction="max")] == ["0", "2", "1"]
    table = markdown_table(RECORDS, objective="val_accuracy")
    assert table.startswith("| trial | status | val_accuracy | trial_seconds | epochs_run |")
