"""Entropy coding of integer latent codes: fitted categorical priors and a range coder.

An :class:`EntropyModel` holds, for each precision ``b`` (bits per number) a model was
trained for, one categorical prior per global latent dimension over the codes
``0 .. 2**b - 1``, and one per time-varying dimension over the *delta* between consecutive
codes, ``-(2**b - 1) .. 2**b - 1`` (time-varying latents are smooth, so deltas are far
cheaper than the codes themselves). Priors are stored as integer counts (about ``2**16``
per row, at least 1 per symbol), so any code is encodable and encoder and decoder build
bit-identical models from the same JSON on any machine.

Payload layout (what :func:`encode` returns), one mode byte then the data::

    0x01  range coded: little-endian u32 words of a constriction ``RangeEncoder``, holding
          for each global dimension d: the codes of all segments in dimension d,
          then for each time dimension j: the deltas of the stream in dimension j (the
          steps of all segments concatenated; the first delta is taken from the middle
          code ``2**(b-1)``)
    0x00  raw: the global codes (segments, latent_dim) then the time codes
          (segments, steps, time_dim), row-major, bit-packed MSB first at ``b`` bits each

The encoder writes whichever is shorter, so a payload never exceeds
:func:`max_payload_bytes` (1 byte over the raw codes) even for codes the priors did not
expect; a container can check a claimed payload length against that bound before decoding.
Dimension-major order lets each dimension decode in one call with one fixed model.

Example:
    >>> rng = np.random.default_rng(0)
    >>> codes = rng.integers(6, 10, size=(50, 4))
    >>> em = fit_entropy_model({4: (codes, None)}, steps=0)
    >>> payload = encode(em, codes, None, bits=4)
    >>> back, _ = decode(em, payload, bits=4, segments=50)
    >>> bool((back == codes).all())
    True
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import constriction
import numpy as np

from keras_musiclatent.errors import CompressedStreamError, ConfigError

__all__ = [
    "COUNT_SCALE",
    "EntropyModel",
    "bits_for_rate",
    "decode",
    "encode",
    "expected_bits_per_segment",
    "fit_entropy_model",
    "max_payload_bytes",
    "pack_bits",
    "raw_payload_bits",
    "unpack_bits",
]

#: Counts per prior row: 16 bits keep the rarest symbol's cost at about 16 bits while the
#: range coder's 24-bit precision represents every row exactly enough.
COUNT_SCALE = 1 << 16
# Pseudo-count added to each histogram bin before quantising (Krichevsky-Trofimov).
_PSEUDO_COUNT = 0.5
_FORMAT = "keras-musiclatent-entropy-model"
_JSON_VERSION = 1
_MAX_COUNT = float(2**53)
_MODE_RAW = 0
_MODE_RANGE = 1
# Codes unpacked per step: the bit planes of a chunk take 8 bytes a bit.
_CHUNK_CODES = 1 << 16
# Largest entropy model file read (one of 64 + 12 x 33 codes at 2..7 bits is about 85 kB).
_MAX_JSON_CHARS = 64 << 20

_Categorical = constriction.stream.model.Categorical
_queue = constriction.stream.queue


def _symbols(bits: int) -> int:
    return 1 << bits


def _delta_symbols(bits: int) -> int:
    return 2 * (1 << bits) - 1


@dataclass(frozen=True, eq=False)
class EntropyModel:
    """Fitted categorical priors of one model's codes at each precision.

    Attributes:
        bits: precisions covered, ascending.
        latent_dim: global codes per segment.
        time_dim: time-varying dimensions (0 without a time-varying latent).
        steps: time steps per segment (0 when ``time_dim`` is 0).
        global_counts: ``{b: (latent_dim, 2**b)}`` float64 counts, integers in practice.
        time_counts: ``{b: (time_dim, 2 * 2**b - 1)}`` counts of the deltas
            ``-(2**b - 1) .. 2**b - 1`` (column ``delta + 2**b - 1``); empty without time.

    Example:
        >>> em = fit_entropy_model({2: (np.zeros((3, 5), int), None)}, steps=0)
        >>> em.global_prior(2).shape
        (5, 4)
    """

    bits: tuple[int, ...]
    latent_dim: int
    time_dim: int
    steps: int
    global_counts: Mapping[int, np.ndarray] = field(repr=False)
    time_counts: Mapping[int, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        bits = tuple(sorted(int(b) for b in self.bits))
        if not bits or len(set(bits)) != len(bits) or not all(1 <= b <= 16 for b in bits):
            raise ConfigError(f"entropy model precisions must be distinct 1..16, got {bits}")
        if self.latent_dim < 1 or self.time_dim < 0 or self.steps < 0:
            raise ConfigError(
                f"entropy model sizes must be latent_dim >= 1, time_dim >= 0, steps >= 0, got "
                f"{self.latent_dim}, {self.time_dim}, {self.steps}"
            )
        if (self.time_dim == 0) != (self.steps == 0):
            raise ConfigError(
                f"entropy model has time_dim {self.time_dim} but {self.steps} steps: both or "
                "neither must be 0"
            )
        glob, time = {}, {}
        for b in bits:
            glob[b] = _checked_counts(
                self.global_counts.get(b), (self.latent_dim, _symbols(b)), f"global prior {b}"
            )
            if self.time_dim:
                time[b] = _checked_counts(
                    self.time_counts.get(b), (self.time_dim, _delta_symbols(b)), f"time prior {b}"
                )
        object.__setattr__(self, "bits", bits)
        object.__setattr__(self, "latent_dim", int(self.latent_dim))
        object.__setattr__(self, "time_dim", int(self.time_dim))
        object.__setattr__(self, "steps", int(self.steps))
        object.__setattr__(self, "global_counts", glob)
        object.__setattr__(self, "time_counts", time)

    def global_prior(self, bits: int) -> np.ndarray:
        """``(latent_dim, 2**bits)`` probabilities of the global codes."""
        counts = self.global_counts[self._covered(bits)]
        return counts / counts.sum(axis=1, keepdims=True)

    def time_prior(self, bits: int) -> np.ndarray:
        """``(time_dim, 2 * 2**bits - 1)`` probabilities of the time deltas
        ``-(2**bits - 1) .. 2**bits - 1``; ``(0, ...)`` without a time-varying latent."""
        b = self._covered(bits)
        if not self.time_dim:
            return np.zeros((0, _delta_symbols(b)))
        counts = self.time_counts[b]
        return counts / counts.sum(axis=1, keepdims=True)

    def _covered(self, bits: int) -> int:
        if bits not in self.bits:
            raise ConfigError(
                f"the entropy model covers {_span(self.bits)} bits per number, got {bits}"
            )
        return int(bits)

    def to_json(self) -> str:
        """Compact JSON of the priors (integer counts; read back by :meth:`from_json`)."""
        priors = []
        for b in self.bits:
            entry = {"bits": b, "global": _plain(self.global_counts[b])}
            if self.time_dim:
                entry["time"] = _plain(self.time_counts[b])
            priors.append(entry)
        doc = {
            "format": _FORMAT,
            "version": _JSON_VERSION,
            "latent_dim": self.latent_dim,
            "time_dim": self.time_dim,
            "steps": self.steps,
            "priors": priors,
        }
        return json.dumps(doc, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> EntropyModel:
        """The model of :meth:`to_json`.

        Raises:
            ConfigError: not valid JSON, not an entropy model, an unknown version, or counts
                of the wrong shape, negative, non-finite or summing to zero.
        """
        if len(text) > _MAX_JSON_CHARS:
            raise ConfigError(f"entropy model file is larger than {_MAX_JSON_CHARS} bytes")
        try:
            doc = json.loads(text)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise ConfigError(f"entropy model file is not valid JSON: {exc}") from exc
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise ConfigError("not an entropy model file (missing or wrong 'format')")
        if doc.get("version") != _JSON_VERSION:
            raise ConfigError(
                f"entropy model file version {doc.get('version')!r} is not supported (this "
                f"package reads version {_JSON_VERSION})"
            )
        sizes = {}
        for key in ("latent_dim", "time_dim", "steps"):
            value = doc.get(key)
            if type(value) is not int:
                raise ConfigError(f"entropy model file: {key!r} must be an integer")
            sizes[key] = value
        priors = doc.get("priors")
        if not isinstance(priors, list) or not priors:
            raise ConfigError("entropy model file: 'priors' must be a non-empty list")
        glob, time = {}, {}
        for entry in priors:
            b = entry.get("bits") if isinstance(entry, dict) else None
            if type(b) is not int or not 1 <= b <= 16 or b in glob:
                raise ConfigError("entropy model file: each prior needs distinct 'bits' in 1..16")
            glob[b] = entry.get("global")
            if sizes["time_dim"]:
                time[b] = entry.get("time")
        return cls(bits=tuple(glob), global_counts=glob, time_counts=time, **sizes)


def _span(bits: tuple[int, ...]) -> str:
    return f"{bits[0]}..{bits[-1]}" if len(bits) > 1 else str(bits[0])


def _checked_counts(value, shape: tuple[int, int], what: str) -> np.ndarray:
    if value is None:
        raise ConfigError(f"entropy model lacks its {what}")
    try:
        counts = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as exc:
        raise ConfigError(f"entropy model {what} is not an array of numbers") from exc
    if counts.shape != shape:
        raise ConfigError(f"entropy model {what} has shape {counts.shape}, expected {shape}")
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ConfigError(f"entropy model {what} holds negative or non-finite counts")
    # Above 2**53 float64 counts are not exact integers, and rows could overflow their sum.
    if counts.size and counts.max() > _MAX_COUNT:
        raise ConfigError(f"entropy model {what} holds counts above 2**53")
    if not (counts.sum(axis=1) > 0).all():  # the coder cannot normalise a zero row
        raise ConfigError(f"entropy model {what} has a row whose counts sum to 0")
    counts.flags.writeable = False
    return counts


def _plain(counts: np.ndarray) -> list:
    if np.array_equal(counts, np.rint(counts)):
        return counts.astype(np.int64).tolist()
    return counts.tolist()


def _quantised(hist: np.ndarray) -> np.ndarray:
    """Histogram rows → smoothed counts summing to about :data:`COUNT_SCALE`, each >= 1."""
    hist = hist.astype(np.float64) + _PSEUDO_COUNT
    probs = hist / hist.sum(axis=1, keepdims=True)
    return np.maximum(1.0, np.rint(probs * COUNT_SCALE))


def _deltas(time_codes: np.ndarray, bits: int) -> np.ndarray:
    """``(n, steps, time_dim)`` codes → ``(n * steps, time_dim)`` delta symbols
    ``code[t] - code[t-1] + 2**bits - 1`` along the concatenated steps."""
    flat = time_codes.reshape(-1, time_codes.shape[-1]).astype(np.int64)
    prev = np.empty_like(flat)
    if len(flat):
        prev[0] = 1 << (bits - 1)
        prev[1:] = flat[:-1]
    return flat - prev + (1 << bits) - 1


def fit_entropy_model(
    codes_by_bits: Mapping[int, tuple[np.ndarray, np.ndarray | None]], *, steps: int
) -> EntropyModel:
    """Fit priors from codes of consecutive segments of training clips.

    Args:
        codes_by_bits: for each precision ``b``, ``(global (n, latent_dim), time
            (n, steps, time_dim) or None)`` codes in ``[0, 2**b)``; each time array is one
            stream for the deltas (clip boundaries cost a little, which is fine).
        steps: time steps per segment (ignored, stored as 0, without time codes).

    Raises:
        ConfigError: no precisions, codes out of range, or shapes that disagree.

    Example:
        >>> g = np.full((4, 3), 2)
        >>> t = np.full((4, 5, 2), 2)
        >>> fit_entropy_model({2: (g, t)}, steps=5).time_prior(2).argmax(axis=1).tolist()
        [3, 3]
    """
    if not codes_by_bits:
        raise ConfigError("fit_entropy_model needs codes of at least one precision")
    glob, time = {}, {}
    dims: set[tuple[int, int]] = set()
    for b, (global_codes, time_codes) in codes_by_bits.items():
        b = int(b)
        if not 1 <= b <= 16:
            raise ConfigError(f"precisions must be in 1..16 bits, got {b}")
        g = np.asarray(global_codes)
        if g.ndim != 2 or g.shape[1] < 1:
            raise ConfigError(f"global codes at {b} bits must be (n, latent_dim), got {g.shape}")
        _check_range(g, b, ConfigError)
        n_sym = _symbols(b)
        offsets = np.arange(g.shape[1]) * n_sym
        hist = np.bincount((g.astype(np.int64) + offsets).ravel(), minlength=g.shape[1] * n_sym)
        glob[b] = _quantised(hist.reshape(g.shape[1], n_sym))
        time_dim = 0
        if time_codes is not None:
            t = np.asarray(time_codes)
            if t.ndim != 3 or t.shape[1] != steps or t.shape[2] < 1 or len(t) != len(g):
                raise ConfigError(
                    f"time codes at {b} bits must be ({len(g)}, {steps}, time_dim), got {t.shape}"
                )
            _check_range(t, b, ConfigError)
            time_dim = t.shape[2]
            n_delta = _delta_symbols(b)
            offsets = np.arange(time_dim) * n_delta
            hist = np.bincount((_deltas(t, b) + offsets).ravel(), minlength=time_dim * n_delta)
            time[b] = _quantised(hist.reshape(time_dim, n_delta))
        dims.add((g.shape[1], time_dim))
    if len(dims) != 1:
        raise ConfigError(
            f"codes of different precisions disagree on (latent_dim, time_dim): {dims}"
        )
    ((latent_dim, time_dim),) = dims
    return EntropyModel(
        bits=tuple(glob),
        latent_dim=latent_dim,
        time_dim=time_dim,
        steps=int(steps) if time_dim else 0,
        global_counts=glob,
        time_counts=time,
    )


def _check_range(codes: np.ndarray, bits: int, error: type[Exception]) -> None:
    if not np.issubdtype(codes.dtype, np.integer):
        raise error(f"codes must be integers, got {codes.dtype}")
    if codes.size and (codes.min() < 0 or codes.max() >= 1 << bits):
        raise error(f"codes out of range for {bits} bits")


def raw_payload_bits(entropy_model: EntropyModel, *, bits: int, segments: int) -> int:
    """Bits of the codes of ``segments`` segments written at ``bits`` each, uncompressed."""
    per_segment = entropy_model.latent_dim + entropy_model.steps * entropy_model.time_dim
    return segments * per_segment * bits


def max_payload_bytes(*, segments: int, codes_per_segment: int, bits: int) -> int:
    """Most bytes :func:`encode` writes for ``segments`` segments of ``codes_per_segment``
    codes (``latent_dim + steps * time_dim``): the raw codes plus the mode byte."""
    return 1 + -(-segments * codes_per_segment * bits // 8)


def expected_bits_per_segment(entropy_model: EntropyModel, bits: int) -> float:
    """Payload bits per segment the priors predict at ``bits`` per number: their entropy
    (the training codes' cross-entropy, up to smoothing), at most the raw bits.

    Example:
        >>> em = fit_entropy_model({3: (np.zeros((1000, 2), int), None)}, steps=0)
        >>> round(expected_bits_per_segment(em, 3), 3)  # a sure code costs almost nothing
        0.087
    """

    def entropy(p: np.ndarray) -> float:
        return float(-(p * np.log2(p, where=p > 0, out=np.zeros_like(p))).sum())

    total = entropy(entropy_model.global_prior(bits))
    total += entropy_model.steps * entropy(entropy_model.time_prior(bits))
    return min(total, raw_payload_bits(entropy_model, bits=bits, segments=1))


def bits_for_rate(
    entropy_model: EntropyModel, *, bits_per_second: float, segment_seconds: float
) -> int:
    """The finest covered precision whose :func:`expected_bits_per_segment` fits
    ``bits_per_second``, else the coarsest.

    Example:
        >>> codes = np.zeros((1000, 8), int)
        >>> em = fit_entropy_model({2: (codes, None), 3: (codes, None)}, steps=0)
        >>> [round(expected_bits_per_segment(em, b), 2) for b in em.bits]
        [0.15, 0.35]
        >>> bits_for_rate(em, bits_per_second=0.1, segment_seconds=3.0)
        2
    """
    budget = bits_per_second * segment_seconds
    fitting = [
        b for b in entropy_model.bits if expected_bits_per_segment(entropy_model, b) <= budget
    ]
    return max(fitting) if fitting else entropy_model.bits[0]


def pack_bits(codes: np.ndarray, bits: int) -> bytes:
    """Codes in ``[0, 2**bits)`` bit-packed MSB first, ``bits`` each (zero-padded to bytes)."""
    flat = np.asarray(codes, dtype=np.int64).ravel()
    planes = (flat[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    return np.packbits(planes.astype(np.uint8).ravel()).tobytes()


def unpack_bits(payload: bytes | memoryview, count: int, bits: int, skip: int = 0) -> np.ndarray:
    """``count`` uint16 codes of :func:`pack_bits` from ``payload``, starting ``skip`` bits in;
    memory of a few chunks besides the output."""
    out = np.empty(count, np.uint16)
    if bits == 8 and skip == 0:  # byte-aligned: the payload is the codes
        out[:] = np.frombuffer(payload, np.uint8, count)
        return out
    weights = (1 << np.arange(bits - 1, -1, -1)).astype(np.uint16)
    for first in range(0, count, _CHUNK_CODES):
        n = min(_CHUNK_CODES, count - first)
        lo_bit = skip + first * bits
        hi_bit = lo_bit + n * bits
        chunk = np.frombuffer(payload, np.uint8, -(-hi_bit // 8) - lo_bit // 8, lo_bit // 8)
        planes = np.unpackbits(chunk)[lo_bit % 8 : lo_bit % 8 + n * bits].reshape(n, bits)
        out[first : first + n] = planes @ weights
    return out


def _checked_codes(
    entropy_model: EntropyModel, global_codes, time_codes, bits: int
) -> tuple[np.ndarray, np.ndarray | None]:
    g = np.asarray(global_codes)
    if g.ndim != 2 or g.shape[1] != entropy_model.latent_dim or not len(g):
        raise CompressedStreamError(
            f"global codes must be (segments >= 1, {entropy_model.latent_dim}), got {g.shape}"
        )
    _check_range(g, bits, CompressedStreamError)
    if not entropy_model.time_dim:
        if time_codes is not None:
            raise CompressedStreamError("the entropy model has no time-varying latent")
        return g, None
    if time_codes is None:
        raise CompressedStreamError("the entropy model expects time-varying codes")
    t = np.asarray(time_codes)
    expected = (len(g), entropy_model.steps, entropy_model.time_dim)
    if t.shape != expected:
        raise CompressedStreamError(f"time codes must be {expected}, got {t.shape}")
    _check_range(t, bits, CompressedStreamError)
    return g, t


@contextmanager
def _coder_errors(doing: str) -> Iterator[None]:
    """constriction reports bad data as AssertionError, KeyError, ValueError or a Rust
    panic (a BaseException): every one of them becomes a typed error."""
    try:
        yield
    except CompressedStreamError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except BaseException as exc:
        raise CompressedStreamError(f"{doing} failed: {exc}".splitlines()[0]) from exc


def encode(
    entropy_model: EntropyModel,
    global_codes: np.ndarray,
    time_codes: np.ndarray | None,
    *,
    bits: int,
) -> bytes:
    """Entropy-coded payload of one stream's codes (layout in the module docstring).

    Args:
        entropy_model: priors covering ``bits``.
        global_codes: ``(segments, latent_dim)`` codes in ``[0, 2**bits)``.
        time_codes: ``(segments, steps, time_dim)`` codes, or None without a time latent.
        bits: precision of the codes.

    Raises:
        ConfigError: ``bits`` is not a precision of the entropy model.
        CompressedStreamError: codes of the wrong shape or out of range.
    """
    b = entropy_model._covered(bits)
    g, t = _checked_codes(entropy_model, global_codes, time_codes, b)
    encoder = _queue.RangeEncoder()
    with _coder_errors("range encoding"):
        for d, row in enumerate(entropy_model.global_counts[b]):
            encoder.encode(g[:, d].astype(np.int32), _Categorical(row, perfect=False))
        if t is not None:
            deltas = _deltas(t, b).astype(np.int32)
            for j, row in enumerate(entropy_model.time_counts[b]):
                encoder.encode(np.ascontiguousarray(deltas[:, j]), _Categorical(row, perfect=False))
        words = encoder.get_compressed()
    coded = bytes([_MODE_RANGE]) + words.astype("<u4").tobytes()
    per_segment = entropy_model.latent_dim + entropy_model.steps * entropy_model.time_dim
    if len(coded) <= max_payload_bytes(segments=len(g), codes_per_segment=per_segment, bits=b):
        return coded
    # Codes the priors did not expect: raw codes bound the size whatever they are.
    return bytes([_MODE_RAW]) + pack_bits(
        g if t is None else np.concatenate([g.ravel(), t.ravel()]), b
    )


def decode(
    entropy_model: EntropyModel,
    payload: bytes | bytearray | memoryview,
    *,
    bits: int,
    segments: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes of a payload of :func:`encode`; memory is bounded by the output (check
    ``segments`` against what the stream may hold before calling).

    Returns:
        ``(global (segments, latent_dim), time (segments, steps, time_dim) or None)`` int32
        codes, always in ``[0, 2**bits)``.

    Raises:
        CompressedStreamError: ``bits`` not covered by the entropy model, a payload longer
            than :func:`max_payload_bytes`, an unknown mode, damaged data, or deltas that
            walk out of range.
    """
    if bits not in entropy_model.bits:
        raise CompressedStreamError(
            f"stream codes have {bits} bits; the entropy model covers {_span(entropy_model.bits)}"
        )
    if isinstance(segments, bool) or not isinstance(segments, numbers.Integral) or segments < 1:
        raise CompressedStreamError(f"segments must be a positive integer, got {segments!r}")
    segments = int(segments)
    em = entropy_model
    per_segment = em.latent_dim + em.steps * em.time_dim
    view = memoryview(payload).cast("B")
    limit = max_payload_bytes(segments=segments, codes_per_segment=per_segment, bits=bits)
    if not 1 <= len(view) <= limit:
        raise CompressedStreamError(
            f"payload of {len(view)} bytes; {segments} segments need 1..{limit} bytes"
        )
    mode = view[0]
    if mode == _MODE_RAW:
        return _decode_raw(em, view[1:], bits=bits, segments=segments, limit=limit)
    if mode != _MODE_RANGE:
        raise CompressedStreamError(f"payload mode {mode} is unknown")
    if (len(view) - 1) % 4:
        raise CompressedStreamError("range-coded payload is not a whole number of 32-bit words")
    words = np.frombuffer(view, "<u4", offset=1).astype(np.uint32)
    glob = np.empty((segments, em.latent_dim), np.int32)
    time = np.empty((segments, em.steps, em.time_dim), np.int32) if em.time_dim else None
    with _coder_errors("decoding the payload"):
        decoder = _queue.RangeDecoder(words)
        for d, row in enumerate(em.global_counts[bits]):
            glob[:, d] = decoder.decode(_Categorical(row, perfect=False), segments)
        if time is not None:
            n = segments * em.steps
            top = (1 << bits) - 1
            for j, row in enumerate(em.time_counts[bits]):
                symbols = decoder.decode(_Categorical(row, perfect=False), n)
                # int64: a long walk of damaged deltas must not wrap back into range.
                walk = np.cumsum(symbols - top, dtype=np.int64) + (1 << (bits - 1))
                if walk.min() < 0 or walk.max() > top:
                    raise CompressedStreamError(
                        f"payload is damaged: time dimension {j} walks out of 0..{top}"
                    )
                time[:, :, j] = walk.reshape(segments, em.steps)
    if glob.min() < 0 or glob.max() > (1 << bits) - 1:  # the coder's symbols always fit
        raise CompressedStreamError("payload is damaged: global codes out of range")
    return glob, time


def _decode_raw(
    em: EntropyModel, data: memoryview, *, bits: int, segments: int, limit: int
) -> tuple[np.ndarray, np.ndarray | None]:
    if len(data) != limit - 1:
        raise CompressedStreamError(
            f"raw payload has {len(data)} bytes, {segments} segments need {limit - 1}"
        )
    n_glob = segments * em.latent_dim
    glob = unpack_bits(data, n_glob, bits).astype(np.int32).reshape(segments, em.latent_dim)
    if not em.time_dim:
        return glob, None
    n_time = segments * em.steps * em.time_dim
    time = unpack_bits(data, n_time, bits, skip=n_glob * bits).astype(np.int32)
    return glob, time.reshape(segments, em.steps, em.time_dim)
