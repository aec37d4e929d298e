"""`musiclatent shards` and training from its export, with no original audio left."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from keras_musiclatent.cli import main
from keras_musiclatent.train.config import load_config
from keras_musiclatent.train.loop import train
from tests.train.test_loop import make_folder_dataset, tiny_config


@pytest.mark.slow
def test_export_then_train_from_the_shards_alone(tmp_path, capsys):
    make_folder_dataset(tmp_path / "data", clips_per_label=4)
    make_folder_dataset(tmp_path / "music" / "ost", clips_per_label=2, seconds=4.0)
    config = tiny_config(tmp_path / "data", epochs=1)
    config["data"]["extra_sources"] = {
        "music": {"dataset": "unlabelled", "root": str(tmp_path / "music")}
    }
    config["data"]["cache_dir"] = False
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / "shards"
    code = main(["shards", str(cfg), "--out", str(out), "--max-mb", "0.2"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["train_shards"] > 1 and report["largest_shard_bytes"] <= 200_000
    assert all(p.stat().st_size <= 200_000 for p in out.glob("*/shard-*.npz"))
    exported = yaml.safe_load((out / "config.yaml").read_text())
    assert exported["data"]["dataset"] == "shards" and exported["data"]["extra_sources"] == {}

    shutil.rmtree(tmp_path / "data")  # the export must stand on its own
    shutil.rmtree(tmp_path / "music")
    moved = tmp_path / "elsewhere"
    out.rename(moved)
    run = load_config({**exported, "data": {**exported["data"], "root": str(moved)}})
    result = train(run, out=tmp_path / "run", verbose=0)
    info = json.loads((tmp_path / "run" / "training.json").read_text())
    assert result.epochs_completed == 1 and info["train_clips"] == report_clips(moved)
    assert info["valid_clips"] > 0


def report_clips(folder) -> int:
    manifest = json.loads((folder / "train" / "bank.json").read_text())
    return sum(entry["clips"] for entry in manifest["shards"])


def test_shards_of_a_shards_export_is_refused(tmp_path, capsys):
    make_folder_dataset(tmp_path / "data", clips_per_label=2)
    config = tiny_config(tmp_path / "data")
    config["data"].update(dataset="shards")
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    code = main(["shards", str(cfg), "--out", str(tmp_path / "s")])
    assert code != 0
    assert "shards export already" in capsys.readouterr().err
