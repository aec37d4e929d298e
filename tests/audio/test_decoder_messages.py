"""What a decoder prints on its own: nothing reaches the user's stderr, and the error we raise
names the real problem."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.errors import AudioDecodeError
from tests.conftest import tone


def random_mp3(folder) -> str:
    """Random bytes named .mp3: libmpg123 prints "Note: ..." lines to descriptor 2 on them."""
    path = folder / "random_bytes.mp3"
    path.write_bytes(np.random.default_rng(11).bytes(20000))
    return str(path)


def test_random_bytes_mp3_says_what_is_wrong_and_prints_nothing(tmp_path, capfd):
    path = random_mp3(tmp_path)
    for call in (audio.load, audio.info):
        with pytest.raises(AudioDecodeError) as caught:
            call(path)
        message = str(caught.value)
        assert message.startswith(path) and "\n" not in message
        # libsndfile's own words claimed the existing file did not exist.
        assert "does not exist" not in message and "not a recognised audio format" in message
    assert capfd.readouterr().err == ""


def test_descriptor_2_is_restored_after_decoding_in_threads(tmp_path, capfd):
    bad = random_mp3(tmp_path)
    good = tmp_path / "good.wav"
    audio.save(good, tone(1.0))
    before = os.fstat(2)

    def work():
        for _ in range(5):
            audio.load(good)
            with pytest.raises(AudioDecodeError):
                audio.load(bad)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(2)
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)
    os.write(2, b"still here\n")
    assert capfd.readouterr().err == "still here\n"
