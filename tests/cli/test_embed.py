"""``musiclatent embed`` and ``musiclatent tags``, in process on tiny packaged models."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.cli.main import main
from tests.conftest import TINY_MUSICNN, TINY_MUSICNN_TAGS, tone


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    a = audio.save(folder / "a.wav", tone(4.0, freq=220.0))
    b = audio.save(folder / "b.wav", tone(7.0, freq=660.0))
    return a, b


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_embed_writes_one_npz_per_file(tiny_musicnn_dir, clips, tmp_path, capsys):
    a, b = clips
    args = ["embed", str(a), str(b), "--model", str(tiny_musicnn_dir), "--out", str(tmp_path)]
    assert main(args) == 0
    report = _json(capsys)
    assert [r["segments"] for r in report["files"]] == [2, 3]
    dim = TINY_MUSICNN["embedding_dim"]
    with np.load(tmp_path / "b.npz") as f:
        assert f["embedding"].shape == (3, dim) and f["mean"].shape == (dim,)
        assert int(f["sample_rate"]) == 16000 and float(f["segment_seconds"]) == 3.0


def test_embed_with_a_latent_model_gives_latent_means(tiny_space_dir, clips, tmp_path, capsys):
    args = ["embed", str(clips[0]), "--model", str(tiny_space_dir), "--out", str(tmp_path)]
    assert main(args) == 0
    with np.load(tmp_path / "a.npz") as f:
        assert f["embedding"].shape == (4, 4)  # 1-s segments, 4 latent dims


def test_tags_prints_the_top_k_as_json(tiny_musicnn_dir, clips, capsys):
    assert main(["tags", *map(str, clips), "--model", str(tiny_musicnn_dir), "--top", "2"]) == 0
    report = _json(capsys)
    for tags in report["tags"].values():
        assert len(tags) == 2 and set(tags) <= set(TINY_MUSICNN_TAGS)
        assert list(tags.values()) == sorted(tags.values(), reverse=True)


def test_tags_of_a_model_without_tags_is_one_line_on_stderr(tiny_space_dir, clips, capsys):
    assert main(["tags", str(clips[0]), "--model", str(tiny_space_dir)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("musiclatent: error:") and "no tag outputs" in err
    assert err.count("\n") == 1


def test_bad_top_and_missing_file_are_one_line_errors(tiny_musicnn_dir, tmp_path, capsys):
    assert main(["tags", str(tmp_path / "x.wav"), "--model", str(tiny_musicnn_dir)]) == 1
    assert capsys.readouterr().err.count("\n") == 1
    assert main(["tags", str(tmp_path / "x.wav"), "--top", "0"]) == 1
    assert "--top" in capsys.readouterr().err
