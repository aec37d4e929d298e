"""Codecs judged as a listener would: a rate-quality table of latent and reference codecs.

Every system round-trips the same clips; each row holds the real rate (from the stream's
bytes), the audio log-mel RMSE of docs/evaluation.md, ViSQOL, the listener measures of
:mod:`.listener` and, given the ``musicnn-msd`` model, how much of the music's description
survives (embedding cosine, top-tag overlap).

- :class:`System`: a name, a kind and a round trip ``(audio, sr) -> (decoded, num_bytes)``;
- :func:`latent_systems`, :func:`reference_systems`, :func:`inversion_ceiling`: the systems;
- :func:`rate_quality`: one row per system; :func:`rate_quality_markdown`: the table;
- :func:`aims`, :func:`aims_markdown`: the latent codec's aims against Opus.

Example:
    >>> from keras_musiclatent.data.synthetic import demo_clip
    >>> space = LatentSpace.load("gtzan-ae")  # doctest: +SKIP
    >>> systems = latent_systems(space) + [inversion_ceiling(space)]  # doctest: +SKIP
    >>> refs, note = reference_systems()
    >>> clips = [("demo", demo_clip(seconds=6.0))]
    >>> rows = rate_quality(systems + refs, clips, sample_rate=22050)  # doctest: +SKIP
    >>> print(rate_quality_markdown(rows, note=note))  # doctest: +SKIP
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

import numpy as np

from keras_musiclatent._progress import wants_progress
from keras_musiclatent.audio.io import load as load_audio
from keras_musiclatent.audio.io import resample
from keras_musiclatent.audio.windows import segment
from keras_musiclatent.data.sources import round_robin
from keras_musiclatent.errors import InvalidAudioError
from keras_musiclatent.evaluate import metrics
from keras_musiclatent.evaluate.listener import listener_measures
from keras_musiclatent.evaluate.report import codecs

__all__ = [
    "MEASURES",
    "Aim",
    "System",
    "aims",
    "aims_markdown",
    "evaluate_codec",
    "inversion_ceiling",
    "latent_systems",
    "pick_clips",
    "rate_quality",
    "rate_quality_markdown",
    "reference_systems",
    "sorted_rows",
]

Kind = Literal["latent", "reference", "ceiling"]
RoundTrip = Callable[[np.ndarray, int], tuple[np.ndarray, int]]

#: Row key → (table header with unit, higher is better), in table order.
MEASURES: dict[str, tuple[str, bool]] = {
    "rmse_db": ("log-mel RMSE (dB) ↓", False),
    "visqol": ("ViSQOL (MOS 1-5) ↑", True),
    "onset_r": ("onset r ↑", True),
    "chroma_r": ("chroma r ↑", True),
    "beat_f": ("beat F ↑", True),
    "tempo_ok": ("tempo kept (share) ↑", True),
    "embedding_cos": ("musicnn cosine ↑", True),
    "tag_overlap": ("top-5 tags (share) ↑", True),
}
# The audio RMSE of docs/evaluation.md compares 3-s windows, the package's segments.
SEGMENT_SECONDS = 3.0
TOP_TAGS = 5
# The rate budget of the latent codec's aims: under a tenth of Opus's lowest rate.
AIM_KBPS = 1.0


@dataclass(frozen=True)
class System:
    """One way through a codec and back.

    Attributes:
        name: the table's row label (``"gtzan-codec 4 bits"``, ``"Opus 12 kbit/s"``).
        kind: ``"latent"`` (a model's stream), ``"reference"`` (a conventional codec) or
            ``"ceiling"`` (no stream: what the log-mel → audio step alone keeps).
        round_trip: ``(audio (samples,), sr) -> (decoded (samples,) at sr, num_bytes)``.
        family: the curve it belongs to in a plot (``"gtzan-codec"``, ``"Opus"``).
        nominal_kbps: the rate asked of a reference encoder (the table shows the real one).
    """

    name: str
    kind: Kind
    round_trip: RoundTrip
    family: str = ""
    nominal_kbps: float | None = None


def _fit(y: np.ndarray, n: int) -> np.ndarray:
    """``y`` cut or zero-padded to ``n`` samples, float32 (decoders pad their last window)."""
    y = np.asarray(y, np.float32).reshape(-1)
    out = np.zeros(n, np.float32)
    out[: min(n, y.size)] = y[:n]
    return out


def _at_rate(y: np.ndarray, rate: int, sr: int, n: int) -> np.ndarray:
    return _fit(resample(y, rate, sr), n)


def latent_systems(space: Any) -> list[System]:
    """One :class:`System` per operating point of a latent model's ``.mlz`` streams.

    Args:
        space: a :class:`~keras_musiclatent.LatentSpace` (or anything with ``name``,
            ``sample_rate``, ``compress`` and ``decompress``). A model with ``code_bits``
            (precisions, coarsest first) gives one system per precision, each through
            ``compress(audio, sr=sr, bits=b)``; one without (or with an empty list) gives one
            system through plain ``compress``.

    Returns:
        Systems named ``"<model> <b> bits"``, or ``"<model>"``, in ``code_bits`` order.

    Example:
        >>> [s.name for s in latent_systems(LatentSpace.load("gtzan-ae"))]  # doctest: +SKIP
        ['gtzan-ae']
    """
    name = str(space.name)

    def through(bits: int | None) -> RoundTrip:
        def round_trip(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
            options = {} if bits is None else {"bits": bits}
            blob = space.compress(audio, sr=sr, **options)
            decoded = space.decompress(blob)
            return _at_rate(decoded, int(space.sample_rate), sr, len(audio)), len(blob)

        return round_trip

    precisions = [int(b) for b in getattr(space, "code_bits", None) or []]
    if not precisions:
        return [System(name, "latent", through(None), family=name)]
    return [System(f"{name} {b} bits", "latent", through(b), family=name) for b in precisions]


def reference_systems(
    wanted: Sequence[codecs.Codec] = codecs.CODECS,
) -> tuple[list[System], str | None]:
    """The reference codecs (:data:`.report.codecs.CODECS`) this machine can run.

    Returns:
        ``(systems, note)``: the note says what was skipped and why (``None`` when nothing
        was), e.g. ``"ffmpeg not found: reference codecs skipped (apt-get install ffmpeg)"``.

    Example:
        >>> systems, note = reference_systems()
        >>> bool(systems) or note is not None
        True
    """
    usable, note = codecs.available_codecs(wanted)

    def through(codec: codecs.Codec) -> RoundTrip:
        def round_trip(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
            result = codecs.round_trip(audio, sr, codec)
            return result.audio, result.num_bytes

        return round_trip

    systems = [
        System(c.name, "reference", through(c), family=c.family, nominal_kbps=c.kbps)
        for c in usable
    ]
    return systems, note or None


def inversion_ceiling(space: Any, *, n_iter: int = 32) -> System:
    """The clip's own log-mel inverted to audio as ``decompress`` inverts a decode.

    No latent system can sound better than this: its decoder's best possible output is the
    input log-mel, and the same Griffin-Lim (``space.to_audio``, segment by segment, phase
    seed 0, ``n_iter`` iterations as ``decompress``'s default) turns it into audio. It stores
    nothing, so its ``num_bytes`` is 0 and the table shows no rate.

    Args:
        space: a :class:`~keras_musiclatent.LatentSpace` with a decoder (``log_mel``,
            ``to_audio``, ``sample_rate``).
        n_iter: Griffin-Lim iterations; keep ``decompress``'s.

    Example:
        >>> inversion_ceiling(LatentSpace.load("gtzan-ae")).name  # doctest: +SKIP
        'gtzan-ae log-mel inverted (ceiling)'
    """
    rate = int(space.sample_rate)

    def round_trip(audio: np.ndarray, sr: int) -> tuple[np.ndarray, int]:
        log_mel = space.log_mel(audio, sr=sr)
        samples = int(math.ceil(len(audio) * rate / sr))
        inverted = space.to_audio(log_mel, n_iter=n_iter, num_samples=samples, seed=0)
        return _at_rate(inverted, rate, sr, len(audio)), 0

    return System(f"{space.name} log-mel inverted (ceiling)", "ceiling", round_trip, "ceiling")


# --- measuring ------------------------------------------------------------------------------


def _rmse_db(ref: np.ndarray, dec: np.ndarray, sr: int) -> list[float]:
    """Audio RMSE of docs/evaluation.md per 3-s window: librosa log-mels of both waveforms.

    Both are cut by the package's window rule (:func:`keras_musiclatent.audio.windows.segment`),
    the rule every latent codec encodes by: a tail under 1 s is no window, so a clip's last
    few samples, which a latent codec does not store, do not count as a silent window.
    """
    ref_w, lengths = segment(ref, sr, SEGMENT_SECONDS)
    dec_w, _ = segment(_fit(dec, len(ref)), sr, SEGMENT_SECONDS)
    ref_db = metrics.logmel_db(ref_w, sample_rate=sr)
    frames = metrics.real_frames(lengths, frames=ref_db.shape[1])
    rmse = metrics.spectral_rmse_db(ref_db, metrics.logmel_db(dec_w, sample_rate=sr), frames=frames)
    return np.atleast_1d(rmse).tolist()


class _Description(NamedTuple):
    embedding: np.ndarray
    top_tags: frozenset[str] | None


def _describe(embedder: Any, audio: np.ndarray, sr: int) -> _Description:
    """Clip-level musicnn embedding (mean over 3-s windows) and its top tags (if any)."""
    embedding = np.asarray(embedder.embed(audio, sr=sr), np.float64).mean(axis=0)
    if not list(getattr(embedder, "tag_names", None) or []):
        return _Description(embedding, None)
    tags = embedder.tags(audio, sr=sr)  # most likely first
    return _Description(embedding, frozenset(list(tags)[:TOP_TAGS]))


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b / norm) if norm > 0 else 0.0


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else math.nan


def _say(progress: bool | None, text: str) -> None:
    if wants_progress(progress):
        print(f"rate-quality: {text}", file=sys.stderr, flush=True)


def rate_quality(
    systems: Sequence[System],
    clips: Sequence[tuple[str, np.ndarray]],
    *,
    sample_rate: int,
    embedder: Any | None = None,
    visqol: bool = True,
    progress: bool | None = None,
) -> list[dict[str, Any]]:
    """Round-trip every clip through every system once, and measure what a listener keeps.

    Measures, each a mean over clips (the RMSE over all 3-s windows of all clips):

    - ``kbps``: real rate, ``8 * num_bytes / duration / 1000`` (NaN for the ceiling);
    - ``rmse_db``: the audio log-mel RMSE of docs/evaluation.md (librosa log-mels of the
      original and decoded waveforms, 3-s windows, floor at max - 80 dB, real frames only);
    - ``visqol``: ViSQOL v3 audio mode at 48 kHz (:func:`.listener.visqol_audio`); NaN, with
      ``visqol_note`` saying why, when ``visqol-python`` is missing or not asked for;
    - ``onset_r``, ``chroma_r``, ``beat_f``, ``tempo_ok`` (share of clips whose tempo was
      kept): :func:`.listener.listener_measures`;
    - with ``embedder``: ``embedding_cos``, the cosine similarity of the clip-level embeddings
      (the mean over 3-s windows of ``embedder.embed``) of original and decoded; and
      ``tag_overlap``, ``|top5(original) ∩ top5(decoded)| / 5`` over the clip-level tag
      probabilities (``embedder.tags``, the mean over windows), NaN when the embedder has no
      tags. Both NaN without an embedder.

    Args:
        systems: from :func:`latent_systems`, :func:`reference_systems`,
            :func:`inversion_ceiling`, or any :class:`System`.
        clips: ``(name, (samples,) waveform at sample_rate)`` pairs, each at least 1 s.
        sample_rate: rate of the clips in Hz.
        embedder: the ``musicnn-msd`` :class:`~keras_musiclatent.LatentSpace` (anything with
            ``embed(audio, sr=)`` and, for tags, ``tag_names`` and ``tags(audio, sr=)``).
        visqol: run ViSQOL (4-7 s per 30-s clip and system on 2 cores, most of the time).
        progress: one line per system on stderr, with its time; ``None``: when stderr is a
            terminal or a notebook runs (:func:`keras_musiclatent._progress.wants_progress`).

    Returns:
        One dict per system, in the order given: ``system``, ``kind``, ``family``,
        ``nominal_kbps``, ``clips`` (names), ``seconds`` (total audio), ``num_bytes`` (mean per
        clip), ``kbps`` and the measures above. Deterministic: the same clips give the same rows.

    Raises:
        InvalidAudioError: no clips, or a clip that is not a 1-D waveform of at least 1 s.

    Example:
        >>> from keras_musiclatent.data.synthetic import demo_clip
        >>> same = System("copy", "reference", lambda y, sr: (y, 2 * len(y)))
        >>> rows = rate_quality([same], [("demo", demo_clip(seconds=3.0))], sample_rate=22050,
        ...                     visqol=False, progress=False)
        >>> rows[0]["kbps"], rows[0]["rmse_db"], round(rows[0]["onset_r"], 6)
        (352.8, 0.0, 1.0)
    """
    if not clips:
        raise InvalidAudioError("rate_quality needs at least one clip")
    clips = [(str(name), np.asarray(audio, np.float32)) for name, audio in clips]
    for name, audio in clips:
        if audio.ndim != 1:
            raise InvalidAudioError(f"clip {name!r}: expected a 1-D waveform, got {audio.shape}")
    seconds = [len(audio) / sample_rate for _, audio in clips]
    originals = [_describe(embedder, a, sample_rate) for _, a in clips] if embedder else []
    rows = []
    for system in systems:
        start = time.perf_counter()
        kbps, num_bytes, rmse, cos, overlap = [], [], [], [], []
        listened: dict[str, list[float]] = {}
        notes: list[str] = []
        for i, (_, audio) in enumerate(clips):
            decoded, size = system.round_trip(audio, sample_rate)
            decoded = _fit(decoded, len(audio))
            num_bytes.append(int(size))
            kbps.append(8 * size / seconds[i] / 1000)
            rmse += _rmse_db(audio, decoded, sample_rate)
            row = listener_measures(audio, decoded, sample_rate=sample_rate, visqol=visqol)
            for key, value in row.items():
                if key == "visqol_note":
                    notes.append(str(value))
                else:
                    listened.setdefault(key, []).append(float(value))
            if embedder is not None:
                described = _describe(embedder, decoded, sample_rate)
                cos.append(_cosine(originals[i].embedding, described.embedding))
                if described.top_tags is not None and originals[i].top_tags is not None:
                    shared = described.top_tags & originals[i].top_tags
                    overlap.append(len(shared) / TOP_TAGS)
        out: dict[str, Any] = {
            "system": system.name,
            "kind": system.kind,
            "family": system.family or system.name,
            "nominal_kbps": system.nominal_kbps,
            "clips": [name for name, _ in clips],
            "seconds": float(sum(seconds)),
            "num_bytes": float(np.mean(num_bytes)),
            "kbps": math.nan if system.kind == "ceiling" else _mean(kbps),
            "rmse_db": _mean(rmse),
            "visqol": _mean(listened.get("visqol", [])),
        }
        for key in ("onset_r", "chroma_r", "beat_f", "tempo_ok"):
            out[key] = _mean(listened[key])
        out["embedding_cos"] = _mean(cos)
        out["tag_overlap"] = _mean(overlap)
        if not visqol:
            out["visqol_note"] = "not measured: not asked for"
        elif notes:
            measured = len(listened.get("visqol", []))
            out["visqol_note"] = f"{notes[0]} ({measured} of {len(clips)} clips measured)"
        rows.append(out)
        took = time.perf_counter() - start
        _say(progress, f"{system.name}: {len(clips)} clip(s) in {took:.1f} s")
    return rows


# --- tables ---------------------------------------------------------------------------------

_ORDER = {"latent": 0, "ceiling": 1, "reference": 2}


def sorted_rows(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Latent systems by rate, then the ceiling, then the references by rate (stable)."""

    def key(row: dict[str, Any]) -> tuple[int, float]:
        rate = row["kbps"] if _finite(row["kbps"]) else math.inf
        return _ORDER.get(row["kind"], 3), rate

    return sorted(rows, key=key)


def _number(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{value:.{digits}f}"


def _clip_line(rows: Sequence[dict[str, Any]]) -> str:
    names = list(rows[0]["clips"]) if rows else []
    shown = ", ".join(names[:6]) + (f", … ({len(names) - 6} more)" if len(names) > 6 else "")
    total = rows[0]["seconds"] if rows else 0.0
    return (
        f"Mean over {len(names)} clip(s), {total:.0f} s of audio in all ({shown}); each "
        "clip through each system once. kbit/s from the real stream or file size."
    )


def rate_quality_markdown(rows: Sequence[dict[str, Any]], *, note: str | None = None) -> str:
    """The rows of :func:`rate_quality` as a markdown table, one row per system.

    Latent systems come first by rate, then the ceiling (rate "—"), then the references.
    Columns without a value in any row (no embedder, no tags) are left out; ``note`` (e.g.
    :func:`reference_systems`'s) and the ViSQOL notes follow the table.

    Example:
        >>> row = {"system": "x", "kind": "latent", "family": "x", "kbps": 0.5, "clips": ["a"],
        ...        "seconds": 30.0, "rmse_db": 6.0, "visqol": 2.5}
        >>> print(rate_quality_markdown([row]).splitlines()[2])
        | x | 0.50 | 6.00 | 2.50 |
    """
    ordered = sorted_rows(rows)
    keys = [
        k
        for k in MEASURES
        if any(isinstance(r.get(k), float | int) and math.isfinite(r[k]) for r in ordered)
    ]
    header = ["system", "kbit/s", *(MEASURES[k][0] for k in keys)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in ordered:
        cells = [row["system"], _number(row.get("kbps"))]
        cells += [_number(row.get(k)) for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", _clip_line(ordered)]
    visqol_notes = sorted({r["visqol_note"] for r in ordered if r.get("visqol_note")})
    for text in ([note] if note else []) + [f"ViSQOL {n}" for n in visqol_notes]:
        lines.append(f"({text})")
    return "\n".join(lines) + "\n"


# --- aims -----------------------------------------------------------------------------------


class Aim(NamedTuple):
    """One aim of the latent codec against a reference codec.

    Attributes:
        aim: what is asked, in words.
        value: the latent system's measure (NaN when not measured).
        reference: the reference codec's measure (NaN when not measured).
        met: whether the aim is met; ``None`` when either side was not measured.
        note: which systems were compared, or why it was not measured.
    """

    aim: str
    value: float
    reference: float
    met: bool | None
    note: str


# (measure, reference family, reference rate) of each aim; MEASURES says which way is better.
_AIMS = (
    ("rmse_db", "Opus", 12.0),
    ("visqol", "Opus", 12.0),
    ("onset_r", "Opus", 6.0),
    ("chroma_r", "Opus", 6.0),
    ("embedding_cos", "Opus", 6.0),
)


def _finite(value: Any) -> bool:
    return isinstance(value, float | int) and math.isfinite(value)


def _best_latent(rows: Sequence[dict[str, Any]], max_kbps: float) -> dict[str, Any] | None:
    """The latent row within the rate budget with the highest ViSQOL (lowest RMSE without it)."""
    within = [
        r for r in rows if r["kind"] == "latent" and _finite(r["kbps"]) and r["kbps"] <= max_kbps
    ]
    if not within:
        return None
    if any(_finite(r.get("visqol")) for r in within):
        return max(within, key=lambda r: r["visqol"] if _finite(r["visqol"]) else -math.inf)
    return min(within, key=lambda r: r["rmse_db"] if _finite(r["rmse_db"]) else math.inf)


def aims(rows: Sequence[dict[str, Any]], *, max_kbps: float = AIM_KBPS) -> list[Aim]:
    """The latent codec's aims, checked on the rows of :func:`rate_quality`.

    At the best latent system with a real rate of at most ``max_kbps`` (the highest ViSQOL
    among them, or the lowest RMSE when ViSQOL was not measured), one operating point for
    all aims:

    - log-mel RMSE at most Opus 12 kbit/s's; ViSQOL at least Opus 12 kbit/s's;
    - onset r, chroma r and musicnn embedding cosine at least Opus 6 kbit/s's.

    Returns:
        One :class:`Aim` per aim; ``met`` is ``None`` and ``note`` says why when no latent
        system fits the budget, the reference codec was not run, or a measure is missing.

    Example:
        >>> lat = {"system": "z", "kind": "latent", "family": "z", "kbps": 0.8, "rmse_db": 5.0}
        >>> opus = {"system": "Opus 12 kbit/s", "kind": "reference", "family": "Opus",
        ...         "nominal_kbps": 12.0, "kbps": 12.4, "rmse_db": 6.0}
        >>> aims([lat, opus])[0].met
        True
    """
    best = _best_latent(rows, max_kbps)
    out = []
    for key, family, kbps in _AIMS:
        header, higher = MEASURES[key]
        label = header.rstrip(" ↑↓")
        relation = "≥" if higher else "≤"
        text = f"{label} {relation} {family} {kbps:g} kbit/s's, at ≤ {max_kbps:g} kbit/s"
        ref = next(
            (
                r
                for r in rows
                if r["kind"] == "reference"
                and r.get("family") == family
                and r.get("nominal_kbps") == kbps
            ),
            None,
        )
        value = float(best[key]) if best is not None and _finite(best.get(key)) else math.nan
        ref_value = float(ref[key]) if ref is not None and _finite(ref.get(key)) else math.nan
        if best is None:
            why = f"not measured: no latent system at or under {max_kbps:g} kbit/s"
        elif ref is None:
            why = f"not measured: {family} {kbps:g} kbit/s was not run (needs ffmpeg)"
        elif not (math.isfinite(value) and math.isfinite(ref_value)):
            why = f"not measured: no {label} for {best['system']} or {ref['system']}"
        else:
            met = value >= ref_value if higher else value <= ref_value
            note = f"{best['system']} ({best['kbps']:.2f} kbit/s) vs {ref['system']}"
            out.append(Aim(text, value, ref_value, met, note))
            continue
        out.append(Aim(text, value, ref_value, None, why))
    return out


def aims_markdown(rows: Sequence[Aim]) -> str:
    """:func:`aims` as a markdown table: aim, latent value, reference value, met, note.

    Example:
        >>> print(aims_markdown([Aim("x ≥ y", 1.0, 0.5, True, "a vs b")]).splitlines()[2])
        | x ≥ y | 1.000 | 0.500 | yes | a vs b |
    """
    lines = ["| aim | latent | reference | met | compared |", "|---|---|---|---|---|"]
    for aim in rows:
        met = "not measured" if aim.met is None else ("yes" if aim.met else "no")
        lines.append(
            f"| {aim.aim} | {_number(aim.value, 3)} | {_number(aim.reference, 3)} | {met} "
            f"| {aim.note} |"
        )
    return "\n".join(lines) + "\n"


# --- a split's clips ------------------------------------------------------------------------


def pick_clips(table: Sequence[Any], n: int) -> list[Any]:
    """``n`` clips spread over the labels: the first clip (by id) of each label in turn.

    Round-robin over labels keeps every genre in a small rate–quality set, and the choice
    depends on the table alone, so a rerun measures the same clips.

    Example:
        >>> from types import SimpleNamespace as C
        >>> t = [C(clip_id=f"{g}.{i}", label=g) for g in "ab" for i in range(3)]
        >>> [c.clip_id for c in pick_clips(t, 3)]
        ['a.0', 'b.0', 'a.1']
    """
    by_label: dict[str, list[Any]] = {}
    for clip in sorted(table, key=lambda c: c.clip_id):
        by_label.setdefault(clip.label, []).append(clip)
    return round_robin([by_label[label] for label in sorted(by_label)], n)


def evaluate_codec(
    space: Any,
    table: Sequence[Any],
    *,
    clips: int = 10,
    embedder: Any | None = None,
    visqol: bool = True,
    references: bool = True,
    progress: bool | None = None,
) -> dict[str, Any]:
    """The rate–quality rows of a latent model beside its ceiling and the reference codecs,
    on ``clips`` whole clips of ``table`` (:func:`pick_clips`), as ``musiclatent evaluate``
    puts them in a model card.

    Returns:
        ``{"rows", "note", "clips", "aims"}``: the :func:`rate_quality` rows, what was
        skipped, the clip ids, and :func:`aims` as dicts.

    Raises:
        AudioError: a chosen clip does not decode.
    """
    chosen = pick_clips(table, clips)
    rate = int(space.sample_rate)
    waves = [(c.clip_id, load_audio(c.path, sr=rate)) for c in chosen]
    systems = [*latent_systems(space), inversion_ceiling(space)]
    note = None
    if references:
        refs, note = reference_systems()
        systems += refs
    rows = rate_quality(
        systems, waves, sample_rate=rate, embedder=embedder, visqol=visqol, progress=progress
    )
    return {
        "rows": rows,
        "note": note,
        "clips": [c.clip_id for c in chosen],
        "aims": [a._asdict() for a in aims(rows)],
    }
