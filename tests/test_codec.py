"""The .mlz stream format: round trips, exact sizes, clear errors for foreign or damaged data."""

from __future__ import annotations

import numpy as np
import pytest

from keras_musiclatent import codec
from keras_musiclatent.errors import CompressedStreamError

SHA = "ab" * 32


def _blob(codes, bits=8, **kw):
    args = {
        "model": "m",
        "weights_sha256": SHA,
        "sample_rate": 22050,
        "num_samples": 1234,
        "bits": bits,
        "lo": -2.0,
        "hi": 2.0,
    }
    return codec.pack(codes, **{**args, **kw})


@pytest.mark.parametrize("bits", [1, 3, 8, 12, 16])
def test_round_trip_and_size(rng, bits):
    codes = rng.integers(0, 2**bits, size=(5, 7))
    blob = _blob(codes, bits=bits)
    assert len(blob) * 8 == codec.stream_bits(segments=5, latent_dim=7, bits=bits, model="m")
    stream = codec.unpack(blob)
    np.testing.assert_array_equal(stream.codes, codes)
    assert (stream.model, stream.weights_sha256, stream.num_samples) == ("m", SHA, 1234)
    assert stream.bits == bits and stream.sample_rate == 22050


def test_quantize_and_values_by_hand():
    codes = codec.quantize(np.array([[-3.0, -2.0, 0.0, 0.01, 2.0]]), bits=2, lo=-2.0, hi=2.0)
    # Grid -2, -2/3, 2/3, 2: -3 clips to 0, 0 rounds to 1.5 -> 2 (banker's rint), 2 -> 3.
    assert codes.tolist() == [[0, 0, 2, 2, 3]]
    stream = codec.unpack(_blob(codes, bits=2))
    np.testing.assert_allclose(stream.values(), [[-2, -2, 2 / 3, 2 / 3, 2]], rtol=1e-6)


def test_header_cost_is_stated():
    assert codec.header_bytes("gtzan-ae") == 4 + 2 + 8 + 32 + 4 + 8 + 4 + 2 + 1 + 8 + 4


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda b: b"", "magic"),
        (lambda b: b"RIFF" + b[4:], "magic"),
        (lambda b: b[:5], "truncated"),
        (lambda b: b[:20], "truncated"),
        (lambda b: b[:-1], "damaged"),
        (lambda b: b[:4] + bytes([9]) + b[5:], "version 9"),
        (lambda b: b[:-8] + bytes([b[-8] ^ 1]) + b[-7:], "damaged"),
    ],
)
def test_bad_streams_raise_typed_errors(rng, mutate, message):
    blob = _blob(rng.integers(0, 256, size=(2, 4)))
    with pytest.raises(CompressedStreamError, match=message):
        codec.unpack(mutate(blob))


def test_pack_validates_its_input():
    with pytest.raises(CompressedStreamError, match="out of range"):
        _blob(np.array([[256]]))
    with pytest.raises(CompressedStreamError, match="segments, latent_dim"):
        _blob(np.zeros(3, int))
    with pytest.raises(CompressedStreamError, match="64 hex"):
        _blob(np.zeros((1, 1), int), weights_sha256="xyz")
    with pytest.raises(CompressedStreamError, match="not supported"):
        codec.unpack(b"MLZ\x00\x02\x00" + b"\x00" * 80)
    with pytest.raises(CompressedStreamError, match="bytes"):
        codec.unpack("not bytes")
