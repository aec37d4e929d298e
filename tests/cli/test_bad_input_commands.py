"""The bad-input corpus through the commands that decode audio: encode, reconstruct, classify,
compress; and broken streams through decompress. One line on stderr, exit 1, no output file."""

from __future__ import annotations

import time

import numpy as np
import pytest

from keras_musiclatent import cli, codec
from keras_musiclatent.latent_space import LatentSpace
from tests.test_bad_input import BAD

COMMANDS = {
    "encode": lambda path, out, model: ["encode", str(path), "--out", str(out)],
    "reconstruct": lambda path, out, model: ["reconstruct", str(path), "--out", str(out)],
    "classify": lambda path, out, model: ["classify", str(path)],
    "compress": lambda path, out, model: ["compress", str(path), "-o", str(out / "x.mlz")],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_broken_file_fails_cleanly(tmp_path, capfd, tiny_space_dir, command):
    for i, name in enumerate(sorted(BAD)):
        folder = tmp_path / f"in{i:02d}"
        folder.mkdir()
        path = BAD[name].build(folder)
        out = tmp_path / f"out{i:02d}"
        argv = [*COMMANDS[command](path, out, tiny_space_dir), "--model", str(tiny_space_dir)]
        status = cli.main(argv)
        captured = capfd.readouterr()  # descriptor 2: what decoder libraries print counts too
        assert status == 1, (command, name, captured.out[-300:])
        err = captured.err
        assert err.count("\n") == 1 and err.startswith("musiclatent: error:"), (name, err)
        assert not out.exists() or not any(out.iterdir()), (command, name)


@pytest.mark.parametrize(
    "blob",
    [b"", b"MLZ", b"RIFF\x00\x00\x00\x00WAVEfmt ", b"MLZ\x00\x07" + b"\x00" * 100, b"\x00" * 64],
)
def test_broken_streams_fail_cleanly(tmp_path, capsys, tiny_space_dir, blob):
    stream = tmp_path / "x.mlz"
    stream.write_bytes(blob)
    wav = tmp_path / "out" / "x.wav"
    status = cli.main(["decompress", str(stream), "-o", str(wav), "--model", str(tiny_space_dir)])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and "musiclatent: error:" in err
    assert not wav.exists()


def test_a_stream_of_another_model_fails_cleanly(tmp_path, capsys, tiny_space_dir):
    from keras_musiclatent import codec

    blob = codec.pack(
        [[0, 1, 2, 3]],
        model="someone-else",
        weights_sha256="cd" * 32,
        sample_rate=22050,
        num_samples=22050,
        bits=8,
        lo=-1.0,
        hi=1.0,
    )
    stream = tmp_path / "x.mlz"
    stream.write_bytes(blob)
    wav = tmp_path / "x.wav"
    status = cli.main(["decompress", str(stream), "-o", str(wav), "--model", str(tiny_space_dir)])
    err = capsys.readouterr().err
    assert status == 1 and "someone-else" in err and not wav.exists()


def test_a_segment_bomb_stream_fails_fast_in_one_line(tmp_path, capsys, tiny_space_dir):
    space = LatentSpace.load(tiny_space_dir)
    blob = codec.pack(  # 400 segments at 1 bit for a single sample: 3 kB asking for minutes
        np.zeros((400, space.latent_dim), int),
        model=space.name,
        weights_sha256=space.weights_sha256,
        sample_rate=space.sample_rate,
        num_samples=1,
        bits=1,
        lo=-1.0,
        hi=1.0,
    )
    stream = tmp_path / "bomb.mlz"
    stream.write_bytes(blob)
    wav = tmp_path / "out.wav"
    start = time.perf_counter()
    status = cli.main(["decompress", str(stream), "-o", str(wav), "--model", str(tiny_space_dir)])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and "bits" in err, err
    assert time.perf_counter() - start < 5 and not wav.exists()


def test_random_bytes_mp3_is_one_line_naming_the_file(tmp_path, capfd, tiny_space_dir):
    path = tmp_path / "random_bytes.mp3"
    path.write_bytes(np.random.default_rng(11).bytes(20000))
    status = cli.main(
        ["encode", str(path), "--out", str(tmp_path / "o"), "--model", str(tiny_space_dir)]
    )
    err = capfd.readouterr().err  # descriptor 2 itself: the decoder's C library writes there
    assert status == 1 and err.count("\n") == 1, err
    assert err.startswith(f"musiclatent: error: {path}:") and "does not exist" not in err, err


@pytest.mark.parametrize("option", ["--audio-segments", "--pairs"])
def test_evaluate_refuses_zero_counts_in_one_line(tmp_path, capsys, option):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", "gtzan-vae", "--data", str(tmp_path), option, "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith(f"argument {option}: must be at least 1, got 0")
