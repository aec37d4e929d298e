"""The .mlz version 2 container: entropy-coded round trips, v1 still read, hostile streams
refused with typed errors and before anything their header claims is allocated."""

from __future__ import annotations

import contextlib
import struct
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keras_musiclatent import codec, entropy
from keras_musiclatent.errors import CompressedStreamError, ConfigError

SHA = "cd" * 32
DIM, STEPS, TDIM, BITS = 6, 5, 3, 4


def _codes(rng, n, *, bits=BITS, time=True):
    top = 2**bits - 1
    g = np.clip(np.rint(rng.normal(0.5, 0.2, (n, DIM)) * top), 0, top).astype(np.int64)
    if not time:
        return g, None
    walk = np.cumsum(rng.integers(-1, 2, (n * STEPS, TDIM)), axis=0) + 2 ** (bits - 1)
    return g, np.clip(walk, 0, top).reshape(n, STEPS, TDIM)


@pytest.fixture(scope="module")
def em():
    rng = np.random.default_rng(3)
    return entropy.fit_entropy_model({b: _codes(rng, 80, bits=b) for b in (2, 3, 4)}, steps=STEPS)


@pytest.fixture(scope="module")
def em_global():
    rng = np.random.default_rng(4)
    return entropy.fit_entropy_model({BITS: _codes(rng, 80, time=False)}, steps=0)


def _pack(g, t, em, **kw):
    args = {
        "model": "tiny-ae",
        "weights_sha256": SHA,
        "sample_rate": 22050,
        "num_samples": 66150 * len(g) - 100,
        "bits": BITS,
        "entropy_model": em,
    }
    return codec.pack_v2(g, t, **{**args, **kw})


def _crafted(
    payload=b"",
    *,
    segments=1,
    dim=DIM,
    steps=STEPS,
    time_dim=TDIM,
    bits=BITS,
    num_samples=66150,
    sr=22050,
    payload_len=None,
    name=b"m",
):
    """A version 2 stream with any header fields and payload, and a correct checksum."""
    head = codec._FIXED_V2.pack(
        bytes.fromhex(SHA),
        sr,
        num_samples,
        segments,
        dim,
        steps,
        time_dim,
        bits,
        len(payload) if payload_len is None else payload_len,
    )
    body = codec.MAGIC + bytes([codec.V2, len(name)]) + name + head + payload
    return body + zlib.crc32(body).to_bytes(4, "big")


