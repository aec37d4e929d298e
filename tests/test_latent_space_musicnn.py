"""LatentSpace over a pretrained embedding network (musicnn): embed, tags, classify, and clear
errors for everything that needs a latent space or decoder."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent.errors import LatentShapeError, MissingComponentError
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.presets import registry as zoo
from tests.conftest import TINY_MUSICNN, TINY_MUSICNN_TAGS, tone, two_genre_clips


@pytest.fixture(scope="module")
def space(tiny_musicnn_dir) -> LatentSpace:
    return LatentSpace.load(tiny_musicnn_dir)


def test_loads_from_a_folder_without_latent_statistics(space):
    assert not space.has_decoder and space.latent_stats is None and space.genre_head is None
    assert space.sample_rate == 16000 and space.segment_seconds == 3.0
    assert space.embedding_dim == TINY_MUSICNN["embedding_dim"]
    assert "embedding_dim=8" in repr(space)


def test_embed_windows_at_the_models_rate(space):
    # 7 s at 22050 Hz: two full 3-s windows and a 1-s remainder padded to a third.
    y = tone(7.0, sr=22050)
    emb = space.embed(y, sr=22050)
    assert emb.shape == (3, TINY_MUSICNN["embedding_dim"]) and emb.dtype == np.float32
    # The same audio given at 16 kHz gives the same windows, so nearly the same embedding.
    emb16 = space.embed(tone(7.0, sr=16000), sr=16000)
    np.testing.assert_allclose(emb16[:2], emb[:2], atol=1e-2, rtol=1e-2)


def test_embed_a_file(space, tmp_path):
    from keras_musiclatent import audio

    path = audio.save(tmp_path / "a.wav", tone(4.0, freq=330.0))
    assert space.embed(path).shape == (2, TINY_MUSICNN["embedding_dim"])


def test_tags_are_named_and_sorted(space):
    tags = space.tags(tone(3.0, sr=16000), sr=16000)
    assert sorted(tags) == sorted(TINY_MUSICNN_TAGS)
    probs = list(tags.values())
    assert probs == sorted(probs, reverse=True) and all(0.0 <= p <= 1.0 for p in probs)


@pytest.mark.parametrize(
    ("what", "call"),
    [
        ("decode", lambda s: s.decode(np.zeros((1, 8), np.float32))),
        ("encode", lambda s: s.encode(tone(3.0, sr=16000))),
        ("interpolate", lambda s: s.interpolate(tone(3.0), tone(3.0))),
        ("encode", lambda s: s.compress(tone(3.0, sr=16000))),
        ("sample", lambda s: s.sample(1)),
        ("give latent statistics", lambda s: s.latent_statistics()),
        ("invert", lambda s: s.to_audio(np.zeros((1, 187, 96), np.float32))),
    ],
)
def test_no_decoder_is_a_typed_one_line_error(space, what, call):
    with pytest.raises(MissingComponentError, match=f"musicnn.*cannot {what}") as info:
        call(space)
    assert "\n" not in str(info.value)


def test_classify_through_a_head_on_window_embeddings(tiny_musicnn_dir, rng):
    space = LatentSpace.load(tiny_musicnn_dir)
    with pytest.raises(MissingComponentError, match="no genre head"):
        space.classify(tone(3.0, sr=16000))
    clips, labels = two_genre_clips(rng)
    x = np.concatenate([space.embed(c, sr=22050) for c in clips])  # one window per 2-s clip
    space.fit_genre_head(x, labels)
    probs = space.classify(clips[0])
    assert set(probs) == {"low", "bright"} and abs(sum(probs.values()) - 1) < 1e-6
    # Embeddings given directly skip the network.
    assert list(space.classify(x[0])) == list(space.classify(x[0][None]))
    with pytest.raises(LatentShapeError):
        space.fit_genre_head(np.zeros((4, 3)), ["a", "b", "a", "b"])


def test_latent_models_embed_their_latent_means_and_have_no_tags(tiny_space_dir):
    space = LatentSpace.load(tiny_space_dir)
    y = tone(2.0)
    np.testing.assert_allclose(space.embed(y), space.encode(y).mean, rtol=1e-5, atol=1e-6)
    assert space.embedding_dim == space.latent_dim and space.tag_names == []
    with pytest.raises(MissingComponentError, match="no tag outputs"):
        space.tags(y)


@pytest.mark.skipif("musicnn-msd" not in zoo.list_models(), reason="musicnn-msd not in the zoo")
def test_the_zoo_model_loads_by_name_with_its_tags_and_genre_head():
    space = LatentSpace.load("musicnn-msd")
    assert space.embedding_dim == 200 and len(space.tag_names) == 50
    y = tone(3.0, sr=16000, freq=220.0)
    assert space.embed(y, sr=16000).shape == (1, 200)
    assert next(iter(space.tags(y, sr=16000))) in space.tag_names
    assert space.genre_head is not None and space.genre_head.genres[0] == "blues"
    assert len(space.classify(y)) == 10  # an array is taken at the model's rate
