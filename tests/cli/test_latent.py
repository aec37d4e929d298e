"""The LatentSpace commands of the CLI, in process on a tiny packaged model."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from keras_musiclatent import audio
from keras_musiclatent.cli.main import main
from tests.cli.test_main import run_cli
from tests.conftest import tone


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    a = audio.save(folder / "a.wav", tone(2.0, freq=220.0))
    b = audio.save(folder / "b.wav", tone(3.0, freq=660.0))
    return a, b


def _json(capsys):
    return json.loads(capsys.readouterr().out)


def test_encode_then_decode(tiny_space_dir, clips, tmp_path, capsys):
    a, b = clips
    assert (
        main(["encode", str(a), str(b), "--model", str(tiny_space_dir), "--out", str(tmp_path)])
        == 0
    )
    rows = _json(capsys)
    assert [r["segments"] for r in rows] == [2, 3]
    with np.load(tmp_path / "a.npz") as f:
        assert f["mean"].shape == f["log_var"].shape == f["z"].shape == (2, 4)
        assert int(f["num_samples"]) == 44100
    out = tmp_path / "dec"
    assert (
        main(["decode", str(tmp_path / "a.npz"), "--model", str(tiny_space_dir), "--out", str(out)])
        == 0
    )
    y, sr = sf.read(out / "a.wav")
    assert sr == 22050 and len(y) == 44100
    assert (out / "a.png").stat().st_size > 0 and (out / "a.logmel.npz").exists()


def test_reconstruct_reports_rmse(tiny_space_dir, clips, tmp_path, capsys):
    assert (
        main(["reconstruct", str(clips[0]), "--model", str(tiny_space_dir), "--out", str(tmp_path)])
        == 0
    )
    row = _json(capsys)[0]
    assert row["latent_rmse_db"] > 0 and (tmp_path / "a.reconstruction.wav").exists()


def test_interpolate_writes_each_step(tiny_space_dir, clips, tmp_path, capsys):
    a, b = clips
    args = ["interpolate", str(a), str(b), "--steps", "4", "--model", str(tiny_space_dir)]
    assert main([*args, "--out", str(tmp_path)]) == 0
    summary = _json(capsys)
    assert len(summary["wavs"]) == 4 and summary["smoothness"] >= 1.0
    assert [p.name for p in sorted(tmp_path.glob("*.wav"))] == [  # the demo's names
        f"interpolation_{i:02d}.wav" for i in range(4)
    ]
    assert json.loads((tmp_path / "interpolation.json").read_text())["steps"] == 4
    assert len(summary["genre_path"]) == 3


def test_probe_explain_sample_classify(tiny_space_dir, clips, tmp_path, capsys):
    model = ["--model", str(tiny_space_dir)]
    assert main(["probe", str(clips[0]), "--dim", "1", *model, "--out", str(tmp_path)]) == 0
    assert "dimension 1" in capsys.readouterr().out
    probe = json.loads((tmp_path / "probe_dim1.json").read_text())
    assert len(probe["sds"]) == 7 and "spectral_centroid" in probe["descriptors"]
    assert main(["explain", str(clips[0]), *model, "--dims", "0", "3", "--out", str(tmp_path)]) == 0
    explained = json.loads((tmp_path / "explain.json").read_text())
    dims = explained["dimensions"]
    assert sorted(d["dim"] for d in dims) == [0, 3]
    named = sum(abs(d["correlation"]) >= 0.5 for d in dims)
    assert explained["named_dimensions"] == named and explained["min_r"] == 0.5
    assert f"{named} of 2 dimensions have a descriptor with |r| >= 0.5" in capsys.readouterr().out
    capsys.readouterr()
    assert main(["sample", "-n", "2", *model, "--out", str(tmp_path)]) == 0
    assert len(_json(capsys)["wavs"]) == 2
    assert main(["classify", str(clips[0]), *model, "--json"]) == 0
    probs = _json(capsys)[str(clips[0])]
    assert set(probs) == {"low", "bright"} and sum(probs.values()) == pytest.approx(1.0)


def test_compress_decompress(tiny_space_dir, clips, tmp_path, capsys):
    model = ["--model", str(tiny_space_dir)]
    mlz = tmp_path / "b.mlz"
    assert main(["compress", str(clips[1]), *model, "-o", str(mlz)]) == 0
    info = _json(capsys)
    assert info["bytes"] == mlz.stat().st_size and info["latent_bitrate_bps"] == 32.0
    wav = tmp_path / "b.wav"
    assert main(["decompress", str(mlz), *model, "-o", str(wav)]) == 0
    assert sf.info(wav).frames == 3 * 22050


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe", "{a}", "--dim", "9"], "out of range"),
        (["classify", "{missing}"], "not found|No such|does not exist"),
        (["compress", "{dir}", "-o", "{out}/x.mlz"], "no file in this folder ends in .wav"),
        (["encode", "{dir}", "--out", "{out}"], "no file in this folder"),
        (["decompress", "{a}", "-o", "{out}/x.wav"], "magic"),
        (["encode", "{a}", "--model", "no-such-model", "--out", "{out}"], "unknown model"),
    ],
)
def test_errors_are_one_line_and_leave_no_output(
    tiny_space_dir, clips, tmp_path, capsys, argv, message
):
    fill = {
        "a": str(clips[0]),
        "missing": str(tmp_path / "nope.wav"),
        "dir": str(tmp_path),
        "out": str(tmp_path / "o"),
    }
    args = [x.format(**fill) for x in argv]
    if "--model" not in args:
        args += ["--model", str(tiny_space_dir)]
    if args[0] in ("probe",):
        args += ["--out", str(tmp_path / "o")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("musiclatent: error:")
    import re

    assert re.search(message, err, re.IGNORECASE)
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_zoo_commands_in_a_subprocess():
    result = run_cli("zoo", "info", "no-such-model")
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "unknown model" in result.stderr
    listing = run_cli("zoo", "list")
    assert listing.returncode == 0


def test_package_a_saved_model(tmp_path, capsys):
    from keras_musiclatent.models import MusicVAE
    from tests.conftest import TINY_SPACE_MODEL
    from tests.evaluate.test_report import make_genre_folder

    data = make_genre_folder(tmp_path / "data", n=10)
    model = MusicVAE(**TINY_SPACE_MODEL)
    model.adapt(0.1 * np.random.default_rng(0).standard_normal((4, 22050)).astype("float32"))
    saved = tmp_path / "model.keras"
    model.save(saved)
    out = tmp_path / "packaged"
    argv = ["package", str(saved), "--data", str(data), "--dataset", "folder"]
    assert main([*argv, "--out", str(out), "--name", "tiny", "--description", "a test"]) == 0
    assert _json(capsys)["out"] == str(out)
    metadata = json.loads((out / "metadata.json").read_text())
    assert metadata["name"] == "tiny" and str(tmp_path) not in metadata["data"]
    assert (out / "genre_head.npz").is_file() and (out / "latent_stats.npz").is_file()
