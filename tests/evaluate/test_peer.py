"""The pretrained peer in every card: an embedding probe measured in the same evaluate run."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keras_musiclatent.cli.main import main
from keras_musiclatent.data.sources import load_table
from keras_musiclatent.evaluate.evaluator import clip_accuracy, embedding_probe, segment_embeddings
from keras_musiclatent.latent_space import LatentSpace
from tests.conftest import TINY_MUSICNN
from tests.evaluate.test_report import make_genre_folder


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_genre_folder(tmp_path_factory.mktemp("data"), n=10)  # 8 train, 2 valid clips


def test_segment_embeddings_are_the_spaces_embeddings_in_table_order(
    tiny_musicnn_dir, data, monkeypatch
):
    from keras_musiclatent.evaluate import evaluator

    monkeypatch.setattr(evaluator, "_CLIPS_PER_CHUNK", 3)  # clips a few at a time
    space = LatentSpace.load(tiny_musicnn_dir)
    table = load_table(data, dataset="folder")
    x, y, clip = segment_embeddings(space, table, labels=table.labels)
    expected = np.concatenate([space.embed(c.path) for c in table])
    assert x.shape == (len(table), TINY_MUSICNN["embedding_dim"])  # a 2-s clip: one window
    np.testing.assert_allclose(x, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(clip, np.arange(len(table)))
    assert [table.labels[i] for i in y] == [c.label for c in table]


def test_embedding_probe_is_the_latent_probe_rule(tiny_musicnn_dir, data):
    table = load_table(data, dataset="folder")
    space = LatentSpace.load(tiny_musicnn_dir)
    train, valid = table.split("train"), table.split("valid")
    head, probe = embedding_probe(space, valid, train_table=train)
    assert probe["model"] == "tiny-musicnn" and probe["train_clips"] == 8
    assert probe["clips"] == 2 and head.latent_dim == TINY_MUSICNN["embedding_dim"]
    x, y, clip = segment_embeddings(space, valid, labels=train.labels)
    by_hand = clip_accuracy(head.predict_proba(x), clip, [train.labels[i] for i in y], head.genres)
    assert probe["accuracy"] == by_hand["accuracy"]


def test_evaluate_puts_the_peer_beside_the_mfcc_baseline(
    tiny_space_dir, tiny_musicnn_dir, data, tmp_path, capsys
):
    common = ["evaluate", str(tiny_space_dir), "--data", str(data), "--dataset", "folder"]
    common += ["--audio-segments", "1", "--pairs", "1"]
    card, out = tmp_path / "card.md", tmp_path / "result.json"
    args = [*common, "--peer", str(tiny_musicnn_dir), "--json", str(out), "--card", str(card)]
    assert main(args) == 0
    capsys.readouterr()
    peer = json.loads(out.read_text())["genre"]["peer"]
    assert peer["model"] == "tiny-musicnn" and peer["clips"] == 2
    text = card.read_text()
    assert "tiny-musicnn embeddings (8-d, pretrained peer" in text
    assert text.index("MFCC mean+std") < text.index("tiny-musicnn embeddings")


def test_a_peer_that_cannot_load_is_skipped_with_a_note(tiny_space_dir, data, tmp_path, capsys):
    common = ["evaluate", str(tiny_space_dir), "--data", str(data), "--dataset", "folder"]
    common += ["--audio-segments", "1", "--pairs", "1", "--card", str(tmp_path / "card.md")]
    assert main([*common, "--peer", str(tmp_path / "no-such-model")]) == 0
    genre = json.loads(capsys.readouterr().out)["genre"]
    assert "peer" not in genre and "could not be loaded" in genre["peer_note"]
    assert "No pretrained peer row" in (tmp_path / "card.md").read_text()
    assert main([*common, "--no-peer"]) == 0
    assert json.loads(capsys.readouterr().out)["genre"]["peer_note"] == "left out with --no-peer"
