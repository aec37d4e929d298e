"""``musiclatent report``: a static HTML page to see and hear a latent space.

:func:`build_report` measures a :class:`~keras_musiclatent.latent_space.LatentSpace` on a
seeded subsample of a dataset split and writes ``index.html`` with its media beside it
(``media/`` WAVs and ``.mlz`` streams, ``images/`` PNGs, ``report.json``):

- players for a few clips: the original, its Griffin-Lim inversion, the reconstruction, the
  compressed stream (``compress`` → ``decompress``; a codec model's at each of its operating
  points), PCA at the same bitrate and, when ffmpeg is installed, Opus at 6, 12 and 24 kbit/s
  and MP3 at 32 kbit/s;
- the compression table (kbit/s, ratio to 16-bit PCM, spectral RMSE per the evaluation
  protocol (docs/evaluation.md) and, on the audio the players hold, the listener measures of
  :mod:`keras_musiclatent.evaluate.rate_quality`) with its rate-quality plot;
- t-SNE and PCA (and UMAP, when umap-learn is installed) of the segment latents by genre;
- the genre head's clip-level confusion matrix;
- loss curves from a training ``history.csv``;
- interpolation strips (log-mel images and the walk's audio);
- what the most active dimensions do (:meth:`LatentSpace.explain_dimensions`).

The page needs no network (inline CSS, no script); every file is written atomically.

Example:
    >>> from keras_musiclatent.evaluate.report.build import build_report  # doctest: +SKIP
    >>> from keras_musiclatent.data.sources import load_table
    >>> build_report("gtzan-vae", load_table("data/gtzan"), out="report", max_clips=20)
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import importlib.util
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent import audio as audio_io
from keras_musiclatent._files import atomic_path, write_json
from keras_musiclatent._progress import progress_counter, wants_progress
from keras_musiclatent.audio.features import DESCRIPTORS
from keras_musiclatent.data.sources import round_robin, subsample
from keras_musiclatent.errors import ConfigError, MissingComponentError, MusicLatentError
from keras_musiclatent.evaluate import metrics
from keras_musiclatent.evaluate.clips import Segments, safe_name, segments_of
from keras_musiclatent.evaluate.evaluator import (
    Reconstruction,
    baseline_tables,
    clip_accuracy,
    clip_predictions,
    pca_baselines,
    reconstruct_segments,
    table_log_mels,
    walk_log_mels,
)
from keras_musiclatent.evaluate.listener import MIN_SECONDS, VISQOL_PACKAGE
from keras_musiclatent.evaluate.plots import (
    embed_2d,
    plot_rate_quality,
    read_history,
    save_confusion,
    save_history,
    save_log_mel_strip,
    save_scatter,
)
from keras_musiclatent.evaluate.rate_quality import MEASURES, System, rate_quality
from keras_musiclatent.evaluate.report.codecs import Codec, available_codecs, round_trip
from keras_musiclatent.evaluate.report.html import (
    Figure,
    ListenClip,
    Page,
    Player,
    Table,
    Walk,
    render,
)
from keras_musiclatent.latent_space import LatentSpace

__all__ = ["STEPS", "build_report", "find_history"]

#: What the progress bar counts.
STEPS = (
    "clips",
    "encode",
    "baselines",
    "listen",
    "listener measures",
    "latent plots",
    "genre head",
    "training history",
    "interpolation",
    "probe",
    "page",
)


class _Progress:
    """One bar over :data:`STEPS` (shown when ``enabled``); the description names the step
    under way."""

    def __init__(self, enabled: bool) -> None:
        self._stack = contextlib.ExitStack()
        self._bar = self._stack.enter_context(
            progress_counter(total=len(STEPS), desc="report", unit="step", progress=enabled)
        )
        self._started = False

    def step(self, name: str) -> None:
        """Finish the step under way (if any) and name the next."""
        if self._started:
            self._bar.update(1)
        self._started = True
        self._bar.set_description(f"report: {name}")

    def close(self) -> None:
        """Count the last step and close the bar."""
        if self._started:
            self._bar.update(1)
        self._stack.close()


def find_history(space: Any, history: str | os.PathLike | None = None) -> Path | None:
    """The training ``history.csv`` to plot: ``history`` if given, else one in the model's
    folder (a packaged model folder, a training run, or the folder of a ``.keras`` file).

    Returns:
        The path, or ``None`` when ``history`` is not given and the model folder has none.
    """
    if history is not None:
        return Path(history)
    path = getattr(space, "path", None)
    if path is None:
        return None
    path = Path(path)
    candidate = (path if path.is_dir() else path.parent) / "history.csv"
    return candidate if candidate.is_file() else None


def _round_robin(groups: dict[str, list[int]], k: int, *, seed: int) -> list[int]:
    """Up to ``k`` items, one group after another, each group in a seeded random order."""
    rng = np.random.default_rng(seed)
    queues = [[int(x) for x in rng.permutation(v)] for _, v in sorted(groups.items())]
    return round_robin(queues, k)


@dataclass
class _Run:
    """What every section reads: the model, the clips, their latents and the output folders."""

    space: Any
    seg: Segments
    rec: Reconstruction
    out: Path
    iterations: int
    seed: int
    listen: list[int] = field(default_factory=list)
    excerpt_rows: list[np.ndarray] = field(default_factory=list)

    @property
    def z(self) -> np.ndarray:
        """``(n, latent_dim)`` latent means of every report segment."""
        return self.rec.z

    @property
    def ref(self) -> np.ndarray:
        """``(n, frames, mels)`` the model's input log-mels (dB)."""
        return self.rec.reference

    @property
    def frames(self) -> np.ndarray:
        """``(n,)`` real frames per segment."""
        return self.rec.frames

    @property
    def decoded(self) -> np.ndarray:
        """``(n, frames, mels)`` decodes of the latent means (dB)."""
        return self.rec.decoded

    @property
    def media(self) -> Path:
        """Folder of the WAVs and ``.mlz`` streams."""
        return self.out / "media"

    @property
    def images(self) -> Path:
        """Folder of the PNGs."""
        return self.out / "images"

    def first_row(self, position: int) -> int:
        """Row of the first segment of the clip at ``position``."""
        return int(self.seg.rows_of(position)[0])


