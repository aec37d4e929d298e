"""Entropy coding of latent codes: exact round trips, rates the priors predict, typed errors."""

from __future__ import annotations

import json
import tracemalloc

import constriction
import numpy as np
import pytest

from keras_musiclatent import entropy
from keras_musiclatent.entropy import EntropyModel, fit_entropy_model
from keras_musiclatent.errors import CompressedStreamError, ConfigError

LATENT, TIME, STEPS = 64, 12, 33


def smooth_codes(rng, n, *, bits, latent_dim=LATENT, time_dim=TIME, steps=STEPS):
    """Codes like a trained bounded bottleneck's: global codes peaked at the middle, and
    time codes of a slow AR(1) walk through tanh, so neighbouring steps differ by little."""
    top = 2**bits - 1
    g = np.clip(np.rint(rng.normal(0.5, 0.18, (n, latent_dim)) * top), 0, top).astype(np.int64)
    noise = rng.normal(0.0, 0.12, (n * steps, time_dim))
    walk = np.empty_like(noise)
    state = rng.normal(0.0, 0.5, time_dim)
    for i, step in enumerate(noise):
        state = 0.9 * state + step
        walk[i] = state
    t = np.rint((np.tanh(walk) + 1) / 2 * top).astype(np.int64)
    return g, t.reshape(n, steps, time_dim) if time_dim else None


@pytest.fixture(scope="module")
def fitted():
    """Priors at 2..7 bits of the full-size model (64 global, 12 x 33 time codes)."""
    rng = np.random.default_rng(7)
    return fit_entropy_model({b: smooth_codes(rng, 300, bits=b) for b in range(2, 8)}, steps=STEPS)


def _round_trip(em, g, t, bits):
    payload = entropy.encode(em, g, t, bits=bits)
    back_g, back_t = entropy.decode(em, payload, bits=bits, segments=len(g))
    np.testing.assert_array_equal(back_g, g)
    assert back_g.dtype == np.int32
    if t is None:
        assert back_t is None
    else:
        np.testing.assert_array_equal(back_t, t)
    return payload


@pytest.mark.parametrize("bits", [1, 2, 5, 8])
@pytest.mark.parametrize("with_time", [False, True])
def test_round_trip_is_exact_for_random_and_smooth_codes(bits, with_time):
    rng = np.random.default_rng(bits)
    time_dim, steps = (3, 4) if with_time else (0, 0)
    train = smooth_codes(rng, 40, bits=bits, latent_dim=5, time_dim=time_dim, steps=steps)
    em = fit_entropy_model({bits: train}, steps=steps)
    modes = set()
    for n in (1, 7):
        g, t = smooth_codes(rng, n, bits=bits, latent_dim=5, time_dim=time_dim, steps=steps)
        modes.add(_round_trip(em, g, t, bits)[0])
        g = rng.integers(0, 2**bits, size=g.shape)
        t = None if t is None else rng.integers(0, 2**bits, size=t.shape)
        modes.add(_round_trip(em, g, t, bits)[0])
        # The extremes: every code at 0 or at the top, deltas of the full range.
        if t is not None:
            t = np.where(np.arange(steps)[None, :, None] % 2, 2**bits - 1, 0) + 0 * t
        _round_trip(em, np.full_like(g, 2**bits - 1), t, bits)
    if 1 < bits < 8:  # (40 clips cannot teach 256-symbol priors to beat raw codes)
        assert modes == {0, 1}, "both range coding and the raw fallback are exercised"


def test_smooth_time_codes_cost_fewer_bits_than_iid(fitted):
    rng = np.random.default_rng(1)
    for bits in (3, 6):
        g, t = smooth_codes(rng, 50, bits=bits)
        smooth = len(entropy.encode(fitted, g, t, bits=bits))
        iid = rng.integers(0, 2**bits, size=t.shape)
        noisy = len(entropy.encode(fitted, g, iid, bits=bits))
        assert smooth < 0.75 * noisy, (bits, smooth, noisy)
        # Never more than the raw codes plus the mode byte, whatever the codes.
        raw = entropy.raw_payload_bits(fitted, bits=bits, segments=50)
        assert noisy <= entropy.max_payload_bytes(
            segments=50, codes_per_segment=LATENT + STEPS * TIME, bits=bits
        )
        assert 8 * (noisy - 1) <= raw + 7


