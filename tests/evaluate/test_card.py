"""``musiclatent evaluate``: the card's figures, and the report's baseline agreeing with them."""

from __future__ import annotations

import json

import numpy as np
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


def test_card_of_a_model_with_a_time_latent_shows_both_latents_and_the_ablation(tmp_path, capsys):
    from keras_musiclatent.latent_space import LatentSpace
    from keras_musiclatent.models import MusicVAE
    from tests.conftest import TINY_SPACE_MODEL

    data = make_genre_folder(tmp_path / "data", n=10)
    model = MusicVAE(**TINY_SPACE_MODEL, time_latent_dim=1)
    model.adapt(0.1 * np.random.default_rng(0).standard_normal((4, 22050)).astype("float32"))
    folder = LatentSpace(model, name="tiny-timed").save(tmp_path / "tiny-timed")
    ablation = tmp_path / "ablation.md"
    ablation.write_text("| row | probe |\n|---|---|\n| base | 50.0% |\n")
    card_path, json_path = tmp_path / "card.md", tmp_path / "evaluation.json"
    args = [str(folder), "--data", str(data), "--dataset", "folder", "--split", "valid"]
    args += ["--audio-segments", "1", "--pairs", "1", "--no-peer", "--json", str(json_path)]
    assert main(["evaluate", *args, "--card", str(card_path), "--ablation", str(ablation)]) == 0
    capsys.readouterr()
    rec = json.loads(json_path.read_text())["reconstruction"]
    assert rec["numbers_per_segment"] == 4 + 22 and rec["time_latent"] == [22, 1]
    # 16 training segments: PCA keeps 15 components and the card says why.
    assert rec["pca_same_numbers_components"] == 15
    assert rec["reduction_vs_pca_same_numbers"] == pytest.approx(
        1 - rec["global_time_rmse_db"] / rec["pca_same_numbers_rmse_db"]
    )
    card = card_path.read_text()
    assert f"| **{rec['global_time_rmse_db']:.2f}** |" in card
    assert "(15: fewer training segments)" in card
    assert "## Ablation" in card and "| base | 50.0% |" in card and "--ablation" in card
    assert main(["evaluate", *args, "--card", str(card_path), "--ablation", "nope.md"]) == 1
    assert "--ablation nope.md" in capsys.readouterr().err


def test_card_of_a_codec_has_the_rate_quality_table_plot_and_aims(tmp_path, capsys):
    from keras_musiclatent.entropy import fit_entropy_model
    from keras_musiclatent.latent_space import LatentSpace
    from keras_musiclatent.models import MusicAutoencoder
    from tests.conftest import TINY_SPACE_MODEL

    data = make_genre_folder(tmp_path / "data", n=10)
    model = MusicAutoencoder(**TINY_SPACE_MODEL, time_latent_dim=1, bits=3, min_bits=2)
    model.adapt(0.1 * np.random.default_rng(0).standard_normal((4, 22050)).astype("float32"))
    space = LatentSpace(model, name="tiny-codec")
    waves = 0.1 * np.random.default_rng(1).standard_normal((6, 22050)).astype("float32")
    z, _, _, z_time = model.encode_with_time(waves, sample=False)
    space.entropy_model = fit_entropy_model(
        {b: model.codes_of(z, z_time, bits=b) for b in model.code_bits}, steps=model.time_steps
    )
    folder = space.save(tmp_path / "tiny-codec")
    card_path, json_path = tmp_path / "card.md", tmp_path / "evaluation.json"
    args = [str(folder), "--data", str(data), "--dataset", "folder", "--split", "valid"]
    args += ["--audio-segments", "1", "--pairs", "1", "--no-peer", "--json", str(json_path)]
    args += ["--rate-quality", "2", "--no-visqol"]
    assert main(["evaluate", *args, "--card", str(card_path)]) == 0
    capsys.readouterr()
    rq = json.loads(json_path.read_text())["rate_quality"]
    names = [r["system"] for r in rq["rows"]]
    assert names[:3] == [
        "tiny-codec 2 bits",
        "tiny-codec 3 bits",
        "tiny-codec log-mel inverted (ceiling)",
    ]
    assert len(rq["clips"]) == 2 and len(rq["aims"]) == 5
    latent = rq["rows"][0]
    assert latent["kbps"] > 0 and np.isfinite(latent["rmse_db"]) and np.isfinite(latent["onset_r"])
    card = card_path.read_text()
    assert "## Rate and quality" in card and "![rate and quality](rate_quality.png)" in card
    assert "tiny-codec 2 bits" in card and "### Aims at 1 kbit/s or less" in card
    assert (tmp_path / "rate_quality.png").stat().st_size > 1000
    assert "--rate-quality 2 --no-visqol" in card