def _with_crc(body: bytes | bytearray) -> bytes:
    return bytes(body) + zlib.crc32(body).to_bytes(4, "big")


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_round_trip_and_header_fields(rng, em, bits):
    g, t = _codes(rng, 9, bits=bits)
    blob = _pack(g, t, em, bits=bits, num_samples=555_555)
    head = codec.read_header(blob)
    assert (head.version, head.model, head.weights_sha256) == (2, "tiny-ae", SHA)
    assert (head.sample_rate, head.num_samples, head.segments) == (22050, 555_555, 9)
    assert (head.latent_dim, head.steps, head.time_dim, head.bits) == (DIM, STEPS, TDIM, bits)
    assert head.lo is None and head.hi is None
    assert len(blob) == codec.header_bytes("tiny-ae") + head.payload_bytes
    assert head.offset + head.payload_bytes + 4 == len(blob)
    back_g, back_t = codec.unpack_v2(blob, head, em)
    np.testing.assert_array_equal(back_g, g)
    np.testing.assert_array_equal(back_t, t)
    raw_bytes = -(-9 * (DIM + STEPS * TDIM) * bits // 8)
    assert head.payload_bytes <= raw_bytes + 1


def test_round_trip_without_a_time_latent(rng, em_global):
    g, _ = _codes(rng, 4, time=False)
    blob = _pack(g, None, em_global)
    head = codec.read_header(blob)
    assert (head.steps, head.time_dim) == (0, 0)
    back_g, back_t = codec.unpack_v2(blob, head, em_global)
    np.testing.assert_array_equal(back_g, g)
    assert back_t is None


def test_v1_streams_still_read_and_the_versions_do_not_mix(rng, em):
    codes = rng.integers(0, 8, size=(3, 5))
    v1 = codec.pack(
        codes,
        model="m",
        weights_sha256=SHA,
        sample_rate=22050,
        num_samples=777,
        bits=3,
        lo=-1.0,
        hi=1.0,
    )
    assert v1[4] == codec.VERSION == codec.V1
    head = codec.read_header(v1)
    assert (head.version, head.steps, head.time_dim, head.payload_bytes) == (1, 0, 0, 6)
    assert (head.lo, head.hi) == (-1.0, 1.0)
    np.testing.assert_array_equal(codec.unpack(v1).codes, codes)
    with pytest.raises(CompressedStreamError, match="unpack_v2 reads version 2"):
        codec.unpack_v2(v1, head, em)
    v2 = _pack(*_codes(rng, 2), em)
    with pytest.raises(CompressedStreamError, match="version 2 is not supported here"):
        codec.unpack(v2)
    with pytest.raises(CompressedStreamError, match="version 2 is not supported here"):
        codec.unpack_rows(v2, codec.read_header(v2))


def test_unknown_versions_are_named():
    blob = _with_crc(codec.MAGIC + bytes([3, 0]) + bytes(80))
    with pytest.raises(CompressedStreamError, match="version 3 is not supported; this package"):
        codec.read_header(blob)


def test_pack_v2_validates_its_input(rng, em):
    g, t = _codes(rng, 2)
    cases = [
        ({"bits": 0}, CompressedStreamError, "1..16"),
        ({"bits": 5}, ConfigError, r"covers 2\.\.4"),
        ({"model": "x" * 256}, CompressedStreamError, "255"),
        ({"weights_sha256": "ab"}, CompressedStreamError, "64 hex"),
        ({"num_samples": 1}, CompressedStreamError, "out of the format's range"),
        ({"num_samples": codec.MAX_NUM_SAMPLES + 1}, CompressedStreamError, "format's range"),
        ({"sample_rate": 0}, CompressedStreamError, "sample_rate"),
    ]
    for kw, error, message in cases:
        with pytest.raises(error, match=message):
            _pack(g, t, em, **kw)
    with pytest.raises(CompressedStreamError, match="segments, latent_dim"):
        _pack(g[0], t, em)
    with pytest.raises(CompressedStreamError, match="out of range"):
        _pack(g + 16, t, em)
    with pytest.raises(CompressedStreamError, match="time codes"):
        _pack(g, t[:, :2], em)


def test_headers_that_disagree_with_the_entropy_model_are_refused(rng, em, em_global):
    g, t = _codes(rng, 2)
    blob = _pack(g, t, em)
    head = codec.read_header(blob)
    with pytest.raises(CompressedStreamError, match="does not match the entropy model"):
        codec.unpack_v2(blob, head, em_global)
    blob3 = _crafted(b"\x01" + bytes(8), segments=2, bits=7)
    with pytest.raises(CompressedStreamError, match=r"covers 2\.\.4"):
        codec.unpack_v2(blob3, codec.read_header(blob3), em)
    with pytest.raises(CompressedStreamError, match="not read from this stream"):
        codec.unpack_v2(blob + b"\x00", head, em)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"bits": 0}, "invalid values"),
        ({"bits": 17}, "invalid values"),
        ({"segments": 0}, "invalid values"),
        ({"num_samples": 0}, "invalid values"),
        ({"sr": 0}, "invalid values"),
        ({"steps": 0}, "both or neither"),
        ({"time_dim": 0}, "both or neither"),
        ({"num_samples": 2**64 - 1}, "samples, more than the limit"),
        ({"segments": 2, "num_samples": 1}, "segments for 1 samples"),
        ({"segments": 2**32 - 1, "num_samples": codec.MAX_NUM_SAMPLES}, "limit is"),
        ({"dim": 2**16 - 1, "steps": 2**16 - 1, "time_dim": 2**16 - 1}, "codes, more than"),
        ({"payload_len": 2**32 - 1}, "exceeds the limit"),
        ({"payload_len": 3}, "payload has 0 bytes, the header promises 3"),
        ({"name": b"\xff"}, "invalid model name"),
    ],
)
def test_bad_header_fields_raise_typed_errors(fields, message):
    with pytest.raises(CompressedStreamError, match=message):
        codec.read_header(_crafted(**fields))


