"""In-memory signals: the rate, layout and range rules ``audio.prepare`` shares with files."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent import audio
from keras_musiclatent.errors import AudioError, InvalidAudioError
from tests.conftest import tone

# --- sample rates: the floor and types of decoded files ---------------------------------------


@pytest.mark.parametrize("sr", [1, 999, 0, -22050, True, False, np.bool_(True), 22050.0, "22050"])
def test_prepare_refuses_rates_a_file_could_not_have(sr):
    # sr=1 made 20,000 samples into 441 M at 22050 Hz (6,667 segments, 4.2 GB).
    with pytest.raises(InvalidAudioError, match="sample rate"):
        audio.prepare(np.zeros(20000, np.float32), sr=sr)


@pytest.mark.parametrize("sr", [1000, np.int32(44100), np.int64(22050), 48000])
def test_prepare_takes_integer_rates_from_the_floor_up(sr):
    out = audio.prepare(np.zeros(int(sr), np.float32), sr=sr)
    assert out.dtype == np.float32 and len(out) == 22050


# --- layouts: (samples, channels) and (channels, samples) -------------------------------------


def test_prepare_mixes_channels_first_and_channels_last_alike():
    left, right = tone(0.5, freq=220.0), tone(0.5, freq=330.0)
    mono = audio.prepare((left + right) / 2, sr=22050)
    first = audio.prepare(np.stack([left, right]), sr=22050)  # librosa.load(mono=False)
    last = audio.prepare(np.stack([left, right], axis=1), sr=22050)  # soundfile.read
    assert first.shape == last.shape == mono.shape == (11025,)
    np.testing.assert_allclose(first, mono, atol=1e-7)
    np.testing.assert_allclose(last, mono, atol=1e-7)
    six = np.stack([tone(0.5, freq=100.0 * (c + 1)) for c in range(6)])
    np.testing.assert_allclose(audio.prepare(six, sr=22050), six.mean(0), atol=1e-7)
    assert audio.prepare(left[None], sr=22050).shape == audio.prepare(left[:, None], sr=22050).shape


@pytest.mark.parametrize("shape", [(2, 2), (8, 8), (100, 200), (300, 9), (9, 300)])
def test_prepare_refuses_ambiguous_layouts(shape):
    with pytest.raises(InvalidAudioError, match="ambiguous"):
        audio.prepare(np.zeros(shape, np.float32), sr=22050)


def test_an_explicit_layout_overrides_the_guess():
    block = np.zeros((100, 200), np.float32)
    assert audio.prepare(block, sr=22050, channels_last=True).shape == (100,)
    assert audio.prepare(block, sr=22050, channels_last=False).shape == (200,)


# --- range: finite but absurd samples never reach the model --------------------------------


@pytest.mark.parametrize("peak", [3e38, -1e20, 1e6])
def test_prepare_refuses_samples_far_beyond_full_scale(peak):
    y = tone(0.5)
    y[100] = peak
    with pytest.raises(InvalidAudioError, match="too large"):
        audio.prepare(y, sr=22050)


def test_prepare_keeps_loud_but_plausible_float_audio():
    y = 4.0 * tone(0.5)  # +12 dB over full scale: clipped mastering, still music
    np.testing.assert_allclose(audio.prepare(y, sr=22050), y)


def test_a_float_wav_of_huge_finite_samples_is_refused(tmp_path):
    path = tmp_path / "huge.wav"
    sf.write(path, np.full(4000, 3e38, np.float32), 22050, subtype="FLOAT")  # mono: no mixing
    with pytest.raises(InvalidAudioError, match=r"huge\.wav: samples too large"):
        audio.load(path)
    with pytest.raises(InvalidAudioError, match="too large"):
        list(audio.stream(path, sr=None))


# --- sources: an int is not a file -----------------------------------------------------------


def test_load_refuses_a_descriptor_number_and_leaves_it_open(tmp_path):
    # audio.load(3) used to be taken as file descriptor 3, read, and closed.
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        for source in (fd, np.int64(fd)):
            for call in (audio.load, audio.info, lambda s: list(audio.stream(s))):
                with pytest.raises(AudioError, match="path or a binary file object"):
                    call(source)
        os.fstat(fd)
    finally:
        os.close(fd)


def test_load_refuses_bools_and_standard_descriptors():
    # In a child process: a regression would close this process's own stdin or stdout.
    code = (
        "import os, numpy as np\n"
        "from keras_musiclatent import audio\n"
        "from keras_musiclatent.errors import AudioError\n"
        "for s in (0, 1, 2, True, False, np.int32(1)):\n"
        "    try:\n"
        "        audio.load(s)\n"
        "    except AudioError as exc:\n"
        "        assert 'path or a binary file object' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit(f'accepted {s!r}')\n"
        "    for fd in (0, 1, 2):\n"
        "        os.fstat(fd)\n"
        "print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.PIPE,
    )
    assert result.returncode == 0 and result.stdout == "ok\n", result.stdout + result.stderr
