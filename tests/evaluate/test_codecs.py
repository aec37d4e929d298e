"""evaluate.report.codecs: the reference codec settings, the skip message without ffmpeg or an
encoder, and (with ffmpeg) a real round trip of each codec."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from keras_musiclatent.data.synthetic import demo_clip
from keras_musiclatent.evaluate import rate_quality as rq
from keras_musiclatent.evaluate.report import codecs

SR = 22050
needs_ffmpeg = pytest.mark.skipif(
    shutil.which("ffmpeg") is None, reason="ffmpeg not found (apt-get install ffmpeg)"
)


def test_reference_codecs_are_opus_at_three_rates_and_mp3():
    assert [c.name for c in codecs.CODECS] == [
        "Opus 6 kbit/s",
        "Opus 12 kbit/s",
        "Opus 24 kbit/s",
        "MP3 32 kbit/s",
    ]
    assert [c.family for c in codecs.CODECS] == ["Opus", "Opus", "Opus", "MP3"]
    keys = [c.key for c in codecs.CODECS]
    assert keys == ["opus-6k", "opus-12k", "opus-24k", "mp3-32k"] and len(set(keys)) == 4


def test_without_ffmpeg_every_codec_is_skipped_with_a_reason(monkeypatch):
    monkeypatch.setattr(codecs.shutil, "which", lambda name: None)
    usable, note = codecs.available_codecs()
    assert usable == [] and note == codecs.FFMPEG_MISSING
    assert "ffmpeg not found" in note and "apt-get install ffmpeg" in note
    systems, note = rq.reference_systems()
    assert systems == [] and note == codecs.FFMPEG_MISSING
    with pytest.raises(OSError, match="ffmpeg not found"):
        codecs.round_trip(np.zeros(SR, np.float32), SR, codecs.CODECS[0])


def test_a_missing_encoder_is_named(monkeypatch):
    monkeypatch.setattr(codecs.shutil, "which", lambda name: "/opt/ffmpeg")
    monkeypatch.setattr(codecs, "_encoders", lambda exe: frozenset({"libopus", "aac"}))
    usable, note = codecs.available_codecs()
    assert [c.family for c in usable] == ["Opus"] * 3
    assert note == "this ffmpeg lacks libmp3lame: MP3 32 kbit/s skipped"
    systems, note = rq.reference_systems()
    assert [s.nominal_kbps for s in systems] == [6.0, 12.0, 24.0] and "libmp3lame" in note
    assert {s.kind for s in systems} == {"reference"}


@needs_ffmpeg
def test_each_reference_round_trip_returns_the_clip_length():
    systems, note = rq.reference_systems()
    assert note is None, note
    clip = demo_clip(seconds=3.3, seed=2)
    for system in systems:
        decoded, size = system.round_trip(clip, SR)
        assert decoded.shape == clip.shape and decoded.dtype == np.float32
        kbps = 8 * size / 3.3 / 1000
        # Container headers add to a short clip; VBR may undershoot.
        assert 0.5 * system.nominal_kbps < kbps < 3 * system.nominal_kbps, system.name
        # Decoded in time with the original (no encoder delay left in).
        r = np.corrcoef(clip[SR:-SR], decoded[SR:-SR])[0, 1]
        assert r > 0.5, (system.name, r)
