"""LatentSpace on a tiny packaged model: every method, and the errors users will hit."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.errors import (
    ConfigError,
    CorruptModelError,
    IncompatibleModelError,
    LatentShapeError,
    MissingComponentError,
    UnknownModelError,
)
from keras_musiclatent.latent_space import LatentSpace, slerp
from tests.conftest import TINY_SPACE_MODEL, tone


@pytest.fixture(scope="module")
def space(tiny_space_dir):
    return LatentSpace.load(tiny_space_dir)


def test_load_and_properties(space):
    assert space.latent_dim == 4 and space.sample_rate == 22050
    assert space.genres == ["bright", "low"]
    assert space.name == "tiny-vae" and len(space.weights_sha256) == 64
    assert space.bitrate == pytest.approx(4 * 8 / 1.0)


def test_encode_follows_the_evaluation_segmentation(space, tmp_path):
    y = tone(3.4)  # 3 full 1-s segments + 0.4 s (< 1 s: dropped)
    enc = space.encode(y)
    assert enc.mean.shape == enc.log_var.shape == enc.z.shape == (3, 4)
    assert enc.lengths.tolist() == [22050] * 3 and enc.num_samples == 3 * 22050
    short = space.encode(tone(0.5))  # shorter than a segment: one padded segment
    assert short.lengths.tolist() == [11025]
    # A file gives the same latents as the array (streamed in blocks).
    path = audio.save(tmp_path / "a.wav", y, subtype="FLOAT")
    np.testing.assert_allclose(space.encode(path).mean, enc.mean, atol=1e-4)
    # Other rates are resampled; sr is only for arrays.
    enc44 = space.encode(np.repeat(y, 2), sr=44100)
    assert enc44.mean.shape == (3, 4)
    with pytest.raises(ConfigError, match="arrays only"):
        space.encode(path, sr=44100)


def test_encode_long_file_in_bounded_batches(space, tmp_path):
    path = audio.save(tmp_path / "long.wav", tone(70.0, amp=0.2))
    enc = space.encode(path)  # 70 segments > one batch of 32
    assert enc.segments == 70
    np.testing.assert_allclose(enc.mean[0], enc.mean[40], atol=1e-4)  # the same tone


def test_decode_to_audio_and_reconstruct(space):
    enc = space.encode(tone(2.0))
    log_mel = space.decode(enc)
    assert log_mel.shape == (2, 87, 32) and np.isfinite(log_mel).all()
    y = space.to_audio(log_mel)
    assert y.shape == (2 * 22050,) and np.abs(y).max() <= 1.0
    # The evaluation segmentation drops a tail under 1 s; a short clip is one padded segment.
    assert space.reconstruct(tone(1.5)).shape == (22050,)
    assert space.reconstruct(tone(0.5)).shape == (11025,)


def test_decode_shape_errors(space):
    with pytest.raises(LatentShapeError, match=r"\(n, 4\)"):
        space.decode(np.zeros((2, 5)))
    with pytest.raises(LatentShapeError, match="NaN"):
        space.decode(np.full((1, 4), np.nan))
    with pytest.raises(LatentShapeError, match="log-mels"):
        space.to_audio(np.zeros((1, 87, 16)))


def test_slerp_keeps_norm_and_ends():
    a, b = np.array([[3.0, 0.0]]), np.array([[0.0, 3.0]])
    np.testing.assert_allclose(slerp(a, b, 0.0), a)
    np.testing.assert_allclose(slerp(a, b, 1.0), b)
    np.testing.assert_allclose(np.linalg.norm(slerp(a, b, 0.3)), 3.0)
    np.testing.assert_allclose(slerp(a, 2 * a, 0.5), 1.5 * a)  # parallel: lerp


@pytest.mark.parametrize("method", ["slerp", "lerp"])
def test_interpolate(space, method):
    a, b = tone(2.0, freq=220.0), tone(3.0, freq=880.0)
    steps = space.interpolate(a, b, steps=5, method=method)
    assert len(steps) == 5
    ea, eb = space.encode(a), space.encode(b)
    np.testing.assert_allclose(steps[0].z, ea.mean, atol=1e-5)
    np.testing.assert_allclose(steps[-1].z, eb.mean[:2], atol=1e-5)  # cut to 2 segments
    assert steps[2].audio.shape == (2 * 22050,)
    with pytest.raises(ConfigError, match="steps"):
        space.interpolate(a, b, steps=1)
    with pytest.raises(ConfigError, match="method"):
        space.interpolate(a, b, method="cubic")


def test_sample(space):
    out = space.sample(3, temperature=0.5, seed=1)
    assert out.z.shape == (3, 4) and out.log_mel.shape == (3, 87, 32)
    assert out.audio.shape == (3 * 22050,)
    np.testing.assert_allclose(space.sample(3, temperature=0.5, seed=1, audio=False).z, out.z)


def test_probe_reports_descriptors(space):
    probe = space.probe(tone(1.0), 2)
    assert probe.dim == 2 and len(probe.values) == 7
    np.testing.assert_allclose(probe.sds, np.linspace(-3, 3, 7))
    assert set(probe.descriptors) >= {"spectral_centroid", "rms", "onset_rate", "chroma_entropy"}
    assert all(len(v) == 7 for v in probe.descriptors.values())
    assert probe.top_descriptor in probe.effects and "dimension 2" in probe.summary()
    assert probe.decoded.log_mel.shape == (7, 87, 32)
    np.testing.assert_allclose(probe.decoded.z[:, 2], probe.values, rtol=1e-5)
    custom = space.probe(tone(1.0), 0, values=[-1.0, 1.0])
    assert custom.values.tolist() == [-1.0, 1.0]


@pytest.mark.parametrize("dim", [-1, 4, 100, 1.5])
def test_probe_dimension_out_of_range(space, dim):
    with pytest.raises(LatentShapeError, match="out of range"):
        space.probe(tone(1.0), dim)


def test_explain_dimensions(space):
    reports = space.explain_dimensions([tone(2.0)], max_segments=2)
    assert sorted(r.dim for r in reports) == [0, 1, 2, 3]
    changes = [r.change_db for r in reports]
    assert changes == sorted(changes, reverse=True)
    assert all(-1.0 <= r.correlation <= 1.0 for r in reports)
    with pytest.raises(ConfigError):
        space.explain_dimensions([])


def test_attribute_vector_and_shift(space, rng):
    clips = [tone(2.0, amp=a) for a in (0.01, 0.02, 0.4, 0.5)]
    vec = space.attribute_vector(clips, by="rms", quantile=0.25)
    assert vec.shape == (4,) and np.isfinite(vec).all()
    # By hand: mean latent of the loudest quarter of segments minus the quietest quarter.
    z = np.concatenate([space.encode(c).mean for c in clips])
    expected = z[6:].mean(0) - z[:2].mean(0)
    np.testing.assert_allclose(vec, expected, atol=1e-5)
    by_label = space.attribute_vector(clips, by=["q", "q", "l", "l"], positive="l")
    np.testing.assert_allclose(by_label, z[4:].mean(0) - z[:4].mean(0), atol=1e-5)
    shifted = space.shift(clips[0], vec, amount=2.0)
    np.testing.assert_allclose(shifted.z, space.encode(clips[0]).mean + 2 * vec, atol=1e-5)
    with pytest.raises(LatentShapeError):
        space.shift(clips[0], np.zeros(3))
    with pytest.raises(ConfigError, match="unknown descriptor"):
        space.attribute_vector(clips, by="loudness")
    with pytest.raises(ConfigError, match="positive"):
        space.attribute_vector(clips, by=["a", "a", "b", "b"])


def test_classify_separates_the_two_generated_genres(space, rng):
    low = space.classify(tone(2.0, freq=150.0, amp=0.4))
    bright = space.classify((0.3 * rng.uniform(-1, 1, 44100)).astype(np.float32))
    assert set(low) == {"low", "bright"} and sum(low.values()) == pytest.approx(1.0)
    assert low["low"] > 0.5 and bright["bright"] > 0.5


def test_classify_without_a_head(space):
    bare = LatentSpace(space.model, name="bare")
    with pytest.raises(MissingComponentError, match="genre head"):
        bare.classify(tone(1.0))


def test_compress_round_trip_and_bitrate(space):
    y = tone(3.0)
    blob = space.compress(y)
    # 3 segments x 4 dims x 8 bits = 12 bytes of payload, plus the header.
    from keras_musiclatent import codec

    assert len(blob) == codec.header_bytes("tiny-vae") + 12
    z, n = space.decompress_latents(blob)
    assert n == len(y)
    z_true = space.encode(y).mean
    step = (z_true.max() - z_true.min()) / 255  # the stream quantises over the clip's range
    np.testing.assert_allclose(z, z_true, atol=step / 2 + 1e-5)
    assert space.decompress(blob).shape == (len(y),)


def test_decompress_refuses_other_models_and_damage(space):
    blob = space.compress(tone(1.0))
    other = LatentSpace(space.model, name="other", weights_sha256="ab" * 32)
    with pytest.raises(IncompatibleModelError, match="tiny-vae"):
        other.decompress(blob)
    from keras_musiclatent.errors import CompressedStreamError

    damaged = bytearray(blob)
    damaged[-6] ^= 0xFF
    with pytest.raises(CompressedStreamError, match="damaged"):
        space.decompress(bytes(damaged))
    with pytest.raises(CompressedStreamError, match="magic"):
        space.decompress(b"RIFF1234WAVE")


def test_autoencoder_space(tmp_path):
    from keras_musiclatent.models import MusicAutoencoder

    model = MusicAutoencoder(**TINY_SPACE_MODEL, bits=6)
    space = LatentSpace(model, name="tiny-ae")
    assert not space.is_variational and space.bits_per_dim == 6
    assert space.bitrate == pytest.approx(4 * 6 / 1.0)
    with pytest.raises(MissingComponentError, match="no prior"):
        space.sample(1)
    y = tone(2.0)
    blob = space.compress(y)
    z, _ = space.decompress_latents(blob)
    # The bottleneck's own grid: decompressed codes equal the encoder's quantised output.
    np.testing.assert_allclose(z, space.encode(y).mean, atol=1e-5)


def test_save_refuses_to_overwrite_and_load_detects_corruption(space, tmp_path):
    folder = space.save(tmp_path / "m")
    with pytest.raises(FileExistsError):
        space.save(tmp_path / "m")
    weights = folder / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(CorruptModelError, match="sha256"):
        LatentSpace.load(folder)


def test_load_unknown_name_lists_the_zoo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnknownModelError, match="not a zoo name"):
        LatentSpace.load("no-such-model")


def test_load_rejects_a_folder_without_a_model(tmp_path):
    with pytest.raises(IncompatibleModelError, match="not a model folder"):
        LatentSpace.load(tmp_path)


def test_load_a_training_run_folder(tmp_path):
    from keras_musiclatent.models import MusicVAE

    model = MusicVAE(**TINY_SPACE_MODEL)
    model.save(tmp_path / "best.keras")
    space = LatentSpace.load(tmp_path)
    assert space.latent_dim == 4 and space.genres == []


# --- .mlz streams are checked against the model before anything is decoded -----------------


def _stream(space, segments, *, num_samples, bits=8, seed=0):
    from keras_musiclatent import codec

    codes = np.random.default_rng(seed).integers(0, 2**bits, (segments, space.latent_dim))
    return codec.pack(
        codes,
        model=space.name,
        weights_sha256=space.weights_sha256,
        sample_rate=space.sample_rate,
        num_samples=num_samples,
        bits=bits,
        lo=-2.0,
        hi=2.0,
    )


def test_decompress_refuses_a_segment_bomb_before_decoding(space, monkeypatch):
    from keras_musiclatent.errors import CompressedStreamError

    def never(*args, **kwargs):
        raise AssertionError("decoded a stream that fails its header checks")

    monkeypatch.setattr(space.model, "decode", never)
    # 400 segments for one sample: the header's own counts disagree with the window rule.
    with pytest.raises(CompressedStreamError, match=r"400 segments.*1 samples.*1 segment"):
        space.decompress(_stream(space, 400, num_samples=1))
    # Bits other than the model's: the codes would mean other latents.
    with pytest.raises(CompressedStreamError, match=r"1 bits.*8"):
        space.decompress(_stream(space, 1, num_samples=1, bits=1))


def test_decompress_decodes_in_batches_into_the_output(space, monkeypatch):
    from keras_musiclatent import latent_space

    n = 2 * latent_space._BATCH + 3
    blob = _stream(space, n, num_samples=n * 22050)
    z, num_samples = space.decompress_latents(blob)
    whole = space.to_audio(space.decode(z), n_iter=2, num_samples=num_samples)
    sizes = []
    decode = space.model.decode

    def spy(z, **kwargs):
        sizes.append(len(z))
        return decode(z, **kwargs)

    monkeypatch.setattr(space.model, "decode", spy)
    y = space.decompress(blob, n_iter=2)
    assert max(sizes) <= latent_space._BATCH and sum(sizes) == n
    np.testing.assert_allclose(y, whole, atol=1e-6)


# --- arrays follow the rules of files --------------------------------------------------------


@pytest.mark.parametrize("sr", [0, 1, True])
def test_encode_refuses_implausible_array_rates(space, sr):
    from keras_musiclatent.errors import InvalidAudioError

    # sr=1 made 6,667 segments of 20,000 zeros; sr=0 silently meant the model's rate.
    with pytest.raises(InvalidAudioError, match="sample rate"):
        space.encode(np.zeros(20000, np.float32), sr=sr)


def test_encode_takes_channels_first_arrays_as_a_mix(space):
    left, right = tone(1.5, freq=220.0), tone(1.5, freq=660.0)
    mono = space.encode((left + right) / 2).mean
    np.testing.assert_allclose(space.encode(np.stack([left, right])).mean, mono, atol=1e-5)
    np.testing.assert_allclose(space.encode(np.stack([left, right], 1)).mean, mono, atol=1e-5)


def test_huge_finite_samples_raise_instead_of_nan_probabilities(space):
    from keras_musiclatent.errors import InvalidAudioError

    y = tone(1.0)
    y[::7] = 3e38
    with pytest.raises(InvalidAudioError, match="too large"):
        space.classify(y)


# --- names and paths ------------------------------------------------------------------------


@pytest.fixture
def zoo_and_impostor(tiny_space_dir, tmp_path, monkeypatch):
    """A zoo holding ``tiny`` and a working directory holding an unrelated ``./tiny`` folder."""
    import json
    import shutil

    from keras_musiclatent._files import sha256_file

    zoo = tmp_path / "zoo"
    shutil.copytree(tiny_space_dir, zoo / "tiny")
    files = {f.name: sha256_file(f) for f in (zoo / "tiny").iterdir()}
    index = {"models": {"tiny": {"folder": "tiny", "description": "t", "files": files}}}
    (zoo / "index.json").write_text(json.dumps(index))
    monkeypatch.setenv("MUSICLATENT_ZOO", str(zoo))
    work = tmp_path / "work"
    shutil.copytree(tiny_space_dir, work / "tiny")
    meta = json.loads((work / "tiny" / "metadata.json").read_text())
    (work / "tiny" / "metadata.json").write_text(json.dumps({**meta, "name": "impostor"}))
    monkeypatch.chdir(work)
    return zoo / "tiny", work / "tiny"


def test_a_zoo_name_wins_over_a_folder_of_that_name(zoo_and_impostor):
    from pathlib import Path

    zoo_dir, local = zoo_and_impostor
    # It used to load ./tiny, skipping the zoo's sha256 check.
    assert LatentSpace.load("tiny").path == zoo_dir
    for clearly_a_path in ("./tiny", str(local), Path("tiny"), "../work/tiny"):
        space = LatentSpace.load(clearly_a_path)
        assert space.name == "impostor" and space.path.resolve() == local.resolve()


def test_a_home_path_is_a_path(zoo_and_impostor, monkeypatch):
    _, local = zoo_and_impostor
    monkeypatch.setenv("HOME", str(local.parent))
    assert LatentSpace.load("~/tiny").name == "impostor"
    with pytest.raises(IncompatibleModelError, match="no such model"):
        LatentSpace.load("./missing")


def test_a_bare_name_outside_the_zoo_still_loads_an_existing_folder(zoo_and_impostor):
    import os

    os.rename("tiny", "mine")
    assert LatentSpace.load("mine").name == "impostor"
