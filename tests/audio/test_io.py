"""audio.load / stream / info / segment / save, and every typed error they raise."""

from __future__ import annotations

import io
import os
import stat
import struct

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent import audio
from keras_musiclatent._files import write_json
from keras_musiclatent.errors import (
    AudioDecodeError,
    AudioError,
    AudioFileNotFoundError,
    AudioIsDirectoryError,
    EmptyAudioError,
    InvalidAudioError,
    MusicLatentError,
)
from tests.conftest import tone


def write(path, y, sr=22050, **kw):
    sf.write(path, y, sr, **kw)
    return path


# --- decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "fmt", "subtype", "atol"),
    [
        ("wav", "WAV", "PCM_16", 1e-4),
        ("wav", "WAV", "FLOAT", 1e-7),
        ("flac", "FLAC", "PCM_24", 1e-6),
        ("au", "AU", "PCM_16", 1e-4),
        ("ogg", "OGG", "VORBIS", None),
        ("mp3", "MP3", "MPEG_LAYER_III", None),
    ],
)
def test_load_formats(tmp_path, ext, fmt, subtype, atol):
    y = tone(2.0, freq=330.0)
    path = write(tmp_path / f"a.{ext}", y, format=fmt, subtype=subtype)
    out = audio.load(path)
    assert out.dtype == np.float32 and out.ndim == 1
    if atol is not None:
        np.testing.assert_allclose(out, y, atol=atol)
    else:  # lossy codecs: same length (within codec padding) and the same tone
        assert abs(len(out) - len(y)) <= 2 * 1152
        spec = np.abs(np.fft.rfft(out[:22050]))
        assert abs(np.argmax(spec) * 22050 / 22050 - 330.0) <= 2.0


def test_load_mixes_to_mono_and_keeps_channels(tmp_path):
    left, right = tone(1.0, freq=200.0), tone(1.0, freq=300.0, amp=0.2)
    path = write(tmp_path / "st.wav", np.stack([left, right], axis=1), subtype="FLOAT")
    np.testing.assert_allclose(audio.load(path), (left + right) / 2, atol=1e-6)
    both = audio.load(path, mono=False)
    assert both.shape == (22050, 2)


@pytest.mark.parametrize("native", [8000, 44100, 48000])
def test_load_resamples(tmp_path, native):
    y = tone(2.0, sr=native, freq=440.0)
    out = audio.load(write(tmp_path / "r.wav", y, sr=native, subtype="FLOAT"))
    assert abs(len(out) - 2 * 22050) <= 1
    spec = np.abs(np.fft.rfft(out[:22050]))
    assert abs(np.argmax(spec) - 440) <= 1
    assert len(audio.load(tmp_path / "r.wav", sr=None)) == len(y)


def test_block_decoding_equals_whole_decoding(tmp_path, rng):
    y = (0.2 * rng.standard_normal(44100 * 3)).astype(np.float32)
    path = write(tmp_path / "long.wav", y, sr=44100, subtype="FLOAT")
    whole = audio.load(path)
    blocks = list(audio.stream(path, block_frames=10_000))
    assert len(blocks) > 5
    streamed = np.concatenate(blocks)
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-5)


def test_load_file_object(tmp_path):
    y = tone(0.5)
    buf = io.BytesIO()
    sf.write(buf, y, 22050, format="WAV", subtype="FLOAT")
    buf.seek(0)
    np.testing.assert_allclose(audio.load(buf), y, atol=1e-7)


def test_unicode_and_space_path(tmp_path):
    path = write(tmp_path / "müsik clip ♪.wav", tone(0.5))
    assert len(audio.load(path)) == 11025


def test_info(tmp_path):
    path = write(tmp_path / "i.flac", np.zeros((44100 * 7, 2), np.float32), sr=44100)
    meta = audio.info(path)
    assert (meta.sample_rate, meta.channels, meta.frames) == (44100, 2, 44100 * 7)
    assert meta.duration == pytest.approx(7.0)
    assert meta.format == "FLAC"
    assert meta.segments() == 3


