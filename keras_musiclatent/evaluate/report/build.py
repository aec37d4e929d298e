"""``musiclatent report``: a static HTML page to see and hear a latent space.

:func:`build_report` measures a :class:`~keras_musiclatent.latent_space.LatentSpace` on a
seeded subsample of a dataset split and writes ``index.html`` with its media beside it
(``media/`` WAVs and ``.mlz`` streams, ``images/`` PNGs, ``report.json``):

- players for a few clips: the original, its Griffin-Lim inversion, the reconstruction, the
  compressed stream (``compress`` → ``decompress``), PCA at the same bitrate and, when ffmpeg
  is installed, Opus and MP3 at their lowest bitrates;
- the compression table (kbit/s, ratio to 16-bit PCM, spectral RMSE per
  the evaluation protocol (docs/evaluation.md));
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
from keras_musiclatent.data.sources import subsample
from keras_musiclatent.errors import ConfigError, MissingComponentError
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
from keras_musiclatent.evaluate.plots import (
    embed_2d,
    read_history,
    save_confusion,
    save_history,
    save_log_mel_strip,
    save_scatter,
)
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
    picked: list[int] = []
    while len(picked) < k and any(queues):
        for queue in queues:
            if queue and len(picked) < k:
                picked.append(queue.pop(0))
    return picked


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
        self.seconds = 0.0

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


def _listen_section(
    run: _Run, pca: _Pca, codecs: list[Codec], audit: _Audit
) -> tuple[list[ListenClip], list[str]]:
    """Players for each listened clip; fills ``audit``. Returns the clips and codec failures."""
    space, seg, sr = run.space, run.seg, run.space.sample_rate
    head = space.genre_head
    clips: list[ListenClip] = []
    failures: list[str] = []
    for i, (pos, rows) in enumerate(zip(run.listen, run.excerpt_rows, strict=True)):
        clip = seg.table[pos]
        stem = f"{i:02d}-{safe_name(clip.clip_id)}"
        y = np.concatenate([seg.waves[r, : seg.lengths[r]] for r in rows])
        ref_db = metrics.logmel_db(audit.windows(y, len(rows)), **audit.kw)
        ref, fr = run.ref[rows], run.frames[rows]
        audit.seconds += len(y) / sr
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
        put("inverted", "original, inverted", inverted, "Griffin-Lim of its own log-mel")

        recon = invert(run.decoded[rows])
        audit.add_mel("latent", ref, run.decoded[rows], fr)
        audit.add_audio("latent", ref_db, recon, fr)
        put("reconstruction", "reconstruction", recon, "decode of the latent means")

        blob = space.compress(y)
        with atomic_path(run.media / f"{stem}.mlz") as tmp:
            tmp.write_bytes(blob)
        # ``decompress`` in its two halves, so the decoded log-mel is measured as well.
        z_q, num_samples = space.decompress_latents(blob)
        mel_q = space.decode(z_q)
        n_q = min(len(z_q), len(rows))
        audit.add_mel("mlz", ref[:n_q], mel_q[:n_q], fr[:n_q])
        compressed = invert(mel_q, num_samples)
        audit.add_audio("mlz", ref_db, compressed, fr)
        audit.bytes["mlz"] = audit.bytes.get("mlz", 0) + len(blob)
        put("compressed", f"compressed ({len(blob)} B)", compressed, ".mlz → decompress")

        if pca.exact is not None and pca.quantised is not None:
            exact, quantised = pca.exact[rows], pca.quantised[rows]
            audit.add_mel("pca", ref, exact, fr)
            audit.add_mel("pca_q", ref, quantised, fr)
            audit.add_audio("pca", ref_db, invert(exact), fr)
            pca_audio = invert(quantised)
            audit.add_audio("pca_q", ref_db, pca_audio, fr)
            put("pca", "PCA, same bitrate", pca_audio, f"{pca.k} quantised PCA coefficients")

        for codec in codecs:
            try:
                result = round_trip(y, sr, codec)
            except OSError as exc:
                failures.append(f"{codec.name} failed on {clip.clip_id}: {exc}")
                continue
            audit.add_audio(codec.encoder, ref_db, result.audio, fr)
            audit.bytes[codec.encoder] = audit.bytes.get(codec.encoder, 0) + result.num_bytes
            label = f"{codec.name} ({result.num_bytes:,} B)"
            put(codec.encoder, label, result.audio, f"ffmpeg {codec.encoder}, decoded to WAV")

        subtitle = f"genre: {clip.label or '(none)'}"
        if head is not None:
            probs = head.predict_proba(run.z[rows]).mean(0)
            best = int(np.argmax(probs))
            subtitle += f" · genre head: {head.genres[best]} ({float(probs[best]):.2f})"
        subtitle += f" · first {len(y) / sr:.1f} s"
        links = [(f"download .mlz ({len(blob)} B)", f"media/{stem}.mlz")]
        clips.append(ListenClip(clip.clip_id, subtitle, players, links))
    return clips, failures


def _compression_table(run: _Run, pca: _Pca, codecs: list[Codec], audit: _Audit) -> Table:
    space = run.space
    seg_s, bits = space.segment_seconds, space.bits_per_dim

    def row(label: str, stored: str, bps: float | None, key: str) -> list[Any]:
        return [
            label,
            stored,
            None if bps is None else bps / 1000,
            None if bps is None else metrics.compression_ratio(bps),
            audit.mean(audit.mel, key),
            audit.mean(audit.audio, key),
        ]

    rows = [
        row(
            f"{space.name} latent, .mlz",
            f"{bits}-bit latents + header",
            8 * audit.bytes["mlz"] / audit.seconds,
            "mlz",
        ),
        row(
            f"{space.name} latent, float32",
            "the latent means, unquantised",
            space.latent_dim * 32 / seg_s,
            "latent",
        ),
    ]
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
        if codec.encoder in audit.bytes:
            bps = 8 * audit.bytes[codec.encoder] / audit.seconds
            rows.append(row(codec.name, f"ffmpeg {codec.encoder}", bps, codec.encoder))
    rows.append(row("original, inverted", "nothing (the vocoder's floor)", None, "inversion"))
    header = [
        "method",
        "stored",
        "kbit/s",
        "ratio to 16-bit PCM",
        "log-mel RMSE (dB)",
        "audio RMSE (dB)",
    ]
    return Table(header, rows)


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
        codecs: compare with Opus and MP3 when ffmpeg is available.
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
        ``"pca_baseline"`` what PCA was fitted on and its RMSE over all report segments.

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
        compression = _compression_table(run, pca, usable, audit)
        n_listen_seg = sum(len(r) for r in run.excerpt_rows)
        seg_s = space.segment_seconds
        compression_note = (
            f"Measured on the {len(run.listen)} excerpts above ({n_listen_seg} segments of "
            f"{seg_s:g} s). Spectral RMSE as docs/evaluation.md defines it (floor at the "
            "reference's "
            "maximum - 80 dB, real frames only): log-mel RMSE compares the decoder's (or PCA's) "
            "log-mel with the input, audio RMSE the log-mel of what a listener hears. kbit/s of "
            f"the .mlz stream and the codecs come from file sizes; the latent alone is "
            f"{space.bitrate:.0f} bit/s. PCA is {pca.note}. Over all {len(seg.table)} report "
            f"clips ({len(seg)} segments) the decoder's log-mel RMSE is {latent_rmse:.2f} dB"
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
                " Opus and MP3 run at the lowest bitrate their encoders accept, still many "
                "times the latent's."
            )
        for extra in ([codec_note] if codec_note else []) + failures:
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
                "latent bitrate",
                f"{space.bitrate:.0f} bit/s ({space.bits_per_dim} bits per dimension)",
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
                "loses), reconstructed from its latent, through the compressed .mlz stream and "
                "through the baselines. Hover over a label for details."
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
        )
        index = run.out / "index.html"
        with atomic_path(index) as tmp:
            tmp.write_text(render(page), encoding="utf-8")
        keys = ["method", "stored", "kbps", "ratio", "logmel_rmse_db", "audio_rmse_db"]
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
            "compression": [dict(zip(keys, r, strict=True)) for r in compression.rows],
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
