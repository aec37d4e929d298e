"""Long evaluation calls show progress on stderr when asked (or in a terminal), never otherwise."""

from __future__ import annotations

import pytest

from keras_musiclatent._progress import progress_bar, progress_counter, wants_progress
from keras_musiclatent.data.sources import load_table
from keras_musiclatent.evaluate.evaluator import evaluate_space
from keras_musiclatent.latent_space import LatentSpace
from tests.evaluate.test_report import make_genre_folder


@pytest.fixture(scope="module")
def tiny_setup(tiny_space_dir, tmp_path_factory):
    space = LatentSpace.load(tiny_space_dir)
    root = make_genre_folder(tmp_path_factory.mktemp("progress-data"), n=6)
    return space, load_table(root, dataset="folder")


def _evaluate(space, table, progress):
    train = table.split("train")
    return evaluate_space(
        space,
        table.split("valid"),
        train_table=train,
        unlabelled_table=train,
        audio_segments=1,
        interpolation_pairs=1,
        reference_segments=8,
        progress=progress,
    )


def test_evaluate_space_shows_a_bar_only_when_asked(tiny_setup, capsys):
    space, table = tiny_setup
    capsys.readouterr()
    shown = _evaluate(space, table, progress=True)
    err = capsys.readouterr().err
    assert "evaluate" in err and "step" in err and "log-mels" in err
    hidden = _evaluate(space, table, progress=False)
    assert capsys.readouterr().err == ""
    # The bar changes nothing it measures.
    for key in ("latent_rmse_db", "pca_same_dims_rmse_db", "audio_rmse_db"):
        assert shown["reconstruction"][key] == hidden["reconstruction"][key]


def test_default_follows_the_terminal(capsys, monkeypatch):
    monkeypatch.delitem(__import__("sys").modules, "ipykernel", raising=False)
    assert wants_progress(None) is False  # captured stderr is no terminal
    assert wants_progress(True) and not wants_progress(False)
    assert list(progress_bar(range(3), desc="x")) == [0, 1, 2]
    with progress_counter(total=2, desc="x") as bar:
        bar.set_description("x: a")
        bar.update(2)
    assert capsys.readouterr().err == ""
    with progress_counter(total=2, desc="counted", unit="clip", progress=True) as bar:
        bar.update(2)
    assert "counted" in capsys.readouterr().err