class _Audit:
    """Spectral RMSE of estimates against the original excerpts, per method.

    As the evaluation protocol (docs/evaluation.md) defines it.
    """

    def __init__(self, model: Any) -> None:
        self.size = int(model.samples)
        self.kw = {
            "sample_rate": int(model.sample_rate),
            "n_fft": int(model.n_fft),
            "hop_length": int(model.hop_length),
            "n_mels": int(model.n_mels),
        }
        self.mel: dict[str, list[float]] = {}
        self.audio: dict[str, list[float]] = {}
        self.bytes: dict[str, int] = {}
        # Audio seconds behind each method's bytes: a codec that failed on an excerpt has fewer.
        self.coded: dict[str, float] = {}
        self.seconds = 0.0
        # What the players hold, for the listener measures: each excerpt, and per method the
        # audio of every excerpt it produced (a codec that failed on one has a gap).
        self.originals: list[np.ndarray] = []
        self.heard: dict[str, dict[int, np.ndarray]] = {}

    def add_bytes(self, key: str, num_bytes: int, seconds: float) -> None:
        """Record a stream of ``num_bytes`` holding ``seconds`` of audio."""
        self.bytes[key] = self.bytes.get(key, 0) + int(num_bytes)
        self.coded[key] = self.coded.get(key, 0.0) + float(seconds)

    def bps(self, key: str) -> float:
        """Real bits per second of the streams recorded under ``key``."""
        return 8 * self.bytes[key] / self.coded[key]

    def hear(self, key: str, clip: int, wave: np.ndarray) -> None:
        """Keep the audio a player of method ``key`` holds for excerpt ``clip``."""
        self.heard.setdefault(key, {})[clip] = np.asarray(wave, np.float32)

    def windows(self, y: np.ndarray, count: int) -> np.ndarray:
        """``(count, samples)`` windows of a waveform, zero-padded or cut to fill them."""
        out = np.zeros(count * self.size, np.float32)
        n = min(len(y), len(out))
        out[:n] = y[:n]
        return out.reshape(count, self.size)

    def add_audio(self, key: str, ref_db: np.ndarray, y: np.ndarray, frames: np.ndarray) -> None:
        """Record the audio RMSE of waveform ``y`` against ``(count, frames, mels)`` ``ref_db``."""
        est = metrics.logmel_db(self.windows(y, len(ref_db)), **self.kw)
        rmse = metrics.spectral_rmse_db(ref_db, est, frames=frames)
        self.audio.setdefault(key, []).extend(np.atleast_1d(rmse).tolist())

    def add_mel(self, key: str, ref: np.ndarray, est: np.ndarray, frames: np.ndarray) -> None:
        """Record the log-mel RMSE of ``est`` against ``ref``, both ``(count, frames, mels)``."""
        rmse = metrics.spectral_rmse_db(ref, est, frames=frames)
        self.mel.setdefault(key, []).extend(np.atleast_1d(rmse).tolist())

    def mean(self, table: dict[str, list[float]], key: str) -> float | None:
        """Mean of the RMSEs recorded under ``key``, ``None`` when there are none."""
        values = table.get(key)
        return float(np.mean(values)) if values else None


# --- baselines ------------------------------------------------------------------------------


@dataclass
class _Pca:
    """PCA reconstructions of every report segment, and what the PCA was fitted on."""

    k: int
    exact: np.ndarray | None
    quantised: np.ndarray | None
    note: str
    fit: dict[str, Any]


def _pca(
    run: _Run,
    table: Any,
    *,
    train_split: str,
    extra_split: str | None,
    cache_dir: Any,
    progress: bool,
) -> _Pca:
    """PCA with as many components as the latent has dimensions (the model card's baseline).

    Fitted where ``musiclatent evaluate`` fits it: every clip of the train split and the
    extra split(s) the model also trained on, none subsampled, so the report's PCA figures
    are the card's. Without those splits, on the report's clips that are not listened to
    (and the page says so).
    """
    space, seg = run.space, run.seg
    listened = {seg.table[p].clip_id for p in run.listen}
    train, extra = baseline_tables(table, train_split=train_split, extra_split=extra_split)
    # With --split all (or train) the listened clips are training clips too: keep them out.
    whole = [t for t in (train, extra) if t is not None and len(t)]
    fit_tables = [t.filter(lambda c: c.clip_id not in listened) for t in whole]
    fit_tables = [t for t in fit_tables if len(t)]
    clips = sum(len(t) for t in fit_tables)
    left_out = sum(len(t) for t in whole) - clips
    if fit_tables:
        splits = "+".join(dict.fromkeys(c.split for t in fit_tables for c in t))
        fit_ref, fit_frames = table_log_mels(
            space.model,
            fit_tables,
            cache_dir=cache_dir,
            skip_unreadable=True,
            progress=progress,
        )
        source = (
            f"the {splits} split{'s' if '+' in splits else ''} of this dataset, where "
            "musiclatent evaluate fits it too (so on the model's training data the card's PCA "
            "figures compare)"
        )
        if left_out:
            source += f", less the {left_out} listened clips"
    else:
        splits = ""
        rows = np.flatnonzero(~np.isin(seg.clip_index, run.listen))
        fit_ref, fit_frames = run.ref[rows], run.frames[rows]
        clips = len(seg.table) - len(run.listen)
        source = (
            f"the report clips not listened to: this dataset has no {train_split} split, so "
            "it is not the model card's baseline"
        )
    fit = {"splits": splits, "clips": clips, "segments": len(fit_ref), "on": source}
    if len(fit_ref) < 2:
        return _Pca(0, None, None, "skipped: fewer than two segments to fit it on", fit)
    base = pca_baselines(
        fit_ref,
        fit_frames,
        run.ref,
        n_components=space.latent_dim,
        bits=space.bits_per_dim,
        seed=run.seed,
    )
    note = f"fitted on {len(fit_ref)} segments of {clips} clips: {source}"
    return _Pca(base.n_components, base.exact, base.quantised, note, fit)