# --- errors --------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(AudioFileNotFoundError, match="no such file") as info:
        audio.load(tmp_path / "nope.wav")
    assert "nope.wav" in str(info.value)
    assert isinstance(info.value, FileNotFoundError)
    assert isinstance(info.value, MusicLatentError)


def test_directory(tmp_path):
    with pytest.raises(AudioIsDirectoryError, match="is a directory"):
        audio.load(tmp_path)
    with pytest.raises(AudioIsDirectoryError):
        audio.info(tmp_path)


@pytest.mark.parametrize(
    "payload",
    [b"", b"just some text, not audio\n" * 10, b"\x89PNG\r\n\x1a\n" + bytes(200)],
    ids=["zero-bytes", "text", "png"],
)
def test_not_audio(tmp_path, payload):
    path = tmp_path / "fake.wav"
    path.write_bytes(payload)
    with pytest.raises(AudioDecodeError) as info:
        audio.load(path)
    assert "fake.wav" in str(info.value)


def test_wav_header_promising_more_data(tmp_path):
    path = write(tmp_path / "t.wav", tone(1.0))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match="truncated"):
        audio.load(path)
    with pytest.raises(AudioDecodeError, match="truncated"):
        audio.info(path)


@pytest.mark.parametrize(("ext", "fmt"), [("flac", "FLAC"), ("mp3", "MP3"), ("ogg", "OGG")])
def test_truncated_compressed(tmp_path, ext, fmt, rng):
    y = (0.3 * rng.standard_normal(22050 * 3)).astype(np.float32)
    path = write(tmp_path / f"t.{ext}", y, format=fmt)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError) as info:
        audio.load(path)
    assert isinstance(info.value, (AudioDecodeError, EmptyAudioError))
    assert f"t.{ext}" in str(info.value)


def test_zero_samples(tmp_path):
    path = tmp_path / "empty.wav"
    with sf.SoundFile(path, "w", 22050, 1, format="WAV", subtype="PCM_16"):
        pass
    with pytest.raises(EmptyAudioError, match="zero samples"):
        audio.load(path)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad):
    y = tone(1.0)
    y[1000] = bad
    path = write(tmp_path / "nan.wav", y, subtype="FLOAT")
    with pytest.raises(InvalidAudioError, match="NaN or infinite") as info:
        audio.load(path)
    assert "nan.wav" in str(info.value)


def test_wav_with_streamed_size_marker_still_loads(tmp_path):
    # A WAV written by a streaming recorder leaves 0xFFFFFFFF as the data size.
    path = write(tmp_path / "s.wav", tone(0.5))
    data = bytearray(path.read_bytes())
    idx = data.index(b"data")
    data[idx + 4 : idx + 8] = struct.pack("<I", 0xFFFFFFFF)
    path.write_bytes(bytes(data))
    assert len(audio.load(path)) == 11025


# --- in-memory input -----------------------------------------------------------------------


def test_prepare_validates_and_converts():
    ints = (tone(0.5) * 32767).astype(np.int16)
    out = audio.prepare(ints, sr=22050)
    np.testing.assert_allclose(out, tone(0.5), atol=1e-4)
    stereo = np.stack([tone(0.5), tone(0.5)], axis=1)
    assert audio.prepare(stereo, sr=44100).shape == (5513,)
    with pytest.raises(InvalidAudioError, match="NaN"):
        audio.prepare(np.array([0.0, np.nan], np.float32), sr=22050)
    with pytest.raises(EmptyAudioError):
        audio.prepare(np.zeros(0, np.float32), sr=22050)
    with pytest.raises(InvalidAudioError, match="shape"):
        audio.prepare(np.zeros((2, 2, 2), np.float32), sr=22050)
    with pytest.raises(InvalidAudioError, match="sample rate"):
        audio.prepare(np.zeros(10, np.float32), sr=0)
    with pytest.raises(InvalidAudioError, match="dtype"):
        audio.prepare(np.array(["a", "b"]), sr=22050)


