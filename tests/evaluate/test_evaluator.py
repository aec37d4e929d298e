"""evaluation.py: latent spectral RMSE and the PCA baseline, checked by hand."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent.data import load_folder, segments_array
from keras_musiclatent.errors import IncompatibleModelError
from keras_musiclatent.evaluate import metrics
from keras_musiclatent.evaluate.evaluator import (
    evaluate_reconstruction,
    load_trained_model,
    pca_baseline,
)
from keras_musiclatent.train.loop import train
from tests.train.test_loop import make_folder_dataset, tiny_config


def test_pca_baseline_is_exact_with_enough_components(rng):
    train_set = rng.normal(-40, 10, (6, 5, 4))
    frames = np.full(6, 5)
    rebuilt = pca_baseline(train_set, frames, train_set, n_components=6)
    np.testing.assert_allclose(rebuilt, train_set, atol=1e-6)
    # one component keeps less than everything
    coarse = pca_baseline(train_set, frames, train_set, n_components=1)
    assert metrics.spectral_rmse_db(train_set, coarse).mean() > 1.0


def test_load_trained_model_errors(tmp_path):
    with pytest.raises(IncompatibleModelError, match=r"no best\.keras"):
        load_trained_model(tmp_path)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(IncompatibleModelError, match="cannot load"):
        load_trained_model(broken)


def test_evaluate_reconstruction_matches_a_hand_computation(tmp_path):
    make_folder_dataset(tmp_path / "data", clips_per_label=4)
    train(tiny_config(tmp_path / "data", epochs=1), out=tmp_path / "run", verbose=0)
    model = load_trained_model(tmp_path / "run")
    table = load_folder(tmp_path / "data", split_seed=0)
    result = evaluate_reconstruction(model, table.split("valid"), train_table=table.split("train"))
    waves, lengths, _, _ = segments_array(table.split("valid"), segment_seconds=1.0)
    reference = model.log_mel(waves)
    decoded = model.decode(model.encode(waves, sample=False)[0])
    frames = metrics.real_frames(lengths, hop_length=256, frames=reference.shape[1])
    expected = metrics.spectral_rmse_db(reference, decoded, frames=frames).mean()
    assert result["latent_rmse_db"] == pytest.approx(expected, rel=1e-5)
    assert result["segments"] == len(waves)
    assert np.isfinite(result["pca_rmse_db"]) and result["pca_rmse_db"] > 0
    assert result["rmse_reduction_vs_pca"] == pytest.approx(
        1 - result["latent_rmse_db"] / result["pca_rmse_db"]
    )
    assert 0 <= result["active_units"] <= 4