@pytest.mark.parametrize("bits", [2, 4, 7])
def test_estimated_rate_matches_the_payload(fitted, bits):
    g, t = smooth_codes(np.random.default_rng(100 + bits), 100, bits=bits)
    payload = entropy.encode(fitted, g, t, bits=bits)
    measured = 8 * len(payload) / len(g)
    estimate = entropy.expected_bits_per_segment(fitted, bits)
    assert measured == pytest.approx(estimate, rel=0.05)
    assert estimate < entropy.raw_payload_bits(fitted, bits=bits, segments=1)


def test_bits_for_rate_picks_the_finest_precision_that_fits(fitted):
    rates = [entropy.expected_bits_per_segment(fitted, b) for b in fitted.bits]
    assert rates == sorted(rates)
    pick = entropy.bits_for_rate(fitted, bits_per_second=rates[3] / 3.0, segment_seconds=3.0)
    assert pick == fitted.bits[3]
    assert entropy.bits_for_rate(fitted, bits_per_second=1.0, segment_seconds=3.0) == 2
    assert entropy.bits_for_rate(fitted, bits_per_second=1e9, segment_seconds=3.0) == 7


def test_payload_bytes_are_pinned():
    """Encoder and decoder must agree bit for bit on every machine and constriction release:
    a change here breaks every stream already written."""
    i = np.arange(30 * 4 * 2)
    g = (i[:120] % 7 == 0).reshape(30, 4) + 1
    t = (1 + (i // 5) % 2 + (i % 11 == 0)).reshape(30, 4, 2)
    em = fit_entropy_model({2: (g, t)}, steps=4)
    payload = entropy.encode(em, g, t, bits=2)
    assert payload[0] == 1
    assert payload.hex() == _PINNED


_PINNED = (
    "011e9b35dc8ef9d330e79391a074d73b92dfa7b1f5d854be2259f4c07137ec8af4f0c5b0ad7468d5b2d51fec1c"
    "119245e8236d05afe5a1d0199078bfa6"
)


def test_fit_priors_by_hand():
    g = np.array([[0, 3], [0, 3], [1, 3]])
    t = np.array([[[2], [3]], [[3], [1]], [[1], [1]]])  # deltas from 2: 0, +1, 0, -2, 0, 0
    em = fit_entropy_model({2: (g, t)}, steps=2)
    counts = em.global_counts[2]
    assert counts.shape == (2, 4) and em.time_counts[2].shape == (1, 7)
    # Histogram + 0.5 per symbol, scaled to 2**16: (2.5, 1.5, .5, .5) / 5 for dimension 0.
    np.testing.assert_array_equal(counts[0], [32768, 19661, 6554, 6554])
    deltas = em.time_counts[2][0]
    assert deltas.argmax() == 3  # delta 0
    assert deltas[4] > deltas[0] and deltas[1] > deltas[6]  # +1 and -2 were seen
    np.testing.assert_allclose(em.global_prior(2).sum(axis=1), 1.0)
    assert (em.bits, em.latent_dim, em.time_dim, em.steps) == ((2,), 2, 1, 2)
    no_time = fit_entropy_model({2: (g, None)}, steps=33)
    assert (no_time.time_dim, no_time.steps) == (0, 0)
    assert no_time.time_prior(2).shape == (0, 7)


def test_fit_and_encode_refuse_bad_codes():
    g = np.zeros((3, 2), int)
    with pytest.raises(ConfigError, match="out of range"):
        fit_entropy_model({2: (g + 4, None)}, steps=0)
    with pytest.raises(ConfigError, match="disagree"):
        fit_entropy_model({2: (g, None), 3: (np.zeros((3, 5), int), None)}, steps=0)
    with pytest.raises(ConfigError, match="time codes"):
        fit_entropy_model({2: (g, np.zeros((3, 4, 1), int))}, steps=5)
    with pytest.raises(ConfigError, match="at least one"):
        fit_entropy_model({}, steps=0)
    with pytest.raises(ConfigError, match="integers"):
        fit_entropy_model({2: (g + 0.5, None)}, steps=0)
    em = fit_entropy_model({2: (g, np.zeros((3, 4, 1), int))}, steps=4)
    with pytest.raises(ConfigError, match="covers 2 bits"):
        entropy.encode(em, g, np.zeros((3, 4, 1), int), bits=3)
    with pytest.raises(CompressedStreamError, match="out of range"):
        entropy.encode(em, g - 1, np.zeros((3, 4, 1), int), bits=2)
    with pytest.raises(CompressedStreamError, match="expects time"):
        entropy.encode(em, g, None, bits=2)
    with pytest.raises(CompressedStreamError, match="time codes must be"):
        entropy.encode(em, g, np.zeros((3, 5, 1), int), bits=2)
    with pytest.raises(CompressedStreamError, match="global codes"):
        entropy.encode(em, np.zeros((0, 2), int), np.zeros((0, 4, 1), int), bits=2)


def test_json_round_trip_and_size(fitted):
    text = fitted.to_json()
    assert len(text) < 200_000, len(text)  # 64 + 12 x 33 codes at 2..7 bits
    back = EntropyModel.from_json(text)
    assert back.to_json() == text
    assert (back.bits, back.latent_dim, back.time_dim, back.steps) == (
        (2, 3, 4, 5, 6, 7),
        LATENT,
        TIME,
        STEPS,
    )
    g, t = smooth_codes(np.random.default_rng(3), 5, bits=5)
    assert entropy.encode(back, g, t, bits=5) == entropy.encode(fitted, g, t, bits=5)


def _doc():
    em = fit_entropy_model({2: (np.zeros((3, 2), int), np.zeros((3, 2, 1), int))}, steps=2)
    return json.loads(em.to_json())


def _edit(path, value):
    doc = _doc()
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return json.dumps(doc)


_DROP = object()


_BAD_JSON = [
    ("{", "not valid JSON"),
    (b"\xff\xfe", "not valid JSON"),
    ("[]", "not an entropy model"),
    ('{"format": "other"}', "not an entropy model"),
    (_edit(["version"], 9), "version 9"),
    (_edit(["latent_dim"], "2"), "'latent_dim' must be an integer"),
    (_edit(["priors"], []), "non-empty"),
    (_edit(["priors", 0, "bits"], 17), "bits"),
    (_edit(["priors", 0, "global"], [[1, 1, 1, 1]]), r"shape \(1, 4\)"),
    (_edit(["priors", 0, "global", 0, 1], -1), "negative"),
    (_edit(["priors", 0, "global", 0], [0, 0, 0, 0]), "sum to 0"),
    (_edit(["priors", 0, "global", 0, 2], "x"), "not an array of numbers"),
    (_edit(["priors", 0, "time"], _DROP), "lacks its time prior"),
    (_edit(["priors", 0, "time", 0, 0], 1e400), "non-finite"),
    (_edit(["priors", 0, "time", 0], [1e308] * 7), "above 2"),
    (_edit(["steps"], 0), "both or neither"),
    (_edit(["time_dim"], -1), "sizes"),
]


@pytest.mark.parametrize(("text", "message"), _BAD_JSON, ids=[m for _, m in _BAD_JSON])
def test_bad_json_raises_typed_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        EntropyModel.from_json(text)


def test_duplicate_precisions_are_refused():
    doc = _doc()
    doc["priors"].append(doc["priors"][0])
    with pytest.raises(ConfigError, match="distinct"):
        EntropyModel.from_json(json.dumps(doc))


# --- decoding damaged payloads -----------------------------------------------------------------


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(5)
    g, t = smooth_codes(rng, 60, bits=3, latent_dim=6, time_dim=3, steps=5)
    em = fit_entropy_model({3: (g, t)}, steps=5)
    return em, g[:20], t[:20]


def test_decode_refuses_inconsistent_payloads(small):
    em, g, t = small
    payload = entropy.encode(em, g, t, bits=3)
    assert payload[0] == 1
    cases = [
        (b"", "1..", {}),
        (payload, "covers 3", {"bits": 4}),
        (payload, "positive integer", {"segments": 0}),
        (b"\x07" + payload[1:], "mode 7", {}),
        (payload[:-1], "whole number of 32-bit words", {}),
        (b"\x00" + payload[1:], "raw payload has", {}),
        (payload + bytes(10_000), "need 1..", {}),
    ]
    for data, message, kw in cases:
        with pytest.raises(CompressedStreamError, match=message):
            entropy.decode(em, data, **{"bits": 3, "segments": 20, **kw})


def test_a_delta_walk_out_of_range_is_refused(small):
    em, g, _ = small
    encoder = constriction.stream.queue.RangeEncoder()
    model = constriction.stream.model.Categorical
    for d, row in enumerate(em.global_counts[3]):
        encoder.encode(g[:2, d].astype(np.int32), model(row, perfect=False))
    for row in em.time_counts[3]:  # +1 a step from the middle code 4 leaves 0..7 at step 4
        encoder.encode(np.full(2 * 5, 7 + 1, np.int32), model(row, perfect=False))
    payload = b"\x01" + encoder.get_compressed().astype("<u4").tobytes()
    with pytest.raises(CompressedStreamError, match=r"walks out of 0\.\.7"):
        entropy.decode(em, payload, bits=3, segments=2)


def test_fuzzed_payloads_decode_in_range_or_raise(small):
    em, g, t = small
    rng = np.random.default_rng(11)
    good = entropy.encode(em, g, t, bits=3)
    raw = entropy.encode(em, rng.integers(0, 8, g.shape), rng.integers(0, 8, t.shape), bits=3)
    assert (good[0], raw[0]) == (1, 0)
    outcomes = {"decoded": 0, "refused": 0}
    for i in range(600):
        data = bytearray(good if i % 3 else raw)
        kind = i % 4
        if kind == 0:  # bit flips
            for _ in range(rng.integers(1, 4)):
                data[rng.integers(0, len(data))] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:  # truncation
            data = data[: rng.integers(0, len(data))]
        elif kind == 2:  # insertion of whole words, keeping the length valid
            at = int(rng.integers(1, len(data)))
            data[at:at] = rng.integers(
                0, 256, 4 * int(rng.integers(1, 3)), dtype=np.uint8
            ).tobytes()
        else:  # random words after the mode byte
            data[1:] = rng.integers(0, 256, len(data) - 1, dtype=np.uint8).tobytes()
        try:
            back_g, back_t = entropy.decode(em, bytes(data), bits=3, segments=20)
        except CompressedStreamError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
            continue
        outcomes["decoded"] += 1
        assert back_g.shape == g.shape and back_t.shape == t.shape
        assert back_g.min() >= 0 and back_g.max() < 8
        assert back_t.min() >= 0 and back_t.max() < 8
    assert min(outcomes.values()) > 0, outcomes


def test_decode_memory_is_bounded_by_the_output(fitted):
    g, t = smooth_codes(np.random.default_rng(9), 400, bits=4)
    payload = entropy.encode(fitted, g, t, bits=4)
    output = g.size * 4 + t.size * 4
    tracemalloc.start()
    try:
        entropy.decode(fitted, payload, bits=4, segments=400)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * output + (1 << 20), (peak, output)
