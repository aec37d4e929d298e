"""Reconstructions judged as a listener would: rhythm, harmony, beat and perceived quality.

Spectral RMSE (:mod:`.metrics`) says how far two log-mels are apart, not whether a listener
still hears the same groove, chords and tempo. The measures here compare an original waveform
with its decoded version on those terms, for a codec or reconstruction table:

- :func:`onset_correlation`: do the note attacks and drum hits land where they did?
- :func:`chroma_correlation`: are the same pitch classes (chords, melody) sounding?
- :func:`beat_agreement`: same tempo, same beat positions (with :func:`beat_f_measure`)?
- :func:`visqol_audio`: ViSQOL's audio-mode MOS (1-5), a model of rated listening tests; needs
  the optional package ``visqol-python``.
- :func:`listener_measures`: all of them in one flat dict, one row of a table.

Both signals are mono float arrays at one sample rate (22050 Hz in this package); when their
lengths differ the longer one is cut to the shorter, since decoders often pad the last window.

Example:
    >>> from keras_musiclatent.data.synthetic import demo_clip
    >>> clip = demo_clip(seconds=4.0)
    >>> row = listener_measures(clip, clip, sample_rate=22050, visqol=False)
    >>> round(row["onset_r"], 3), row["beat_f"], row["tempo_ok"]
    (1.0, 1.0, 1.0)
"""

from __future__ import annotations

from typing import Any

import librosa
import numpy as np

from keras_musiclatent.audio.io import resample
from keras_musiclatent.errors import EmptyAudioError, InvalidAudioError, MissingComponentError

__all__ = [
    "BEAT_WINDOW_S",
    "MIN_SECONDS",
    "TEMPO_TOLERANCE",
    "VISQOL_SAMPLE_RATE",
    "beat_agreement",
    "beat_f_measure",
    "chroma_correlation",
    "listener_measures",
    "onset_correlation",
    "visqol_audio",
]

# The house frame hop: the envelopes and chroma frames line up with the package's log-mels.
HOP_LENGTH = 512
# Beat tracking runs at half the house hop. At 512, neighbouring tempo bins of the tracker lie
# 4.3 % apart at 110 BPM, so a one-bin wobble (a shifted copy of one clip: 107.7 vs 112.3 BPM)
# would fail the 4 % tempo test; at 256 they lie within it up to about 200 BPM, and beat times
# come on an 11.6 ms grid instead of 23 ms, small against the ±70 ms window.
BEAT_HOP_LENGTH = 256
# Under a second the envelopes hold a few dozen frames and the tracker one or two beats.
MIN_SECONDS = 1.0
# ±70 ms is the customary beat-evaluation window (MIREX beat tracking, mir_eval's default).
BEAT_WINDOW_S = 0.07
# 4 % is the tolerance of the ISMIR 2004 tempo contest (Gouyon et al. 2006), whose second
# accuracy also forgives octave errors: tracking at half or double speed is the same groove.
TEMPO_TOLERANCE = 0.04
_TEMPO_FACTORS = (1.0, 2.0, 0.5)
# ViSQOL's audio mode is trained on 48 kHz material and warns on any other rate.
VISQOL_SAMPLE_RATE = 48000
VISQOL_PACKAGE = "visqol-python"


def _signal(audio: Any, what: str) -> np.ndarray:
    """``audio`` as a 1-D finite float32 array, or a typed error naming the problem."""
    try:
        array = np.asarray(audio, dtype=np.float32)
    except (TypeError, ValueError) as err:
        raise InvalidAudioError(f"{what}: not a numeric array ({err})") from None
    if array.ndim != 1:
        raise InvalidAudioError(
            f"{what}: expected a 1-D mono waveform, got shape {array.shape}; "
            "average the channels first"
        )
    if array.size == 0:
        raise EmptyAudioError(f"{what}: holds zero samples")
    if not np.isfinite(array).all():
        raise InvalidAudioError(f"{what}: holds NaN or infinite samples")
    return array


def _rate(sample_rate: Any) -> int:
    # bool is an int subclass, and a float rate usually means swapped arguments.
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
        raise InvalidAudioError(f"sample_rate must be a positive int, got {sample_rate!r}")
    if sample_rate <= 0:
        raise InvalidAudioError(f"sample_rate must be a positive int, got {sample_rate}")
    return int(sample_rate)