# --- sections -------------------------------------------------------------------------------


def _points(space: Any) -> list[int | None]:
    """Precisions the report compresses at: a codec's operating points, coarsest first, or
    ``[None]``, a fixed-rate model's one stream."""
    return [int(b) for b in space.code_bits] or [None]


def _mlz_key(bits: int | None) -> str:
    """Audit key (and player file name part) of the ``.mlz`` stream at ``bits``."""
    return "mlz" if bits is None else f"mlz-{bits}bits"


def _mlz_label(space: Any, bits: int | None) -> str:
    """Compression-table label of the ``.mlz`` stream at ``bits``."""
    return f"{space.name} latent, .mlz" if bits is None else f"{space.name} .mlz, {bits} bits"


def _listen_section(
    run: _Run, pca: _Pca, codecs: list[Codec], audit: _Audit
) -> tuple[list[ListenClip], list[str]]:
    """Players for each listened clip; fills ``audit``. Returns the clips and what failed."""
    space, seg, sr = run.space, run.seg, run.space.sample_rate
    head = space.genre_head
    # The evaluator decodes the global latent alone (docs/evaluation.md): say so where the
    # model has a time-varying latent, whose detail the reconstruction then lacks.
    global_only = " (time-varying latent at its prior)" if space.has_time_latent else ""
    clips: list[ListenClip] = []
    failures: list[str] = []
    for i, (pos, rows) in enumerate(zip(run.listen, run.excerpt_rows, strict=True)):
        clip = seg.table[pos]
        stem = f"{i:02d}-{safe_name(clip.clip_id)}"
        y = np.concatenate([seg.waves[r, : seg.lengths[r]] for r in rows]).astype(np.float32)
        ref_db = metrics.logmel_db(audit.windows(y, len(rows)), **audit.kw)
        ref, fr = run.ref[rows], run.frames[rows]
        seconds = len(y) / sr
        audit.seconds += seconds
        audit.originals.append(y)
        players: list[Player] = []

        def put(
            key: str,
            label: str,
            wave: np.ndarray,
            note: str,
            stem: str = stem,
            players: list[Player] = players,
        ) -> None:
            name = f"{stem}-{key}.wav"
            audio_io.save(run.media / name, wave, sr)
            players.append(Player(label, f"media/{name}", note))

        def invert(log_mel: np.ndarray, n: int = len(y)) -> np.ndarray:
            return space.to_audio(log_mel, n_iter=run.iterations, num_samples=n)

        put("original", "original", y, "the clip as decoded from the dataset")
        inverted = invert(ref)
        audit.add_audio("inversion", ref_db, inverted, fr)
        audit.hear("inversion", i, inverted)
        put("inverted", "original, inverted", inverted, "Griffin-Lim of its own log-mel")

        recon = invert(run.decoded[rows])
        audit.add_mel("latent", ref, run.decoded[rows], fr)
        audit.add_audio("latent", ref_db, recon, fr)
        audit.hear("latent", i, recon)
        put("reconstruction", "reconstruction", recon, "decode of the latent means" + global_only)

        links: list[tuple[str, str]] = []
        for bits in _points(space):
            key = _mlz_key(bits)
            try:
                blob = space.compress(y) if bits is None else space.compress(y, bits=bits)
            except ConfigError as exc:
                # A time-varying latent without fitted priors has no stream format.
                failures.append(f"no .mlz stream: {exc}")
                continue
            name = f"{stem}.mlz" if bits is None else f"{stem}-{bits}bits.mlz"
            with atomic_path(run.media / name) as tmp:
                tmp.write_bytes(blob)
            # ``decompress`` in its two halves, so the decoded log-mel is measured as well.
            z_q, z_time, num_samples = space.decompress_codes(blob)
            mel_q = space.model.decode(z_q, z_time=z_time)
            n_q = min(len(z_q), len(rows))
            audit.add_mel(key, ref[:n_q], mel_q[:n_q], fr[:n_q])
            compressed = invert(mel_q, num_samples)
            audit.add_audio(key, ref_db, compressed, fr)
            audit.add_bytes(key, len(blob), seconds)
            audit.hear(key, i, compressed)
            if bits is None:
                put("compressed", f"compressed ({len(blob)} B)", compressed, ".mlz → decompress")
                links.append((f"download .mlz ({len(blob)} B)", f"media/{name}"))
            else:
                put(
                    f"compressed-{bits}bits",
                    f"{space.name} .mlz, {bits} bits ({len(blob):,} B)",
                    compressed,
                    f".mlz at {bits} bits per number → decompress",
                )
                links.append((f"{bits}-bit .mlz ({len(blob):,} B)", f"media/{name}"))

        if pca.exact is not None and pca.quantised is not None:
            exact, quantised = pca.exact[rows], pca.quantised[rows]
            audit.add_mel("pca", ref, exact, fr)
            audit.add_mel("pca_q", ref, quantised, fr)
            audit.add_audio("pca", ref_db, invert(exact), fr)
            pca_audio = invert(quantised)
            audit.add_audio("pca_q", ref_db, pca_audio, fr)
            audit.hear("pca_q", i, pca_audio)
            put("pca", "PCA, same bitrate", pca_audio, f"{pca.k} quantised PCA coefficients")

        for codec in codecs:
            try:
                result = round_trip(y, sr, codec)
            except OSError as exc:
                failures.append(f"{codec.name} failed on {clip.clip_id}: {exc}")
                continue
            # One encoder runs at several rates: everything is keyed by the codec's key.
            audit.add_audio(codec.key, ref_db, result.audio, fr)
            audit.add_bytes(codec.key, result.num_bytes, seconds)
            audit.hear(codec.key, i, result.audio)
            label = f"{codec.name} ({result.num_bytes:,} B)"
            note = f"ffmpeg {codec.encoder} at {codec.kbps:g} kbit/s, decoded to WAV"
            put(codec.key, label, result.audio, note)

        subtitle = f"genre: {clip.label or '(none)'}"
        if head is not None:
            probs = head.predict_proba(run.z[rows]).mean(0)
            best = int(np.argmax(probs))
            subtitle += f" · genre head: {head.genres[best]} ({float(probs[best]):.2f})"
        subtitle += f" · first {len(y) / sr:.1f} s"
        clips.append(ListenClip(clip.clip_id, subtitle, players, links))
    return clips, list(dict.fromkeys(failures))


