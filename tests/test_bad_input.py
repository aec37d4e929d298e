"""A generated corpus of odd and broken audio files through ``audio.load/info/stream`` and the CLI.

Every file is made here (no third-party data). Legitimate audio must decode with the right rate,
duration, mono mixdown and finite float32 values; broken input must raise a typed error
(a ``MusicLatentError``) in Python and, on ``musiclatent info``, print one line on stderr and
exit non-zero. ``info`` reads headers only, so problems inside the sample data (NaN values, a
cut FLAC or MP3 stream) surface on decoding, not in ``info``.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent import audio, cli
from keras_musiclatent.errors import (
    AudioDecodeError,
    AudioFileNotFoundError,
    AudioIsDirectoryError,
    EmptyAudioError,
    InvalidAudioError,
    MusicLatentError,
)
from tests.conftest import REPO_ROOT

SR = audio.DEFAULT_SAMPLE_RATE


# --- builders ------------------------------------------------------------------------------


def sine(seconds: float, sr: int, *, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float64)


def write(path: Path, y: np.ndarray, sr: int, **kw) -> Path:
    sf.write(path, y, sr, **kw)
    return path


def riff(chunks: list[tuple[bytes, bytes]]) -> bytes:
    """A RIFF/WAVE file from ``(id, payload)`` chunks (sizes from the payloads)."""
    body = b"WAVE"
    for cid, payload in chunks:
        body += (
            cid + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")
        )
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_pcm16(channels: int = 1, rate: int = 8000) -> bytes:
    block = 2 * channels
    return struct.pack("<HHIIHH", 1, channels, rate, rate * block, block, 16)


def pcm16(y: np.ndarray) -> bytes:
    return (np.clip(y, -1, 1) * 32767).astype("<i2").tobytes()


def truncated(path: Path, fraction: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


def noise(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    return 0.3 * np.random.default_rng(seed).standard_normal(int(round(seconds * sr)))


# --- the corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Good:
    """A legitimate file: what ``info`` must report and what ``load`` must return."""

    build: Callable[[Path], Path]
    rate: int
    channels: int
    frames: int
    #: Expected mono signal at 22050 Hz (``None``: checked by length and finiteness only).
    expect: Callable[[], np.ndarray] | None = None
    atol: float = 1e-4
    #: Lossy codecs: allowed difference in decoded length, in samples at 22050 Hz.
    slack: int = 1


@dataclass(frozen=True)
class Bad:
    """Broken input: the error ``load`` and ``stream`` raise, and the one ``info`` raises
    (``None``: the header is intact, ``info`` succeeds)."""

    build: Callable[[Path], Path]
    load_error: type[MusicLatentError]
    info_error: type[MusicLatentError] | None
    match: str | None = None


def _six_channels() -> np.ndarray:
    return np.stack(
        [sine(1.0, 48000, freq=200.0 * (c + 1), amp=0.1 * (c + 1)) for c in range(6)], 1
    )


GOOD: dict[str, Good] = {
    "pcm24-wav": Good(
        lambda d: write(d / "a.wav", sine(1.0, SR), SR, subtype="PCM_24"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: sine(1.0, SR),
        atol=1e-6,
    ),
    "pcm32-wav": Good(
        lambda d: write(d / "a.wav", sine(1.0, SR), SR, subtype="PCM_32"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: sine(1.0, SR),
        atol=1e-7,
    ),
    "float64-wav": Good(
        lambda d: write(d / "a.wav", sine(1.0, SR), SR, subtype="DOUBLE"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: sine(1.0, SR),
        atol=1e-7,
    ),
    "unsigned-8bit-wav": Good(
        lambda d: write(d / "a.wav", sine(1.0, SR), SR, subtype="PCM_U8"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: sine(1.0, SR),
        atol=1e-2,
    ),
    "8khz": Good(
        lambda d: write(d / "a.wav", sine(2.0, 8000), 8000, subtype="FLOAT"),
        rate=8000,
        channels=1,
        frames=16000,
        expect=lambda: sine(2.0, SR),
        atol=2e-3,
    ),
    "192khz": Good(
        lambda d: write(d / "a.wav", sine(1.0, 192000), 192000, subtype="PCM_24"),
        rate=192000,
        channels=1,
        frames=192000,
        expect=lambda: sine(1.0, SR),
        atol=2e-3,
    ),
    "6-channels": Good(
        lambda d: write(d / "a.wav", _six_channels(), 48000, subtype="FLOAT"),
        rate=48000,
        channels=6,
        frames=48000,
        expect=lambda: (
            sum(sine(1.0, SR, freq=200.0 * (c + 1), amp=0.1 * (c + 1)) for c in range(6)) / 6
        ),
        atol=2e-3,
    ),
    "loud-float-wav": Good(
        lambda d: write(d / "a.wav", sine(1.0, SR, amp=4.0), SR, subtype="FLOAT"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: sine(1.0, SR, amp=4.0),
        atol=1e-6,
    ),
    "all-silent": Good(
        lambda d: write(d / "a.wav", np.zeros(SR), SR),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: np.zeros(SR),
    ),
    "dc-only": Good(
        lambda d: write(d / "a.wav", np.full(SR, 0.25), SR, subtype="FLOAT"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: np.full(SR, 0.25),
        atol=1e-7,
    ),
    "one-sample": Good(
        lambda d: write(d / "a.wav", np.array([0.5]), SR, subtype="FLOAT"),
        rate=SR,
        channels=1,
        frames=1,
        expect=lambda: np.array([0.5]),
        atol=1e-7,
    ),
    "unicode-space-path-flac": Good(
        lambda d: write(d / "müsik ♪ 音楽 clip.flac", sine(1.0, 44100), 44100),
        rate=44100,
        channels=1,
        frames=44100,
        expect=lambda: sine(1.0, SR),
        atol=2e-3,
    ),
    "flac-under-wav-name": Good(
        lambda d: write(d / "really-flac.wav", sine(1.0, SR), SR, format="FLAC"),
        rate=SR,
        channels=1,
        frames=SR,
        expect=lambda: sine(1.0, SR),
        atol=1e-4,
    ),
    "stereo-flac-24bit-96k": Good(
        lambda d: write(
            d / "a.flac",
            np.stack([sine(1.0, 96000), -sine(1.0, 96000)], 1),
            96000,
            subtype="PCM_24",
        ),
        rate=96000,
        channels=2,
        frames=96000,
        expect=lambda: np.zeros(SR),
        atol=1e-4,
    ),
    "ogg-vorbis-stereo": Good(
        lambda d: write(d / "a.ogg", np.stack([sine(1.0, 44100)] * 2, 1), 44100),
        rate=44100,
        channels=2,
        frames=44100,
        expect=None,
        slack=4,
    ),
    "mp3-44k": Good(
        lambda d: write(d / "a.mp3", sine(1.0, 44100), 44100),
        rate=44100,
        channels=1,
        frames=44100,
        expect=None,
        slack=2 * 1152,
    ),
    "wav-extra-chunks": Good(
        lambda d: (
            (d / "a.wav").write_bytes(
                riff(
                    [
                        (b"fmt ", fmt_pcm16(1, 8000)),
                        (b"LIST", b"INFOISFT" + struct.pack("<I", 5) + b"test\0"),
                        (b"data", pcm16(sine(1.0, 8000))),
                        (b"junk", b"odd"),
                    ]
                )
            )
            and d / "a.wav"
        ),
        rate=8000,
        channels=1,
        frames=8000,
        expect=lambda: sine(1.0, SR),
        atol=2e-3,
    ),
}

BAD: dict[str, Bad] = {
    "zero-bytes-flac": Bad(
        lambda d: _bytes(d / "a.flac", b""),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="empty",
    ),
    "zero-bytes-mp3": Bad(
        lambda d: _bytes(d / "a.mp3", b""),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="empty",
    ),
    "random-bytes-mp3": Bad(
        # libmpg123 printed three "Note: ..." lines and libsndfile said the file did not exist.
        lambda d: _bytes(d / "random_bytes.mp3", np.random.default_rng(11).bytes(20000)),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="not a recognised audio format",
    ),
    "text-as-wav": Bad(
        lambda d: _bytes(d / "notes.wav", b"a,b,c\n1,2,3\n" * 40),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="not a readable",
    ),
    "png-as-ogg": Bad(
        lambda d: _bytes(d / "cover.ogg", b"\x89PNG\r\n\x1a\n" + bytes(300)),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "riff-cut-in-header": Bad(
        lambda d: truncated(write(d / "a.wav", sine(1.0, SR), SR), 0.0005),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "riff-without-fmt": Bad(
        lambda d: _bytes(d / "a.wav", riff([(b"data", pcm16(sine(0.1, 8000)))])),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "wav-data-size-lies": Bad(
        lambda d: _bytes(
            d / "a.wav",
            riff([(b"fmt ", fmt_pcm16()), (b"data", pcm16(sine(1.0, 8000)))]).replace(
                b"data" + struct.pack("<I", 16000), b"data" + struct.pack("<I", 160000)
            ),
        ),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="truncated",
    ),
    "wav-zero-channels": Bad(
        lambda d: _bytes(d / "a.wav", riff([(b"fmt ", fmt_pcm16(0)), (b"data", bytes(800))])),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "wav-zero-rate": Bad(
        lambda d: _bytes(d / "a.wav", riff([(b"fmt ", fmt_pcm16(1, 0)), (b"data", bytes(800))])),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "wav-rate-1hz": Bad(
        lambda d: _bytes(
            d / "a.wav", riff([(b"fmt ", fmt_pcm16(1, 1)), (b"data", pcm16(np.full(400, 0.1)))])
        ),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="implausible sample rate",
    ),
    "wav-no-samples": Bad(
        lambda d: _bytes(d / "a.wav", riff([(b"fmt ", fmt_pcm16()), (b"data", b"")])),
        load_error=EmptyAudioError,
        info_error=EmptyAudioError,
        match="zero samples",
    ),
    "truncated-flac": Bad(
        lambda d: truncated(write(d / "a.flac", noise(2.0, SR), SR), 0.5),
        load_error=AudioDecodeError,
        info_error=None,
        match="truncated",
    ),
    "truncated-ogg": Bad(
        lambda d: truncated(write(d / "a.ogg", noise(2.0, SR), SR), 0.6),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
        match="truncated",
    ),
    "truncated-mp3": Bad(
        lambda d: truncated(write(d / "a.mp3", noise(3.0, SR), SR), 0.5),
        load_error=AudioDecodeError,
        info_error=None,
        match="truncated",
    ),
    "flac-magic-then-garbage": Bad(
        lambda d: _bytes(d / "a.flac", b"fLaC" + np.random.default_rng(1).bytes(500)),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "ogg-first-page-only": Bad(
        lambda d: truncated(write(d / "a.ogg", noise(1.0, SR), SR), 0.02),
        load_error=AudioDecodeError,
        info_error=AudioDecodeError,
    ),
    "nan-float64-wav": Bad(
        lambda d: write(d / "a.wav", np.r_[sine(0.5, SR), np.nan], SR, subtype="DOUBLE"),
        load_error=InvalidAudioError,
        info_error=None,
        match="NaN or infinite",
    ),
    "inf-in-later-block": Bad(
        lambda d: write(
            d / "a.wav", np.r_[np.zeros(300_000), np.inf, np.zeros(10)], SR, subtype="FLOAT"
        ),
        load_error=InvalidAudioError,
        info_error=None,
        match="NaN or infinite",
    ),
    "float-near-float32-limit": Bad(
        lambda d: write(d / "a.wav", np.full((500, 2), 3e38), SR, subtype="FLOAT"),
        load_error=InvalidAudioError,
        info_error=None,
        match="too large",
    ),
    "float-huge-mono": Bad(
        # Finite, so nothing overflows before the log-mel: it gave NaN latents and NaN genres.
        lambda d: write(d / "a.wav", np.full(5000, 3e38), SR, subtype="FLOAT"),
        load_error=InvalidAudioError,
        info_error=None,
        match="too large",
    ),
    "float-far-over-full-scale": Bad(
        lambda d: write(d / "a.wav", np.r_[sine(0.5, SR), 1e6], SR, subtype="FLOAT"),
        load_error=InvalidAudioError,
        info_error=None,
        match="too large",
    ),
    "missing-file": Bad(
        lambda d: d / "nowhere" / "a.wav",
        load_error=AudioFileNotFoundError,
        info_error=AudioFileNotFoundError,
        match="no such file",
    ),
    "broken-symlink": Bad(
        lambda d: _symlink(d / "link.wav", d / "gone.wav"),
        load_error=AudioFileNotFoundError,
        info_error=AudioFileNotFoundError,
        match="no such file",
    ),
    "directory-named-wav": Bad(
        lambda d: _mkdir(d / "album.wav"),
        load_error=AudioIsDirectoryError,
        info_error=AudioIsDirectoryError,
        match="directory",
    ),
}


def _bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _symlink(link: Path, target: Path) -> Path:
    link.symlink_to(target)
    return link


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


# --- legitimate audio ----------------------------------------------------------------------


def _interior(y: np.ndarray, resampled: bool) -> np.ndarray:
    # A resampling filter rings at the very edges of a signal cut out of nothing.
    return y[256:-256] if resampled and len(y) > 1024 else y


@pytest.mark.parametrize("name", sorted(GOOD))
def test_legitimate_audio(tmp_path, name):
    case = GOOD[name]
    path = case.build(tmp_path)
    meta = audio.info(path)
    assert (meta.sample_rate, meta.channels, meta.frames) == (case.rate, case.channels, case.frames)
    assert meta.duration == pytest.approx(case.frames / case.rate)
    assert meta.segments() == 1

    y = audio.load(path)
    assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()
    expected_len = round(case.frames * SR / case.rate)
    assert abs(len(y) - expected_len) <= case.slack, (len(y), expected_len)
    if case.expect is not None:
        ref = case.expect()
        n = min(len(ref), len(y))
        resampled = case.rate != SR
        np.testing.assert_allclose(
            _interior(y[:n], resampled), _interior(ref[:n], resampled), atol=case.atol
        )
    else:  # lossy: the 440-Hz tone is there
        spectrum = np.abs(np.fft.rfft(y[: SR // 2]))
        assert abs(np.argmax(spectrum) * 2 - 440) <= 4

    blocks = list(audio.stream(path, block_frames=4096))
    np.testing.assert_allclose(np.concatenate(blocks), y, atol=1e-5)
    native = audio.load(path, sr=None, mono=False)
    assert native.shape == (case.frames if case.slack <= 1 else native.shape[0], case.channels)
    np.testing.assert_allclose(native.mean(axis=1), audio.load(path, sr=None), atol=1e-6)


def test_legitimate_audio_on_the_command_line(tmp_path):
    paths = []
    for i, name in enumerate(sorted(GOOD)):
        folder = tmp_path / f"{i:02d}"
        folder.mkdir()
        paths.append(GOOD[name].build(folder))
    result = _run_cli("info", "--json", *map(str, paths))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["file"] for r in rows] == [str(p) for p in paths]
    for row, name in zip(rows, sorted(GOOD), strict=True):
        case = GOOD[name]
        assert (row["sample_rate"], row["channels"]) == (case.rate, case.channels), name
        assert row["duration_s"] == round(case.frames / case.rate, 3), name
        assert row["segments"] == 1


def test_six_channels_keep_their_layout(tmp_path):
    y = audio.load(GOOD["6-channels"].build(tmp_path), mono=False)
    assert y.shape == (SR, 6)
    peaks = np.abs(y[1000:-1000]).max(axis=0)
    np.testing.assert_allclose(peaks, 0.1 * np.arange(1, 7), atol=2e-3)


@pytest.mark.parametrize(("rate", "expected"), [(44100, 1), (8000, 3)])
def test_one_sample_at_other_rates(tmp_path, rate, expected):
    # ceil(1 * 22050 / rate) samples come out of the resampler, smeared by its filter.
    path = write(tmp_path / "one.wav", np.array([0.5]), rate, subtype="FLOAT")
    y = audio.load(path)
    assert y.shape == (expected,) and y.dtype == np.float32 and np.isfinite(y).all()
    assert 0.0 < np.abs(y).max() <= 0.5


def test_mp3_longer_than_a_decode_block_has_no_glitches(tmp_path):
    # libsndfile's MP3 seek is approximate; block-wise decoding must not seek between blocks.
    y = np.stack([sine(8.0, 44100, amp=0.4), sine(8.0, 44100, freq=660.0, amp=0.2)], 1)
    path = write(tmp_path / "long.mp3", y, 44100)
    whole, _ = sf.read(path, dtype="float32")
    streamed = np.concatenate(list(audio.stream(path, sr=None, mono=False, block_frames=50_000)))
    np.testing.assert_array_equal(streamed, whole)
    np.testing.assert_array_equal(audio.load(path, sr=None, mono=False), whole)
    mono = audio.load(path)
    reference = audio.resample(whole.mean(axis=1), 44100, SR)
    np.testing.assert_allclose(mono, reference, atol=1e-5)


def test_loud_float_is_not_clipped_or_rescaled(tmp_path):
    y = audio.load(GOOD["loud-float-wav"].build(tmp_path))
    assert np.abs(y).max() == pytest.approx(4.0, rel=1e-5)
    windows, lengths = audio.segment(y)
    assert windows.shape == (1, 66150) and lengths.tolist() == [SR]


# --- broken input --------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(BAD))
def test_broken_input_raises_typed_errors(tmp_path, name):
    case = BAD[name]
    path = case.build(tmp_path)
    for call in (audio.load, lambda p: list(audio.stream(p))):
        with pytest.raises(case.load_error, match=case.match) as info:
            call(path)
        assert isinstance(info.value, MusicLatentError)
        assert path.name in str(info.value)
    if case.info_error is None:
        meta = audio.info(path)
        assert meta.frames > 0 and meta.sample_rate > 0
    else:
        with pytest.raises(case.info_error) as info:
            audio.info(path)
        assert path.name in str(info.value)


@pytest.mark.parametrize("name", sorted(BAD))
def test_broken_input_on_the_command_line(tmp_path, name):
    case = BAD[name]
    path = case.build(tmp_path)
    result = _run_cli("info", str(path))
    if case.info_error is None:  # the header is intact: info reports it
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(str(path))
        return
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("musiclatent: error:") and path.name in lines[0]


def test_console_script_reports_one_line(tmp_path):
    script = Path(sys.executable).with_name("musiclatent")
    if not script.exists():
        pytest.skip("the musiclatent console script is not installed in this environment")
    good = GOOD["dc-only"].build(tmp_path)
    bad = BAD["text-as-wav"].build(tmp_path)
    ok = subprocess.run([str(script), "info", str(good)], capture_output=True, text=True)
    assert ok.returncode == 0 and "1.00 s, 22050 Hz, 1 ch" in ok.stdout
    fail = subprocess.run(
        [str(script), "info", str(good), str(bad)], capture_output=True, text=True
    )
    assert fail.returncode == 1
    assert len(fail.stderr.strip().splitlines()) == 1 and "notes.wav" in fail.stderr


def test_cli_in_process_for_every_case(tmp_path, capfd):
    for i, name in enumerate(sorted(BAD)):
        folder = tmp_path / f"{i:02d}"
        folder.mkdir()
        path = BAD[name].build(folder)
        status = cli.main(["info", str(path)])
        err = capfd.readouterr().err  # descriptor 2: what decoder libraries print counts too
        if BAD[name].info_error is None:
            assert status == 0, (name, err)
        else:
            assert status == 1, name
            assert err.count("\n") == 1 and err.startswith("musiclatent: error:"), (name, err)


@pytest.mark.parametrize(
    "source",
    ["", "a\0b.wav", io.BytesIO(b""), io.BytesIO(b"RIFF\x00\x00\x00\x00WAVEjunk")],
    ids=["empty-path", "nul-in-path", "empty-file-object", "junk-file-object"],
)
def test_odd_sources(source):
    with pytest.raises(MusicLatentError):
        audio.load(source)
    if isinstance(source, io.BytesIO):
        source.seek(0)
    with pytest.raises(MusicLatentError):
        audio.info(source)


# --- a 20-minute file in bounded memory ----------------------------------------------------


@pytest.fixture(scope="module")
def twenty_minutes(tmp_path_factory) -> Path:
    """20 min of 16-kHz mono PCM_16 (38 MB), written block by block."""
    path = tmp_path_factory.mktemp("long") / "twenty minutes.wav"
    sr, block = 16000, 16000 * 60
    tone = (0.3 * np.sin(2 * np.pi * 220.0 * np.arange(block) / sr)).astype(np.float32)
    with sf.SoundFile(path, "w", sr, 1, format="WAV", subtype="PCM_16") as f:
        for _ in range(20):
            f.write(tone)
    return path


def test_twenty_minute_file_streams_in_bounded_memory(twenty_minutes):
    meta = audio.info(twenty_minutes)
    assert meta.duration == pytest.approx(1200.0) and meta.segments() == 400
    window = int(audio.DEFAULT_SEGMENT_SECONDS * SR)
    windows = 0
    carry = np.zeros(0, np.float32)
    total = 0
    peak_rms = 0.0
    tracemalloc.start()
    try:
        for block in audio.stream(twenty_minutes):
            assert block.dtype == np.float32 and np.isfinite(block).all()
            total += len(block)
            carry = np.concatenate([carry, block])
            while len(carry) >= window:  # segment on the fly, as audio.segment would
                peak_rms = max(peak_rms, float(np.sqrt(np.mean(carry[:window] ** 2))))
                carry = carry[window:]
                windows += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 1200 * SR
    assert windows == 400
    assert peak_rms == pytest.approx(0.3 / np.sqrt(2), rel=1e-3)
    # The decoded signal is 106 MB of float32; streaming it must stay within a few blocks.
    assert peak < 16 * 2**20, f"peak traced memory {peak / 2**20:.1f} MiB"


def test_twenty_minute_file_loads_within_output_plus_blocks(twenty_minutes):
    output = 1200 * SR * 4
    tracemalloc.start()
    try:
        y = audio.load(twenty_minutes)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert y.shape == (1200 * SR,)
    assert peak < output + 16 * 2**20, f"peak {peak / 2**20:.0f} MiB for {output / 2**20:.0f} MiB"


# --- helpers -------------------------------------------------------------------------------


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("MUSICLATENT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "keras_musiclatent.cli", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize("fmt", ["WAV", "OGG"])
def test_truncated_file_objects_are_caught_like_paths(fmt):
    buf = io.BytesIO()
    sf.write(buf, noise(2.0, SR), SR, format=fmt)
    data = buf.getvalue()
    for call in (audio.load, audio.info):
        with pytest.raises(AudioDecodeError, match="truncated"):
            call(io.BytesIO(data[: len(data) // 2]))
    # The check leaves the file object where it was: an intact one decodes after it.
    intact = io.BytesIO(b"JUNK" + data)
    intact.seek(4)
    if fmt == "WAV":  # libsndfile opens Ogg file objects only from their start
        assert len(audio.load(intact)) == 2 * SR
    assert len(audio.load(io.BytesIO(data))) == 2 * SR