# --- segmentation (docs/evaluation.md) -----------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (30.0, [66150] * 10),
        (7.0, [66150, 66150, 22050]),  # 1-s remainder: kept, padded
        (6.9, [66150, 66150]),  # 0.9-s remainder: dropped
        (2.5, [55125]),  # shorter than a window: one padded window
        (0.01, [220]),
        (3.0, [66150]),
    ],
)
def test_segment_rules(seconds, expected):
    y = np.linspace(-1, 1, int(round(seconds * 22050)), dtype=np.float32)
    windows, lengths = audio.segment(y, 22050)
    assert lengths.tolist() == expected
    assert windows.shape == (len(expected), 66150)
    for i, n in enumerate(lengths):
        np.testing.assert_array_equal(windows[i, :n], y[i * 66150 : i * 66150 + n])
        assert not windows[i, n:].any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_segment_refuses_nan_and_inf(bad):
    y = np.zeros(22050, np.float32)
    y[100] = bad
    with pytest.raises(InvalidAudioError, match="NaN or infinite"):
        audio.segment(y, 22050)


def test_segment_errors():
    with pytest.raises(EmptyAudioError):
        audio.segment(np.zeros(0, np.float32), 22050)
    with pytest.raises(InvalidAudioError):
        audio.segment(np.zeros((10, 2), np.float32), 22050)
    with pytest.raises(InvalidAudioError):
        audio.segment(np.zeros(10, np.float32), 22050, seconds=0.0)


# --- saving --------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o022, 0o077])
def test_saved_wav_has_the_mode_of_other_outputs(tmp_path, umask):
    old = os.umask(umask)
    try:
        wav = audio.save(tmp_path / "out.wav", tone(0.1), 22050)
        write_json(tmp_path / "out.json", {"a": 1})
    finally:
        os.umask(old)
    mode = stat.S_IMODE(wav.stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "out.json").stat().st_mode) == 0o666 & ~umask


def test_save_round_trip(tmp_path):
    y = tone(0.5, amp=0.7)
    path = audio.save(tmp_path / "sub" / "out.wav", y, 22050)
    np.testing.assert_allclose(audio.load(path), y, atol=1e-4)
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["out.wav"]


def test_save_is_atomic_and_keeps_old_file_on_error(tmp_path):
    path = audio.save(tmp_path / "keep.wav", tone(0.5), 22050)
    before = path.read_bytes()
    bad = tone(0.5)
    bad[3] = np.nan
    with pytest.raises(InvalidAudioError):
        audio.save(path, bad, 22050)
    with pytest.raises(Exception):  # noqa: B017  - soundfile rejects the subtype
        audio.save(path, tone(0.5), 22050, subtype="NOT_A_SUBTYPE")
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.wav"]  # no temporary leftovers


def test_save_rejects_bad_input(tmp_path):
    with pytest.raises(EmptyAudioError):
        audio.save(tmp_path / "e.wav", np.zeros(0, np.float32), 22050)
    with pytest.raises(InvalidAudioError):
        audio.save(tmp_path / "e.wav", np.zeros((2, 2, 2), np.float32), 22050)
    with pytest.raises(InvalidAudioError):
        audio.save(tmp_path / "e.wav", np.zeros(4, np.float32), -5)
    assert not (tmp_path / "e.wav").exists()


@pytest.mark.gtzan
def test_real_clips_decode(gtzan_root):
    clip = sorted(gtzan_root.glob("blues/*.ogg"))[0]
    y = audio.load(clip)
    meta = audio.info(clip)
    assert meta.sample_rate == 22050 and meta.channels == 1
    assert abs(len(y) - meta.frames) <= 1
    assert np.abs(y).max() <= 1.0 + 1e-3
