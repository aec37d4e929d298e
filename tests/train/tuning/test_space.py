"""tuning.space: search spaces as data, declared on keras-tuner hyper-parameters."""

from __future__ import annotations

import keras_tuner as kt
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.tuning.space import DEFAULT_SPACE, parse_space


def declare(space) -> tuple[kt.HyperParameters, dict]:
    hp = kt.HyperParameters()
    return hp, {p.name: p.declare(hp) for p in parse_space(space)}


def test_shorthands_and_kinds():
    params = parse_space(
        {
            "encoder": ["crnn", "attention"],
            "n_mels": 64,
            "latent_dim": {"type": "int", "min": 16, "max": 64, "step": 16},
            "beta": {"type": "float", "min": 1e-5, "max": 1e-3, "sampling": "log"},
            "linear_path": {"type": "boolean", "default": True},
            "segment_seconds": [2, 3.0],
        }
    )
    assert [p.kind for p in params] == ["choice", "fixed", "int", "float", "boolean", "choice"]
    # keras-tuner needs one type per choice: ints among floats become floats.
    assert params[-1].options["values"] == (2.0, 3.0)
    _, values = declare({p.name: p.to_json() for p in params})
    assert values == {
        "encoder": "crnn",
        "n_mels": 64,
        "latent_dim": 16,
        "beta": pytest.approx(1e-5),
        "linear_path": True,
        "segment_seconds": 2.0,
    }


def test_conditional_entries_follow_their_parent():
    space = {
        "encoder": {"type": "choice", "values": ["crnn", "attention"], "default": "attention"},
        "rnn_units": {"type": "choice", "values": [8, 16], "when": {"encoder": "crnn"}},
        "num_layers": {"type": "int", "min": 1, "max": 2, "when": {"encoder": ["attention"]}},
    }
    hp, values = declare(space)
    assert values["rnn_units"] is None and values["num_layers"] == 1
    hp.values["encoder"] = "crnn"
    hp.ensure_active_values()  # what the oracle does for a new trial's values
    _, rnn_units, num_layers = (p.declare(hp) for p in parse_space(space))
    assert rnn_units in (8, 16) and num_layers is None


def test_default_space_parses_and_declares():
    _, values = declare(DEFAULT_SPACE)
    assert values["encoder"] == "crnn" and values["attention_dim"] is None
    assert set(values) >= {"stem", "conv_blocks", "latent_dim", "beta", "linear_path"}


@pytest.mark.parametrize(
    ("space", "match"),
    [
        ({"x": {"type": "nope"}}, "type must be"),
        ({"x": {"type": "choice", "values": []}}, "non-empty"),
        ({"x": ["a", 1]}, "one type"),
        ({"x": [1, 1]}, "repeat"),
        ({"x": {"type": "int", "min": 3, "max": 1}}, "below max"),
        ({"x": {"type": "int", "min": 0.5, "max": 3}}, "whole numbers"),
        ({"x": {"type": "float", "min": 0, "max": 1, "sampling": "log"}}, "min > 0"),
        ({"x": {"type": "float", "min": 0, "max": 1, "steps": 2}}, "unknown key"),
        ({"x": {"type": "boolean", "when": {"y": True}}}, "not an earlier entry"),
        (
            {"y": {"type": "int", "min": 0, "max": 2}, "x": {"type": "boolean", "when": {"y": 1}}},
            "choice or boolean",
        ),
        ({"y": ["a", "b"], "x": {"type": "boolean", "when": {"y": "c"}}}, "takes one of"),
        ({"tuner/epochs": 3}, "bad hyper-parameter name"),
        ([1, 2], "expected a mapping"),
    ],
)
def test_malformed_entries_are_refused(space, match):
    with pytest.raises(ConfigError, match=match):
        parse_space(space)
