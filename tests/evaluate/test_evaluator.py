"""The one evaluator: latent spectral RMSE, the baselines and the shared pieces, by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from keras_musiclatent.data import Clip, ClipTable, load_folder, segments_array
from keras_musiclatent.data.sources import load_table
from keras_musiclatent.errors import IncompatibleModelError
from keras_musiclatent.evaluate import evaluator, metrics
from keras_musiclatent.evaluate.evaluator import (
    baseline_tables,
    clip_accuracy,
    clip_predictions,
    evaluate_reconstruction,
    load_trained_model,
    pca_baseline,
    pca_baselines,
    reconstruct_segments,
    table_log_mels,
    walk_log_mels,
)
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.train.loop import train
from tests.evaluate.test_report import make_genre_folder
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


def test_pca_baselines_quantise_like_the_stream(rng):
    train_set = rng.normal(-40, 10, (12, 5, 4))
    frames = np.full(12, 5)
    test_set = rng.normal(-40, 10, (3, 5, 4))
    fine = pca_baselines(train_set, frames, test_set, n_components=3, bits=16)
    coarse = pca_baselines(train_set, frames, test_set, n_components=3, bits=1)
    assert fine.n_components == 3 and fine.train_segments == 12
    assert fine.exact.shape == fine.quantised.shape == test_set.shape
    # the exact half is pca_baseline's reconstruction
    exact = pca_baseline(train_set, frames, test_set, n_components=3)
    np.testing.assert_allclose(fine.exact, exact)
    # 16 bits over +-4 std is close to exact; 1 bit is not
    assert np.abs(fine.quantised - fine.exact).max() < 0.05
    rmse = metrics.spectral_rmse_db
    assert rmse(test_set, coarse.quantised).mean() > rmse(test_set, coarse.exact).mean()
    assert pca_baselines(train_set, frames, test_set, n_components=3).quantised is None
    # components are capped by the training size
    assert pca_baselines(train_set[:2], frames[:2], test_set, n_components=9).n_components == 2


def test_clip_accuracy_by_hand():
    genres = ["a", "b"]
    # clip 0 (a): segments disagree, the mean says a; clip 1 (b): predicted a; clip 2 (b): b;
    # clip 3 is of a genre the classifier does not know and is not counted.
    probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3], [0.2, 0.8], [0.1, 0.9], [0.5, 0.5]])
    clip_index = np.array([0, 0, 1, 2, 2, 3])
    labels = ["a", "a", "b", "b", "b", "c"]
    clips, predicted = clip_predictions(probs, clip_index)
    assert clips.tolist() == [0, 1, 2, 3] and predicted.tolist() == [0, 0, 1, 0]
    result = clip_accuracy(probs, clip_index, labels, genres)
    assert result["accuracy"] == pytest.approx(2 / 3)
    assert result["per_genre"] == {"a": 1.0, "b": 0.5}
    assert result["confusion"] == [[1, 0], [1, 1]]
    assert result["clips"] == 3
    assert clip_accuracy(probs[5:], clip_index[5:], labels[5:], genres)["accuracy"] is None


def _clip(clip_id: str, split: str) -> Clip:
    return Clip(clip_id, "rock", split, Path(f"{clip_id}.wav"))


def test_baseline_tables_take_what_evaluate_fits_pca_on():
    table = ClipTable(
        [_clip("a", "train"), _clip("b", "valid"), _clip("c", "excluded"), _clip("d", "x")]
    )
    train, extra = baseline_tables(table)
    assert [c.clip_id for c in train] == ["a"] and [c.clip_id for c in extra] == ["c"]
    train, extra = baseline_tables(table, extra_split="excluded+x+nonesuch")
    assert [c.clip_id for c in extra] == ["c", "d"]
    assert baseline_tables(table, extra_split=None)[1] is None
    assert baseline_tables(table, extra_split="nonesuch")[1] is None
    train, _ = baseline_tables(table.filter(lambda c: c.split != "train"), train_split="train")
    assert len(train) == 0


@pytest.fixture(scope="module")
def tiny_space(tiny_space_dir):
    return LatentSpace.load(tiny_space_dir)


def test_table_log_mels_decode_a_few_clips_at_a_time(tiny_space, tmp_path, monkeypatch):
    table = load_table(make_genre_folder(tmp_path, n=5), dataset="folder")
    model = tiny_space.model
    waves, lengths, _, clip_index = segments_array(
        table, sample_rate=model.sample_rate, segment_seconds=model.segment_seconds
    )
    rec = reconstruct_segments(model, waves, lengths)
    monkeypatch.setattr(evaluator, "_CLIPS_PER_CHUNK", 2)
    mels, frames = table_log_mels(model, [table.split("train"), table.split("valid")])
    # the train clips' windows first, then the valid ones', each in table order
    split_of = np.array([table[int(c)].split for c in clip_index])
    order = np.concatenate([np.flatnonzero(split_of == s) for s in ("train", "valid")])
    np.testing.assert_allclose(mels, rec.reference[order], atol=1e-4)
    np.testing.assert_array_equal(frames, rec.frames[order])
    # the reconstruction is measured as the card measures it
    expected = metrics.spectral_rmse_db(rec.reference, rec.decoded, frames=rec.frames)
    np.testing.assert_allclose(rec.rmse_db, expected)
    assert rec.z.shape == (len(waves), 4) and rec.decoded.shape == rec.reference.shape
    empty, empty_frames = table_log_mels(model, [table.filter(lambda c: False)])
    assert empty.shape == (0, *rec.reference.shape[1:]) and empty_frames.shape == (0,)


def test_walk_log_mels_run_from_a_to_b(tiny_space, rng):
    za, zb = rng.normal(size=(2, 4)).astype(np.float32)
    walk = walk_log_mels(tiny_space, za, zb, steps=5)
    ends = tiny_space.decode(np.stack([za, zb]))
    assert walk.shape == (5, *ends.shape[1:])
    np.testing.assert_allclose(walk[[0, -1]], ends, atol=1e-4)
    lerp = walk_log_mels(tiny_space, za, zb, steps=5, method="lerp")
    np.testing.assert_allclose(lerp[[0, -1]], ends, atol=1e-4)


def test_no_interpolation_pairs_means_no_interpolation_section(rng):
    """``evaluate --pairs 0`` skips interpolation instead of failing on an empty list."""
    z = rng.standard_normal((4, 3)).astype("float32")
    ref = rng.standard_normal((4, 5, 6)).astype("float32")
    out = evaluator._interpolation(
        None, z, ref, np.arange(4), ["a", "b", "a", "b"], ref, pairs=0, seed=0
    )
    assert out is None
