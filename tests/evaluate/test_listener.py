"""listener.py on generated clips: perfect scores for a copy, lower ones for what a listener hears
as different, hand-computed beat F-measures, and typed errors for bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment
from scipy.signal import butter, sosfilt

from keras_musiclatent.data.synthetic import demo_clip
from keras_musiclatent.errors import AudioError, EmptyAudioError, MissingComponentError
from keras_musiclatent.evaluate import listener

SR = 22050
SECONDS = 4.0


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return demo_clip(seconds=SECONDS, tempo=110.0, seed=0)


def _shifted(audio: np.ndarray, seconds: float) -> np.ndarray:
    """``audio`` delayed by ``seconds`` (silence in front), same length."""
    lag = int(round(seconds * SR))
    return np.concatenate([np.zeros(lag, np.float32), audio[:-lag]])


def _low_passed(audio: np.ndarray, hz: float) -> np.ndarray:
    return sosfilt(butter(8, hz, fs=SR, output="sos"), audio).astype(np.float32)


# --- identical and degraded clips -----------------------------------------------------------


def test_identical_clips_score_perfectly(clip):
    row = listener.listener_measures(clip, clip.copy(), sample_rate=SR, visqol=False)
    assert set(row) == {"onset_r", "chroma_r", "beat_f", "tempo_ok"}
    assert row["onset_r"] == pytest.approx(1.0, abs=1e-6)
    assert row["chroma_r"] == pytest.approx(1.0, abs=1e-6)
    assert row["beat_f"] == 1.0
    assert row["tempo_ok"] == 1.0
    beats = listener.beat_agreement(clip, clip, sample_rate=SR)
    assert beats["tempo_ratio_ok"] is True
    assert beats["tempo_ref"] == beats["tempo_dec"] == pytest.approx(110.0, rel=0.04)


def test_single_measures_match_the_row(clip):
    noisy = clip + 0.02 * np.random.default_rng(0).standard_normal(clip.size).astype(np.float32)
    row = listener.listener_measures(clip, noisy, sample_rate=SR, visqol=False)
    assert listener.onset_correlation(clip, noisy, sample_rate=SR) == row["onset_r"]
    assert listener.chroma_correlation(clip, noisy, sample_rate=SR) == row["chroma_r"]
    assert listener.beat_agreement(clip, noisy, sample_rate=SR)["beat_f_measure"] == row["beat_f"]


def test_louder_or_padded_copy_still_scores_perfectly(clip):
    # Correlations ignore gain, and a decoder's padded tail is cut to the reference's length.
    padded = np.concatenate([0.5 * clip, np.zeros(SR // 2, np.float32)])
    row = listener.listener_measures(clip, padded, sample_rate=SR, visqol=False)
    assert row["onset_r"] == pytest.approx(1.0, abs=1e-5)
    assert row["chroma_r"] == pytest.approx(1.0, abs=1e-5)
    assert row["beat_f"] == 1.0 and row["tempo_ok"] == 1.0


def test_time_shift_scores_lower_but_keeps_tempo(clip):
    # 100 ms: off the clip's eighth-note grid (273 ms), beyond the ±70 ms beat window.
    row = listener.listener_measures(clip, _shifted(clip, 0.1), sample_rate=SR, visqol=False)
    assert row["onset_r"] < 0.5
    assert row["beat_f"] < 0.5
    assert row["tempo_ok"] == 1.0  # a delay does not change the tempo


def test_other_tempo_scores_lower(clip):
    faster = demo_clip(seconds=SECONDS, tempo=140.0, seed=0)
    row = listener.listener_measures(clip, faster, sample_rate=SR, visqol=False)
    beats = listener.beat_agreement(clip, faster, sample_rate=SR)
    assert beats["tempo_dec"] == pytest.approx(140.0, rel=0.04)
    assert beats["tempo_ratio_ok"] is False and row["tempo_ok"] == 0.0
    assert row["onset_r"] < 0.5
    assert row["beat_f"] < 0.5
    assert row["chroma_r"] < 0.8  # same chords, but they change at other times


def test_white_noise_against_music_scores_low(clip):
    noise = (0.3 * np.random.default_rng(1).standard_normal(clip.size)).astype(np.float32)
    assert abs(listener.onset_correlation(clip, noise, sample_rate=SR)) < 0.3
    assert abs(listener.chroma_correlation(clip, noise, sample_rate=SR)) < 0.3


def test_low_passed_decode_keeps_its_beats(clip):
    # librosa's beat_track default (median over mel bands) finds no beats here at all.
    beats = listener.beat_agreement(clip, _low_passed(clip, 1000.0), sample_rate=SR)
    assert beats["tempo_ratio_ok"] is True
    assert beats["beat_f_measure"] > 0.8


def test_silent_decode_scores_zero_without_error(clip):
    row = listener.listener_measures(clip, np.zeros_like(clip), sample_rate=SR, visqol=True)
    assert row["onset_r"] == 0.0
    assert row["chroma_r"] == 0.0
    assert row["beat_f"] == 0.0
    assert row["tempo_ok"] == 0.0
    # No MOS for silence (with or without visqol-python installed), but the row is complete.
    assert "visqol" not in row
    assert "not measured" in row["visqol_note"]


# --- the beat F-measure and tempo rule ------------------------------------------------------


def test_beat_f_measure_by_hand():
    # 1.05 matches 1.0, 3.0 matches 3.0, 2.5 matches nothing: P = 2/3, R = 2/4, F = 4/7.
    assert listener.beat_f_measure([1.0, 2.0, 3.0, 4.0], [1.05, 2.5, 3.0]) == pytest.approx(4 / 7)
    # Each beat counts once: two estimates near one reference beat give P = 1/2, R = 1.
    assert listener.beat_f_measure([1.0], [0.98, 1.02]) == pytest.approx(2 / 3)
    # 100 ms is outside ±70 ms, inside ±200 ms.
    assert listener.beat_f_measure([1.0], [1.1]) == 0.0
    assert listener.beat_f_measure([1.0], [1.1], window=0.2) == 1.0
    # Order of the inputs does not matter.
    assert listener.beat_f_measure([3.0, 1.0, 2.0], [2.01, 0.99, 3.0]) == 1.0


def test_beat_f_measure_finds_the_maximum_matching():
    # Pairing 1.06 with its nearest reference (1.10) would leave 1.16 unmatched; the best
    # pairing is 1.00-1.06 and 1.10-1.16.
    assert listener.beat_f_measure([1.0, 1.1], [1.06, 1.16]) == 1.0


def test_beat_f_measure_agrees_with_an_assignment_solver(rng):
    for _ in range(30):
        ref = np.sort(rng.uniform(0, 3, rng.integers(1, 15)))
        est = np.sort(rng.uniform(0, 3, rng.integers(1, 15)))
        near = np.abs(ref[:, None] - est[None, :]) <= listener.BEAT_WINDOW_S
        rows, cols = linear_sum_assignment(near, maximize=True)
        matches = int(near[rows, cols].sum())
        expected = 0.0 if matches == 0 else 2 * matches / (ref.size + est.size)
        assert listener.beat_f_measure(ref, est) == pytest.approx(expected)


def test_beat_f_measure_empty_and_invalid():
    assert listener.beat_f_measure([], [1.0]) == 0.0
    assert listener.beat_f_measure([1.0], []) == 0.0
    with pytest.raises(ValueError, match="window"):
        listener.beat_f_measure([1.0], [1.0], window=0.0)
    with pytest.raises(ValueError, match="finite"):
        listener.beat_f_measure([1.0, np.nan], [1.0])


@pytest.mark.parametrize(
    ("tempo_dec", "ok"),
    [(100.0, True), (103.9, True), (96.1, True), (105.0, False), (95.0, False),
     (200.0, True), (207.0, True), (209.0, False), (50.0, True), (48.5, True), (47.0, False),
     (150.0, False), (0.0, False)],
)  # fmt: skip
def test_tempo_rule(tempo_dec, ok):
    assert listener._tempo_agrees(100.0, tempo_dec) is ok


# --- bad input ------------------------------------------------------------------------------

MEASURES = [
    listener.onset_correlation,
    listener.chroma_correlation,
    listener.beat_agreement,
    listener.visqol_audio,
    listener.listener_measures,
]


@pytest.mark.parametrize("measure", MEASURES, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("reference", "decoded", "sample_rate", "message"),
    [
        (np.zeros((2, SR * 2), np.float32), np.zeros(SR * 2, np.float32), SR, "1-D"),
        (np.ones(SR * 2, np.float32), np.full(SR * 2, np.nan, np.float32), SR, "NaN"),
        (np.ones(SR * 2, np.float32), np.full(SR * 2, np.inf, np.float32), SR, "infinite"),
        (np.ones(SR * 2, np.float32), np.ones(SR // 2, np.float32), SR, "at least 1 s"),
        (np.ones(SR * 2, np.float32), np.ones(SR * 2, np.float32), 0, "positive int"),
        (np.ones(SR * 2, np.float32), np.ones(SR * 2, np.float32), -SR, "positive int"),
        (np.ones(SR * 2, np.float32), np.ones(SR * 2, np.float32), 22050.0, "positive int"),
        (np.ones(SR * 2, np.float32), np.ones(SR * 2, np.float32), True, "positive int"),
        (["a", "b"], np.ones(SR * 2, np.float32), SR, "not a numeric array"),
    ],
)
def test_bad_input_raises_a_typed_error(measure, reference, decoded, sample_rate, message):
    with pytest.raises(AudioError, match=message):
        measure(reference, decoded, sample_rate=sample_rate)


def test_empty_signal_raises_empty_audio_error():
    with pytest.raises(EmptyAudioError, match="decoded: holds zero samples"):
        listener.onset_correlation(np.ones(SR), np.array([], np.float32), sample_rate=SR)


def test_numpy_int_rate_and_float64_lists_are_accepted(clip):
    r = listener.onset_correlation(clip.astype(np.float64), clip.tolist(), sample_rate=np.int64(SR))
    assert r == pytest.approx(1.0, abs=1e-6)


# --- ViSQOL ---------------------------------------------------------------------------------


def test_visqol_missing_package_raises_and_the_row_says_why(clip, monkeypatch):
    monkeypatch.setitem(sys.modules, "visqol", None)  # makes `import visqol` fail
    with pytest.raises(MissingComponentError, match="pip install visqol-python"):
        listener.visqol_audio(clip, clip, sample_rate=SR)
    row = listener.listener_measures(clip, clip, sample_rate=SR)
    assert "visqol" not in row
    assert "visqol-python" in row["visqol_note"]
    assert row["onset_r"] == pytest.approx(1.0, abs=1e-6)


def test_visqol_prefers_the_copy_to_a_low_passed_decode(clip):
    try:  # a broken install (ImportError, not only ModuleNotFoundError) also skips
        import visqol  # noqa: F401
    except ImportError as err:
        pytest.skip(f"visqol-python is not importable ({err}); pip install visqol-python")
    short = clip[: 3 * SR]
    same = listener.visqol_audio(short, short, sample_rate=SR)
    muffled = listener.visqol_audio(short, _low_passed(short, 1000.0), sample_rate=SR)
    assert 1.0 <= muffled < same <= 5.0
    assert same - muffled > 1.0
    row = listener.listener_measures(short, short, sample_rate=SR)
    assert row["visqol"] == pytest.approx(same)
    assert "visqol_note" not in row
