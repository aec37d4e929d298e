"""``musiclatent compress --kbps/--bits`` and ``decompress`` with a codec model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent import codec
from keras_musiclatent.cli.main import main
from keras_musiclatent.entropy import fit_entropy_model
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.models import MusicAutoencoder
from tests.conftest import TINY_SPACE_MODEL, tone


@pytest.fixture(scope="module")
def codec_dir(tmp_path_factory):
    model = MusicAutoencoder(**TINY_SPACE_MODEL, time_latent_dim=2, bits=4, min_bits=2)
    space = LatentSpace(model, name="tiny-codec")
    waves = np.stack([tone(1.0, freq=f) for f in (220.0, 330.0, 440.0, 660.0)])
    z, _, _, z_time = model.encode_with_time(waves.astype("float32"), sample=False)
    space.entropy_model = fit_entropy_model(
        {b: model.codes_of(z, z_time, bits=b) for b in model.code_bits}, steps=model.time_steps
    )
    return space.save(tmp_path_factory.mktemp("codec") / "tiny-codec")


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    path = tmp_path_factory.mktemp("clips") / "a.wav"
    sf.write(path, tone(4.0, freq=300.0), 22050)
    return path


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_compress_at_a_rate_then_decompress(codec_dir, clip, tmp_path, capsys):
    space = LatentSpace.load(codec_dir)
    points = space.operating_points()
    model = ["--model", str(codec_dir)]
    mlz = tmp_path / "a.mlz"
    kbps = points[1]["kbps"] * 1.01
    assert main(["compress", str(clip), *model, "-o", str(mlz), "--kbps", str(kbps)]) == 0
    info = _json(capsys)
    assert info["format_version"] == 2 and info["bits_per_number"] == points[1]["bits"]
    assert info["bytes"] == mlz.stat().st_size and "latent_bitrate_bps" not in info
    assert info["file_bitrate_bps"] == pytest.approx(8 * mlz.stat().st_size / 4.0, rel=0.01)
    assert codec.read_header(mlz.read_bytes()).bits == points[1]["bits"]
    wav = tmp_path / "a.wav"
    assert main(["decompress", str(mlz), *model, "-o", str(wav)]) == 0
    assert sf.info(wav).frames == 4 * 22050 and _json(capsys)["out"] == str(wav)
    assert main(["compress", str(clip), *model, "-o", str(mlz), "--bits", "2"]) == 0
    assert _json(capsys)["bits_per_number"] == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--kbps", "0.000001"], "below this codec's lowest operating point"),
        (["--kbps", "-1"], "kbps must be a positive number"),
        (["--bits", "9"], "bits must be one of"),
    ],
)
def test_impossible_rates_fail_in_one_line_and_write_nothing(
    codec_dir, clip, tmp_path, capsys, options, message
):
    out = tmp_path / "x.mlz"
    status = main(["compress", str(clip), "--model", str(codec_dir), "-o", str(out), *options])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_a_fixed_rate_model_refuses_a_rate(tiny_space_dir, clip, tmp_path, capsys):
    out = tmp_path / "x.mlz"
    args = ["compress", str(clip), "--model", str(tiny_space_dir), "-o", str(out), "--kbps", "1"]
    assert main(args) == 1
    assert "fixed-rate" in capsys.readouterr().err and not out.exists()


def test_packaging_a_codec_fits_its_priors_and_lists_its_operating_points(tmp_path, capsys):
    from tests.evaluate.test_report import make_genre_folder

    data = make_genre_folder(tmp_path / "data", n=10)
    model = MusicAutoencoder(**TINY_SPACE_MODEL, time_latent_dim=2, bits=4, min_bits=3)
    saved = tmp_path / "model.keras"
    model.save(saved)
    out = tmp_path / "packaged"
    argv = ["package", str(saved), "--data", str(data), "--dataset", "folder"]
    assert main([*argv, "--out", str(out), "--name", "tiny-codec"]) == 0
    capsys.readouterr()
    metadata = json.loads((out / "metadata.json").read_text())
    assert [p["bits"] for p in metadata["operating_points"]] == [3, 4]
    assert "entropy.json" in metadata["files"]
    space = LatentSpace.load(out)
    assert space.code_bits == [3, 4] and space.entropy_model.steps == model.time_steps
    blob = space.compress(tone(2.0, freq=300.0), bits=3)
    assert codec.read_header(blob).version == 2


def test_decompress_finds_the_zoo_model_a_stream_names(clip, tmp_path, capsys):
    mlz, wav = tmp_path / "a.mlz", tmp_path / "a.wav"
    assert main(["compress", str(clip), "--model", "gtzan-ae", "-o", str(mlz)]) == 0
    capsys.readouterr()
    assert codec.read_header(mlz.read_bytes()).model == "gtzan-ae"
    assert main(["decompress", str(mlz), "-o", str(wav)]) == 0  # no --model
    assert sf.info(wav).frames == 4 * 22050
