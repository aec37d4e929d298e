"""The one evaluator: every figure of a model card, beside baselines fitted in the same run.

Figures follow the evaluation protocol (docs/evaluation.md); the report (:mod:`.report`) shows
some of them and calls the functions here for those, so page and card cannot disagree.

- :func:`evaluate_space`: all card figures of a :class:`~keras_musiclatent.LatentSpace`
  (reconstruction, compression, genre, interpolation, active units);
- :func:`evaluate_reconstruction`: the latent spectral RMSE of a bare trained model beside PCA;
- the pieces both use, public so the report measures the same way:
  :func:`reconstruct_segments`, :func:`table_log_mels`, :func:`baseline_tables`,
  :func:`pca_baselines`, :func:`clip_predictions`, :func:`clip_accuracy`, :func:`walk_log_mels`.

Example:
    >>> from keras_musiclatent import LatentSpace  # doctest: +SKIP
    >>> from keras_musiclatent.data.sources import load_table
    >>> table = load_table("data/gtzan")
    >>> train, extra = baseline_tables(table)
    >>> result = evaluate_space(LatentSpace.load("gtzan-vae"), table.split("valid"),
    ...                         train_table=train, unlabelled_table=extra)
    >>> result["reconstruction"]["reduction_vs_pca"]
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import keras
import librosa
import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import keras_musiclatent.models  # noqa: F401  - registers the classes load_model needs
from keras_musiclatent._progress import Counter, progress_counter
from keras_musiclatent.data import segments_array
from keras_musiclatent.errors import DatasetError, IncompatibleModelError
from keras_musiclatent.evaluate import metrics
from keras_musiclatent.genre_head import GenreHead
from keras_musiclatent.latent_types import Encoding
from keras_musiclatent.models.losses import active_units

__all__ = [
    "PcaBaselines",
    "Reconstruction",
    "baseline_tables",
    "clip_accuracy",
    "clip_predictions",
    "embedding_probe",
    "evaluate_reconstruction",
    "evaluate_space",
    "fit_pca",
    "load_trained_model",
    "log_mels",
    "pca_baseline",
    "pca_baselines",
    "reconstruct_segments",
    "segment_embeddings",
    "table_log_mels",
    "walk_log_mels",
]

# Clips decoded at once by table_log_mels: bounds the waveforms held in memory (GTZAN: 32
# clips x 10 windows x 66150 samples x 4 B = 85 MB) while keeping batches full.
_CLIPS_PER_CHUNK = 32


def load_trained_model(path: str | os.PathLike) -> Any:
    """Load a ``.keras`` model, or ``best.keras`` of a training run folder, in safe mode.

    Raises:
        IncompatibleModelError: no model file there, or one Keras cannot load.
    """
    path = Path(path)
    if path.is_dir():
        for name in ("best.keras", "last.keras", "model.keras"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise IncompatibleModelError(f"{path}: no best.keras, last.keras or model.keras")
    if not path.is_file():
        raise IncompatibleModelError(f"{path}: no such model file")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as exc:
        raise IncompatibleModelError(f"{path}: cannot load model ({exc})") from None


# --- segments, log-mels and their reconstruction --------------------------------------------


def log_mels(model: Any, waveforms: np.ndarray, *, batch_size: int = 32) -> np.ndarray:
    """The model's input log-mel dB ``(n, frames, mels)`` of waveforms ``(n, samples)``."""
    return np.concatenate(
        [model.log_mel(waveforms[i : i + batch_size]) for i in range(0, len(waveforms), batch_size)]
    )


def _frames(model: Any, lengths: np.ndarray, log_mel: np.ndarray) -> np.ndarray:
    return metrics.real_frames(lengths, hop_length=int(model.hop_length), frames=log_mel.shape[1])


@dataclass
class Reconstruction:
    """Segments through a model: its input log-mels, latent means and decodes.

    Attributes:
        z: ``(n, latent_dim)`` latent means.
        reference: ``(n, frames, mels)`` dB, the model's input log-mel.
        frames: ``(n,)`` real (not padded) frames per segment.
        decoded: ``(n, frames, mels)`` dB, the decode of ``z``.
        rmse_db: ``(n,)`` latent spectral RMSE per segment (reference vs decoded).
    """

    z: np.ndarray
    reference: np.ndarray
    frames: np.ndarray
    decoded: np.ndarray
    rmse_db: np.ndarray


