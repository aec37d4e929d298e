"""The zoo registry: names, sha256 verification, clear errors; the shipped models load."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from keras_musiclatent.errors import CorruptModelError, UnknownModelError
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.presets import registry as zoo


@pytest.fixture
def private_zoo(tmp_path, monkeypatch, tiny_space_dir):
    root = tmp_path / "zoo"
    shutil.copytree(tiny_space_dir, root / "tiny")
    (root / "index.json").write_text('{"models": {}}')
    monkeypatch.setenv("MUSICLATENT_ZOO", str(root))
    zoo.update_index("tiny", root / "tiny", description="a tiny test model")
    return root


def test_list_info_and_load_by_name(private_zoo):
    assert zoo.list_models() == ["tiny"]
    info = zoo.model_info("tiny")
    assert info["description"] == "a tiny test model"
    assert set(info["files"]) >= {"config.json", "model.weights.h5", "metadata.json"}
    assert info["metadata"]["name"] == "tiny-vae"
    space = LatentSpace.load("tiny")
    assert space.name == "tiny" and space.latent_dim == 4


def test_unknown_name_lists_valid_ones(private_zoo):
    with pytest.raises(UnknownModelError, match=r"'nope'.*tiny"):
        zoo.model_info("nope")
    with pytest.raises(UnknownModelError, match="tiny"):
        LatentSpace.load("nope")


@pytest.mark.parametrize("name", ["model.weights.h5", "config.json", "genre_head.npz"])
def test_a_flipped_byte_is_a_clear_error(private_zoo, name):
    path = private_zoo / "tiny" / name
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match=rf"{name}: sha256"):
        LatentSpace.load("tiny")


def test_a_missing_file_is_a_clear_error(private_zoo):
    (private_zoo / "tiny" / "latent_stats.npz").unlink()
    with pytest.raises(CorruptModelError, match="missing"):
        LatentSpace.load("tiny")


def test_malformed_index(private_zoo):
    (private_zoo / "index.json").write_text("{not json")
    with pytest.raises(CorruptModelError, match="zoo index"):
        zoo.list_models()


def test_shipped_index_matches_its_files():
    """Every file the shipped index names exists with its sha256, and the zoo fits 48 MiB
    (four models: gtzan-vae holds a frozen copy of musicnn's 3.3 MB of weights, gtzan-ae and
    gtzan-codec their frozen PCA paths, 8.5 MB each)."""
    root = zoo.zoo_root()
    index = json.loads((root / "index.json").read_text())
    total = 0
    from keras_musiclatent.presets.files import sha256_file

    for name, entry in index["models"].items():
        for file, sha in entry["files"].items():
            path = root / entry["folder"] / file
            assert sha256_file(path) == sha, f"{name}/{file}"
            total += path.stat().st_size
    assert total < 48 * 2**20


@pytest.mark.parametrize("name", zoo.list_models())
def test_shipped_models_load_and_encode(name):
    space = LatentSpace.load(name)
    from keras_musiclatent.data.synthetic import demo_clip

    # embed: the latent means of a latent model, the penultimate layer of musicnn-msd
    emb = space.embed(demo_clip(seconds=3.0, seed=0), sr=22050)
    assert emb.shape == (1, space.embedding_dim) and np.isfinite(emb).all()
    assert len(space.genres) == 10