def _pair(reference: Any, decoded: Any, sample_rate: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Validate both signals and the rate; cut both to the shorter length."""
    rate = _rate(sample_rate)
    ref = _signal(reference, "reference")
    dec = _signal(decoded, "decoded")
    n = min(ref.size, dec.size)
    if n < MIN_SECONDS * rate:
        raise InvalidAudioError(
            f"signals must be at least {MIN_SECONDS:g} s long ({int(MIN_SECONDS * rate)} "
            f"samples at {rate} Hz); the shorter has {n} samples ({n / rate:.3f} s)"
        )
    return ref[:n], dec[:n], rate


def _pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two equally long arrays; 0.0 when either is constant."""
    a = np.ravel(a).astype(np.float64)
    b = np.ravel(b).astype(np.float64)
    # ptp is exact (max - min), unlike a centred norm, which rounding keeps a hair above 0.
    if not (np.ptp(a) > 0 and np.ptp(b) > 0):
        return 0.0
    a = a - a.mean()
    b = b - b.mean()
    r = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.clip(r, -1.0, 1.0))


def _onset_r(ref: np.ndarray, dec: np.ndarray, rate: int) -> float:
    envelopes = [
        librosa.onset.onset_strength(y=y, sr=rate, hop_length=HOP_LENGTH) for y in (ref, dec)
    ]
    return _pearson(*envelopes)


def _chroma_r(ref: np.ndarray, dec: np.ndarray, rate: int) -> float:
    if not ref.any():  # silence has no tuning to estimate
        tuning = 0.0
    else:
        # One pitch grid for both: the reference's tuning, so a detuned decode is penalised
        # instead of being re-centred by its own tuning estimate.
        tuning = float(librosa.estimate_tuning(y=ref, sr=rate, hop_length=HOP_LENGTH))
    chromas = [
        librosa.feature.chroma_stft(y=y, sr=rate, hop_length=HOP_LENGTH, tuning=tuning)
        for y in (ref, dec)
    ]
    return _pearson(*chromas)


def _beats(y: np.ndarray, rate: int) -> tuple[float, np.ndarray]:
    """(tempo in BPM, beat times in s) of librosa's tracker; tempo 0 and no beats in silence."""
    # beat_track's own envelope takes the median over mel bands: a decode low-passed at 1 kHz
    # leaves most bands empty, the median flat, and no beats at all, although a listener
    # hears every kick. The mean over bands (onset_strength's default) keeps them.
    envelope = librosa.onset.onset_strength(y=y, sr=rate, hop_length=BEAT_HOP_LENGTH)
    tempo, beats = librosa.beat.beat_track(
        onset_envelope=envelope, sr=rate, hop_length=BEAT_HOP_LENGTH, units="time"
    )
    return float(np.ravel(tempo)[0]), np.asarray(beats, dtype=np.float64)


def _tempo_agrees(tempo_ref: float, tempo_dec: float) -> bool:
    if tempo_ref <= 0 or tempo_dec <= 0:
        return False
    ratio = tempo_dec / tempo_ref
    return any(abs(ratio / f - 1.0) <= TEMPO_TOLERANCE for f in _TEMPO_FACTORS)


def _beat_agreement(ref: np.ndarray, dec: np.ndarray, rate: int) -> dict[str, Any]:
    tempo_ref, beats_ref = _beats(ref, rate)
    tempo_dec, beats_dec = _beats(dec, rate)
    return {
        "tempo_ref": tempo_ref,
        "tempo_dec": tempo_dec,
        "tempo_ratio_ok": _tempo_agrees(tempo_ref, tempo_dec),
        "beat_f_measure": beat_f_measure(beats_ref, beats_dec),
    }


def _visqol(ref: np.ndarray, dec: np.ndarray, rate: int) -> float:
    try:
        from visqol import VisqolApi
    except ImportError:
        raise MissingComponentError(
            f"ViSQOL needs the optional package {VISQOL_PACKAGE}: pip install {VISQOL_PACKAGE}"
        ) from None
    if not (ref.any() and dec.any()):
        # ViSQOL's patches come from the reference's active frames; silence has none.
        raise InvalidAudioError("ViSQOL needs sound in both signals; one of them is silent")
    api = VisqolApi()  # cheap (milliseconds); a fresh one per call keeps calls independent
    api.create(mode="audio")
    result = api.measure_from_arrays(
        resample(ref, rate, VISQOL_SAMPLE_RATE).astype(np.float64),
        resample(dec, rate, VISQOL_SAMPLE_RATE).astype(np.float64),
        VISQOL_SAMPLE_RATE,
    )
    mos = float(result.moslqo)
    if not np.isfinite(mos):  # its level scaling divides by the decoded energy
        raise InvalidAudioError("ViSQOL found no usable sound in the decoded signal")
    return mos


