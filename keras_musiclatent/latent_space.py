"""``LatentSpace``: one trained model and what belongs to it, behind a small API.

Encode music to latents, decode latents to log-mels and audio, interpolate, sample, probe a
dimension, build attribute vectors, classify genre and compress to bytes.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent import analysis, codec, entropy
from keras_musiclatent import audio as audio_io
from keras_musiclatent.analysis import DimensionReport, Probe
from keras_musiclatent.audio.inversion import logmel_to_audio
from keras_musiclatent.errors import (
    CompressedStreamError,
    ConfigError,
    EmptyAudioError,
    IncompatibleModelError,
    LatentShapeError,
    MissingComponentError,
)
from keras_musiclatent.genre_head import GenreHead, LatentStats
from keras_musiclatent.latent_types import Decoded, Encoding
from keras_musiclatent.models.musicnn import MSD_TAGS, MusicnnBackbone
from keras_musiclatent.presets import registry as zoo
from keras_musiclatent.presets.files import load_model_files, save_model_files

__all__ = ["Decoded", "DimensionReport", "Encoding", "LatentSpace", "Probe", "slerp"]

AudioSource = str | os.PathLike | np.ndarray

# Segments encoded per forward pass; also bounds the memory of a long file's encoding.
_BATCH = 32


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


def _rows(x: Any, width: int, what: str) -> np.ndarray:
    """``x`` as finite float32 rows ``(n, width)`` (one row may come as ``(width,)``)."""
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] != width:
        raise LatentShapeError(
            f"expected {what} of shape (n, {width}) or ({width},), got {np.shape(x)}"
        )
    if not np.isfinite(arr).all():
        raise LatentShapeError(f"{what} hold NaN or infinite values")
    return arr


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
        entropy_model: entropy.EntropyModel | None = None,
    ) -> None:
        self.model = model
        self.entropy_model = entropy_model
        self.name = name
        self.weights_sha256 = weights_sha256 or "0" * 64
        self.latent_stats = latent_stats
        self.genre_head = genre_head
        self.metadata = dict(metadata or {})
        self.path = path
        if genre_head is not None and genre_head.latent_dim != self.embedding_dim:
            raise IncompatibleModelError(
                f"genre head expects {genre_head.latent_dim}-d latents, model has "
                f"{self.embedding_dim}"
            )

    # --- loading and saving ---------------------------------------------------------------

    @classmethod
    def load(cls, name_or_path: str | os.PathLike) -> LatentSpace:
        """Load a zoo model by name, or a model folder / training run / ``.keras`` file.

        A zoo name wins over a same-named folder in the working directory unless the argument
        is clearly a path (``./x``, ``/x``, ``~/x``, a separator, an ``os.PathLike``): zoo
        files are checked against the sha256 the package ships. A folder written by
        :meth:`save` is checked against the sha256 list in its own ``metadata.json``; other
        folders and ``.keras`` files load as they are (Keras safe mode).

        Raises:
            UnknownModelError: not a zoo name and not an existing path (lists the zoo).
            IncompatibleModelError: a path with no model at it.
            CorruptModelError: a file fails its sha256 or does not parse.
        """
        text = os.fspath(name_or_path)
        as_path = zoo.is_clearly_path(name_or_path)
        path = Path(text).expanduser() if as_path else Path(text)
        if as_path or (text not in zoo.list_models() and path.exists()):
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
            entropy_model=loaded.entropy_model,
        )

    def save(
        self, out: str | os.PathLike, *, metadata: dict[str, Any] | None = None, overwrite=False
    ) -> Path:
        """Write a packaged model folder (config, weights, statistics, genre head, metadata)."""
        meta = {**self.metadata, **(metadata or {}), "name": self.name}
        return save_model_files(
            out,
            self.model,
            latent_stats=self.latent_stats,
            genre_head=self.genre_head,
            metadata=meta,
            entropy_model=self.entropy_model,
            overwrite=overwrite,
        )

    # --- properties -----------------------------------------------------------------------

    @property
    def has_decoder(self) -> bool:
        """True for latent models (encode, decode, interpolate, compress, ...); False for
        pretrained embedding networks such as ``musicnn-msd`` (embed, tags, classify only).

        The one place that tells the two kinds apart.
        """
        return not isinstance(self.model, MusicnnBackbone)

    def _require_decoder(self, what: str) -> None:
        """Raise ``MissingComponentError`` naming ``what`` when the model has no latent space."""
        if not self.has_decoder:
            raise MissingComponentError(
                f"{self.name} is a pretrained embedding network without a latent space or "
                f"decoder, so it cannot {what}; use embed(), tags() or classify()"
            )

    @property
    def latent_dim(self) -> int:
        """Width of one segment's latent."""
        self._require_decoder("give latents")
        return int(self.model.latent_dim)

    @property
    def embedding_dim(self) -> int:
        """Width of one segment's :meth:`embed` row (the latent width for latent models)."""
        if self.has_decoder:
            return int(self.model.latent_dim)
        return int(self.model.embedding_dim)

    @property
    def tag_names(self) -> list[str]:
        """Names of the model's tag outputs (empty for models without tags)."""
        if self.has_decoder:
            return []
        names = self.metadata.get("tags")
        if names is None and int(self.model.num_tags) == len(MSD_TAGS):
            names = MSD_TAGS
        return [str(n) for n in names or []]

    @property
    def sample_rate(self) -> int:
        """The rate audio is resampled to before encoding, in Hz."""
        return int(self.model.sample_rate)

    @property
    def segment_seconds(self) -> float:
        """Length of the windows one latent describes, in seconds."""
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
        return self.has_decoder and bool(self.model.is_variational)

    @property
    def bits_per_dim(self) -> int:
        """Bits per latent dimension in compressed streams."""
        bits = getattr(self.model, "bits", None)
        return int(bits) if bits else 8

    @property
    def bitrate(self) -> float:
        """Bits per second of the compressed latent, header excluded.

        As the evaluation protocol (docs/evaluation.md) counts it.
        """
        return self.latent_dim * self.bits_per_dim / self.segment_seconds

    def __repr__(self) -> str:
        width = "latent_dim" if self.has_decoder else "embedding_dim"
        return (
            f"LatentSpace({self.name!r}, {type(self.model).__name__}, {width}="
            f"{self.embedding_dim}, sample_rate={self.sample_rate}, genres={len(self.genres)})"
        )

    # --- audio in -------------------------------------------------------------------------

    def segment_windows(
        self, source: AudioSource, *, sr: int | None = None
    ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Windows ``(<=32, samples)`` and their real lengths ``(<=32,)`` of a clip, by the
        window rule of :mod:`keras_musiclatent.audio.windows`, read with bounded memory.

        Example:
            >>> for windows, lengths in space.segment_windows("song.wav"):  # doctest: +SKIP
            ...     print(windows.shape)
        """
        if isinstance(source, np.ndarray):
            # None means the model's rate; any other value (0 too) meets prepare's rate rules.
            rate = self.sample_rate if sr is None else sr
            y = audio_io.prepare(source, sr=rate, target_sr=self.sample_rate)
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
            audio_or_path: a path (WAV, FLAC, OGG, MP3, ...) or a ``(samples,)``,
                ``(samples, channels)`` or ``(channels, samples)`` array (see
                :func:`keras_musiclatent.audio.prepare`).
            sr: the array's integer rate, at least 1000 Hz (default: the model's); not
                allowed with a path.
            sample: draw ``z`` from the posterior instead of returning the mean.

        Returns:
            :class:`Encoding` with ``(segments, latent_dim)`` arrays.

        Raises:
            AudioError (and subclasses): unreadable or invalid audio.
            MissingComponentError: the model has no latent space (use :meth:`embed`).
        """
        self._require_decoder("encode to latents")
        means, log_vars, zs, lengths, times = [], [], [], [], []
        timed = bool(getattr(self.model, "time_latent_dim", 0))
        for windows, lens in self.segment_windows(audio_or_path, sr=sr):
            if timed:
                m, lv, z, t = self.model.encode_with_time(windows, sample=sample, batch_size=_BATCH)
                times.append(t)
            else:
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
            time=np.concatenate(times) if timed else None,
        )

    def log_mel(self, audio_or_path: AudioSource, *, sr: int | None = None) -> np.ndarray:
        """The model's input log-mel dB ``(segments, frames, n_mels)`` of a clip."""
        self._require_decoder("give its decoder's log-mel")
        parts = [self.model.log_mel(w) for w, _ in self.segment_windows(audio_or_path, sr=sr)]
        return np.concatenate(parts)

    # --- latents out ----------------------------------------------------------------------

    def _as_latents(self, z: Any) -> np.ndarray:
        return _rows(z.mean if isinstance(z, Encoding) else z, self.latent_dim, "latents")

    @property
    def has_time_latent(self) -> bool:
        """True when the model has a time-varying latent beside the global one."""
        return bool(getattr(self.model, "time_latent_dim", 0))

    def decode(self, z: Any, *, time: np.ndarray | None = None) -> np.ndarray:
        """Latents → log-mel dB ``(n, frames, mels)``.

        Args:
            z: global latents ``(n, latent_dim)``, or an :class:`Encoding` (whose time-varying
                latent is used when ``time`` is not given).
            time: time-varying latents ``(n, time_steps, time_latent_dim)`` (a model with
                one); ``None`` (and no Encoding): the prior's, a flat average envelope.

        Example:
            >>> enc = space.encode("song.wav")  # doctest: +SKIP
            >>> space.decode(enc)  # global and time-varying latent  # doctest: +SKIP
            >>> space.decode(enc.mean)  # global latent alone  # doctest: +SKIP
        """
        self._require_decoder("decode")
        if time is None and isinstance(z, Encoding):
            time = z.time
        if time is not None and not self.has_time_latent:
            raise LatentShapeError(f"{self.name} has no time-varying latent; time must be None")
        return self.model.decode(self._as_latents(z), z_time=time, batch_size=_BATCH)

    def latents_and_time(self, x: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """``(global latents (k, latent_dim), time-varying latents (k, steps, dim) or None)``
        of a path, waveform or :class:`Encoding`; latents given as such have no time part
        (``None``: decoding uses the prior's)."""
        if isinstance(x, Encoding):
            return x.mean, x.time
        encoded: list[Encoding] = []

        def mean_of(clip: Any) -> np.ndarray:
            encoded.append(self.encode(clip))
            return encoded[0].mean

        z = self._rows_of(x, self.latent_dim, "latents", mean_of)
        return z, encoded[0].time if encoded else None

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
        self._require_decoder("invert log-mels to audio")
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
        return self.to_audio(self.decode(enc), n_iter=n_iter, num_samples=enc.num_samples)

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
        self._require_decoder("sample")
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

    def latents(self, x: Any) -> np.ndarray:
        """Latent means ``(segments, latent_dim)`` of a path, waveform, :class:`Encoding` or
        latents (a float array whose last axis is ``latent_dim``, returned as is).

        Example:
            >>> z = space.latents("song.wav")  # doctest: +SKIP
        """
        return self._rows_of(x, self.latent_dim, "latents", lambda a: self.encode(a).mean)

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
                The longer clip is cut to the shorter one's segments. Only the global latent
                is interpolated: every step keeps ``a``'s time-varying latent (its onsets and
                envelope; the prior's when ``a`` is given as latents).
            steps: points including both ends (>= 2).
            method: ``"slerp"`` (MusicVAE's default) or ``"lerp"``.
            audio: invert each step to audio.

        Returns:
            ``steps`` :class:`Decoded` results, ``a`` first.
        """
        self._require_decoder("interpolate")
        if steps < 2:
            raise ConfigError(f"steps must be at least 2, got {steps}")
        if method not in ("slerp", "lerp"):
            raise ConfigError(f"method must be 'slerp' or 'lerp', got {method!r}")
        za, time_a = self.latents_and_time(a)
        zb = self.latents(b)
        k = min(len(za), len(zb))
        za, zb = za[:k], zb[:k]
        ts = np.linspace(0.0, 1.0, steps)
        path = np.stack(
            [slerp(za, zb, t) if method == "slerp" else (1 - t) * za + t * zb for t in ts]
        ).astype(np.float32)  # (steps, k, latent_dim)
        # One decoder pass and one batched inversion for the whole walk.
        time = None if time_a is None else np.tile(time_a[:k], (steps, 1, 1))
        log_mel = self.decode(path.reshape(steps * k, -1), time=time)
        log_mel = log_mel.reshape(steps, k, *self._grid)
        waves = self.to_audio_many(log_mel, n_iter=n_iter) if audio else None
        return [
            Decoded(path[i], log_mel[i], None if waves is None else waves[i]) for i in range(steps)
        ]

    # --- probing ------------------------------------------------------------------------------

    def latent_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """``(mean, std)``, each ``(latent_dim,)``: of the training latents when the model
        ships them, else the VAE prior's (0, 1).

        Raises:
            MissingComponentError: an autoencoder without latent statistics.
        """
        self._require_decoder("give latent statistics")
        if self.latent_stats is not None:
            return self.latent_stats.mean, self.latent_stats.std
        if self.is_variational:
            return np.zeros(self.latent_dim, np.float32), np.ones(self.latent_dim, np.float32)
        raise MissingComponentError(
            f"{self.name}: probing an autoencoder needs latent statistics "
            "(package the model with `musiclatent package`)"
        )

    # --- what the dimensions do (keras_musiclatent.analysis) ----------------------------------

    def probe(self, audio_or_path: Any, dim: int, **options: Any) -> analysis.Probe:
        """Sweep dimension ``dim`` on one segment; see :func:`keras_musiclatent.analysis.probe`."""
        return analysis.probe(self, audio_or_path, dim, **options)

    def explain_dimensions(
        self, reference: Sequence[Any], **options: Any
    ) -> list[analysis.DimensionReport]:
        """Every dimension ranked by effect; see :func:`.analysis.explain_dimensions`."""
        return analysis.explain_dimensions(self, reference, **options)

    def attribute_vector(self, clips: Sequence[Any], **options: Any) -> np.ndarray:
        """High-minus-low mean latent; see :func:`keras_musiclatent.analysis.attribute_vector`."""
        return analysis.attribute_vector(self, clips, **options)

    def shift(self, audio_or_path: Any, vector: np.ndarray, **options: Any) -> Decoded:
        """Decode a clip moved along ``vector``; see :func:`keras_musiclatent.analysis.shift`."""
        return analysis.shift(self, audio_or_path, vector, **options)

    # --- genre ------------------------------------------------------------------------------

    def fit_genre_head(self, latents: np.ndarray, labels: Sequence[str], **kwargs: Any) -> None:
        """Fit the latent-probe genre head on ``(n, embedding_dim)`` latent means (or
        :meth:`embed` rows) and labels; ``kwargs`` go to :meth:`GenreHead.fit`."""
        self.genre_head = GenreHead.fit(self._as_embeddings(latents), labels, **kwargs)

    # --- embeddings and tags ----------------------------------------------------------------

    def _as_embeddings(self, x: Any) -> np.ndarray:
        return _rows(x, self.embedding_dim, "embeddings")

    def _window_outputs(self, audio_or_path: AudioSource, *, sr: int | None) -> dict[str, Any]:
        """The model's ``embed_windows`` outputs for every window of a clip, concatenated."""
        parts = [
            self.model.embed_windows(windows, batch_size=_BATCH)
            for windows, _ in self.segment_windows(audio_or_path, sr=sr)
        ]
        return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}

    def embed(self, audio_or_path: AudioSource, *, sr: int | None = None) -> np.ndarray:
        """One embedding per 3-s window of a clip: ``(segments, embedding_dim)`` float32.

        For a pretrained network (``musicnn-msd``) the penultimate layer (200-d); for a latent
        model the latent means (as :meth:`encode`), so features of every model compare.
        Audio is resampled to the model's own rate and cut by the window rule
        (:meth:`segment_windows`).

        Args:
            audio_or_path: a path or a ``(samples,)`` / ``(samples, channels)`` waveform.
            sr: the array's sample rate (default: the model's); not allowed with a path.

        Example:
            >>> LatentSpace.load("musicnn-msd").embed("song.wav").shape  # doctest: +SKIP
            (10, 200)
        """
        return self._window_outputs(audio_or_path, sr=sr)["embedding"]

    def embeddings(self, x: Any) -> np.ndarray:
        """:meth:`embed` of a path or waveform; an :class:`Encoding` gives its means, and a
        float array whose last axis is ``embedding_dim`` is taken as embeddings already."""
        return self._rows_of(x, self.embedding_dim, "embeddings", self.embed)

    @staticmethod
    def _rows_of(x: Any, width: int, what: str, compute: Any) -> np.ndarray:
        """Rows ``(segments, width)`` of an :class:`Encoding` (its means), of rows given as
        such (a float array whose last axis is ``width``), or ``compute(x)`` of a path or
        waveform."""
        if isinstance(x, Encoding):
            return x.mean
        if not isinstance(x, str | os.PathLike):
            arr = np.asarray(x)
            if arr.dtype.kind == "f" and arr.ndim in (1, 2) and arr.shape[-1] == width:
                return _rows(arr, width, what)
        return compute(x)

    def tags(self, audio_or_path: AudioSource, *, sr: int | None = None) -> dict[str, float]:
        """Tag probabilities of a clip (the mean over its 3-s windows), most likely first.

        Example:
            >>> list(LatentSpace.load("musicnn-msd").tags("song.wav"))[:3]  # doctest: +SKIP
            ['rock', 'metal', 'hard rock']

        Raises:
            MissingComponentError: the model has no tag outputs (only tagging networks such
                as ``musicnn-msd`` do).
        """
        names = self.tag_names
        if not names:
            raise MissingComponentError(
                f"{self.name} has no tag outputs; tags come from a tagging network such as "
                "musicnn-msd"
            )
        probs = self._window_outputs(audio_or_path, sr=sr)["tags"].mean(0)
        order = np.argsort(-probs, kind="stable")
        return {names[i]: float(probs[i]) for i in order}

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
        probs = self.genre_head.predict_proba(self.embeddings(audio_or_path)).mean(0)
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

    @property
    def code_bits(self) -> list[int]:
        """Precisions (bits per number) of a codec's ``.mlz`` v2 streams, coarsest first;
        empty for a model that writes fixed-rate v1 streams."""
        if self.entropy_model is None or not self.has_decoder:
            return []
        return [b for b in self.model.code_bits if b in self.entropy_model.bits]

    def operating_points(self) -> list[dict[str, float]]:
        """``[{"bits": b, "kbps": expected kbit/s}, ...]`` of a codec, coarsest first.

        The rate is the fitted priors' estimate for typical music (header excluded); a stream's
        real size is what :meth:`compress` returns.
        """
        return [
            {
                "bits": b,
                "kbps": entropy.expected_bits_per_segment(self.entropy_model, b)
                / self.segment_seconds
                / 1000.0,
            }
            for b in self.code_bits
        ]

    def _bits_for(self, bits: int | None, kbps: float | None) -> int:
        points = self.operating_points()
        if bits is not None and kbps is not None:
            raise ConfigError("give bits or kbps, not both")
        if bits is not None:
            if bits not in self.code_bits:
                raise ConfigError(f"bits must be one of {self.code_bits}, got {bits}")
            return int(bits)
        if kbps is None:
            return self.code_bits[-1]
        if not np.isfinite(kbps) or kbps <= 0:
            raise ConfigError(f"kbps must be a positive number, got {kbps}")
        fitting = [p for p in points if p["kbps"] <= kbps]
        if not fitting:
            raise ConfigError(
                f"{kbps:g} kbit/s is below this codec's lowest operating point "
                f"({points[0]['kbps']:.2f} kbit/s at {points[0]['bits']} bits)"
            )
        return int(fitting[-1]["bits"])

    def compress(
        self,
        audio_or_path: AudioSource,
        *,
        sr: int | None = None,
        bits: int | None = None,
        kbps: float | None = None,
    ) -> bytes:
        """A clip as an ``.mlz`` byte stream (see :mod:`codec`).

        A codec (a model packaged with fitted priors, :attr:`code_bits` not empty) writes a
        v2 stream: both latents quantised at ``bits`` per number and entropy-coded. ``kbps``
        picks the finest precision whose typical rate (:meth:`operating_points`) fits; with
        neither, the finest. Other autoencoders write v1 streams (fixed-rate global codes).
        The header names the model and its weights' sha256; :meth:`decompress` refuses
        streams from other weights.

        Example:
            >>> space = LatentSpace.load("gtzan-codec")  # doctest: +SKIP
            >>> blob = space.compress("song.wav", kbps=1.0)  # doctest: +SKIP

        Raises:
            ConfigError: ``bits``/``kbps`` for a model without operating points, or out of range.
        """
        if not self.code_bits:
            if bits is not None or kbps is not None:
                raise ConfigError(
                    f"{self.name!r} writes fixed-rate streams ({self.bitrate:.0f} bit/s); "
                    "bits and kbps need a codec model (e.g. gtzan-codec)"
                )
            if getattr(self.model, "time_latent_dim", 0):
                raise ConfigError(
                    f"{self.name!r} has a time-varying latent but no fitted priors "
                    "(package it with musiclatent package to compress with it)"
                )
            return self._compress_v1(audio_or_path, sr=sr)
        chosen = self._bits_for(bits, kbps)
        enc = self.encode(audio_or_path, sr=sr)
        codes, time_codes = self.model.codes_of(enc.mean, enc.time, bits=chosen)
        return codec.pack_v2(
            codes,
            time_codes,
            model=self.name,
            weights_sha256=self.weights_sha256,
            sample_rate=self.sample_rate,
            num_samples=enc.num_samples,
            bits=chosen,
            entropy_model=self.entropy_model,
        )

    def _compress_v1(self, audio_or_path: AudioSource, *, sr: int | None) -> bytes:
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

    def _checked_header(self, blob: bytes) -> codec.Header:
        """The stream's header, checked against this model before anything is decoded: the
        weights' sha256, widths, rate and bits must be the model's, and the segment count must
        be what the window rule makes of ``num_samples``, so a stream cannot make the decoder
        produce more than the audio it describes."""
        head = codec.read_header(blob)
        if head.weights_sha256 != self.weights_sha256:
            raise IncompatibleModelError(
                f"the stream was written by model {head.model!r} (weights "
                f"{head.weights_sha256[:12]}...), not by {self.name!r} (weights "
                f"{self.weights_sha256[:12]}...); decode it with that model"
            )
        if head.latent_dim != self.latent_dim or head.sample_rate != self.sample_rate:
            raise CompressedStreamError(
                f"stream of {head.latent_dim}-d latents at {head.sample_rate} Hz does not match "
                f"the model ({self.latent_dim}-d at {self.sample_rate} Hz)"
            )
        if head.version == 1 and head.bits != self.bits_per_dim:
            raise CompressedStreamError(
                f"stream codes have {head.bits} bits, the model writes {self.bits_per_dim}"
            )
        if head.version >= 2:
            if not self.code_bits:
                raise CompressedStreamError(
                    f"a version-{head.version} stream needs a codec model; {self.name!r} has no "
                    "fitted priors"
                )
            steps = int(self.model.time_steps)
            time_dim = int(self.model.time_latent_dim)
            if (head.steps, head.time_dim) != (steps, time_dim):
                raise CompressedStreamError(
                    f"stream of {head.steps}x{head.time_dim} time codes per segment does not "
                    f"match the model ({steps}x{time_dim})"
                )
            if head.bits not in self.code_bits:
                raise CompressedStreamError(
                    f"stream codes have {head.bits} bits; the model decodes {self.code_bits}"
                )
        expected = audio_io.segment_count(head.num_samples, self.sample_rate, self.segment_seconds)
        if head.segments != expected:
            raise CompressedStreamError(
                f"stream holds {head.segments} segments but {head.num_samples} samples make "
                f"{expected} segment(s) of {self.segment_seconds:g} s"
            )
        return head

    def decompress_latents(self, blob: bytes) -> tuple[np.ndarray, int]:
        """``(latents (segments, latent_dim), num_samples)`` of an ``.mlz`` stream (for a v2
        stream, the global latents; :meth:`decompress_codes` gives both).

        Raises:
            IncompatibleModelError: written by other weights.
            CompressedStreamError: not a valid stream, or its header disagrees with the model.
        """
        z, _, num_samples = self.decompress_codes(blob)
        return z, num_samples

    def decompress_codes(self, blob: bytes) -> tuple[np.ndarray, np.ndarray | None, int]:
        """``(global latents, time-varying latents or None, num_samples)`` of a stream.

        Raises:
            IncompatibleModelError: written by other weights.
            CompressedStreamError: not a valid stream, or its header disagrees with the model.
        """
        head = self._checked_header(blob)
        if head.version == 1:
            codes = codec.unpack_rows(blob, head)
            z = codec.dequantize(codes, bits=head.bits, lo=head.lo, hi=head.hi)
            return z, None, head.num_samples
        codes, time_codes = codec.unpack_v2(blob, head, self.entropy_model)
        quantiser = self.model.bottleneck
        z = np.asarray(quantiser.dequantize_codes(codes, bits=head.bits), np.float32)
        z_time = np.asarray(
            self.model.time_bottleneck.dequantize_codes(time_codes, bits=head.bits), np.float32
        )
        return z, z_time, head.num_samples

    def decompress(self, blob: bytes, *, n_iter: int = 32) -> np.ndarray:
        """Waveform ``(samples,)`` of an ``.mlz`` stream from :meth:`compress`.

        Segments are decoded and inverted ``32`` at a time straight into the output, so memory
        stays bounded by the output plus one batch (the header checks of
        :meth:`decompress_latents` bound the output by the audio the stream describes).
        """
        z, z_time, num_samples = self.decompress_codes(blob)
        size = int(self.model.samples)
        out = np.empty(min(num_samples, len(z) * size), np.float32)
        for first in range(0, len(z), _BATCH):
            batch = slice(first, first + _BATCH)
            log_mel = self.model.decode(
                z[batch], z_time=None if z_time is None else z_time[batch], batch_size=_BATCH
            )
            # One shared phase draw per call (seeded): a batch inverts as the whole would.
            waves = self._invert(log_mel, n_iter=n_iter, seed=0)
            part = waves.reshape(-1)[: len(out) - first * size]
            out[first * size : first * size + len(part)] = part
        peak = float(np.max(np.abs(out))) if out.size else 0.0
        if peak > 1.0:  # as to_audio: inversion can overshoot
            out /= peak
        return out