def reconstruct_segments(
    model: Any, waveforms: np.ndarray, lengths: np.ndarray, *, batch_size: int = 32
) -> Reconstruction:
    """Encode ``(n, samples)`` windows to their latent means, decode them, and measure.

    Args:
        model: a ``MusicVAE`` or ``MusicAutoencoder``.
        waveforms: ``(n, samples)`` float32 windows.
        lengths: ``(n,)`` real samples per window (the rest is padding the RMSE leaves out).
        batch_size: segments per forward pass.

    Example:
        >>> rec = reconstruct_segments(model, waves, lengths)  # doctest: +SKIP
        >>> rec.rmse_db.mean()  # the card's latent RMSE
    """
    reference = log_mels(model, waveforms, batch_size=batch_size)
    z, _, _ = model.encode(waveforms, sample=False, batch_size=batch_size)
    decoded = model.decode(z, batch_size=batch_size)
    frames = _frames(model, lengths, reference)
    rmse = metrics.spectral_rmse_db(reference, decoded, frames=frames)
    return Reconstruction(np.asarray(z), reference, frames, np.asarray(decoded), rmse)


def table_log_mels(
    model: Any,
    tables: Sequence[Any],
    *,
    cache_dir: str | os.PathLike | None = None,
    batch_size: int = 32,
    skip_unreadable: bool = False,
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Log-mels of every window of some tables, in order, as baselines are fitted on them.

    Clips are decoded a few at a time, so the waveforms of a whole training split never sit in
    memory together; only the log-mels (8x smaller) do.

    Args:
        model: supplies the rate, segment length and log-mel settings.
        tables: clip tables, concatenated in this order (e.g. train, then the extra split).
        cache_dir: decoded-audio cache.
        batch_size: segments per forward pass.
        skip_unreadable: leave out clips whose header cannot be read.
        progress: a progress bar (clips) on stderr (default: in a terminal or notebook).

    Returns:
        ``(log_mels (n, frames, mels) dB, real frames (n,))``.
    """
    kw = {
        "sample_rate": int(model.sample_rate),
        "segment_seconds": float(model.segment_seconds),
        "cache_dir": cache_dir,
        "skip_unreadable": skip_unreadable,
    }
    mels, frames = [], []
    total = sum(len(t) for t in tables)
    with progress_counter(total=total, desc="log-mels", unit="clip", progress=progress) as bar:
        for table in tables:
            for start in range(0, len(table), _CLIPS_PER_CHUNK):
                chunk = table[start : start + _CLIPS_PER_CHUNK]
                waves, lengths, _, _ = segments_array(chunk, **kw)
                bar.update(len(chunk))
                if len(waves) == 0:
                    continue
                mel = log_mels(model, waves, batch_size=batch_size)
                mels.append(mel)
                frames.append(_frames(model, lengths, mel))
    if not mels:
        n_frames, n_mels = model.log_mel(np.zeros((1, int(model.samples)), np.float32)).shape[1:]
        return np.zeros((0, n_frames, n_mels), np.float32), np.zeros(0, np.int64)
    return np.concatenate(mels), np.concatenate(frames)


def baseline_tables(
    table: Any, *, train_split: str = "train", extra_split: str | None = "excluded"
) -> tuple[Any, Any | None]:
    """The clips a model trained on, where baselines are fitted: ``(train, extra or None)``.

    ``musiclatent evaluate`` fits PCA on the labelled train split plus the unlabelled extra
    split(s) (``"a+b"``) the model also trained on; the report fits on the same clips.
    Splits the table does not have are left out (an empty train table when it has no train
    split).
    """
    names = table.split_names
    train = table.split(train_split) if train_split in names else table.filter(lambda c: False)
    extra = None
    if extra_split:
        wanted = set(extra_split.split("+")) & set(names)
        if wanted:
            extra = table.filter(lambda c: c.split in wanted)
    return train, extra


# --- the PCA baselines ----------------------------------------------------------------------


def _floored(log_mel: np.ndarray, frames: np.ndarray, dynamic_range_db: float = 80.0):
    mask = np.arange(log_mel.shape[1])[None, :] < frames[:, None]
    peak = np.where(mask[..., None], log_mel, -np.inf).max(axis=(1, 2))
    return np.maximum(log_mel, (peak - dynamic_range_db)[:, None, None])


def fit_pca(
    train_log_mel: np.ndarray, train_frames: np.ndarray, *, n_components: int, seed: int = 0
) -> PCA:
    """scikit-learn PCA of training log-mels ``(n, frames, mels)``, floored at ``max - 80 dB``.

    Fitted on flattened segments; ``n_components`` is capped by the data's size.
    """
    n, t, f = train_log_mel.shape
    x = _floored(train_log_mel, train_frames).reshape(n, t * f)
    k = int(min(n_components, n, t * f))
    return PCA(n_components=k, svd_solver="randomized", random_state=seed).fit(x)


@dataclass
class PcaBaselines:
    """PCA reconstructions of test log-mels, as the card and the report compare against.

    Attributes:
        n_components: components kept (the latent's dimensions, capped by the training size).
        exact: ``(m, frames, mels)`` dB from float coefficients ("PCA, same dims").
        quantised: ``(m, frames, mels)`` dB from coefficients quantised to ``bits`` each
            ("PCA, same bitrate"); ``None`` when no ``bits`` were asked for.
        train_segments: segments the PCA was fitted on.
    """

    n_components: int
    exact: np.ndarray
    quantised: np.ndarray | None
    train_segments: int


def pca_baselines(
    train_log_mel: np.ndarray,
    train_frames: np.ndarray,
    test_log_mel: np.ndarray,
    *,
    n_components: int,
    bits: int | None = None,
    seed: int = 0,
) -> PcaBaselines:
    """PCA of the training log-mels, applied to ``test_log_mel``: exact and quantised.

    Quantisation follows the compressed stream's rule: a uniform grid of ``2**bits`` levels
    over +-4 training standard deviations per component.

    Args:
        train_log_mel: ``(n, frames, mels)`` dB (floored at ``max - 80 dB`` before fitting).
        train_frames: ``(n,)`` real frames per training segment.
        test_log_mel: ``(m, frames, mels)`` dB.
        n_components: principal components kept.
        bits: bits per coefficient of the quantised reconstruction (``None``: skip it).
        seed: randomised-SVD seed.

    Example:
        >>> base = pca_baselines(train, frames, test, n_components=64, bits=8)  # doctest: +SKIP
        >>> metrics.spectral_rmse_db(test, base.quantised).mean()  # "PCA, same bitrate"
    """
    pca = fit_pca(train_log_mel, train_frames, n_components=n_components, seed=seed)
    coeff = pca.transform(test_log_mel.reshape(len(test_log_mel), -1))
    exact = pca.inverse_transform(coeff).reshape(test_log_mel.shape)
    quantised = None
    if bits is not None:
        std = np.sqrt(pca.explained_variance_)
        lo, hi = -4 * std, 4 * std
        levels = 2**bits - 1
        codes = np.rint((np.clip(coeff, lo, hi) - lo) / (hi - lo) * levels)
        quantised = pca.inverse_transform(lo + codes * (hi - lo) / levels)
        quantised = quantised.reshape(test_log_mel.shape)
    return PcaBaselines(int(pca.n_components_), exact, quantised, len(train_log_mel))


def pca_baseline(
    train_log_mel: np.ndarray,
    train_frames: np.ndarray,
    test_log_mel: np.ndarray,
    *,
    n_components: int,
    seed: int = 0,
) -> np.ndarray:
    """PCA reconstruction ``(m, frames, mels)`` dB of ``test_log_mel`` (``(m, frames, mels)``).

    The exact half of :func:`pca_baselines`: ``n_components`` fitted on the training
    log-mels ``(n, frames, mels)``, floored at ``max - 80 dB`` per segment.
    """
    return pca_baselines(
        train_log_mel, train_frames, test_log_mel, n_components=n_components, seed=seed
    ).exact


# --- genre ----------------------------------------------------------------------------------


def clip_predictions(probs: np.ndarray, clip_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The clip-level rule: a clip's class is the argmax of its segments' mean probability.

    Args:
        probs: ``(n, classes)`` per-segment probabilities.
        clip_index: ``(n,)`` clip of each segment.

    Returns:
        ``(clips (k,), predicted class (k,))``, clips in ascending order.
    """
    clip_index = np.asarray(clip_index)
    clips = np.unique(clip_index)
    pred = np.array([int(probs[clip_index == c].mean(0).argmax()) for c in clips], dtype=int)
    return clips, pred


def clip_accuracy(
    probs: np.ndarray, clip_index: np.ndarray, labels: Sequence[str], genres: Sequence[str]
) -> dict[str, Any]:
    """Clip-level accuracy of per-segment genre probabilities.

    Args:
        probs: ``(n, len(genres))`` per-segment probabilities.
        clip_index: ``(n,)`` clip of each segment.
        labels: ``(n,)`` true genre of each segment's clip.
        genres: the classifier's genres (the columns of ``probs``).

    Returns:
        ``accuracy`` (``None`` when no clip's genre is one of ``genres``), ``per_genre``,
        ``confusion`` (``len(genres)`` square, rows true, columns predicted) and ``clips``:
        all counted over the clips whose genre is one of ``genres``.
    """
    genres = list(genres)
    clips, pred = clip_predictions(probs, clip_index)
    first: dict[int, int] = {}
    for i, c in enumerate(np.asarray(clip_index)):
        first.setdefault(int(c), i)
    true_names = [labels[first[int(c)]] for c in clips]
    known = np.array([t in genres for t in true_names], dtype=bool)
    true = np.array([genres.index(t) if t in genres else -1 for t in true_names], dtype=int)
    true, pred = true[known], pred[known]
    per_genre = {
        g: float(np.mean(pred[true == i] == i)) for i, g in enumerate(genres) if np.any(true == i)
    }
    confusion = np.zeros((len(genres), len(genres)), dtype=int)
    for t_, p_ in zip(true, pred, strict=True):
        confusion[t_, p_] += 1
    return {
        "accuracy": float(np.mean(pred == true)) if len(true) else None,
        "per_genre": per_genre,
        "confusion": confusion.tolist(),
        "clips": len(true),
    }


def _mfcc_features(waves: np.ndarray, lengths: np.ndarray, sample_rate: int) -> np.ndarray:
    rows = []
    for w, n in zip(waves, lengths, strict=True):
        m = librosa.feature.mfcc(y=w[: max(int(n), 2048)], sr=sample_rate, n_mfcc=20)
        rows.append(np.r_[m.mean(1), m.std(1)])
    return np.asarray(rows)


def _logistic_probs(train_x, train_y, test_x, seed: int) -> np.ndarray:
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, random_state=seed))
    clf.fit(train_x, train_y)
    probs = np.zeros((len(test_x), int(train_y.max()) + 1))
    probs[:, clf.classes_] = clf.predict_proba(test_x)
    return probs