def beat_f_measure(
    reference_beats: Any, estimated_beats: Any, *, window: float = BEAT_WINDOW_S
) -> float:
    """F-measure of estimated beat times against reference beat times.

    A reference beat and an estimated beat match when they are at most ``window`` seconds
    apart, and each beat matches at most once. Precision is matches / estimated beats, recall
    matches / reference beats, F = 2PR / (P + R): mir_eval's ``beat.f_measure`` without its
    trimming of the first 5 s (our clips are short).

    Args:
        reference_beats: ``(n,)`` beat times in seconds.
        estimated_beats: ``(m,)`` beat times in seconds.
        window: the match tolerance in seconds, each side.

    Returns:
        F in [0, 1]; 0.0 when either list is empty.

    Example:
        >>> round(beat_f_measure([1.0, 2.0, 3.0, 4.0], [1.05, 2.5, 3.0]), 4)  # 2 of 3 and 4
        0.5714
    """
    if not (window > 0 and np.isfinite(window)):
        raise ValueError(f"window must be a positive number of seconds, got {window!r}")
    ref = np.sort(np.asarray(reference_beats, dtype=np.float64).ravel())
    est = np.sort(np.asarray(estimated_beats, dtype=np.float64).ravel())
    if not (np.isfinite(ref).all() and np.isfinite(est).all()):
        raise ValueError("beat times must be finite")
    if ref.size == 0 or est.size == 0:
        return 0.0
    # Points on a line with one tolerance: matching the earliest compatible pair first is a
    # maximum matching (an unmatched earlier beat can never match a later partner instead).
    i = j = matches = 0
    while i < ref.size and j < est.size:
        if abs(est[j] - ref[i]) <= window:
            matches += 1
            i += 1
            j += 1
        elif est[j] < ref[i]:
            j += 1  # too early for this reference beat, so for every later one too
        else:
            i += 1  # this reference beat has no estimate left near it
    if matches == 0:
        return 0.0
    precision = matches / est.size
    recall = matches / ref.size
    return 2.0 * precision * recall / (precision + recall)


def onset_correlation(reference: np.ndarray, decoded: np.ndarray, *, sample_rate: int) -> float:
    """Pearson correlation of the two onset-strength envelopes (librosa, hop 512).

    The envelope rises at note attacks and drum hits, so this asks whether the decoded clip
    keeps the rhythm where the original had it; a shift of a few frames already lowers it.

    Args:
        reference: ``(samples,)`` original waveform.
        decoded: ``(samples,)`` decoded waveform (the longer of the two is cut).
        sample_rate: rate of both in Hz.

    Returns:
        r in [-1, 1]; 0.0 when either envelope is constant (e.g. silence).

    Raises:
        InvalidAudioError, EmptyAudioError: not 1-D finite signals of at least 1 s, or a bad
            rate.

    Example:
        >>> from keras_musiclatent.data.synthetic import demo_clip
        >>> clip = demo_clip(seconds=3.0)
        >>> round(onset_correlation(clip, clip, sample_rate=22050), 6)
        1.0
    """
    return _onset_r(*_pair(reference, decoded, sample_rate))


def chroma_correlation(reference: np.ndarray, decoded: np.ndarray, *, sample_rate: int) -> float:
    """Pearson correlation of the two chromagrams (librosa ``chroma_stft``, hop 512), flattened.

    One correlation over all (pitch class, frame) cells rather than a mean of per-frame
    correlations: a frame whose chroma is flat (silence, a drum hit) has no per-frame
    correlation, and the flattened form also rewards keeping chord changes in time. Both
    chromagrams use the reference's estimated tuning.

    Args:
        reference: ``(samples,)`` original waveform.
        decoded: ``(samples,)`` decoded waveform (the longer of the two is cut).
        sample_rate: rate of both in Hz.

    Returns:
        r in [-1, 1]; 0.0 when either chromagram is constant (e.g. silence).

    Raises:
        InvalidAudioError, EmptyAudioError: as :func:`onset_correlation`.

    Example:
        >>> from keras_musiclatent.data.synthetic import demo_clip
        >>> clip = demo_clip(seconds=3.0)
        >>> round(chroma_correlation(clip, clip, sample_rate=22050), 6)
        1.0
    """
    return _chroma_r(*_pair(reference, decoded, sample_rate))