def test_truncation_and_damage_are_reported(rng, em):
    blob = _pack(*_codes(rng, 3), em)
    with pytest.raises(CompressedStreamError, match="truncated"):
        codec.read_header(blob[:40])
    with pytest.raises(CompressedStreamError, match="damaged"):
        codec.read_header(blob[:-1])
    with pytest.raises(CompressedStreamError, match="damaged"):
        codec.read_header(blob[:-6] + bytes([blob[-6] ^ 4]) + blob[-5:])


# --- bombs: a tiny stream claiming a huge one is refused before anything is allocated ------


_BOMBS = {
    "num_samples": ({"num_samples": 2**64 - 1, "segments": 2**20}, "samples, more than"),
    "segments": ({"segments": 2**32 - 1, "num_samples": codec.MAX_NUM_SAMPLES}, "segments for"),
    "payload": (
        {"segments": 2**20, "num_samples": 2**30, "payload_len": 2**32 - 1},
        "payload of 4294967295 bytes exceeds",
    ),
    "codes": (
        {"segments": 2**20, "num_samples": 2**30, "dim": 2**16 - 1, "steps": 2**16 - 1},
        "codes, more than the limit",
    ),
}


@pytest.mark.parametrize("claim", list(_BOMBS))
def test_bomb_headers_are_refused_before_allocation(claim):
    fields, message = _BOMBS[claim]
    blob = _crafted(b"\x01" + bytes(64), **fields)
    tracemalloc.start()
    try:
        with pytest.raises(CompressedStreamError, match=message):
            codec.read_header(blob)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20, peak


def test_a_header_within_limits_but_not_the_models_allocates_nothing(em):
    # Passes read_header (a day of segments of 64k-dim codes would be 2**28 codes at most)
    # but a caller's entropy model has 6 + 5 x 3 codes a segment: refused before decoding.
    blob = _crafted(
        b"\x01" + bytes(64), segments=2**12, num_samples=2**30, dim=2**16 - 1, steps=1, time_dim=1
    )
    tracemalloc.start()
    try:
        head = codec.read_header(blob)
        with pytest.raises(CompressedStreamError, match="does not match"):
            codec.unpack_v2(blob, head, em)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5 << 20, peak


def test_a_tiny_payload_claiming_many_segments_decodes_within_the_output(em):
    # A range coder can pack sure symbols into nothing: 4096 segments from 65 bytes is legal
    # (the caller checks segments against num_samples); memory stays that of the output.
    blob = _crafted(b"\x01" + bytes(64), segments=4096, num_samples=2**30)
    head = codec.read_header(blob)
    tracemalloc.start()
    try:
        with contextlib.suppress(CompressedStreamError):
            g, t = codec.unpack_v2(blob, head, em)
            assert g.shape == (4096, DIM) and t.shape == (4096, STEPS, TDIM)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    output = 4096 * (DIM + STEPS * TDIM) * 4
    assert peak < 2 * output + (1 << 20), (peak, output)


# --- fuzz: any mutation of a valid stream decodes to in-range codes or raises the typed error --


def _check(blob, em):
    try:
        head = codec.read_header(blob)
        g, t = codec.unpack_v2(blob, head, em)
    except CompressedStreamError as exc:
        assert "\n" not in str(exc)
        return "refused"
    assert g.shape == (head.segments, DIM) and t.shape == (head.segments, STEPS, TDIM)
    assert g.dtype == t.dtype == np.int32
    top = 2**head.bits
    assert g.min() >= 0 and g.max() < top and t.min() >= 0 and t.max() < top
    return "decoded"


