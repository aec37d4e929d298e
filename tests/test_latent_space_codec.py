"""A codec model in ``LatentSpace``: ``.mlz`` v2 streams at several rates, checked headers."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent import codec
from keras_musiclatent.entropy import fit_entropy_model
from keras_musiclatent.errors import CompressedStreamError, ConfigError, IncompatibleModelError
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.models import MusicAutoencoder
from tests.conftest import TINY_SPACE_MODEL, tone

CODEC = {**TINY_SPACE_MODEL, "time_latent_dim": 2, "bits": 5, "min_bits": 2}


def _clip(seconds: float = 3.5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = tone(seconds, freq=330.0) + 0.05 * rng.standard_normal(int(seconds * 22050))
    return y.astype("float32")


@pytest.fixture(scope="module")
def space(tmp_path_factory) -> LatentSpace:
    model = MusicAutoencoder(**CODEC)
    fit = LatentSpace(model, name="tiny-codec", weights_sha256="cd" * 32)
    encodings = [fit.encode(_clip(seed=s)) for s in range(3)]
    z = np.concatenate([e.mean for e in encodings])
    z_time = np.concatenate([e.time for e in encodings])
    fit.entropy_model = fit_entropy_model(
        {b: model.codes_of(z, z_time, bits=b) for b in model.code_bits}, steps=model.time_steps
    )
    folder = fit.save(tmp_path_factory.mktemp("codec") / "tiny-codec")
    return LatentSpace.load(folder)


def test_a_packaged_codec_keeps_its_priors_and_operating_points(space):
    assert space.code_bits == [2, 3, 4, 5]
    rates = [p["kbps"] for p in space.operating_points()]
    assert rates == sorted(rates) and rates[0] > 0


@pytest.mark.parametrize("bits", [2, 5])
def test_v2_round_trip_decodes_both_latents_at_the_streams_precision(space, bits):
    y = _clip(seed=7)
    blob = space.compress(y, bits=bits)
    enc = space.encode(y)
    head = codec.read_header(blob)
    assert (head.version, head.bits, head.num_samples) == (2, bits, enc.num_samples)
    z, z_time, num_samples = space.decompress_codes(blob)
    assert num_samples == enc.num_samples
    codes, time_codes = space.model.codes_of(enc.mean, enc.time, bits=bits)
    np.testing.assert_allclose(z, space.model.bottleneck.dequantize_codes(codes, bits=bits))
    np.testing.assert_allclose(
        z_time, space.model.time_bottleneck.dequantize_codes(time_codes, bits=bits)
    )
    audio = space.decompress(blob)
    assert audio.shape == (enc.num_samples,) and np.isfinite(audio).all()


def test_coarser_precision_writes_a_smaller_stream(space):
    y = _clip(6.0, seed=3)
    sizes = [len(space.compress(y, bits=b)) for b in space.code_bits]
    assert sizes[0] < sizes[-1]


def test_kbps_picks_the_finest_point_that_fits_and_refuses_impossible_rates(space):
    points = space.operating_points()
    between = (points[1]["kbps"] + points[2]["kbps"]) / 2
    blob = space.compress(_clip(seed=1), kbps=between)
    assert codec.read_header(blob).bits == points[1]["bits"]
    with pytest.raises(ConfigError, match="below this codec's lowest operating point"):
        space.compress(_clip(seed=1), kbps=points[0]["kbps"] / 2)
    with pytest.raises(ConfigError, match="bits must be one of"):
        space.compress(_clip(seed=1), bits=7)


def test_v2_headers_are_checked_against_the_model(space):
    y = _clip(seed=2)
    blob = space.compress(y, bits=3)
    head = codec.read_header(blob)
    other = LatentSpace(space.model, name="x", weights_sha256="ef" * 32)
    other.entropy_model = space.entropy_model
    with pytest.raises(IncompatibleModelError, match="decode it with that model"):
        other.decompress(blob)
    # A header whose sample count implies other segments is refused before decoding.
    codes, time_codes = codec.unpack_v2(blob, head, space.entropy_model)
    lying = codec.pack_v2(
        codes,
        time_codes,
        model=head.model,
        weights_sha256=head.weights_sha256,
        sample_rate=head.sample_rate,
        num_samples=head.num_samples * 10,
        bits=3,
        entropy_model=space.entropy_model,
    )
    with pytest.raises(CompressedStreamError, match="segment"):
        space.decompress(lying)
    no_priors = LatentSpace(space.model, name="x", weights_sha256=space.weights_sha256)
    with pytest.raises(CompressedStreamError, match="fitted priors"):
        no_priors.decompress(blob)


def test_fixed_rate_models_refuse_a_rate_and_still_write_v1():
    plain = LatentSpace(MusicAutoencoder(**{**TINY_SPACE_MODEL, "bits": 4}), name="plain")
    assert plain.code_bits == []
    with pytest.raises(ConfigError, match="fixed-rate"):
        plain.compress(_clip(), kbps=1.0)
    blob = plain.compress(_clip())
    assert codec.read_header(blob).version == 1
    assert plain.decompress(blob).shape == (plain.encode(_clip()).num_samples,)
