"""``musiclatent projector``: the files, served by a real TensorBoard, and written under JAX."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from keras_musiclatent.cli.main import main
from keras_musiclatent.evaluate.projector import DESCRIPTOR_COLUMNS, sprite_image
from tests.conftest import REPO_ROOT
from tests.evaluate.test_report import make_genre_folder


@pytest.fixture(scope="module")
def genre_folder(tmp_path_factory) -> Path:
    return make_genre_folder(tmp_path_factory.mktemp("projector-data"), n=6)


@pytest.fixture(scope="module")
def logdir(tiny_space_dir, genre_folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("projector")
    args = ["projector", str(tiny_space_dir), "--data", str(genre_folder), "--dataset", "folder"]
    assert main([*args, "--split", "all", "--logdir", str(out)]) == 0
    return out


def _tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]


def test_projector_files(logdir):
    tensor = np.loadtxt(logdir / "tensors.tsv", delimiter="\t", ndmin=2)
    assert tensor.shape == (12, 4)  # 6 clips x 2 one-second segments, 4-d latents
    rows = _tsv(logdir / "metadata.tsv")
    assert rows[0][:5] == ["clip", "genre", "split", "segment", "segments"]
    assert rows[0][-len(DESCRIPTOR_COLUMNS) :] == list(DESCRIPTOR_COLUMNS)
    assert len(rows) == 13 and all(len(r) == len(rows[0]) for r in rows)
    assert {r[1] for r in rows[1:]} == {"low", "bright"}
    assert [r[3] for r in rows[1:3]] == ["0", "1"]
    centroid = {r[1]: float(r[rows[0].index("spectral_centroid")]) for r in rows[1:]}
    assert centroid["bright"] > centroid["low"]  # noise is brighter than a 110 Hz tone
    sprite = Image.open(logdir / "sprite.png")
    assert sprite.size == (4 * 48, 4 * 48)  # ceil(sqrt(12)) thumbnails a side
    config = (logdir / "projector_config.pbtxt").read_text()
    assert 'tensor_path: "tensors.tsv"' in config and 'metadata_path: "metadata.tsv"' in config
    assert "tiny-vae_latent_mean_per_segment" in config and "single_image_dim: 48" in config


def test_projector_per_clip(tiny_space_dir, genre_folder, tmp_path, capsys):
    args = ["projector", str(tiny_space_dir), "--data", str(genre_folder), "--dataset", "folder"]
    assert main([*args, "--split", "all", "--logdir", str(tmp_path), "--level", "clip"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["shape"] == [6, 4] and result["level"] == "clip"
    rows = _tsv(tmp_path / "metadata.tsv")
    assert len(rows) == 7 and {r[4] for r in rows[1:]} == {"2"}


def test_sprite_fits_a_webgl_texture(monkeypatch):
    from keras_musiclatent.evaluate import projector

    monkeypatch.setattr(projector, "_MAX_SPRITE_PX", 100)
    sprite, size = sprite_image(np.zeros((10, 20, 8), np.float32), size=48)
    assert size == 25 and sprite.shape == (100, 100, 3)


def test_projector_on_gtzan(gtzan_root, tmp_path, capsys):
    args = ["projector", "gtzan-vae", "--data", str(gtzan_root), "--split", "valid"]
    assert main([*args, "--max-clips", "4", "--logdir", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 4 and result["shape"] == [result["segments"], 64]
    rows = _tsv(tmp_path / "metadata.tsv")
    assert len(rows) == result["segments"] + 1 and len({r[1] for r in rows[1:]}) == 4


# --- a real TensorBoard ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.status == 200
        return resp.read()


def _tensorboard_command() -> list[str]:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        pytest.skip("tensorboard is not installed")
    return [sys.executable, "-m", "tensorboard.main"]


def test_tensorboard_serves_the_projector(logdir, tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}/data/plugin/projector"
    log = open(tmp_path / "tensorboard.log", "wb")  # noqa: SIM115 - closed in finally
    command = [*_tensorboard_command(), "--logdir", str(logdir), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        [*command, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.time() + 90
        runs = None
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"tensorboard exited: {(tmp_path / 'tensorboard.log').read_text()}")
            try:
                runs = json.loads(_get(f"{base}/runs"))
                if runs:
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        assert runs == ["."], runs
        info = json.loads(_get(f"{base}/info?run=."))
        (embedding,) = info["embeddings"]
        name = embedding["tensorName"]
        assert name == "tiny-vae_latent_mean_per_segment"
        assert [int(x) for x in embedding["tensorShape"]] == [12, 4]
        query = urllib.parse.urlencode({"run": ".", "name": name})
        served = np.frombuffer(_get(f"{base}/tensor?{query}"), dtype=np.float32).reshape(12, 4)
        expected = np.loadtxt(logdir / "tensors.tsv", delimiter="\t", dtype=np.float32)
        np.testing.assert_allclose(served, expected, rtol=1e-6)
        metadata = _get(f"{base}/metadata?{query}").decode()
        assert metadata.splitlines()[0].startswith("clip\tgenre\tsplit")
        assert len(metadata.splitlines()) == 13
        assert _get(f"{base}/sprite_image?{query}")[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        proc.kill()
        proc.wait(timeout=30)
        log.close()


# --- another backend ------------------------------------------------------------------------

# TensorFlow made unimportable, so a hidden import of it fails loudly instead of passing.
_NO_TENSORFLOW = """
import importlib.abc, json, sys

class NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError(f"{name} is blocked for this test")
        return None

sys.meta_path.insert(0, NoTensorFlow())
from keras_musiclatent.cli.main import main
import keras
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "backend": keras.backend.backend(),
                  "tensorflow": sorted(m for m in sys.modules if m.startswith("tensorflow"))}))
"""


def test_projector_on_jax_without_tensorflow(tiny_space_dir, genre_folder, logdir, tmp_path):
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONPATH": str(REPO_ROOT)}
    args = ["projector", str(tiny_space_dir), "--data", str(genre_folder), "--dataset", "folder"]
    args += ["--split", "all", "--logdir", str(tmp_path / "jax")]
    proc = subprocess.run(
        [sys.executable, "-c", _NO_TENSORFLOW, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    status = json.loads(proc.stdout.strip().splitlines()[-1])
    assert status == {"rc": 0, "backend": "jax", "tensorflow": []}
    tensor = np.loadtxt(tmp_path / "jax" / "tensors.tsv", delimiter="\t", ndmin=2)
    assert tensor.shape == (12, 4) and np.isfinite(tensor).all()
    # The same weights give the same latents on either backend.
    expected = np.loadtxt(logdir / "tensors.tsv", delimiter="\t", ndmin=2)
    np.testing.assert_allclose(tensor, expected, atol=1e-4)
    assert (tmp_path / "jax" / "sprite.png").is_file()