def test_seeded_mutations_decode_in_range_or_raise(em):
    rng = np.random.default_rng(2024)
    sources = [_pack(*_codes(rng, n), em) for n in (1, 4, 12)]
    noisy = rng.integers(0, 16, (4, DIM)), rng.integers(0, 16, (4, STEPS, TDIM))
    sources.append(_pack(*noisy, em))  # the raw fallback
    assert {codec.read_header(s).payload_bytes > 0 for s in sources} == {True}
    outcomes: dict[str, int] = {}
    for i in range(400):
        blob = bytearray(sources[i % len(sources)])
        head_end = len(blob) - 4 - codec.read_header(bytes(blob)).payload_bytes
        kind = i % 5
        body = blob[:-4]
        if kind == 0:  # bit flips anywhere, checksum fixed up so the decoder sees them
            for _ in range(rng.integers(1, 4)):
                body[rng.integers(0, len(body))] ^= 1 << int(rng.integers(0, 8))
            blob = _with_crc(body)
        elif kind == 1:  # bit flips in the payload only
            for _ in range(rng.integers(1, 6)):
                body[rng.integers(head_end, len(body))] ^= 1 << int(rng.integers(0, 8))
            blob = _with_crc(body)
        elif kind == 2:  # truncation, checksum intact or refreshed
            cut = rng.integers(0, len(blob))
            blob = bytes(blob[:cut]) if i % 2 else _with_crc(body[:cut])
        elif kind == 3:  # inserted bytes
            at = int(rng.integers(0, len(body) + 1))
            body[at:at] = rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8).tobytes()
            blob = _with_crc(body)
        else:  # a random header field, checksum fixed up
            offset = 6 + blob[5] + int(rng.choice([32, 36, 44, 48, 50, 52, 54, 55]))
            width = {32: 4, 36: 8, 44: 4, 48: 2, 50: 2, 52: 2, 54: 1, 55: 4}[offset - 6 - blob[5]]
            value = int(rng.integers(0, 2 ** min(8 * width, 62)))
            if rng.random() < 0.5:  # small values pass more checks
                value = int(rng.integers(0, 40))
            body[offset : offset + width] = value.to_bytes(width, "big")
            blob = _with_crc(body)
        outcome = _check(bytes(blob), em)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) == {"decoded", "refused"}, outcomes


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    segments=st.integers(0, 2**32 - 1),
    dim=st.sampled_from([0, 1, DIM, 2**16 - 1]),
    steps=st.sampled_from([0, 1, STEPS, 2**16 - 1]),
    time_dim=st.sampled_from([0, TDIM, 2**16 - 1]),
    bits=st.integers(0, 255),
    num_samples=st.integers(0, 2**64 - 1),
    sr=st.integers(0, 2**32 - 1),
    payload=st.binary(max_size=48),
)
def test_fuzzed_headers_raise_typed_errors_or_decode(em, **fields):
    _check(_crafted(fields.pop("payload"), **fields), em)


def test_the_cap_matches_what_the_encoder_may_write(em):
    # The largest payload pack_v2 writes (codes the priors find unlikely) passes the cap.
    g = np.full((3, DIM), 15)
    t = np.tile(np.array([0, 15])[:, None], (3 * STEPS // 2 + 1, TDIM))[: 3 * STEPS]
    blob = _pack(g, t.reshape(3, STEPS, TDIM), em)
    head = codec.read_header(blob)
    assert head.payload_bytes == 1 + -(-3 * (DIM + STEPS * TDIM) * BITS // 8)
    assert blob[head.offset] == 0  # the raw fallback
    np.testing.assert_array_equal(codec.unpack_v2(blob, head, em)[0], g)


def test_layout_is_as_documented(rng, em):
    g, t = _codes(rng, 2)
    blob = _pack(g, t, em, model="ab", num_samples=99_999)
    assert blob[:8] == b"MLZ\x00\x02\x02ab"
    sha, sr, n, segs, dim, steps, tdim, bits, plen = struct.unpack_from(">32sIQIHHHBI", blob, 8)
    assert (sha.hex(), sr, n, segs, dim, steps, tdim, bits) == (
        SHA,
        22050,
        99_999,
        2,
        DIM,
        STEPS,
        TDIM,
        BITS,
    )
    assert len(blob) == 8 + 59 + plen + 4
    assert int.from_bytes(blob[-4:], "big") == zlib.crc32(blob[:-4])
