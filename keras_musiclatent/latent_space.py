"""``LatentSpace``: one trained model and what belongs to it, behind a small API.

Encode music to latents, decode latents to log-mels and audio, interpolate, sample, probe a
dimension, build attribute vectors, classify genre and compress to bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent import audio as audio_io
from keras_musiclatent.errors import (
    CompressedStreamError,
    ConfigError,
    EmptyAudioError,
    IncompatibleModelError,
    LatentShapeError,
    MissingComponentError,
)
from keras_musiclatent.genre_head import GenreHead, LatentStats

__all__ = ["Decoded", "DimensionReport", "Encoding", "LatentSpace", "Probe", "slerp"]

AudioSource = str | os.PathLike | np.ndarray

# Segments encoded per forward pass; also bounds the memory of a long file's encoding.
_BATCH = 32


@dataclass(frozen=True)
class Encoding:
    """Latents of one clip, one row per 3-s segment (EVALUATION.md segmentation).

    Attributes:
        mean: ``(segments, latent_dim)`` posterior means (the autoencoder's codes).
        log_var: ``(segments, latent_dim)`` posterior log-variances (zeros for the autoencoder).
        z: ``(segments, latent_dim)`` a posterior sample (``mean`` unless sampling was asked).
        lengths: ``(segments,)`` real samples in each segment.
        num_samples: samples of the clip at ``sample_rate``.
        sample_rate: Hz.
    """

    mean: np.ndarray
    log_var: np.ndarray
    z: np.ndarray
    lengths: np.ndarray
    num_samples: int
    sample_rate: int

    @property
    def segments(self) -> int:
        return int(self.mean.shape[0])

    @property
    def clip_mean(self) -> np.ndarray:
        """``(latent_dim,)`` mean latent of the clip."""
        return self.mean.mean(axis=0)


@dataclass
class Decoded:
    """Latents with their decoded log-mel and, when asked, audio.

    Attributes:
        z: ``(segments, latent_dim)``.
        log_mel: ``(segments, frames, n_mels)`` dB.
        audio: ``(samples,)`` float32 (segments joined), or ``None``.
    """

    z: np.ndarray
    log_mel: np.ndarray
    audio: np.ndarray | None = None


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
        effects: ``{name: correlation with the swept value}``, strongest first.
    """

    dim: int
    values: np.ndarray
    sds: np.ndarray
    decoded: Decoded
    descriptors: dict[str, np.ndarray]
    effects: dict[str, float] = field(default_factory=dict)

    @property
    def top_descriptor(self) -> str:
        return next(iter(self.effects))

    def summary(self) -> str:
        """One sentence saying what the dimension does."""
        from keras_musiclatent.audio.features import DESCRIPTORS

        name = self.top_descriptor
        r = self.effects[name]
        lo, hi = self.descriptors[name][0], self.descriptors[name][-1]
        direction = "raises" if r > 0 else "lowers"
        return (
            f"dimension {self.dim}: pushing it up {direction} {name} ({DESCRIPTORS[name]}), "
            f"r = {r:+.2f}, {lo:.4g} → {hi:.4g} across the sweep"
        )


@dataclass(frozen=True)
class DimensionReport:
    """What one latent dimension does (see :meth:`LatentSpace.explain_dimensions`).

    Attributes:
        dim: the dimension.
        change_db: mean absolute log-mel change (dB) between the sweep's ends.
        descriptor: the descriptor it moves most.
        correlation: within-segment correlation of that descriptor with the swept value.
        correlations: every descriptor's correlation.
    """

    dim: int
    change_db: float
    descriptor: str
    correlation: float
    correlations: dict[str, float]


def slerp(p0: np.ndarray, p1: np.ndarray, t: float) -> np.ndarray:
    """Spherical interpolation between rows of ``p0`` and ``p1`` (lerp where they are parallel).

    Example:
        >>> slerp(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), 0.5).round(3)
        array([[0.707, 0.707]])
    """
    p0 = np.atleast_2d(np.asarray(p0, np.float64))
    p1 = np.atleast_2d(np.asarray(p1, np.float64))
    n0 = np.linalg.norm(p0, axis=1, keepdims=True)
    n1 = np.linalg.norm(p1, axis=1, keepdims=True)
    cos = np.sum(p0 * p1, axis=1, keepdims=True) / np.maximum(n0 * n1, 1e-12)
    omega = np.arccos(np.clip(cos, -1.0, 1.0))
    so = np.sin(omega)
    parallel = so < 1e-6
    safe = np.where(parallel, 1.0, so)
    out = np.sin((1 - t) * omega) / safe * p0 + np.sin(t * omega) / safe * p1
    return np.where(parallel, (1 - t) * p0 + t * p1, out)


def _peak_normalised(y: np.ndarray) -> np.ndarray:
    """``y`` scaled down to a peak of 1 when it exceeds it (inversion can overshoot)."""
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return y / peak if peak > 1.0 else y


def _correlation(x: np.ndarray, y: np.ndarray) -> float:
    x = x - x.mean()
    y = y - y.mean()
    denom = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denom) if denom > 0 else 0.0