# --- listener measures ----------------------------------------------------------------------

#: The musicnn model whose embedding and tags the listener columns compare.
MUSICNN = "musicnn-msd"
#: Listener columns of the compression table (keys of :data:`rate_quality.MEASURES`).
LISTENER_COLUMNS = ("onset_r", "chroma_r", "beat_f", "visqol", "embedding_cos", "tag_overlap")


@dataclass
class _Listener:
    """Listener measures per audit key (means over the excerpts) and what the page says."""

    measured: dict[str, dict[str, Any]]
    notes: list[str]


def _finite(value: Any) -> float | None:
    """``value`` as a float; ``None`` (a table's "–", JSON's null) when missing or not finite."""
    if isinstance(value, bool) or not isinstance(value, float | int):
        return None
    return float(value) if math.isfinite(value) else None


def _digest(y: np.ndarray) -> str:
    return hashlib.blake2b(
        np.ascontiguousarray(y, np.float32).tobytes(), digest_size=16
    ).hexdigest()


def _replay(originals: list[np.ndarray], waves: dict[int, np.ndarray]) -> Any:
    """A round trip handing back the audio a player already holds, found by its original.

    So the listener columns are measured on the very audio the page plays, with no second
    encode or Griffin-Lim (whose result would differ by its phase).
    """
    by_original = {_digest(originals[i]): wave for i, wave in waves.items()}

    def replay(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        return by_original[_digest(audio)], 0  # the table's rates come from the audit

    return replay


def _musicnn() -> tuple[Any | None, str]:
    """The ``musicnn-msd`` model, or ``None`` and why not."""
    try:
        return LatentSpace.load(MUSICNN), ""
    except (MusicLatentError, OSError, ImportError, ValueError) as exc:
        return None, f"musicnn columns left out: {MUSICNN} did not load ({exc})"


def _listener_section(audit: _Audit, *, sample_rate: int, enabled: bool) -> _Listener:
    """Onset r, chroma r, beat F, ViSQOL and musicnn agreement of every played method, by
    :func:`~keras_musiclatent.evaluate.rate_quality.rate_quality` on the players' audio."""
    if not enabled:
        return _Listener({}, ["listener columns switched off"])
    notes: list[str] = []
    visqol = importlib.util.find_spec("visqol") is not None
    if not visqol:
        notes.append(f"ViSQOL not measured: pip install {VISQOL_PACKAGE}")
    embedder, note = _musicnn()
    if note:
        notes.append(note)
    usable = {i for i, y in enumerate(audit.originals) if len(y) >= MIN_SECONDS * sample_rate}
    if len(usable) < len(audit.originals):
        short = len(audit.originals) - len(usable)
        notes.append(f"{short} excerpt(s) under {MIN_SECONDS:g} s left out of the listener columns")
    # rate_quality measures its systems on one list of clips: a codec that failed on an
    # excerpt is measured, with any others alike, on the excerpts it has.
    groups: dict[tuple[int, ...], list[str]] = {}
    for key, waves in audit.heard.items():
        have = tuple(sorted(usable & set(waves)))
        if have:
            groups.setdefault(have, []).append(key)
    measured: dict[str, dict[str, Any]] = {}
    for have, keys in groups.items():
        clips = [(str(i), audit.originals[i]) for i in have]
        systems = [
            System(
                key,
                "ceiling" if key == "inversion" else "latent",
                _replay(audit.originals, audit.heard[key]),
            )
            for key in keys
        ]
        rows = rate_quality(
            systems,
            clips,
            sample_rate=sample_rate,
            embedder=embedder,
            visqol=visqol,
            progress=False,
        )
        measured.update(zip(keys, rows, strict=True))
    if visqol:
        said = sorted({str(r["visqol_note"]) for r in measured.values() if r.get("visqol_note")})
        notes += [f"ViSQOL {text}" for text in said]
    return _Listener(measured, notes)


def _compression_table(
    run: _Run, pca: _Pca, codecs: list[Codec], audit: _Audit, listener: _Listener
) -> tuple[Table, list[str]]:
    """The table and its JSON keys, one per column."""
    space = run.space
    seg_s, bits = space.segment_seconds, space.bits_per_dim
    columns = [
        k
        for k in LISTENER_COLUMNS
        if any(_finite(m.get(k)) is not None for m in listener.measured.values())
    ]

    def row(label: str, stored: str, bps: float | None, key: str) -> list[Any]:
        heard = listener.measured.get(key, {})
        return [
            label,
            stored,
            None if bps is None else bps / 1000,
            None if bps is None else metrics.compression_ratio(bps),
            audit.mean(audit.mel, key),
            audit.mean(audit.audio, key),
            *(_finite(heard.get(k)) for k in columns),
        ]

    rows = []
    for b in _points(space):
        key = _mlz_key(b)
        if key in audit.bytes:
            stored = (
                f"{bits}-bit latents + header"
                if b is None
                else f"both latents at {b} bits, entropy-coded + header"
            )
            rows.append(row(_mlz_label(space, b), stored, audit.bps(key), key))
    means = "the latent means, unquantised"
    if space.has_time_latent:
        means = "the global latent means, unquantised (time-varying latent at its prior)"
    rows.append(
        row(f"{space.name} latent, float32", means, space.latent_dim * 32 / seg_s, "latent")
    )
    if pca.exact is not None:
        rows.append(
            row(
                "PCA, same bitrate",
                f"{pca.k} coefficients × {bits} bit",
                pca.k * bits / seg_s,
                "pca_q",
            )
        )
        rows.append(
            row("PCA, same dims", f"{pca.k} coefficients, float32", pca.k * 32 / seg_s, "pca")
        )
    for codec in codecs:
        if codec.key in audit.bytes:
            stored = f"ffmpeg {codec.encoder} at {codec.kbps:g} kbit/s"
            rows.append(row(codec.name, stored, audit.bps(codec.key), codec.key))
    rows.append(row("original, inverted", "nothing (the vocoder's floor)", None, "inversion"))
    header = [
        "method",
        "stored",
        "kbit/s",
        "ratio to 16-bit PCM",
        "log-mel RMSE (dB)",
        "audio RMSE (dB)",
        *(MEASURES[k][0] for k in columns),
    ]
    keys = ["method", "stored", "kbps", "ratio", "logmel_rmse_db", "audio_rmse_db", *columns]
    return Table(header, rows), keys


def _points_fact(space: Any) -> str:
    """A codec's operating points in words, as its fitted priors expect them."""
    points = ", ".join(
        f"{p['bits']} bits ≈ {p['kbps']:.2f} kbit/s" for p in space.operating_points()
    )
    return f"{points} (the fitted priors' estimate for typical music, header excluded)"


def _rate_quality_plot(
    run: _Run, codecs: list[Codec], audit: _Audit, listener: _Listener
) -> tuple[Figure | None, list[dict[str, Any]]]:
    """Quality against real rate of the streams in the table (the model's, the reference
    codecs') and the inversion ceiling, drawn from the table's own measurements.

    Returns:
        The figure (``None`` when no stream was measured) and its rows, in the shape of
        :func:`~keras_musiclatent.evaluate.rate_quality.rate_quality`'s.
    """
    space = run.space
    entries: list[tuple[str, str, str, str, float | None]] = [
        (_mlz_key(b), _mlz_label(space, b), "latent", str(space.name), None) for b in _points(space)
    ]
    entries += [(c.key, c.name, "reference", c.family, c.kbps) for c in codecs]
    entries.append(("inversion", "original, inverted", "ceiling", "ceiling", None))
    rows: list[dict[str, Any]] = []
    for key, name, kind, family, nominal in entries:
        if key not in (audit.audio if kind == "ceiling" else audit.bytes):
            continue
        row = {k: listener.measured.get(key, {}).get(k, math.nan) for k in MEASURES}
        # The table's rate and audio RMSE, so table and plot agree to the digit.
        row.update(
            system=name,
            kind=kind,
            family=family,
            nominal_kbps=nominal,
            kbps=math.nan if kind == "ceiling" else audit.bps(key) / 1000,
            rmse_db=audit.mean(audit.audio, key),
        )
        rows.append(row)
    if not any(r["kind"] != "ceiling" for r in rows):
        return None, rows
    measures = [
        k
        for k in ("visqol", "rmse_db", "onset_r", "chroma_r")
        if any(_finite(r.get(k)) is not None for r in rows)
    ]
    plot_rate_quality(rows, run.images / "rate-quality.png", measures=measures)
    caption = (
        "Each panel one column of the table against real kbit/s: the model's .mlz "
        f"stream{'s' if len(_points(space)) > 1 else ''} and the reference codecs; dashed: the "
        "log-mel inverted, the ceiling of any decoder through this vocoder."
    )
    figure = Figure("images/rate-quality.png", "quality against bitrate", caption)
    return figure, rows


def _scatter_section(run: _Run) -> tuple[list[Figure], str]:
    figures: list[Figure] = []
    notes: list[str] = []
    n = len(run.z)
    for key, title in (("tsne", "t-SNE"), ("pca", "PCA"), ("umap", "UMAP")):
        try:
            coords = embed_2d(run.z, method=key, seed=run.seed)
        except ImportError:
            notes.append(f"{title} skipped: umap-learn is not installed.")
            continue
        if coords is None:
            notes.append(f"{title} skipped: too few segments ({n}).")
            continue
        path = f"images/latent-{key}.png"
        save_scatter(run.out / path, coords, run.seg.labels, title=f"{title}, {n} segments")
        figures.append(Figure(path, f"{title} of the segment latents by genre", title))
    note = (
        f"Each point is one {run.space.segment_seconds:g}-s segment's latent mean, coloured by "
        f"its clip's genre ({n} segments of {len(run.seg.table)} clips). " + " ".join(notes)
    )
    return figures, note


def _genre_section(run: _Run) -> tuple[Figure | None, str, float | None]:
    head, seg = run.space.genre_head, run.seg
    if head is None:
        return None, "This model has no genre head (package it with labelled data).", None
    probs = head.predict_proba(run.z)
    scores = clip_accuracy(probs, seg.clip_index, seg.labels, head.genres)
    accuracy = scores["accuracy"]
    # Rows are the genres shown, including any the head does not know (the card's square
    # matrix would leave those clips out).
    clips, predicted = clip_predictions(probs, seg.clip_index)
    pairs = [
        (seg.table[int(c)].label, head.genres[p]) for c, p in zip(clips, predicted, strict=True)
    ]
    true_labels = sorted({t for t, _ in pairs})
    matrix = np.zeros((len(true_labels), len(head.genres)), int)
    for t, p in pairs:
        matrix[true_labels.index(t), head.genres.index(p)] += 1
    save_confusion(
        run.images / "confusion.png",
        matrix,
        true_labels=[t or "(none)" for t in true_labels],
        predicted_labels=head.genres,
        title=f"genre head, {len(pairs)} clips",
    )
    note = (
        "Clip level: a clip's genre is the argmax of its segments' mean probability; "
        f"{len(pairs)} clips. "
    )
    if accuracy is None:
        note += "None of their genres is one the head knows."
    else:
        note += (
            f"Accuracy {accuracy:.1%} on the {scores['clips']} clips whose genre the head knows "
            f"(chance {1 / len(head.genres):.1%})."
        )
    return Figure("images/confusion.png", "confusion matrix of the genre head"), note, accuracy


def _history_section(run: _Run, history: str | os.PathLike | None) -> tuple[Figure | None, str]:
    path = find_history(run.space, history)
    if path is None:
        return None, (
            "No training history found: the model folder holds no history.csv. Pass --history "
            "RUN/history.csv (written by musiclatent train) to draw the loss curves."
        )
    try:
        curves = read_history(path)
        drawn = save_history(run.images / "history.png", curves)
    except (OSError, ValueError) as exc:
        return None, f"Could not read the training history {path}: {exc}"
    epochs = len(next(iter(curves.values())))
    note = f"From {path} ({epochs} epochs): {', '.join(drawn)}. Blue: training, red: validation."
    return Figure("images/history.png", "training and validation curves"), note


def _walk_section(run: _Run, *, pairs: int, steps: int) -> tuple[list[Walk], str, list[float]]:
    seg, listen = run.seg, run.listen
    every = [(a, b) for i, a in enumerate(listen) for b in listen[i + 1 :]]
    candidates = [(a, b) for a, b in every if seg.table[a].label != seg.table[b].label] or every
    chosen: list[tuple[int, int]] = []
    used: set[int] = set()
    for a, b in candidates:  # pairs that share no clip first
        if a not in used and b not in used:
            chosen.append((a, b))
            used |= {a, b}
    chosen += [p for p in candidates if p not in chosen]
    walks, smooth = [], []
    ts = np.linspace(0.0, 1.0, steps)
    for w, (a, b) in enumerate(chosen[:pairs]):
        za, zb = run.z[run.first_row(a)], run.z[run.first_row(b)]
        log_mel = walk_log_mels(run.space, za, zb, steps=steps, method="slerp")
        save_log_mel_strip(
            run.images / f"walk-{w}.png",
            list(log_mel),
            titles=[f"t={t:.2f}" for t in ts],
            ends=(f"A: {seg.table[a].clip_id}", f"B: {seg.table[b].clip_id}"),
            sample_rate=run.space.sample_rate,
            hop_length=run.space.model.hop_length,
        )
        audio_io.save(
            run.media / f"walk-{w}.wav",
            run.space.to_audio(log_mel, n_iter=run.iterations),
            run.space.sample_rate,
        )
        s = metrics.interpolation_smoothness(log_mel)
        smooth.append(s)
        ca, cb = seg.table[a], seg.table[b]
        caption = (
            f"slerp, {steps} steps between the clips' first segments; smoothness {s:.2f} "
            "(1.0 = even steps)"
        )
        walks.append(
            Walk(
                f"{ca.clip_id} ({ca.label}) → {cb.clip_id} ({cb.label})",
                Figure(f"images/walk-{w}.png", f"log-mels of the walk {w + 1}", caption),
                f"media/walk-{w}.wav",
            )
        )
    if walks:
        note = (
            f"Slerp between the first {run.space.segment_seconds:g}-s segments of two listened "
            "clips of different genres; the player plays the steps in order."
        )
    else:
        note = "Interpolation needs two listened clips (raise --listen) and --pairs >= 1."
    return walks, note, smooth


def _probe_section(
    run: _Run, *, probe_dims: int, progress: bool
) -> tuple[Table | None, str, list[Any]]:
    space = run.space
    if probe_dims <= 0:
        return None, "Skipped (--probe-dims 0).", []
    if space.latent_stats is not None:
        dims = [int(d) for d in np.argsort(-space.latent_stats.std)[:probe_dims]]
        how = "the largest spread of training latent means"
    else:
        dims = list(range(min(probe_dims, space.latent_dim)))
        how = "the lowest indices (the model has no latent statistics)"
    reference = [run.z[run.first_row(p)] for p in run.listen]
    try:
        reports = space.explain_dimensions(
            reference, dims=dims, max_segments=len(reference), progress=progress
        )
    except MissingComponentError as exc:
        return None, f"Skipped: {exc}", []
    table = Table(
        ["dim", "log-mel change (dB)", "moves most", "r", "which means"],
        [
            [r.dim, r.change_db, r.descriptor, r.correlation, DESCRIPTORS[r.descriptor]]
            for r in reports
        ],
    )
    note = (
        f"The {len(dims)} dimensions with {how}, each swept over -2, 0 and +2 training standard "
        f"deviations on the first segment of the {len(reference)} listened clips. r is the "
        "within-segment correlation of the descriptor with the swept value; the dimension that "
        "changes the log-mel most comes first."
    )
    rows = [
        {"dim": r.dim, "change_db": r.change_db, "descriptor": r.descriptor, "r": r.correlation}
        for r in reports
    ]
    return table, note, rows


# --- the page -------------------------------------------------------------------------------


def build_report(
    space: Any,
    table: Any,
    *,
    out: str | os.PathLike,
    split: str = "valid",
    max_clips: int | None = 40,
    listen: int = 4,
    excerpt_seconds: float = 12.0,
    pairs: int = 2,
    steps: int = 9,
    probe_dims: int = 8,
    history: str | os.PathLike | None = None,
    iterations: int = 32,
    codecs: bool = True,
    listener: bool = True,
    seed: int = 0,
    data_description: str = "",
    command: str = "",
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
    train_split: str = "train",
    extra_split: str | None = "excluded",
) -> dict[str, Any]:
    """Write the report of ``space`` on ``table``'s ``split`` to ``out/index.html``.

    Args:
        space: a :class:`LatentSpace`, or a zoo name / model folder / run to load.
        table: the dataset's clip table (see :func:`keras_musiclatent.data.sources.load_table`).
        out: the report folder (created; files in it are replaced).
        split: which split to show (``"all"``: every clip).
        max_clips: clips drawn from the split (seeded, round-robin over genres) to keep the
            page fast on a CPU; ``None`` = all.
        listen: clips with players (the compression table is measured on them).
        excerpt_seconds: length of each player's excerpt (whole segments from the start).
        pairs: interpolation walks between listened clips of different genres.
        steps: points per walk, ends included.
        probe_dims: dimensions explained (those with the largest training spread); 0 skips.
        history: a ``history.csv`` from ``musiclatent train`` (default: the model folder's).
        iterations: Griffin-Lim iterations of every inversion.
        codecs: compare with Opus (6, 12, 24 kbit/s) and MP3 (32 kbit/s) when ffmpeg is
            available.
        listener: the compression table's listener columns (onset r, chroma r, beat F,
            ViSQOL when ``visqol-python`` is installed, and musicnn agreement when
            ``musicnn-msd`` loads), measured on the players' audio; about a second per
            method and 10 s of excerpt on 2 cores. False leaves them out.
        seed: every random choice.
        data_description: how the page names the data.
        command: the command line shown on the page.
        cache_dir: decoded-audio cache.
        progress: a progress bar on stderr, one step per part of the page, with bars of the
            clips read inside a step (default: in a terminal or notebook).
        train_split: the split the PCA baseline is fitted on, whole (as ``musiclatent
            evaluate --train-split`` does).
        extra_split: unlabelled split(s) joined by ``+`` added to PCA's training data (as
            ``musiclatent evaluate --extra-split``); ``None`` for none. Splits the table does
            not have are left out; with no training clips at all, PCA is fitted on the
            report's clips not listened to, and the page says so.

    Returns:
        A JSON-ready summary (also written to ``out/report.json``); ``"index"`` is the page,
        ``"pca_baseline"`` what PCA was fitted on and its RMSE over all report segments,
        ``"compression"`` the table's rows (``null`` where a measure is missing),
        ``"rate_quality"`` the plotted rows and ``"compression_notes"`` what was skipped.

    Raises:
        ConfigError: bad settings. DatasetError: the split holds no readable clip.
    """
    if listen < 1 or steps < 3 or excerpt_seconds <= 0 or iterations < 1 or pairs < 0:
        raise ConfigError(
            "listen must be >= 1, steps >= 3, excerpt_seconds > 0, iterations >= 1, pairs >= 0"
        )
    start = time.time()
    if isinstance(space, str | os.PathLike):
        space = LatentSpace.load(space)
    show = wants_progress(progress)
    bar = _Progress(show)
    try:
        bar.step("clips")
        chosen = table.split(split)
        seg = segments_of(
            subsample(chosen, max_clips=max_clips, seed=seed), space, cache_dir=cache_dir
        )

        bar.step("encode")
        model = space.model
        rec = reconstruct_segments(model, seg.waves, seg.lengths)
        run = _Run(space, seg, rec, Path(out), iterations, seed)
        latent_rmse = float(run.rec.rmse_db.mean())

        bar.step("baselines")
        n_seg = max(1, int(round(excerpt_seconds / space.segment_seconds)))
        groups: dict[str, list[int]] = {}
        for pos, clip in enumerate(seg.table):
            groups.setdefault(clip.label, []).append(pos)
        # Listen to clips long enough for a whole excerpt where a genre has any: a short clip's
        # padded tail is silence, in the players and in the interpolation strips.
        full = {
            label: [p for p in members if len(seg.rows_of(p)) >= n_seg] or members
            for label, members in groups.items()
        }
        run.listen = _round_robin(full, listen, seed=seed)
        run.excerpt_rows = [seg.rows_of(p)[:n_seg] for p in run.listen]
        pca = _pca(
            run,
            table,
            train_split=train_split,
            extra_split=extra_split,
            cache_dir=cache_dir,
            progress=show,
        )
        pca_summary: dict[str, Any] = {"n_components": pca.k, **pca.fit}
        if pca.exact is not None and pca.quantised is not None:
            pca_rmse = float(metrics.spectral_rmse_db(run.ref, pca.exact, frames=run.frames).mean())
            pca_q_rmse = float(
                metrics.spectral_rmse_db(run.ref, pca.quantised, frames=run.frames).mean()
            )
            pca_summary.update(
                {
                    "pca_same_dims_rmse_db": pca_rmse,
                    "pca_same_bitrate_rmse_db": pca_q_rmse,
                    "reduction_vs_pca": 1.0 - latent_rmse / pca_rmse,
                }
            )
        usable: list[Codec] = []
        codec_note = "codecs not asked for"
        if codecs:
            usable, codec_note = available_codecs()

        bar.step("listen")
        audit = _Audit(model)
        clips, failures = _listen_section(run, pca, usable, audit)

        bar.step("listener measures")
        heard = _listener_section(audit, sample_rate=space.sample_rate, enabled=listener)
        compression, compression_keys = _compression_table(run, pca, usable, audit, heard)
        rq_plot, rq_rows = _rate_quality_plot(run, usable, audit, heard)
        n_listen_seg = sum(len(r) for r in run.excerpt_rows)
        seg_s = space.segment_seconds
        if space.code_bits:
            points = space.operating_points()
            rate = (
                f"the .mlz rows are the codec's {len(points)} operating points ({points[0]['bits']}"
                f" to {points[-1]['bits']} bits per number, which its fitted priors expect at "
                f"{points[0]['kbps']:.2f} to {points[-1]['kbps']:.2f} kbit/s on typical music)"
            )
        else:
            rate = f"the latent alone is {space.bitrate:.0f} bit/s"
        compression_note = (
            f"Measured on the {len(run.listen)} excerpts above ({n_listen_seg} segments of "
            f"{seg_s:g} s). Spectral RMSE as docs/evaluation.md defines it (floor at the "
            "reference's "
            "maximum - 80 dB, real frames only): log-mel RMSE compares the decoder's (or PCA's) "
            "log-mel with the input, audio RMSE the log-mel of what a listener hears. kbit/s of "
            f"the .mlz streams and the codecs come from file sizes; {rate}. PCA is {pca.note}. "
            f"Over all {len(seg.table)} report clips ({len(seg)} segments) the decoder's "
            f"log-mel RMSE is {latent_rmse:.2f} dB"
        )
        if "reduction_vs_pca" in pca_summary:
            compression_note += (
                f", PCA's {pca_summary['pca_same_dims_rmse_db']:.2f} dB at the same dimensions "
                f"({pca_summary['reduction_vs_pca']:.1%} lower for the latent) and "
                f"{pca_summary['pca_same_bitrate_rmse_db']:.2f} dB at the same bitrate"
            )
        compression_note += "."
        if usable:
            compression_note += (
                " The reference codecs run at set rates ("
                + ", ".join(c.name for c in usable)
                + "); the table gives the rate of the files they wrote."
            )
        if listener:
            compression_note += (
                " The listener columns compare the audio of each player with its original "
                "excerpt, a mean over the excerpts (docs/evaluation.md; ↑: higher is better): "
                "onset r (attacks), chroma r (pitch classes), beat F (beat positions), ViSQOL "
                f"(MOS 1-5) and, through {MUSICNN}, the cosine of the embeddings and the share "
                "of the top-5 tags kept."
            )
        notes = ([codec_note] if codec_note else []) + failures + heard.notes
        for extra in notes:
            compression_note += f" ({extra}.)"

        bar.step("latent plots")
        scatters, scatter_note = _scatter_section(run)

        bar.step("genre head")
        confusion, confusion_note, accuracy = _genre_section(run)

        bar.step("training history")
        history_fig, history_note = _history_section(run, history)

        bar.step("interpolation")
        walks, walk_note, smooth = _walk_section(run, pairs=pairs, steps=steps)

        bar.step("probe")
        probe, probe_note, probe_rows = _probe_section(run, probe_dims=probe_dims, progress=show)

        bar.step("page")
        facts = [
            (
                "model",
                f"{space.name} ({type(model).__name__}, {space.latent_dim}-d latent per "
                f"{seg_s:g}-s segment, weights {space.weights_sha256[:12]}…)",
            ),
            ("data", data_description or "(not described)"),
            (
                "clips",
                f"{len(seg.table)} of the {len(chosen)} clips of split '{split}' "
                f"({len(seg)} segments), drawn with seed {seed} round-robin over genres "
                "to keep the page fast; --max-clips changes it",
            ),
            (
                "listened",
                f"{len(run.listen)} clips, up to {n_seg * seg_s:g} s from the start of each; "
                f"Griffin-Lim with {iterations} iterations",
            ),
            ("PCA baseline", f"{pca.k} components, {pca.note}"),
            (
                ("operating points", _points_fact(space))
                if space.code_bits
                else (
                    "latent bitrate",
                    f"{space.bitrate:.0f} bit/s ({space.bits_per_dim} bits per dimension)",
                )
            ),
            ("generated", datetime.datetime.now().strftime("%Y-%m-%d %H:%M")),
        ]
        if command:
            facts.append(("command", command))
        page = Page(
            title=f"{space.name}: see and hear the latent space",
            facts=facts,
            listen=clips,
            listen_note=(
                "Each clip as decoded, inverted from its own log-mel (what the vocoder alone "
                "loses), reconstructed from its latent, through the compressed .mlz stream (a "
                "codec model's at each of its operating points) and through the baselines. "
                "Hover over a label for details."
            ),
            compression=compression,
            compression_note=compression_note,
            scatters=scatters,
            scatter_note=scatter_note,
            confusion=confusion,
            confusion_note=confusion_note,
            history=history_fig,
            history_note=history_note,
            walks=walks,
            walk_note=walk_note,
            probe=probe,
            probe_note=probe_note,
            compression_plot=rq_plot,
        )
        index = run.out / "index.html"
        with atomic_path(index) as tmp:
            tmp.write_text(render(page), encoding="utf-8")
        summary = {
            "index": str(index),
            "model": space.name,
            "split": split,
            "clips": len(seg.table),
            "clips_in_split": len(chosen),
            "segments": len(seg),
            "listened": [seg.table[p].clip_id for p in run.listen],
            "latent_rmse_db": latent_rmse,
            "pca_baseline": pca_summary,
            "compression": [dict(zip(compression_keys, r, strict=True)) for r in compression.rows],
            "compression_notes": notes,
            "rate_quality_plot": None if rq_plot is None else str(run.out / rq_plot.src),
            "rate_quality": [
                {k: _finite(v) if isinstance(v, float) else v for k, v in row.items()}
                for row in rq_rows
            ],
            "genre_accuracy": accuracy,
            "interpolation_smoothness": smooth,
            "probe": probe_rows,
            "history": history_note,
            "seconds": round(time.time() - start, 1),
        }
        write_json(run.out / "report.json", summary)
    finally:
        bar.close()
    return summary