def segment_embeddings(
    space: Any,
    table: Any,
    *,
    labels: Sequence[str],
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Embeddings (:meth:`LatentSpace.embed` rows) of every window of a table, in table order.

    Windows follow the window rule at the model's own rate and segment length (16 kHz for
    ``musicnn-msd``); clips are decoded a few at a time, so memory holds one chunk of
    waveforms.

    Args:
        space: a :class:`~keras_musiclatent.LatentSpace` (any model: ``embed_windows``).
        table: the clips.
        labels: the class vocabulary (the training table's labels, so ids agree).
        cache_dir: decoded-audio cache.
        progress: a progress bar (clips) on stderr (default: in a terminal or notebook).

    Returns:
        ``(embeddings (n, embedding_dim) float32, label ids (n,), clip index (n,))``: the clip
        index is each window's clip position in ``table``.

    Example:
        >>> x, y, clip = segment_embeddings(space, table, labels=table.labels)  # doctest: +SKIP
    """
    kw = {
        "sample_rate": int(space.sample_rate),
        "segment_seconds": float(space.segment_seconds),
        "cache_dir": cache_dir,
        "labels": list(labels),
    }
    rows, ids, clips = [], [], []
    with progress_counter(total=len(table), desc="embed", unit="clip", progress=progress) as bar:
        for start in range(0, len(table), _CLIPS_PER_CHUNK):
            chunk = table[start : start + _CLIPS_PER_CHUNK]
            waves, _, label_ids, clip_index = segments_array(chunk, **kw)
            bar.update(len(chunk))
            if len(waves) == 0:
                continue
            rows.append(space.model.embed_windows(waves)["embedding"])
            ids.append(np.asarray(label_ids, int))
            clips.append(np.asarray(clip_index, int) + start)
    if not rows:
        empty = np.zeros(0, int)
        return np.zeros((0, int(space.embedding_dim)), np.float32), empty, empty
    return np.concatenate(rows).astype(np.float32), np.concatenate(ids), np.concatenate(clips)


def embedding_probe(
    space: Any,
    test_table: Any,
    *,
    train_table: Any,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> tuple[GenreHead, dict[str, Any]]:
    """Genre accuracy of a model's embeddings by the latent-probe rule of the evaluation
    protocol, as the card measures a latent model's own probe.

    A standardised logistic regression (:class:`GenreHead`) is fitted on the training
    clips' window embeddings (:func:`segment_embeddings`); a test clip's genre is the argmax
    of its windows' mean probability (:func:`clip_accuracy`). ``musiclatent evaluate`` applies
    it to the pretrained peer (``musicnn-msd``, its 200-d penultimate layer), and the head it
    returns is the one ``musicnn-msd`` ships.

    Args:
        space: the model giving the embeddings.
        test_table: clips to score.
        train_table: labelled clips to fit on (its labels are the classes).
        cache_dir: decoded-audio cache.
        seed: the regression's random state.
        progress: progress bars on stderr (default: in a terminal or notebook).

    Returns:
        ``(head, result)``: the fitted head, and :func:`clip_accuracy`'s dict plus ``model``,
        ``embedding_dim``, ``train_clips`` and ``train_segments``.

    Example:
        >>> head, result = embedding_probe(LatentSpace.load("musicnn-msd"),  # doctest: +SKIP
        ...     table.split("valid"), train_table=table.split("train"))
        >>> result["accuracy"]  # doctest: +SKIP
        0.64
    """
    genres = list(train_table.labels)
    kw = {"labels": genres, "cache_dir": cache_dir, "progress": progress}
    train_x, train_y, train_clip = segment_embeddings(space, train_table, **kw)
    test_x, test_y, test_clip = segment_embeddings(space, test_table, **kw)
    if len(np.unique(train_y)) < 2:
        raise DatasetError("the embedding probe needs training clips of two genres")
    head = GenreHead.fit(train_x, [genres[int(i)] for i in train_y], seed=seed)
    labels = [genres[int(i)] for i in test_y]
    result = clip_accuracy(head.predict_proba(test_x), test_clip, labels, head.genres)
    result.update(
        {
            "model": space.name,
            "embedding_dim": int(space.embedding_dim),
            "train_clips": len(np.unique(train_clip)),
            "train_segments": len(train_x),
        }
    )
    return head, result


# --- interpolation --------------------------------------------------------------------------


def walk_log_mels(
    space: Any,
    za: np.ndarray,
    zb: np.ndarray,
    *,
    steps: int = 9,
    method: str = "slerp",
    time_a: np.ndarray | None = None,
) -> np.ndarray:
    """Decoded log-mels ``(steps, frames, mels)`` of the walk between two latents ``(dim,)``.

    One decoder pass (:meth:`LatentSpace.interpolate`, no audio), ``za`` first. ``time_a``
    ``(time_steps, time_dim)``: the first segment's time-varying latent, which every step
    keeps (as ``interpolate`` does with a clip); ``None``: the prior's.
    """
    a: Any = za
    if time_a is not None:
        one = np.asarray(za, np.float32)[None]
        a = Encoding(
            mean=one,
            log_var=np.zeros_like(one),
            z=one,
            lengths=np.array([space.model.samples]),
            num_samples=int(space.model.samples),
            sample_rate=space.sample_rate,
            time=np.asarray(time_a, np.float32)[None],
        )
    path = space.interpolate(a, zb, steps=steps, method=method, audio=False)
    return np.concatenate([s.log_mel for s in path])


def _genre_confidence(space: Any, head: Any, log_mels: np.ndarray) -> float:
    """Mean top probability of the genre head on re-encoded log-mels ``(n, frames, mels)``;
    a model that encodes waveforms re-encodes their inversion to audio."""
    if space.model.encodes_log_mel:
        z = space.model.encode_log_mel(log_mels)
    else:
        waves = space.to_audio_many(log_mels[:, None])
        z, _, _ = space.model.encode(waves, sample=False)
    return float(head.predict_proba(z).max(1).mean())


def _interpolation(
    space, z, ref, clip_index, labels, train_ref, *, pairs: int, seed: int, z_time=None
):
    """Smoothness and realism of latent paths between first segments of two test clips
    (each path keeps the first clip's time-varying latent, ``z_time``, when there is one)."""
    rng = np.random.default_rng(seed)
    firsts = {}
    for i, c in enumerate(clip_index):
        firsts.setdefault(int(c), i)
    rows = list(firsts.values())
    candidates = [(a, b) for a in rows for b in rows if a < b and labels[a] != labels[b]]
    if not candidates:
        candidates = [(a, b) for a in rows for b in rows if a < b]
    if not candidates or pairs < 1:
        return None
    chosen = [candidates[i] for i in rng.permutation(len(candidates))[:pairs]]
    head = space.genre_head
    out: dict[str, Any] = {"pairs": len(chosen), "steps": 9}
    paths: dict[str, list[np.ndarray]] = {"slerp": [], "lerp": [], "crossfade": []}
    for a, b in chosen:
        for method in ("slerp", "lerp"):
            time_a = None if z_time is None else z_time[a]
            paths[method].append(
                walk_log_mels(space, z[a], z[b], steps=9, method=method, time_a=time_a)
            )
        paths["crossfade"].append(metrics.crossfade_log_mels(ref[a], ref[b], 9))
    for name, logs in paths.items():
        smooth = [metrics.interpolation_smoothness(p) for p in logs]
        middles = np.concatenate([p[1:-1] for p in logs])
        entry = {
            "smoothness": float(np.mean(smooth)),
            "nearest_train_db": float(metrics.nearest_distance(middles, train_ref).mean()),
        }
        if head is not None:
            entry["genre_confidence"] = _genre_confidence(space, head, middles)
        out[name] = entry
    return out


# --- the evaluations ------------------------------------------------------------------------


def _time_latent_figures(model, z_time, rec, pca_ref, pca_frames, test_ref, frames, *, seed):
    """Global + time-varying latent RMSE beside PCA with as many numbers per segment (and
    the decodes), for a model with a time-varying latent (``z_time``); else ``None``."""
    if z_time is None:
        return None
    decoded = model.decode(rec.z, z_time=z_time)
    rmse = float(metrics.spectral_rmse_db(test_ref, decoded, frames=frames).mean())
    numbers = int(model.latent_dim + model.time_steps * model.time_latent_dim)
    # PCA cannot have more components than training segments (tiny test sets).
    components = min(numbers, len(pca_ref) - 1)
    pca = pca_baselines(pca_ref, pca_frames, test_ref, n_components=components, seed=seed)
    pca_rmse = float(metrics.spectral_rmse_db(test_ref, pca.exact, frames=frames).mean())
    return {
        "decoded": decoded,
        "global_time_rmse_db": rmse,
        "numbers_per_segment": numbers,
        "pca_same_numbers_components": components,
        "time_latent": [int(model.time_steps), int(model.time_latent_dim)],
        "pca_same_numbers_rmse_db": pca_rmse,
        "reduction_vs_pca_same_numbers": 1.0 - rmse / pca_rmse,
    }


def evaluate_reconstruction(
    model: Any,
    test_table: Any,
    *,
    train_table: Any | None = None,
    batch_size: int = 32,
    cache_dir: str | os.PathLike | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Latent spectral RMSE of ``model`` on a table's segments, with the PCA baseline.

    Args:
        model: a trained ``MusicVAE`` or ``MusicAutoencoder``.
        test_table: clips to measure (a :class:`~keras_musiclatent.data.ClipTable`).
        train_table: clips whose segments fit the PCA baseline (skipped when ``None``).
        batch_size: segments per forward pass.
        cache_dir: decoded-audio cache of the data module.
        seed: PCA seed.

    Returns:
        A JSON-ready dict: segment and clip counts, ``latent_rmse_db`` (mean over segments),
        ``pca_rmse_db`` and the relative improvement, ``active_units``, timings.
    """
    start = time.time()
    waveforms, lengths, _, _ = segments_array(
        test_table,
        sample_rate=int(model.sample_rate),
        segment_seconds=float(model.segment_seconds),
        cache_dir=cache_dir,
    )
    rec = reconstruct_segments(model, waveforms, lengths, batch_size=batch_size)
    result: dict[str, Any] = {
        "clips": len(test_table),
        "segments": len(waveforms),
        "latent_dim": int(rec.z.shape[1]),
        "latent_rmse_db": float(rec.rmse_db.mean()),
        "active_units": int(active_units(rec.z)),
    }
    if train_table is not None:
        train_ref, train_frames = table_log_mels(
            model, [train_table], cache_dir=cache_dir, batch_size=batch_size
        )
        pca = pca_baseline(
            train_ref, train_frames, rec.reference, n_components=int(rec.z.shape[1]), seed=seed
        )
        pca_rmse = float(metrics.spectral_rmse_db(rec.reference, pca, frames=rec.frames).mean())
        result.update(
            {
                "train_segments": len(train_ref),
                "pca_rmse_db": pca_rmse,
                "rmse_reduction_vs_pca": 1.0 - result["latent_rmse_db"] / pca_rmse,
            }
        )
    result["seconds"] = round(time.time() - start, 1)
    return result


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
    peer: Any | None = None,
    peer_note: str | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> dict[str, Any]:
    """All card figures of ``space`` on ``test_table``.

    - reconstruction: latent and audio spectral RMSE; PCA at the same number of dimensions
      and at the same bitrate (its coefficients quantised to as many bits);
    - compression: bitrate and ratio to 16-bit PCM;
    - genre: clip-level latent-probe accuracy (overall, per genre, confusion matrix) beside
      MFCC statistics + logistic regression and, with ``peer``, the pretrained peer's
      embedding probe (:func:`embedding_probe`, e.g. ``musicnn-msd``);
    - interpolation: smoothness and realism of slerp/lerp paths beside the data-space
      crossfade;
    - active units.

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
        peer: a :class:`~keras_musiclatent.LatentSpace` whose embeddings are probed on the same
            clips (``None``: no peer row).
        peer_note: why there is no peer row (stored in the result and shown in the card).
        seed: every random choice.
        progress: a progress bar on stderr, one step per figure group (:data:`EVALUATE_STEPS`),
            with bars of the clips read inside a step (default: in a terminal or notebook).

    Returns:
        A JSON-ready dict (see :func:`keras_musiclatent.evaluate.card.render_card`).
    """
    total = len(EVALUATE_STEPS) - (peer is None)
    with progress_counter(total=total, desc="evaluate", unit="step", progress=progress) as bar:
        return _evaluate_space(
            space,
            test_table,
            train_table=train_table,
            unlabelled_table=unlabelled_table,
            cache_dir=cache_dir,
            audio_segments=audio_segments,
            interpolation_pairs=interpolation_pairs,
            reference_segments=reference_segments,
            peer=peer,
            peer_note=peer_note,
            seed=seed,
            progress=progress,
            bar=bar,
        )


#: The steps :func:`evaluate_space`'s progress bar counts (``peer`` only with a peer).
EVALUATE_STEPS = (
    "read clips",
    "reconstruct",
    "PCA",
    "invert audio",
    "genre",
    "peer",
    "interpolate",
)


def _evaluate_space(
    space: Any,
    test_table: Any,
    *,
    train_table: Any,
    unlabelled_table: Any | None,
    cache_dir: str | os.PathLike | None,
    audio_segments: int,
    interpolation_pairs: int,
    reference_segments: int,
    peer: Any | None,
    peer_note: str | None,
    seed: int,
    progress: bool | None,
    bar: Counter,
) -> dict[str, Any]:
    start = time.time()
    bar.set_description("evaluate: read clips")
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
    bar.update()

    # Reconstruction.
    bar.set_description("evaluate: reconstruct")
    rec = reconstruct_segments(model, test_w, test_len)
    z_test, test_ref, frames, decoded = rec.z, rec.reference, rec.frames, rec.decoded
    train_ref = log_mels(model, train_w)
    train_frames = _frames(model, train_len, train_ref)
    bar.update()
    bar.set_description("evaluate: PCA")
    pca_ref, pca_frames = train_ref, train_frames
    if unlabelled_table is not None and len(unlabelled_table):
        extra_ref, extra_frames = table_log_mels(
            model, [unlabelled_table], cache_dir=cache_dir, progress=progress
        )
        pca_ref = np.concatenate([train_ref, extra_ref])
        pca_frames = np.concatenate([train_frames, extra_frames])
    bits = space.bits_per_dim
    pca = pca_baselines(
        pca_ref, pca_frames, test_ref, n_components=space.latent_dim, bits=bits, seed=seed
    )
    pca_rmse = float(metrics.spectral_rmse_db(test_ref, pca.exact, frames=frames).mean())
    pca_q_rmse = float(metrics.spectral_rmse_db(test_ref, pca.quantised, frames=frames).mean())
    z_time = model.encode_time(test_w) if getattr(model, "time_latent_dim", 0) else None
    timed = _time_latent_figures(
        model, z_time, rec, pca_ref, pca_frames, test_ref, frames, seed=seed
    )
    if timed is not None:
        # A listener hears the decode of both latents.
        decoded = timed.pop("decoded")
    del pca_ref
    bar.update()

    # What a listener gets: invert decodes (and, for scale, the original log-mels).
    pick = np.unique(np.linspace(0, len(test_w) - 1, min(audio_segments, len(test_w))).astype(int))
    sr = space.sample_rate
    kw_mel = {
        "sample_rate": sr,
        "n_fft": int(model.n_fft),
        "hop_length": hop,
        "n_mels": int(model.n_mels),
    }
    bar.set_description("evaluate: invert audio")
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

    bar.update()

    # Genre: latent probe vs MFCC statistics, at clip level.
    bar.set_description("evaluate: genre")
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
    test_labels = [genres[int(i)] for i in test_y]
    genre = {
        "genres": genres,
        "head": head_source,
        "latent_probe": clip_accuracy(latent_probs, test_clip, test_labels, genres),
        "mfcc_logistic": clip_accuracy(mfcc_probs, test_clip, test_labels, genres),
        "chance": float(1.0 / len(genres)),
    }
    bar.update()
    if peer is not None:
        bar.set_description("evaluate: peer")
        _, genre["peer"] = embedding_probe(
            peer,
            test_table,
            train_table=train_table,
            cache_dir=cache_dir,
            seed=seed,
            progress=progress,
        )
        bar.update()
    elif peer_note:
        genre["peer_note"] = peer_note
    del train_w

    # Interpolation.
    bar.set_description("evaluate: interpolate")
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
            z_time=z_time,
        )
    finally:
        space.genre_head = saved_head
    bar.update()

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
            "latent_rmse_db": float(rec.rmse_db.mean()),
            "pca_same_dims_rmse_db": pca_rmse,
            "reduction_vs_pca": 1.0 - float(rec.rmse_db.mean()) / pca_rmse,
            "pca_same_bitrate_rmse_db": pca_q_rmse,
            "audio_rmse_db": float(audio_rmse.mean()),
            "inversion_only_rmse_db": float(inversion_rmse.mean()),
            "audio_segments": len(pick),
            "inversion_seconds_per_segment": round(inv_seconds, 3),
            **(timed or {}),
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
