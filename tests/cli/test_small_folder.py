"""A small folder of one's own: folders wherever files go, and splits that are never empty."""

from __future__ import annotations

import json

import numpy as np
import pytest

from keras_musiclatent.cli.main import main
from tests.evaluate.test_report import make_genre_folder


@pytest.fixture(scope="module")
def two_per_genre(tmp_path_factory):
    """2 "low" and 2 "bright" 2-s clips in ``<genre>/`` folders."""
    return make_genre_folder(tmp_path_factory.mktemp("small"), n=4)


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_encode_classify_compress_take_a_folder(tiny_space_dir, two_per_genre, tmp_path, capsys):
    model = ["--model", str(tiny_space_dir)]
    assert main(["encode", str(two_per_genre), *model, "--out", str(tmp_path / "z")]) == 0
    rows = _json(capsys)
    names = ["bright/bright1", "bright/bright3", "low/low0", "low/low2"]  # sorted, recursive
    assert [r["file"] for r in rows] == [str(two_per_genre / f"{n}.wav") for n in names]
    assert sorted(p.name for p in (tmp_path / "z").iterdir()) == sorted(
        f"{n.split('/')[1]}.npz" for n in names
    )
    assert main(["decode", str(tmp_path / "z"), *model, "--out", str(tmp_path / "d")]) == 0
    assert len(_json(capsys)) == 4
    assert main(["classify", str(two_per_genre / "low"), *model, "--json"]) == 0
    assert list(_json(capsys)) == [str(two_per_genre / "low" / f"low{i}.wav") for i in (0, 2)]
    out = tmp_path / "mlz"
    assert main(["compress", str(two_per_genre / "bright"), *model, "-o", str(out)]) == 0
    rows = _json(capsys)
    assert [r["out"] for r in rows] == [str(out / "bright1.mlz"), str(out / "bright3.mlz")]
    assert all(
        (out / f"bright{i}.mlz").stat().st_size == r["bytes"]
        for i, r in zip((1, 3), rows, strict=True)
    )
    # one file keeps -o as the file to write
    one = tmp_path / "one.mlz"
    assert main(["compress", rows[0]["file"], *model, "-o", str(one)]) == 0
    assert _json(capsys)["bytes"] == one.stat().st_size


def test_projector_on_two_clips_per_genre(tiny_space_dir, two_per_genre, tmp_path, capsys):
    args = ["projector", str(tiny_space_dir), "--data", str(two_per_genre), "--dataset", "folder"]
    assert main([*args, "--logdir", str(tmp_path)]) == 0  # default --split valid
    tensor = np.loadtxt(tmp_path / "tensors.tsv", delimiter="\t", ndmin=2)
    assert tensor.shape == (4, 4)  # one valid clip per genre, two 1-s segments each
    rows = (tmp_path / "metadata.tsv").read_text().splitlines()[1:]
    assert sorted({r.split("\t")[1] for r in rows}) == ["bright", "low"]


@pytest.mark.parametrize("command", ["report", "projector", "evaluate"])
def test_an_empty_split_is_one_line_suggesting_split_all(tiny_space_dir, tmp_path, capsys, command):
    data = make_genre_folder(tmp_path / "data", n=2)  # one clip per genre: all in train
    args = [command, str(tiny_space_dir), "--data", str(data), "--dataset", "folder"]
    out = {"report": ["--out"], "projector": ["--logdir"], "evaluate": []}[command]
    assert main([*args, *out, *([str(tmp_path / "o")] if out else [])]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "split 'valid' holds no clips (clips per split: train 2, valid 0)" in err
    assert "--split all" in err
    assert not (tmp_path / "o").exists()
