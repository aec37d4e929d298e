"""What the latent dimensions do: probe one, explain them all, attribute vectors, shifts.

Every function takes a :class:`~keras_musiclatent.latent_space.LatentSpace` first; its methods
``probe``, ``explain_dimensions``, ``attribute_vector`` and ``shift`` call them. Effects are
stated in units of a descriptor's spread over real music (its standard deviation over 3-s
GTZAN segments, :mod:`keras_musiclatent.audio.descriptor_spread`), so a large change of a
descriptor that hardly varies never outranks a real change of another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from keras_musiclatent._progress import progress_bar
from keras_musiclatent.audio.descriptor_spread import SPREAD
from keras_musiclatent.audio.features import DESCRIPTORS, UNITS, describe, describe_batch
from keras_musiclatent.errors import ConfigError, LatentShapeError
from keras_musiclatent.latent_types import Decoded, Encoding

if TYPE_CHECKING:
    from keras_musiclatent.latent_space import LatentSpace

__all__ = [
    "DimensionReport",
    "Probe",
    "attribute_vector",
    "explain_dimensions",
    "probe",
    "shift",
]


@dataclass
class Probe:
    """One dimension swept on one segment, and what the audio descriptors did.

    Attributes:
        dim: the dimension.
        values: ``(k,)`` values the dimension took.
        sds: ``(k,)`` the same in training standard deviations from the training mean.
        decoded: the ``k`` decodes (``z`` ``(k, d)``, ``log_mel`` ``(k, frames, mels)``, audio
            ``(k * samples,)`` the sweep played in order).
        descriptors: ``{name: (k,) values}`` of each decode's audio.
        effects: ``{name: correlation r with the swept value}``, in the order of ``sizes``.
        sizes: ``{name: change from the sweep's first to last value, in spreads of real
            music}``, largest magnitude first: the ranking.
    """

    dim: int
    values: np.ndarray
    sds: np.ndarray
    decoded: Decoded
    descriptors: dict[str, np.ndarray]
    effects: dict[str, float] = field(default_factory=dict)
    sizes: dict[str, float] = field(default_factory=dict)

    @property
    def top_descriptor(self) -> str:
        """The descriptor the sweep moves most, in spreads of real music."""
        return next(iter(self.sizes))

    def summary(self) -> str:
        """One sentence: the descriptor moved most (effect size, values, r).

        Example:
            ``dimension 5: pushing it up lowers spectral_centroid (brightness ...) by 1.21
            spreads of real music, 2288 → 1614 Hz across the sweep (r = -0.98)``
        """
        name = self.top_descriptor
        size = self.sizes[name]
        lo, hi = self.descriptors[name][0], self.descriptors[name][-1]
        unit = f" {UNITS[name]}" if UNITS[name] else ""
        direction = "raises" if size > 0 else "lowers"
        return (
            f"dimension {self.dim}: pushing it up {direction} {name} ({DESCRIPTORS[name]}) "
            f"by {abs(size):.2f} spreads of real music, {lo:.4g} → {hi:.4g}{unit} across the "
            f"sweep (r = {self.effects[name]:+.2f})"
        )


@dataclass(frozen=True)
class DimensionReport:
    """What one latent dimension does (see :func:`explain_dimensions`).

    Attributes:
        dim: the dimension.
        change_db: mean absolute log-mel change (dB) between the sweep's ends.
        descriptor: the descriptor it moves most, in spreads of real music.
        correlation: within-segment correlation r of that descriptor with the swept value.
        correlations: every descriptor's r.
        size: the mean change of ``descriptor`` over the sweep, in spreads of real music.
        sizes: every descriptor's size.
        segments: the reference segments it was measured on.
    """

    dim: int
    change_db: float
    descriptor: str
    correlation: float
    correlations: dict[str, float]
    size: float = 0.0
    sizes: dict[str, float] = field(default_factory=dict)
    segments: int = 0


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else 0.0


def _check_dim(space: LatentSpace, dim: Any) -> int:
    if not isinstance(dim, int | np.integer) or not 0 <= int(dim) < space.latent_dim:
        raise LatentShapeError(
            f"dimension {dim!r} is out of range: this latent space has {space.latent_dim} "
            f"dimensions (0..{space.latent_dim - 1})"
        )
    return int(dim)


def _by_size(sizes: dict[str, float]) -> list[str]:
    return sorted(sizes, key=lambda name: -abs(sizes[name]))


def probe(
    space: LatentSpace,
    audio_or_path: Any,
    dim: int,
    *,
    values: Sequence[float] | None = None,
    segment: int = 0,
    n_iter: int = 16,
) -> Probe:
    """Decode one segment with dimension ``dim`` swept, and measure the audio descriptors.

    Args:
        space: the latent space.
        audio_or_path: the clip (path, waveform, :class:`Encoding` or latents).
        dim: the dimension to sweep.
        values: absolute values for the dimension (default: -3..+3 training standard
            deviations around the training mean, 7 steps).
        segment: which segment of the clip.
        n_iter: Griffin-Lim iterations of the sweep's audio.

    Returns:
        :class:`Probe`; ``probe.summary()`` says it in one sentence.

    Example:
        >>> space.probe("song.wav", dim=5).summary()  # doctest: +SKIP
    """
    dim = _check_dim(space, dim)
    # Only the global latent moves; the segment keeps its own time-varying latent.
    z0, t0 = space.latents_and_time(audio_or_path)
    if not 0 <= segment < len(z0):
        raise LatentShapeError(f"segment {segment} out of range (clip has {len(z0)})")
    mean, std = space.latent_statistics()
    if values is None:
        sds = np.linspace(-3.0, 3.0, 7)
        vals = mean[dim] + sds * std[dim]
    else:
        vals = np.asarray(values, np.float64).ravel()
        if vals.size < 2 or not np.isfinite(vals).all():
            raise ConfigError("values must hold at least two finite numbers")
        sds = (vals - mean[dim]) / std[dim]
    z = np.repeat(z0[segment : segment + 1], len(vals), axis=0).astype(np.float32)
    z[:, dim] = vals
    time = None if t0 is None else np.repeat(t0[segment : segment + 1], len(vals), axis=0)
    log_mel = space.decode(z, time=time)
    # One inversion of the whole sweep, normalised together: loudness changes stay visible.
    waves = space.to_audio(log_mel, n_iter=n_iter).reshape(len(vals), -1)
    descriptors = describe_batch(waves, sample_rate=space.sample_rate)
    sizes = {k: float((v[-1] - v[0]) / SPREAD[k]) for k, v in descriptors.items()}
    order = _by_size(sizes)
    return Probe(
        dim=dim,
        values=vals,
        sds=np.asarray(sds),
        decoded=Decoded(z, log_mel, waves.reshape(-1)),
        descriptors=descriptors,
        effects={k: _correlation(vals, descriptors[k]) for k in order},
        sizes={k: sizes[k] for k in order},
    )


def _reference_segments(
    space: LatentSpace, reference: Sequence[Any], limit: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to ``limit`` segment latents taken evenly from every reference clip, with their
    time-varying latents (``None`` when the model has none or a reference is bare latents).

    Each clip gives ``ceil(limit / clips)`` segments spread over its length (all of a short
    clip), so every clip counts and the set does not depend on the clips' order.
    """
    latents = [space.latents_and_time(r) for r in reference]
    per_clip = max(1, -(-limit // len(latents)))
    rows, times = [], []
    for z, t in latents:
        idx = np.unique(np.linspace(0, len(z) - 1, min(per_clip, len(z))).round().astype(int))
        rows.append(z[idx])
        times.append(None if t is None else t[idx])
    time = None if any(t is None for t in times) else np.concatenate(times)
    return np.concatenate(rows).astype(np.float32), time


def explain_dimensions(
    space: LatentSpace,
    reference: Sequence[Any],
    *,
    dims: Sequence[int] | None = None,
    sds: Sequence[float] = (-2.0, 0.0, 2.0),
    max_segments: int = 8,
    n_iter: int = 8,
    progress: bool | None = None,
) -> list[DimensionReport]:
    """For each dimension: how much it changes the sound, and which descriptor it moves.

    Each dimension is swept over ``sds`` training standard deviations on reference segments
    drawn evenly from every reference clip (``max_segments`` in all, at least one per clip);
    each dimension's sweep is decoded and inverted in one batch. Descriptors are compared
    within each segment (its own level removed): ``size`` is the mean change across the
    sweep in spreads of real music, ``correlation`` the within-segment r.

    Args:
        space: the latent space.
        reference: clips (paths, waveforms, encodings or latents).
        dims: dimensions to explain (default: all).
        sds: sweep points in training standard deviations.
        max_segments: reference segments in all.
        n_iter: Griffin-Lim iterations per decode.
        progress: a progress bar (default: in a terminal or notebook).

    Returns:
        :class:`DimensionReport` s, the dimensions that change the log-mel most first.

    Example:
        >>> reports = space.explain_dimensions(["a.wav", "b.wav"])  # doctest: +SKIP
        >>> reports[0].descriptor, reports[0].size  # doctest: +SKIP
    """
    if not reference:
        raise ConfigError("explain_dimensions needs at least one reference clip")
    if max_segments < 1:
        raise ConfigError(f"max_segments must be at least 1, got {max_segments}")
    dims = list(range(space.latent_dim)) if dims is None else [_check_dim(space, d) for d in dims]
    sds_arr = np.asarray(sds, np.float64)
    if sds_arr.size < 2:
        raise ConfigError("sds must hold at least two values")
    base, base_time = _reference_segments(space, reference, max_segments)
    mean, std = space.latent_statistics()
    n, k = len(base), len(sds_arr)
    reports = []
    for dim in progress_bar(dims, desc="dimensions", progress=progress, unit="dim"):
        z = np.repeat(base, k, axis=0)
        z[:, dim] = np.tile(mean[dim] + sds_arr * std[dim], n)
        log_mel = space.decode(z, time=None if base_time is None else np.repeat(base_time, k, 0))
        shaped = log_mel.reshape(n, k, *log_mel.shape[1:])
        change = float(np.mean(np.abs(shaped[:, -1] - shaped[:, 0])))
        waves = space.to_audio(log_mel, n_iter=n_iter).reshape(n * k, -1)
        desc = describe_batch(waves, sample_rate=space.sample_rate)
        corr, sizes = {}, {}
        x = np.tile(sds_arr, n)
        for name, v in desc.items():
            per_segment = v.reshape(n, k)
            centred = (per_segment - per_segment.mean(1, keepdims=True)).ravel()
            corr[name] = _correlation(x, centred)
            sizes[name] = float(np.mean(per_segment[:, -1] - per_segment[:, 0]) / SPREAD[name])
        top = _by_size(sizes)[0]
        reports.append(
            DimensionReport(dim, change, top, corr[top], corr, sizes[top], sizes, segments=n)
        )
    return sorted(reports, key=lambda r: -r.change_db)


def attribute_vector(
    space: LatentSpace,
    clips: Sequence[Any],
    *,
    by: str | Sequence[str],
    positive: str | None = None,
    negative: str | None = None,
    quantile: float = 0.25,
) -> np.ndarray:
    """MusicVAE-style attribute vector: mean latent of the "high" group minus the "low" one.

    Args:
        space: the latent space.
        clips: paths or waveforms.
        by: a descriptor name (high/low = top/bottom ``quantile`` of the clips' segments
            by that descriptor), or one label per clip.
        positive: with labels, the label of the high group (required).
        negative: with labels, the low group's label (default: every other label).
        quantile: group size for a descriptor.

    Returns:
        ``(latent_dim,)`` float32 vector for :func:`shift`.

    The vector lives in the global latent (a model's time-varying latent is left out).

    Example:
        >>> brighter = space.attribute_vector(clips, by="spectral_centroid")  # doctest: +SKIP
    """
    if not clips:
        raise ConfigError("attribute_vector needs clips")
    if isinstance(by, str):
        if by not in DESCRIPTORS:
            raise ConfigError(f"unknown descriptor {by!r}; choose from {list(DESCRIPTORS)}")
        if not 0 < quantile <= 0.5:
            raise ConfigError("quantile must be in (0, 0.5]")
        if any(isinstance(c, Encoding) for c in clips):
            raise ConfigError("a descriptor needs the clips' audio, not their encodings")
        z, scores = [], []
        # One decoding pass per clip: each window is encoded and described.
        for clip in clips:
            for windows, _ in space.segment_windows(clip):
                z.append(space.model.encode(windows, sample=False)[0])
                scores += [
                    describe(w, sample_rate=space.sample_rate, names=[by])[by] for w in windows
                ]
        z_arr, s = np.concatenate(z), np.asarray(scores)
        k = max(1, int(round(quantile * len(s))))
        order = np.argsort(s)
        if 2 * k > len(s):
            raise ConfigError("too few segments to form high and low groups")
        return (z_arr[order[-k:]].mean(0) - z_arr[order[:k]].mean(0)).astype(np.float32)
    encodings = [space.encode(c) if not isinstance(c, Encoding) else c for c in clips]
    labels = [str(x) for x in by]
    if len(labels) != len(encodings):
        raise ConfigError(f"{len(labels)} labels for {len(encodings)} clips")
    if positive is None:
        raise ConfigError("with labels, name the positive label (positive=...)")
    hi = [e.clip_mean for e, lab in zip(encodings, labels, strict=True) if lab == positive]
    lo = [
        e.clip_mean
        for e, lab in zip(encodings, labels, strict=True)
        if (lab == negative if negative is not None else lab != positive)
    ]
    if not hi or not lo:
        raise ConfigError(f"no clips in the {'positive' if not hi else 'negative'} group")
    return (np.mean(hi, 0) - np.mean(lo, 0)).astype(np.float32)


def shift(
    space: LatentSpace,
    audio_or_path: Any,
    vector: np.ndarray,
    *,
    amount: float = 1.0,
    audio: bool = True,
) -> Decoded:
    """Decode a clip with ``amount * vector`` added to every segment's latent.

    Returns:
        :class:`Decoded` with ``z`` ``(segments, latent_dim)``, ``log_mel``
        ``(segments, frames, n_mels)`` and, with ``audio``, the waveform.

    Example:
        >>> brighter_song = space.shift("song.wav", brighter, amount=1.5)  # doctest: +SKIP
    """
    vec = np.asarray(vector, np.float32).ravel()
    if vec.shape != (space.latent_dim,):
        raise LatentShapeError(
            f"vector must have shape ({space.latent_dim},), got {np.shape(vector)}"
        )
    # The global latent moves; every segment keeps its own time-varying latent.
    z0, time = space.latents_and_time(audio_or_path)
    z = (z0 + amount * vec).astype(np.float32)
    log_mel = space.decode(z, time=time)
    return Decoded(z, log_mel, space.to_audio(log_mel) if audio else None)