class LatentSpace:
    """A trained model's latent space: encode, decode, interpolate, probe, classify, compress.

    Args:
        model: a trained ``MusicVAE`` or ``MusicAutoencoder``.
        name: how streams and reports name the model.
        weights_sha256: identifies the weights in compressed streams.
        latent_stats: training latent statistics (for ``probe`` ranges and ``sample``).
        genre_head: the latent-probe genre classifier (for ``classify``).
        metadata: free-form facts about the model (data, versions, metrics).
        path: where it was loaded from.

    Example:
        >>> space = LatentSpace.load("gtzan-vae")  # doctest: +SKIP
        >>> enc = space.encode("song.wav")  # doctest: +SKIP
        >>> steps = space.interpolate("a.wav", "b.wav", steps=9)  # doctest: +SKIP
    """

    def __init__(
        self,
        model: Any,
        *,
        name: str = "model",
        weights_sha256: str | None = None,
        latent_stats: LatentStats | None = None,
        genre_head: GenreHead | None = None,
        metadata: dict[str, Any] | None = None,
        path: Path | None = None,
    ) -> None:
        self.model = model
        self.name = name
        self.weights_sha256 = weights_sha256 or "0" * 64
        self.latent_stats = latent_stats
        self.genre_head = genre_head
        self.metadata = dict(metadata or {})
        self.path = path
        if genre_head is not None and genre_head.latent_dim != self.latent_dim:
            raise IncompatibleModelError(
                f"genre head expects {genre_head.latent_dim}-d latents, model has {self.latent_dim}"
            )

    # --- loading and saving ---------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | os.PathLike) -> LatentSpace:
        """Load a zoo model by name, or a model folder / training run / ``.keras`` file.

        Raises:
            UnknownModelError: not a zoo name and not an existing path (lists the zoo).
            CorruptModelError: a file fails its sha256 or does not parse.
        """
        from keras_musiclatent.presets import registry as zoo
        from keras_musiclatent.presets.files import load_model_files

        text = os.fspath(name_or_path)
        path = Path(text)
        if path.exists():
            loaded = load_model_files(path)
            name = loaded.metadata.get("name") or path.stem
        else:
            folder, expected = zoo.resolve(text)
            loaded = load_model_files(folder, expected_sha256=expected)
            name = text
        return cls(
            loaded.model,
            name=name,
            weights_sha256=loaded.weights_sha256,
            latent_stats=loaded.latent_stats,
            genre_head=loaded.genre_head,
            metadata=loaded.metadata,
            path=loaded.path,
        )

    def save(
        self, out: str | os.PathLike, *, metadata: dict[str, Any] | None = None, overwrite=False
    ) -> Path:
        """Write a packaged model folder (config, weights, statistics, genre head, metadata)."""
        from keras_musiclatent.presets.files import save_model_files

        meta = {**self.metadata, **(metadata or {}), "name": self.name}
        return save_model_files(
            out,
            self.model,
            latent_stats=self.latent_stats,
            genre_head=self.genre_head,
            metadata=meta,
            overwrite=overwrite,
        )

    # --- properties -----------------------------------------------------------------------

    @property
    def latent_dim(self) -> int:
        return int(self.model.latent_dim)

    @property
    def sample_rate(self) -> int:
        return int(self.model.sample_rate)

    @property
    def segment_seconds(self) -> float:
        return float(self.model.segment_seconds)

    @property
    def _grid(self) -> tuple[int, int]:
        """``(frames, n_mels)`` of one decoded segment."""
        return int(self.model.frames), int(self.model.n_mels)

    @property
    def genres(self) -> list[str]:
        """Genres of the genre head (empty without one)."""
        return list(self.genre_head.genres) if self.genre_head is not None else []

    @property
    def is_variational(self) -> bool:
        """True when the model has a gaussian bottleneck (a prior to sample from)."""
        return self.model.is_variational

    @property
    def bits_per_dim(self) -> int:
        """Bits per latent dimension in compressed streams."""
        bits = getattr(self.model, "bits", None)
        return int(bits) if bits else 8

    @property
    def bitrate(self) -> float:
        """Bits per second of the compressed latent (EVALUATION.md, header excluded)."""
        return self.latent_dim * self.bits_per_dim / self.segment_seconds

    def __repr__(self) -> str:
        return (
            f"LatentSpace({self.name!r}, {type(self.model).__name__}, latent_dim="
            f"{self.latent_dim}, sample_rate={self.sample_rate}, genres={len(self.genres)})"
        )

    # --- audio in -------------------------------------------------------------------------

    def _segment_batches(
        self, source: AudioSource, sr: int | None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Windows ``(<=_BATCH, samples)`` and real lengths, read with bounded memory."""
        if isinstance(source, np.ndarray):
            y = audio_io.prepare(source, sr=sr or self.sample_rate, target_sr=self.sample_rate)
            windows, lengths = audio_io.segment(y, self.sample_rate, self.segment_seconds)
            for i in range(0, len(windows), _BATCH):
                yield windows[i : i + _BATCH], lengths[i : i + _BATCH]
            return
        if sr is not None:
            raise ConfigError("sr applies to arrays only; files carry their own rate")
        try:
            yield from audio_io.stream_windows(
                audio_io.stream(source, sr=self.sample_rate),
                sample_rate=self.sample_rate,
                seconds=self.segment_seconds,
                batch=_BATCH,
            )
        except EmptyAudioError:
            raise EmptyAudioError(f"{source}: holds zero samples") from None

    def encode(
        self,
        audio_or_path: AudioSource,
        *,
        sr: int | None = None,
        sample: bool = False,
    ) -> Encoding:
        """Encode a clip (file path or waveform) to one latent per 3-s segment.

        Files are decoded block by block, so a long file needs memory for one batch of
        segments, not for the whole file.

        Args:
            audio_or_path: a path (WAV, FLAC, OGG, MP3, ...) or a ``(samples,)`` /
                ``(samples, channels)`` array.
            sr: the array's sample rate (default: the model's); not allowed with a path.
            sample: draw ``z`` from the posterior instead of returning the mean.

        Returns:
            :class:`Encoding` with ``(segments, latent_dim)`` arrays.

        Raises:
            AudioError (and subclasses): unreadable or invalid audio.
        """
        means, log_vars, zs, lengths = [], [], [], []
        for windows, lens in self._segment_batches(audio_or_path, sr):
            m, lv, z = self.model.encode(windows, sample=sample, batch_size=_BATCH)
            means.append(m)
            log_vars.append(lv)
            zs.append(z)
            lengths.append(lens)
        lengths_arr = np.concatenate(lengths).astype(np.int64)
        size = self.model.samples
        num_samples = int(size * (len(lengths_arr) - 1) + lengths_arr[-1])
        return Encoding(
            mean=np.concatenate(means),
            log_var=np.concatenate(log_vars),
            z=np.concatenate(zs),
            lengths=lengths_arr,
            num_samples=num_samples,
            sample_rate=self.sample_rate,
        )

    def log_mel(self, audio_or_path: AudioSource, *, sr: int | None = None) -> np.ndarray:
        """The model's input log-mel dB ``(segments, frames, n_mels)`` of a clip."""
        parts = [self.model.log_mel(w) for w, _ in self._segment_batches(audio_or_path, sr)]
        return np.concatenate(parts)

    # --- latents out ----------------------------------------------------------------------

    def _as_latents(self, z: Any) -> np.ndarray:
        if isinstance(z, Encoding):
            z = z.mean
        arr = np.asarray(z, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[None]
        if arr.ndim != 2 or arr.shape[1] != self.latent_dim:
            raise LatentShapeError(
                f"expected latents of shape (n, {self.latent_dim}) or ({self.latent_dim},), "
                f"got {np.shape(z)}"
            )
        if not np.isfinite(arr).all():
            raise LatentShapeError("latents hold NaN or infinite values")
        return arr

    def decode(self, z: Any) -> np.ndarray:
        """Latents ``(n, latent_dim)`` (or an Encoding) → log-mel dB ``(n, frames, mels)``."""
        return self.model.decode(self._as_latents(z), batch_size=_BATCH)

    def to_audio(
        self,
        log_mel: np.ndarray,
        *,
        n_iter: int = 32,
        num_samples: int | None = None,
        seed: int = 0,
    ) -> np.ndarray:
        """Log-mel dB ``(segments, frames, mels)`` → one waveform, segments joined in order.

        Args:
            log_mel: decoded (or input) log-mel segments.
            n_iter: Griffin-Lim iterations.
            num_samples: cut the result to this length (e.g. the original clip's).
            seed: seeds the initial phase.

        Returns:
            ``(samples,)`` float32 at :attr:`sample_rate`, peak at most 1.
        """
        db = np.asarray(log_mel, dtype=np.float32)
        if db.ndim == 2:
            db = db[None]
        y = self._invert(db, n_iter=n_iter, seed=seed).reshape(-1)
        if num_samples is not None:
            y = y[:num_samples]
        return _peak_normalised(y)

    def to_audio_many(self, log_mels: np.ndarray, *, n_iter: int = 32, seed: int = 0) -> np.ndarray:
        """:meth:`to_audio` of several clips ``(n, segments, frames, mels)`` in one batched
        inversion; returns ``(n, segments * samples)``, each row peak-normalised on its own."""
        db = np.asarray(log_mels, dtype=np.float32)
        if db.ndim != 4:
            raise LatentShapeError(f"expected (n, segments, frames, mels) log-mels, got {db.shape}")
        waves = self._invert(db.reshape(-1, *db.shape[2:]), n_iter=n_iter, seed=seed)
        return np.stack([_peak_normalised(row) for row in waves.reshape(len(db), -1)])

    def _invert(self, db: np.ndarray, *, n_iter: int, seed: int) -> np.ndarray:
        """``(segments, frames, mels)`` dB → ``(segments, samples)`` raw waveforms."""
        from keras_musiclatent.audio.inversion import logmel_to_audio

        if db.ndim != 3 or db.shape[-1] != self.model.n_mels:
            raise LatentShapeError(
                f"expected log-mels (segments, frames, {self.model.n_mels}), got {db.shape}"
            )
        waves = logmel_to_audio(
            db,
            sample_rate=self.sample_rate,
            n_fft=self.model.n_fft,
            hop_length=self.model.hop_length,
            n_iter=n_iter,
            length=self.model.samples,
            seed=seed,
        )
        return np.asarray(waves, np.float32).reshape(len(db), -1)

    def _decoded(self, z: np.ndarray, *, audio: bool, n_iter: int = 32) -> Decoded:
        log_mel = self.decode(z)
        return Decoded(z, log_mel, self.to_audio(log_mel, n_iter=n_iter) if audio else None)

    def reconstruct(
        self, audio_or_path: AudioSource, *, sr: int | None = None, n_iter: int = 32
    ) -> np.ndarray:
        """Encode, decode and invert a clip: the waveform a listener gets back."""
        enc = self.encode(audio_or_path, sr=sr)
        return self.to_audio(self.decode(enc.mean), n_iter=n_iter, num_samples=enc.num_samples)

    def sample(
        self, n: int = 1, *, temperature: float = 1.0, seed: int | None = None, audio: bool = True
    ) -> Decoded:
        """Decode ``n`` latents drawn from the prior (VAE) or the training latents' Gaussian.

        Args:
            n: how many 3-s segments.
            temperature: scales the standard deviation.
            seed: seeds the draw.
            audio: also invert to audio.
        """
        if n < 1 or temperature < 0:
            raise ConfigError("n must be >= 1 and temperature >= 0")
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal((n, self.latent_dim)) * temperature
        if self.is_variational:
            z = noise
        elif self.latent_stats is not None:
            z = self.latent_stats.mean + noise * self.latent_stats.std
        else:
            raise MissingComponentError(
                f"{self.name}: an autoencoder has no prior; sampling needs latent statistics "
                "(package the model with `musiclatent package`)"
            )
        return self._decoded(z.astype(np.float32), audio=audio)

    # --- interpolation ----------------------------------------------------------------------

    def _latents_of(self, x: Any) -> np.ndarray:
        if isinstance(x, Encoding):
            return x.mean
        if isinstance(x, str | os.PathLike):
            return self.encode(x).mean
        arr = np.asarray(x)
        # A (segments, latent_dim) or (latent_dim,) float array is taken as latents; any
        # other array is a waveform.
        if arr.dtype.kind == "f" and arr.ndim in (1, 2) and arr.shape[-1] == self.latent_dim:
            return self._as_latents(arr)
        return self.encode(arr).mean

    def interpolate(
        self,
        a: Any,
        b: Any,
        *,
        steps: int = 9,
        method: str = "slerp",
        audio: bool = True,
        n_iter: int = 32,
    ) -> list[Decoded]:
        """Walk from clip ``a`` to clip ``b`` in latent space, segment by segment.

        Args:
            a, b: paths, waveforms, :class:`Encoding` s or latents ``(segments, latent_dim)``.
                The longer clip is cut to the shorter one's segments.
            steps: points including both ends (>= 2).
            method: ``"slerp"`` (MusicVAE's default) or ``"lerp"``.
            audio: invert each step to audio.

        Returns:
            ``steps`` :class:`Decoded` results, ``a`` first.
        """
        if steps < 2:
            raise ConfigError(f"steps must be at least 2, got {steps}")
        if method not in ("slerp", "lerp"):
            raise ConfigError(f"method must be 'slerp' or 'lerp', got {method!r}")
        za, zb = self._latents_of(a), self._latents_of(b)
        k = min(len(za), len(zb))
        za, zb = za[:k], zb[:k]
        ts = np.linspace(0.0, 1.0, steps)
        path = np.stack(
            [slerp(za, zb, t) if method == "slerp" else (1 - t) * za + t * zb for t in ts]
        ).astype(np.float32)  # (steps, k, latent_dim)
        # One decoder pass and one batched inversion for the whole walk.
        log_mel = self.decode(path.reshape(steps * k, -1)).reshape(steps, k, *self._grid)
        waves = self.to_audio_many(log_mel, n_iter=n_iter) if audio else None
        return [
            Decoded(path[i], log_mel[i], None if waves is None else waves[i]) for i in range(steps)
        ]

    # --- probing ------------------------------------------------------------------------------

    def _check_dim(self, dim: int) -> int:
        if not isinstance(dim, int | np.integer) or not 0 <= int(dim) < self.latent_dim:
            raise LatentShapeError(
                f"dimension {dim!r} is out of range: this latent space has {self.latent_dim} "
                f"dimensions (0..{self.latent_dim - 1})"
            )
        return int(dim)

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        if self.latent_stats is not None:
            return self.latent_stats.mean, self.latent_stats.std
        if self.is_variational:
            return np.zeros(self.latent_dim, np.float32), np.ones(self.latent_dim, np.float32)
        raise MissingComponentError(
            f"{self.name}: probing an autoencoder needs latent statistics "
            "(package the model with `musiclatent package`)"
        )

    def probe(
        self,
        audio_or_path: Any,
        dim: int,
        *,
        values: Sequence[float] | None = None,
        segment: int = 0,
        n_iter: int = 16,
    ) -> Probe:
        """Decode one segment with dimension ``dim`` swept, and measure the audio descriptors.

        Args:
            audio_or_path: the clip (path, waveform, :class:`Encoding` or latents).
            dim: the dimension to sweep.
            values: absolute values for the dimension (default: -3..+3 training standard
                deviations around the training mean, 7 steps).
            segment: which segment of the clip.
            n_iter: Griffin-Lim iterations of the sweep's audio.

        Returns:
            :class:`Probe`; ``probe.summary()`` says it in one sentence.
        """
        from keras_musiclatent.audio.features import describe_batch

        dim = self._check_dim(dim)
        z0 = self._latents_of(audio_or_path)
        if not 0 <= segment < len(z0):
            raise LatentShapeError(f"segment {segment} out of range (clip has {len(z0)})")
        mean, std = self._stats()
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
        log_mel = self.decode(z)
        waves = self.to_audio(log_mel, n_iter=n_iter).reshape(len(vals), -1)
        descriptors = describe_batch(waves, sample_rate=self.sample_rate)
        effects = {k: _correlation(vals, v) for k, v in descriptors.items()}
        effects = dict(sorted(effects.items(), key=lambda kv: -abs(kv[1])))
        return Probe(
            dim=dim,
            values=vals,
            sds=np.asarray(sds),
            decoded=Decoded(z, log_mel, waves.reshape(-1)),
            descriptors=descriptors,
            effects=effects,
        )

    def explain_dimensions(
        self,
        reference: Sequence[Any],
        *,
        dims: Sequence[int] | None = None,
        sds: Sequence[float] = (-2.0, 0.0, 2.0),
        max_segments: int = 4,
        n_iter: int = 8,
        progress: bool = False,
    ) -> list[DimensionReport]:
        """For each dimension: how much it changes the sound, and which descriptor it moves.

        Each dimension is swept over ``sds`` training standard deviations on up to
        ``max_segments`` reference segments; descriptors are correlated with the swept value
        within each segment.

        Returns:
            :class:`DimensionReport` s, the dimensions that change the log-mel most first.
        """
        from keras_musiclatent.audio.features import describe_batch

        if not reference:
            raise ConfigError("explain_dimensions needs at least one reference clip")
        dims = list(range(self.latent_dim)) if dims is None else [self._check_dim(d) for d in dims]
        base = np.concatenate([self._latents_of(r) for r in reference])[:max_segments]
        mean, std = self._stats()
        sds_arr = np.asarray(sds, np.float64)
        if sds_arr.size < 2:
            raise ConfigError("sds must hold at least two values")
        reports = []
        iterator: Any = dims
        if progress:
            from tqdm import tqdm

            iterator = tqdm(dims, desc="dimensions", unit="dim")
        for dim in iterator:
            vals = mean[dim] + sds_arr * std[dim]
            z = np.repeat(base, len(vals), axis=0).astype(np.float32)
            z[:, dim] = np.tile(vals, len(base))
            log_mel = self.decode(z)
            shaped = log_mel.reshape(len(base), len(vals), *log_mel.shape[1:])
            change = float(np.mean(np.abs(shaped[:, -1] - shaped[:, 0])))
            waves = self.to_audio(log_mel, n_iter=n_iter).reshape(len(z), -1)
            desc = describe_batch(waves, sample_rate=self.sample_rate)
            corr = {}
            x = np.tile(sds_arr, len(base))
            for name, v in desc.items():
                # Within-segment: remove each segment's own level before correlating.
                centred = (
                    v.reshape(len(base), -1) - v.reshape(len(base), -1).mean(1, keepdims=True)
                ).ravel()
                corr[name] = _correlation(x, centred)
            top = max(corr, key=lambda k: abs(corr[k]))
            reports.append(DimensionReport(dim, change, top, corr[top], corr))
        return sorted(reports, key=lambda r: -r.change_db)

    # --- attribute vectors ------------------------------------------------------------------

    def attribute_vector(
        self,
        clips: Sequence[Any],
        *,
        by: str | Sequence[str],
        positive: str | None = None,
        negative: str | None = None,
        quantile: float = 0.25,
    ) -> np.ndarray:
        """MusicVAE-style attribute vector: mean latent of the "high" group minus the "low" one.

        Args:
            clips: paths or waveforms.
            by: a descriptor name (high/low = top/bottom ``quantile`` of the clips' segments
                by that descriptor), or one label per clip.
            positive: with labels, the label of the high group (required).
            negative: with labels, the low group's label (default: every other label).
            quantile: group size for a descriptor.

        Returns:
            ``(latent_dim,)`` float32 vector for :meth:`shift`.
        """
        from keras_musiclatent.audio.features import DESCRIPTORS, describe

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
                for windows, _ in self._segment_batches(clip, None):
                    z.append(self.model.encode(windows, sample=False, batch_size=_BATCH)[0])
                    scores += [
                        describe(w, sample_rate=self.sample_rate, names=[by])[by] for w in windows
                    ]
            z_arr, s = np.concatenate(z), np.asarray(scores)
            k = max(1, int(round(quantile * len(s))))
            order = np.argsort(s)
            if 2 * k > len(s):
                raise ConfigError("too few segments to form high and low groups")
            return (z_arr[order[-k:]].mean(0) - z_arr[order[:k]].mean(0)).astype(np.float32)
        encodings = [self.encode(c) if not isinstance(c, Encoding) else c for c in clips]
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
        self, audio_or_path: Any, vector: np.ndarray, *, amount: float = 1.0, audio: bool = True
    ) -> Decoded:
        """Decode a clip with ``amount * vector`` added to every segment's latent."""
        vec = np.asarray(vector, np.float32).ravel()
        if vec.shape != (self.latent_dim,):
            raise LatentShapeError(
                f"vector must have shape ({self.latent_dim},), got {np.shape(vector)}"
            )
        z = self._latents_of(audio_or_path) + amount * vec
        return self._decoded(z.astype(np.float32), audio=audio)

    # --- genre ------------------------------------------------------------------------------

    def fit_genre_head(self, latents: np.ndarray, labels: Sequence[str], **kwargs: Any) -> None:
        """Fit the latent-probe genre head on ``(n, latent_dim)`` latent means and labels."""
        self.genre_head = GenreHead.fit(self._as_latents(latents), labels, **kwargs)

    def classify(self, audio_or_path: Any) -> dict[str, float]:
        """Genre probabilities of a clip: the mean over its segments, most likely first.

        Raises:
            MissingComponentError: the model has no genre head.
        """
        if self.genre_head is None:
            raise MissingComponentError(
                f"{self.name} has no genre head (package it with labelled data: "
                "`musiclatent package RUN --data DIR`)"
            )
        probs = self.genre_head.predict_proba(self._latents_of(audio_or_path)).mean(0)
        order = np.argsort(-probs)
        return {self.genre_head.genres[i]: float(probs[i]) for i in order}

    # --- compression ------------------------------------------------------------------------

    def _quantiser(self, z: np.ndarray) -> tuple[float, float]:
        """The quantiser's range: the autoencoder's fixed [-1, 1] grid (what its bottleneck
        rounds to), else the clip's own latent range (two floats in the stream header)."""
        if not self.is_variational and getattr(self.model, "bounded", False):
            return -1.0, 1.0
        lo, hi = float(np.min(z)), float(np.max(z))
        return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)

    def compress(self, audio_or_path: AudioSource, *, sr: int | None = None) -> bytes:
        """Quantised latents of a clip as an ``.mlz`` byte stream (see :mod:`codec`).

        The stream's header names the model and its weights' sha256; :meth:`decompress`
        refuses streams from other weights.
        """
        from keras_musiclatent import codec

        enc = self.encode(audio_or_path, sr=sr)
        lo, hi = self._quantiser(enc.mean)
        codes = codec.quantize(enc.mean, bits=self.bits_per_dim, lo=lo, hi=hi)
        return codec.pack(
            codes,
            model=self.name,
            weights_sha256=self.weights_sha256,
            sample_rate=self.sample_rate,
            num_samples=enc.num_samples,
            bits=self.bits_per_dim,
            lo=lo,
            hi=hi,
        )

    def decompress_latents(self, blob: bytes) -> tuple[np.ndarray, int]:
        """``(latents (segments, latent_dim), num_samples)`` of an ``.mlz`` stream."""
        from keras_musiclatent import codec

        stream = codec.unpack(blob)
        if stream.weights_sha256 != self.weights_sha256:
            raise IncompatibleModelError(
                f"the stream was written by model {stream.model!r} (weights "
                f"{stream.weights_sha256[:12]}...), not by {self.name!r} (weights "
                f"{self.weights_sha256[:12]}...); decode it with that model"
            )
        if stream.codes.shape[1] != self.latent_dim or stream.sample_rate != self.sample_rate:
            raise CompressedStreamError("stream shape does not match the model")
        return stream.values(), stream.num_samples

    def decompress(self, blob: bytes, *, n_iter: int = 32) -> np.ndarray:
        """Waveform ``(samples,)`` of an ``.mlz`` stream from :meth:`compress`."""
        z, num_samples = self.decompress_latents(blob)
        return self.to_audio(self.decode(z), n_iter=n_iter, num_samples=num_samples)