def beat_agreement(
    reference: np.ndarray, decoded: np.ndarray, *, sample_rate: int
) -> dict[str, Any]:
    """Tempo and beat positions of both clips (``librosa.beat.beat_track``), compared.

    The tracker runs on a mean-over-bands onset envelope at hop 256 (see the module's
    constants for why), not on its median-over-bands default at hop 512.

    Args:
        reference: ``(samples,)`` original waveform.
        decoded: ``(samples,)`` decoded waveform (the longer of the two is cut).
        sample_rate: rate of both in Hz.

    Returns:
        ``{"tempo_ref": BPM, "tempo_dec": BPM, "tempo_ratio_ok": bool, "beat_f_measure": F}``:
        ``tempo_ratio_ok`` when the decoded tempo is within 4 % of the reference's, or of
        twice or half of it (the tracker's usual octave error); ``beat_f_measure`` scores the
        decoded beats against the reference beats with a ±70 ms window
        (:func:`beat_f_measure`), 0.0 when either clip has no beats.

    Raises:
        InvalidAudioError, EmptyAudioError: as :func:`onset_correlation`.

    Example:
        >>> from keras_musiclatent.data.synthetic import demo_clip
        >>> clip = demo_clip(seconds=4.0)
        >>> beat_agreement(clip, clip, sample_rate=22050)["beat_f_measure"]
        1.0
    """
    return _beat_agreement(*_pair(reference, decoded, sample_rate))


def visqol_audio(reference: np.ndarray, decoded: np.ndarray, *, sample_rate: int) -> float:
    """ViSQOL v3 audio-mode MOS-LQO of the decoded clip (via the optional ``visqol-python``).

    Both signals are resampled to 48 kHz (soxr) first, the rate ViSQOL's audio model was
    fitted at. Scores run from 1 (bad) to about 4.7 (transparent). The first call after
    installing the package compiles its kernels (about 8 s, cached on disk); later calls take
    about 1.3 s per 10 s of audio on a 2-core machine.

    Args:
        reference: ``(samples,)`` original waveform.
        decoded: ``(samples,)`` decoded waveform (the longer of the two is cut).
        sample_rate: rate of both in Hz.

    Returns:
        MOS-LQO, a float.

    Raises:
        MissingComponentError: ``visqol-python`` is not installed.
        InvalidAudioError, EmptyAudioError: as :func:`onset_correlation`, or a silent signal.

    Example:
        >>> from keras_musiclatent.data.synthetic import demo_clip
        >>> clip = demo_clip(seconds=3.0)
        >>> visqol_audio(clip, clip, sample_rate=22050) > 4.5  # doctest: +SKIP
        True
    """
    return _visqol(*_pair(reference, decoded, sample_rate))


def listener_measures(
    reference: np.ndarray, decoded: np.ndarray, *, sample_rate: int, visqol: bool = True
) -> dict[str, float | str]:
    """Every listener measure of one clip, as one flat row of a table.

    Args:
        reference: ``(samples,)`` original waveform.
        decoded: ``(samples,)`` decoded waveform (the longer of the two is cut).
        sample_rate: rate of both in Hz.
        visqol: also run ViSQOL (about 1.3 s per 10 s of audio).

    Returns:
        ``{"onset_r", "chroma_r", "beat_f", "tempo_ok"}`` as floats (``tempo_ok`` 1.0 or 0.0,
        so a column mean is the share of clips that kept their tempo), plus ``"visqol"`` when
        asked for; when ``visqol-python`` is missing or a signal is silent, ``"visqol_note"``
        says why instead, so a table still fills without the optional package.

    Raises:
        InvalidAudioError, EmptyAudioError: as :func:`onset_correlation`.

    Example:
        >>> from keras_musiclatent.data.synthetic import demo_clip
        >>> clip = demo_clip(seconds=4.0)
        >>> sorted(listener_measures(clip, clip, sample_rate=22050, visqol=False))
        ['beat_f', 'chroma_r', 'onset_r', 'tempo_ok']
    """
    ref, dec, rate = _pair(reference, decoded, sample_rate)
    beats = _beat_agreement(ref, dec, rate)
    row: dict[str, float | str] = {
        "onset_r": _onset_r(ref, dec, rate),
        "chroma_r": _chroma_r(ref, dec, rate),
        "beat_f": float(beats["beat_f_measure"]),
        "tempo_ok": float(beats["tempo_ratio_ok"]),
    }
    if visqol:
        try:
            row["visqol"] = _visqol(ref, dec, rate)
        except (MissingComponentError, InvalidAudioError) as err:
            # Inputs were checked above: what is left is a missing package or a silent
            # signal, and one clip without a MOS should not sink the whole table.
            row["visqol_note"] = f"not measured: {err}"
    return row
