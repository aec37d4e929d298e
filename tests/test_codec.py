"""The .mlz stream format: round trips, exact sizes, clear errors for foreign or damaged data."""

from __future__ import annotations

import contextlib
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


# --- crafted headers: validated before anything the size of the payload is allocated ---------

_HEAD = codec._FIXED


def _crafted(*, segments, dim, bits, payload, num_samples=1, sr=22050, lo=-1.0, hi=1.0):
    """A stream with any header fields and any payload, and a correct checksum."""
    body = (
        codec.MAGIC
        + bytes([codec.VERSION, 1])
        + b"m"
        + _HEAD.pack(bytes.fromhex(SHA), sr, num_samples, segments, dim, bits, lo, hi)
        + payload
    )
    return body + zlib.crc32(body).to_bytes(4, "big")


def test_read_header_reads_the_fields_without_the_codes(rng):
    blob = _blob(rng.integers(0, 8, size=(3, 5)), bits=3, num_samples=777)
    head = codec.read_header(blob)
    assert (head.segments, head.latent_dim, head.bits, head.num_samples) == (3, 5, 3, 777)
    assert (head.model, head.weights_sha256, head.sample_rate) == ("m", SHA, 22050)
    assert head.payload_bytes == 6  # ceil(3 * 5 * 3 / 8)


def test_segment_and_payload_caps(monkeypatch):
    many = _crafted(segments=codec.MAX_SEGMENTS + 1, dim=1, bits=1, payload=b"")
    with pytest.raises(CompressedStreamError, match="segments"):
        codec.read_header(many)  # refused on the header alone: the payload is not even there
    monkeypatch.setattr(codec, "MAX_PAYLOAD_BYTES", 1000)
    big = _crafted(segments=1001, dim=8, bits=1, payload=bytes(1001))
    with pytest.raises(CompressedStreamError, match="payload"):
        codec.unpack(big)


def test_unpacking_memory_is_bounded_by_the_codes(rng):
    # 1 MiB of 3-bit codes: unpacking bit planes as int64 used to take 64x the payload.
    codes = rng.integers(0, 8, size=(2796202 // 64, 64))
    blob = _blob(codes, bits=3)
    tracemalloc.start()
    try:
        stream = codec.unpack(blob)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(stream.codes, codes)
    assert stream.codes.dtype == np.uint16
    assert peak < 4 * stream.codes.size + (8 << 20), peak  # 2 bytes a code, twice, + chunks


def test_unpack_rows_decodes_any_slice(rng):
    for bits in (1, 3, 8, 11, 16):
        codes = rng.integers(0, 2**bits, size=(9, 7))
        blob = _blob(codes, bits=bits)
        head = codec.read_header(blob)
        for start, stop in [(0, 9), (2, 5), (8, 9), (4, 4)]:
            got = codec.unpack_rows(blob, head, start, stop)
            np.testing.assert_array_equal(got, codes[start:stop])


_FIELDS = {
    "segments": st.integers(0, 2**32 - 1),
    "dim": st.integers(0, 2**16 - 1),
    "bits": st.integers(0, 255),
    "num_samples": st.integers(0, 2**64 - 1),
    "sr": st.integers(0, 2**32 - 1),
    "lo": st.floats(width=32),
    "hi": st.floats(width=32),
    "payload": st.binary(max_size=64),
}


@settings(max_examples=300, deadline=None, derandomize=True)
@given(**_FIELDS)
def test_fuzzed_headers_raise_typed_errors_or_parse(**fields):
    blob = _crafted(**fields)
    try:
        stream = codec.unpack(blob)
    except CompressedStreamError as exc:
        assert "\n" not in str(exc)
        return
    assert stream.codes.shape == (fields["segments"], fields["dim"])
    assert np.isfinite(stream.values()).all()


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data())
def test_fuzzed_bytes_raise_typed_errors_or_parse(data):
    blob = bytearray(_blob(np.arange(12).reshape(3, 4), bits=4))
    for _ in range(data.draw(st.integers(1, 4))):
        blob[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(blob)))
    for candidate in (bytes(blob), bytes(blob[:cut])):
        with contextlib.suppress(CompressedStreamError):
            codec.unpack(candidate)
