"""``musiclatent evaluate``: the card's figures, and the report's baseline agreeing with them."""

from __future__ import annotations

import json

import pytest

from keras_musiclatent.cli.main import main
from tests.evaluate.test_report import make_genre_folder


def test_evaluate_card_and_report_agree(tiny_space_dir, tmp_path, capsys):
    data = make_genre_folder(tmp_path / "data", n=10)  # 8 train and 2 valid clips of 2 s
    common = [str(tiny_space_dir), "--data", str(data), "--dataset", "folder"]
    card_path, json_path = tmp_path / "card.md", tmp_path / "evaluation.json"
    args = ["evaluate", *common, "--split", "valid", "--audio-segments", "2", "--pairs", "1"]
    assert main([*args, "--json", str(json_path), "--card", str(card_path)]) == 0
    capsys.readouterr()
    result = json.loads(json_path.read_text())
    rec = result["reconstruction"]
    assert result["test_clips"] == 2 and result["test_segments"] == 4
    assert result["train_segments"] == 16
    assert rec["reduction_vs_pca"] == pytest.approx(
        1 - rec["latent_rmse_db"] / rec["pca_same_dims_rmse_db"]
    )
    assert result["genre"]["latent_probe"]["clips"] == 2
    card = card_path.read_text()
    assert card.startswith("# tiny-vae") and f"{rec['latent_rmse_db']:.2f}" in card

    out = tmp_path / "report"
    args = ["report", *common, "--split", "valid", "--max-clips", "0", "--out", str(out)]
    args += ["--listen", "1", "--pairs", "0", "--probe-dims", "0", "--iterations", "2"]
    assert main([*args, "--no-codecs"]) == 0
    summary = json.loads((out / "report.json").read_text())
    pca = summary["pca_baseline"]
    assert pca["clips"] == 8 and pca["segments"] == result["train_segments"]
    assert summary["latent_rmse_db"] == pytest.approx(rec["latent_rmse_db"], rel=1e-6)
    for key in ("pca_same_dims_rmse_db", "pca_same_bitrate_rmse_db"):
        assert pca[key] == pytest.approx(rec[key], rel=1e-6)
