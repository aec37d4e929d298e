"""tuning.config: search files, objectives, shipped search names."""

from __future__ import annotations

import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import apply_settings, read_config_file
from keras_musiclatent.train.loop import load_config
from keras_musiclatent.train.tuning.config import (
    Objective,
    load_search,
    resolve_search,
    shipped_searches,
)
from tests.conftest import REPO_ROOT
from tests.train.tuning.conftest import tiny_search


def test_load_search_fills_defaults_and_overrides(tmp_path):
    search = load_search(tiny_search(tmp_path), max_trials=7, seed=3)
    assert (search.name, search.tuner, search.max_trials, search.seed) == ("tiny", "random", 7, 3)
    assert search.base["training"]["seed"] == 3 and search.base["training"]["epochs"] == 1
    assert search.objective == Objective("val_spectral_rmse_db", "min")
    assert search.to_json()["space"]["latent_dim"] == {"type": "choice", "values": [2, 4]}


def test_yaml_file_and_its_name(tmp_path):
    path = tmp_path / "my-search.yaml"
    path.write_text(
        "data: {root: somewhere}\n"
        "search:\n  tuner: hyperband\n  epochs: 4\n  space: {latent_dim: [8, 16]}\n"
    )
    search = load_search(path)
    assert search.name == "my-search" and search.tuner == "hyperband" and search.space


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"search": None}, "search section"),
        ({"search": {"tuners": "random"}}, "unknown search key"),
        ({"search": {"tuner": "grid"}}, "search.tuner"),
        ({"search": {"max_trials": 0}}, "max_trials must be >= 1"),
        ({"search": {"epochs": 2.5}}, "whole number"),
        ({"search": {"tuner": "hyperband", "epochs": 1}}, "hyperband needs"),
        ({"search": {"space": {}}}, "empty"),
        ({"search": {"objective": {"direction": "min"}}}, "name is required"),
        ({"search": {"objective": {"name": "x", "direction": "down"}}}, "direction"),
        ({"model": {"class": "MusicVAE", "segment_seconds": 2.0}}, "data.segment_seconds"),
        ({"data": {"root": "x", "rooot": 1}}, "unknown config key"),
    ],
)
def test_bad_searches_are_refused(tmp_path, change, match):
    raw = tiny_search(tmp_path)
    for key, value in change.items():
        if value is None:
            raw.pop(key)
        elif key == "search":
            raw["search"] = {**raw["search"], **value}
        else:
            raw[key] = value
    with pytest.raises(ConfigError, match=match):
        load_search(raw)


def test_combined_objective():
    objective = Objective.parse(
        {"name": "val_score", "combine": {"val_spectral_rmse_db": 1, "val_kl": 0.01}}
    )
    assert objective.combine == {"val_spectral_rmse_db": 1.0, "val_kl": 0.01}
    with pytest.raises(ConfigError, match="must differ"):
        Objective.parse({"name": "val_kl", "combine": {"val_kl": 1}})


def test_shipped_searches_are_valid(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # names resolve from anywhere
    shipped = shipped_searches()
    assert "gtzan-vae" in shipped
    for name, path in shipped.items():
        assert resolve_search(name) == path
        # The data folder comes from the command line (--data), never from the file.
        with pytest.raises(ConfigError, match=r"data\.root is required"):
            load_search(path)
        search = load_search(apply_settings(read_config_file(path), data=tmp_path))
        assert search.objective.name.startswith("val_")
        # The base of a search is a valid training config on its own.
        load_config({k: v for k, v in search.base.items()})


def test_unknown_search_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    with pytest.raises(ConfigError, match="gtzan-vae"):
        resolve_search("no-such-search")
