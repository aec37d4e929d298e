"""Every figure of a model card, measured per EVALUATION.md beside baselines of the same run.

``evaluate_space`` measures a :class:`~keras_musiclatent.latent_space.LatentSpace` on a split:

- reconstruction: latent and audio spectral RMSE; PCA at the same number of dimensions and at
  the same bitrate (its coefficients quantised to as many bits);
- compression: bitrate and ratio to 16-bit PCM;
- genre: clip-level latent-probe accuracy (overall, per genre, confusion matrix) beside MFCC
  statistics + logistic regression;
- interpolation: smoothness and realism of slerp/lerp paths beside the data-space crossfade;
- active units.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from keras_musiclatent.evaluate import metrics
from keras_musiclatent.evaluate.evaluator import fit_pca, log_mels

__all__ = ["evaluate_space"]


def _pca_rows(train_ref, train_frames, test_ref, *, k: int, bits: int, seed: int):
    """PCA reconstructions of ``test_ref``: exact coefficients, and quantised to ``bits``."""
    pca = fit_pca(train_ref, train_frames, n_components=k, seed=seed)
    coeff = pca.transform(test_ref.reshape(len(test_ref), -1))
    exact = pca.inverse_transform(coeff).reshape(test_ref.shape)
    # Same rule as the compressed stream: a uniform grid over +-4 training std per component.
    std = np.sqrt(pca.explained_variance_)
    lo, hi = -4 * std, 4 * std
    levels = 2**bits - 1
    codes = np.rint((np.clip(coeff, lo, hi) - lo) / (hi - lo) * levels)
    quantised = pca.inverse_transform(lo + codes * (hi - lo) / levels).reshape(test_ref.shape)
    return exact, quantised


def _clip_accuracy(probs, clip_index, clip_labels, genres) -> dict[str, Any]:
    clips = np.unique(clip_index)
    pred = np.array([probs[clip_index == c].mean(0).argmax() for c in clips])
    true = np.array([clip_labels[c] for c in clips])
    per_genre = {
        g: float(np.mean(pred[true == i] == i)) for i, g in enumerate(genres) if np.any(true == i)
    }
    confusion = np.zeros((len(genres), len(genres)), dtype=int)
    for t_, p_ in zip(true, pred, strict=True):
        confusion[t_, p_] += 1
    return {
        "accuracy": float(np.mean(pred == true)),
        "per_genre": per_genre,
        "confusion": confusion.tolist(),
        "clips": len(clips),
    }


def _mfcc_features(waves: np.ndarray, lengths: np.ndarray, sample_rate: int) -> np.ndarray:
    import librosa

    rows = []
    for w, n in zip(waves, lengths, strict=True):
        m = librosa.feature.mfcc(y=w[: max(int(n), 2048)], sr=sample_rate, n_mfcc=20)
        rows.append(np.r_[m.mean(1), m.std(1)])
    return np.asarray(rows)


def _logistic_probs(train_x, train_y, test_x, seed: int) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed))
    clf.fit(train_x, train_y)
    probs = np.zeros((len(test_x), int(train_y.max()) + 1))
    probs[:, clf.classes_] = clf.predict_proba(test_x)
    return probs


def _interpolation(space, z, ref, clip_index, labels, train_ref, *, pairs: int, seed: int):
    """Smoothness and realism of latent paths between first segments of two test clips."""
    rng = np.random.default_rng(seed)
    firsts = {}
    for i, c in enumerate(clip_index):
        firsts.setdefault(int(c), i)
    rows = list(firsts.values())
    candidates = [(a, b) for a in rows for b in rows if a < b and labels[a] != labels[b]]
    if not candidates:
        candidates = [(a, b) for a in rows for b in rows if a < b]
    if not candidates:
        return None
    chosen = [candidates[i] for i in rng.permutation(len(candidates))[:pairs]]
    head = space.genre_head
    out: dict[str, Any] = {"pairs": len(chosen), "steps": 9}
    paths: dict[str, list[np.ndarray]] = {"slerp": [], "lerp": [], "crossfade": []}
    for a, b in chosen:
        for method in ("slerp", "lerp"):
            steps = space.interpolate(z[a], z[b], steps=9, method=method, audio=False)
            paths[method].append(np.concatenate([s.log_mel for s in steps]))
        paths["crossfade"].append(metrics.crossfade_log_mels(ref[a], ref[b], 9))
    for name, logs in paths.items():
        smooth = [metrics.interpolation_smoothness(p) for p in logs]
        middles = np.concatenate([p[1:-1] for p in logs])
        entry = {
            "smoothness": float(np.mean(smooth)),
            "nearest_train_db": float(metrics.nearest_distance(middles, train_ref).mean()),
        }
        if head is not None:
            zm = space.model.encode_log_mel(middles)
            entry["genre_confidence"] = float(head.predict_proba(zm).max(1).mean())
        out[name] = entry
    return out


def evaluate_space(
    space: Any,
    test_table: Any,
    *,
    train_table: Any,
    unlabelled_table: Any | None = None,
    cache_dir: str | os.PathLike | None = None,
    audio_segments: int = 120,
    interpolation_pairs: int = 10,
    reference_segments: int = 800,
    seed: int = 0,
) -> dict[str, Any]:
    """All card figures of ``space`` on ``test_table``.

    Args:
        space: the model.
        test_table: clips to measure (e.g. GTZAN's valid split).
        train_table: labelled training clips: PCA, the MFCC baseline and (when the model has
            none) the genre head are fitted on them.
        unlabelled_table: more training clips for PCA (e.g. GTZAN's "excluded" clips).
        cache_dir: decoded-audio cache.
        audio_segments: test segments (evenly spaced) whose audio is inverted for audio RMSE.
        interpolation_pairs: test clip pairs (different genres) interpolated.
        reference_segments: training segments the realism distance searches.
        seed: every random choice.

    Returns:
        A JSON-ready dict.
    """
    from keras_musiclatent.data import segments_array
    from keras_musiclatent.genre_head import GenreHead
    from keras_musiclatent.models.losses import active_units

    start = time.time()
    model = space.model
    genres = list(train_table.labels)
    kw = {
        "sample_rate": space.sample_rate,
        "segment_seconds": space.segment_seconds,
        "cache_dir": cache_dir,
        "labels": genres,
    }
    test_w, test_len, test_y, test_clip = segments_array(test_table, **kw)
    train_w, train_len, train_y, _ = segments_array(train_table, **kw)
    hop = int(model.hop_length)

    # Reconstruction.
    test_ref = log_mels(model, test_w)
    frames = metrics.real_frames(test_len, hop_length=hop, frames=test_ref.shape[1])
    z_test, _, _ = model.encode(test_w, sample=False)
    decoded = model.decode(z_test)
    latent_rmse = metrics.spectral_rmse_db(test_ref, decoded, frames=frames)
    train_ref = log_mels(model, train_w)
    train_frames = metrics.real_frames(train_len, hop_length=hop, frames=train_ref.shape[1])
    pca_ref, pca_frames = train_ref, train_frames
    if unlabelled_table is not None and len(unlabelled_table):
        extra_w, extra_len, _, _ = segments_array(unlabelled_table, **{**kw, "labels": None})
        extra_ref = log_mels(model, extra_w)
        del extra_w
        pca_ref = np.concatenate([train_ref, extra_ref])
        pca_frames = np.concatenate(
            [
                train_frames,
                metrics.real_frames(extra_len, hop_length=hop, frames=extra_ref.shape[1]),
            ]
        )
    bits = space.bits_per_dim
    pca_exact, pca_quant = _pca_rows(
        pca_ref, pca_frames, test_ref, k=space.latent_dim, bits=bits, seed=seed
    )
    pca_rmse = float(metrics.spectral_rmse_db(test_ref, pca_exact, frames=frames).mean())
    pca_q_rmse = float(metrics.spectral_rmse_db(test_ref, pca_quant, frames=frames).mean())
    del pca_ref

    # What a listener gets: invert decodes (and, for scale, the original log-mels).
    pick = np.unique(np.linspace(0, len(test_w) - 1, min(audio_segments, len(test_w))).astype(int))
    sr = space.sample_rate
    kw_mel = {
        "sample_rate": sr,
        "n_fft": int(model.n_fft),
        "hop_length": hop,
        "n_mels": int(model.n_mels),
    }
    t_inv = time.time()
    audio_dec = space.to_audio_many(decoded[pick][:, None])
    inv_seconds = (time.time() - t_inv) / len(pick)
    audio_orig = space.to_audio_many(test_ref[pick][:, None])
    ref_pick = metrics.logmel_db(test_w[pick], **kw_mel)
    audio_rmse = metrics.spectral_rmse_db(
        ref_pick, metrics.logmel_db(audio_dec, **kw_mel), frames=frames[pick]
    )
    inversion_rmse = metrics.spectral_rmse_db(
        ref_pick, metrics.logmel_db(audio_orig, **kw_mel), frames=frames[pick]
    )

    # Genre: latent probe vs MFCC statistics, at clip level.
    head = space.genre_head
    head_source = "shipped with the model"
    if head is None or head.genres != genres:
        z_train, _, _ = model.encode(train_w, sample=False)
        head = GenreHead.fit(z_train, [genres[i] for i in train_y], seed=seed)
        head_source = "fitted on the training split during evaluation"
    latent_probs = head.predict_proba(z_test)
    mfcc_train = _mfcc_features(train_w, train_len, sr)
    mfcc_test = _mfcc_features(test_w, test_len, sr)
    mfcc_probs = _logistic_probs(mfcc_train, train_y, mfcc_test, seed)
    clip_labels = {int(c): int(y) for c, y in zip(test_clip, test_y, strict=True)}
    genre = {
        "genres": genres,
        "head": head_source,
        "latent_probe": _clip_accuracy(latent_probs, test_clip, clip_labels, genres),
        "mfcc_logistic": _clip_accuracy(mfcc_probs, test_clip, clip_labels, genres),
        "chance": float(1.0 / len(genres)),
    }
    del train_w

    # Interpolation.
    rng = np.random.default_rng(seed)
    ref_rows = rng.permutation(len(train_ref))[:reference_segments]
    saved_head, space.genre_head = space.genre_head, head
    try:
        interpolation = _interpolation(
            space,
            z_test,
            test_ref,
            test_clip,
            test_y,
            train_ref[ref_rows],
            pairs=interpolation_pairs,
            seed=seed,
        )
    finally:
        space.genre_head = saved_head

    bitrate = space.bitrate
    return {
        "model": space.name,
        "class": type(model).__name__,
        "parameters": int(model.count_params()),
        "latent_dim": space.latent_dim,
        "test_clips": len(test_table),
        "test_segments": len(test_w),
        "train_segments": int(len(train_ref)),
        "reconstruction": {
            "latent_rmse_db": float(latent_rmse.mean()),
            "pca_same_dims_rmse_db": pca_rmse,
            "reduction_vs_pca": 1.0 - float(latent_rmse.mean()) / pca_rmse,
            "pca_same_bitrate_rmse_db": pca_q_rmse,
            "audio_rmse_db": float(audio_rmse.mean()),
            "inversion_only_rmse_db": float(inversion_rmse.mean()),
            "audio_segments": len(pick),
            "inversion_seconds_per_segment": round(inv_seconds, 3),
        },
        "compression": {
            "bits_per_dim": bits,
            "bitrate_bps": bitrate,
            "ratio_to_pcm16": metrics.compression_ratio(bitrate),
        },
        "genre": genre,
        "interpolation": interpolation,
        "active_units": int(active_units(z_test)),
        "seconds": round(time.time() - start, 1),
    }
