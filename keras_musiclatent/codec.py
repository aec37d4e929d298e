"""The ``.mlz`` compressed-stream format: quantised latent codes plus a small binary header.

Two versions share the first bytes (magic, version, model name, weights sha256) and a
trailing crc32; :func:`read_header` reads either.

Version 1 (:func:`pack`, :func:`unpack`): fixed-width codes of one global latent per
segment. Layout (all integers big-endian)::

    magic        4 bytes   b"MLZ\\x00"
    version      1 byte    1
    name_len     1 byte    length of the model name
    name         name_len  UTF-8 model name (informative)
    weights_sha  32 bytes  sha256 of the model's weights (decoding checks it)
    sample_rate  u32       Hz of the decoded audio
    num_samples  u64       samples of the original (decoded audio is cut to it)
    segments     u32       latent vectors that follow
    latent_dim   u16
    bits         u8        bits per code (1..16)
    lo, hi       2 x f32   the quantiser's range: code k means lo + k * (hi - lo) / (2**bits - 1)
    payload      ceil(segments * latent_dim * bits / 8) bytes, codes bit-packed MSB first
    crc32        u32       of everything before it

The header and checksum cost ``8 * (69 + name_len)`` bits per file; :func:`stream_bits`
counts everything.

Version 2 (:func:`pack_v2`, :func:`unpack_v2`): entropy-coded codes of the global latent and
of the time-varying latent, at one precision per stream, for models with integer codes
(:meth:`LatentAudioModel.encode_codes`). Layout::

    magic        4 bytes   b"MLZ\\x00"
    version      1 byte    2
    name_len     1 byte
    name         name_len  UTF-8 model name
    weights_sha  32 bytes
    sample_rate  u32
    num_samples  u64       at most :data:`MAX_NUM_SAMPLES`
    segments     u32       at most :data:`MAX_SEGMENTS` and ``num_samples``
    latent_dim   u16       global codes per segment
    steps        u16       time steps per segment (0 without a time-varying latent)
    time_dim     u16       time-varying codes per step (0 without one)
    bits         u8        precision of every code (1..16)
    payload_len  u32       bytes of payload, at most 1 + the raw codes' bytes
    payload      payload_len bytes of :func:`keras_musiclatent.entropy.encode`
    crc32        u32       of everything before it

Decoding a version 2 stream needs the model's :class:`~keras_musiclatent.entropy.EntropyModel`,
the priors the payload was coded with. Both headers take ``69 + name_len`` bytes with the
checksum (:func:`header_bytes`).
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from keras_musiclatent import entropy
from keras_musiclatent.entropy import EntropyModel, pack_bits, unpack_bits
from keras_musiclatent.errors import CompressedStreamError

__all__ = [
    "MAGIC",
    "MAX_CODES",
    "MAX_NUM_SAMPLES",
    "MAX_PAYLOAD_BYTES",
    "MAX_SEGMENTS",
    "V1",
    "V2",
    "VERSION",
    "VERSIONS",
    "Header",
    "Stream",
    "dequantize",
    "header_bytes",
    "pack",
    "pack_v2",
    "quantize",
    "read_header",
    "stream_bits",
    "unpack",
    "unpack_rows",
    "unpack_v2",
]

MAGIC = b"MLZ\x00"
V1 = 1
V2 = 2
#: The version :func:`pack` writes (:func:`pack_v2` writes :data:`V2`).
VERSION = V1
VERSIONS = (V1, V2)
_FIXED = struct.Struct(">32sIQIHBff")
_FIXED_V2 = struct.Struct(">32sIQIHHHBI")
#: Most segments a stream may hold (about 36 days of 3-s segments): a header is checked
#: against it before anything is allocated.
MAX_SEGMENTS = 1 << 20
#: Most payload bytes a stream may hold (2**20 segments of 64 dims at 8 bits).
MAX_PAYLOAD_BYTES = 64 << 20
#: Most samples a version 2 stream may describe: 24 hours at 48 kHz.
MAX_NUM_SAMPLES = 24 * 3600 * 48_000
#: Most codes (global and time-varying) a version 2 stream may hold: 2**28 int32 codes are
#: 1 GiB decoded, about 20 times a day of 3-s segments of 64 + 33 x 12 codes.
MAX_CODES = 1 << 28


@dataclass(frozen=True)
class Stream:
    """A decoded ``.mlz`` stream.

    Attributes:
        model: name of the model that wrote it.
        weights_sha256: hex sha256 of that model's weights.
        sample_rate: Hz.
        num_samples: samples of the original signal.
        codes: ``(segments, latent_dim)`` uint16 codes in ``[0, 2**bits)``.
        bits: bits per code.
        lo, hi: the quantiser's range.
    """

    model: str
    weights_sha256: str
    sample_rate: int
    num_samples: int
    codes: np.ndarray
    bits: int
    lo: float
    hi: float

    def values(self) -> np.ndarray:
        """The dequantised latents ``(segments, latent_dim)`` float32."""
        return dequantize(self.codes, bits=self.bits, lo=self.lo, hi=self.hi)


def header_bytes(model: str) -> int:
    """Bytes of header and checksum a stream written by ``model`` carries (either version)."""
    return len(MAGIC) + 2 + len(model.encode("utf-8")) + _FIXED.size + 4


def stream_bits(*, segments: int, latent_dim: int, bits: int, model: str) -> int:
    """Total bits of a stream, header and checksum included."""
    payload = -(-segments * latent_dim * bits // 8)
    return 8 * (header_bytes(model) + payload)


def quantize(values: np.ndarray, *, bits: int, lo: float, hi: float) -> np.ndarray:
    """Uniform quantiser: ``values`` clipped to ``[lo, hi]`` → integer codes in ``[0, 2**bits)``."""
    levels = 2**bits - 1
    scaled = (np.clip(np.asarray(values, np.float64), lo, hi) - lo) / (hi - lo) * levels
    return np.rint(scaled).astype(np.int64)


def dequantize(codes: np.ndarray, *, bits: int, lo: float, hi: float) -> np.ndarray:
    """Codes of :func:`quantize` → float32 values ``lo + k * (hi - lo) / (2**bits - 1)``."""
    step = (hi - lo) / (2**bits - 1)
    return (lo + np.asarray(codes).astype(np.float64) * step).astype(np.float32)


def pack(
    codes: np.ndarray,
    *,
    model: str,
    weights_sha256: str,
    sample_rate: int,
    num_samples: int,
    bits: int,
    lo: float,
    hi: float,
) -> bytes:
    """Serialise integer codes ``(segments, latent_dim)`` to an ``.mlz`` stream.

    Example:
        >>> blob = pack(np.zeros((2, 4), int), model="m", weights_sha256="0" * 64,
        ...             sample_rate=22050, num_samples=44100, bits=8, lo=-1.0, hi=1.0)
        >>> unpack(blob).codes.shape
        (2, 4)
    """
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise CompressedStreamError(f"codes must be (segments, latent_dim), got {codes.shape}")
    if not 1 <= bits <= 16:
        raise CompressedStreamError(f"bits must be in 1..16, got {bits}")
    if codes.size and (codes.min() < 0 or codes.max() >= 2**bits):
        raise CompressedStreamError(f"codes out of range for {bits} bits")
    name = model.encode("utf-8")
    if len(name) > 255:
        raise CompressedStreamError("model name longer than 255 bytes")
    try:
        sha = bytes.fromhex(weights_sha256)
    except ValueError:
        sha = b""
    if len(sha) != 32:
        raise CompressedStreamError("weights_sha256 must be 64 hex digits")
    body = (
        MAGIC
        + bytes([VERSION, len(name)])
        + name
        + _FIXED.pack(
            sha,
            int(sample_rate),
            int(num_samples),
            codes.shape[0],
            codes.shape[1],
            int(bits),
            float(lo),
            float(hi),
        )
        + pack_bits(codes, bits)
    )
    return body + struct.pack(">I", zlib.crc32(body))


@dataclass(frozen=True)
class Header:
    """The fields of an ``.mlz`` header (either version), read and checked without touching
    the codes.

    Attributes:
        model, weights_sha256, sample_rate, num_samples, bits: as in :class:`Stream`.
        segments: segments in the payload.
        latent_dim: global codes per segment.
        lo, hi: the quantiser's range (version 1); None in version 2, whose codes are on the
            model's own grid (:meth:`LatentAudioModel.decode_codes`).
        offset: where the payload starts in the stream.
        version: 1 or 2.
        steps: time steps per segment (version 2; 0 without a time-varying latent and in
            version 1).
        time_dim: time-varying codes per step (0 likewise).
        payload_bytes: bytes of payload (bit-packed codes in version 1, entropy coded in 2).
    """

    model: str
    weights_sha256: str
    sample_rate: int
    num_samples: int
    segments: int
    latent_dim: int
    bits: int
    lo: float | None
    hi: float | None
    offset: int
    version: int = V1
    steps: int = 0
    time_dim: int = 0
    payload_bytes: int = 0


def read_header(blob: bytes | bytearray | memoryview) -> Header:
    """Parse and check an ``.mlz`` header (and the whole stream's checksum), allocating nothing
    the size of the payload, so a caller can check it against a model before decoding.

    Raises:
        CompressedStreamError: not an ``.mlz`` stream, an unknown version, truncated or
            damaged (checksum) data, inconsistent header fields, or more than
            :data:`MAX_SEGMENTS` segments or :data:`MAX_PAYLOAD_BYTES` of payload (version 2
            also: more than :data:`MAX_NUM_SAMPLES` samples, more segments than samples, more
            than :data:`MAX_CODES` codes, or a payload longer than raw codes would take).
    """
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise CompressedStreamError(f"expected bytes, got {type(blob).__name__}")
    view = memoryview(blob).cast("B")
    if len(view) < len(MAGIC) or bytes(view[: len(MAGIC)]) != MAGIC:
        raise CompressedStreamError("not a musiclatent compressed stream (bad magic bytes)")
    if len(view) < len(MAGIC) + 2:
        raise CompressedStreamError("compressed stream is truncated (header)")
    version = view[4]
    if version not in VERSIONS:
        raise CompressedStreamError(
            f"compressed stream version {version} is not supported; this package reads "
            "versions 1 and 2"
        )
    return _read_v1(view) if version == V1 else _read_v2(view)


def _check_crc(view: memoryview) -> None:
    (crc,) = struct.unpack(">I", view[-4:])
    if zlib.crc32(view[:-4]) != crc:
        raise CompressedStreamError("compressed stream is damaged or truncated (checksum mismatch)")


def _name(view: memoryview, start: int) -> str:
    try:
        return bytes(view[6:start]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CompressedStreamError("compressed stream has an invalid model name") from exc


def _read_v1(view: memoryview) -> Header:
    start = 6 + view[5]
    if len(view) < start + _FIXED.size + 4:
        raise CompressedStreamError("compressed stream is truncated (header)")
    sha, sr, num_samples, segments, dim, bits, lo, hi = _FIXED.unpack_from(view, start)
    finite = bool(np.isfinite(lo) and np.isfinite(hi))
    if not 1 <= bits <= 16 or not segments or not dim or not sr or not (finite and hi > lo):
        raise CompressedStreamError("compressed stream header holds invalid values")
    if segments > MAX_SEGMENTS:
        raise CompressedStreamError(
            f"compressed stream claims {segments} segments, more than the limit {MAX_SEGMENTS}"
        )
    offset = start + _FIXED.size
    expected = -(-segments * dim * bits // 8)
    if expected > MAX_PAYLOAD_BYTES:
        raise CompressedStreamError(
            f"compressed stream payload of {expected} bytes exceeds the limit {MAX_PAYLOAD_BYTES}"
        )
    _check_payload(view, offset, expected)
    name = _name(view, start)
    return Header(
        model=name,
        weights_sha256=sha.hex(),
        sample_rate=int(sr),
        num_samples=int(num_samples),
        segments=int(segments),
        latent_dim=int(dim),
        bits=int(bits),
        lo=float(lo),
        hi=float(hi),
        offset=offset,
        version=V1,
        payload_bytes=expected,
    )


def _check_payload(view: memoryview, offset: int, promised: int) -> None:
    """The checksum, then a payload from ``offset`` to the checksum of ``promised`` bytes."""
    _check_crc(view)
    present = len(view) - 4 - offset
    if present != promised:
        raise CompressedStreamError(
            f"compressed stream payload has {present} bytes, the header promises {promised}"
        )


def _read_v2(view: memoryview) -> Header:
    start = 6 + view[5]
    if len(view) < start + _FIXED_V2.size + 4:
        raise CompressedStreamError("compressed stream is truncated (header)")
    fields = _FIXED_V2.unpack_from(view, start)
    sha, sr, num_samples, segments, dim, steps, time_dim, bits, payload_len = fields
    if not 1 <= bits <= 16 or not segments or not dim or not sr or not num_samples:
        raise CompressedStreamError("compressed stream header holds invalid values")
    if (steps == 0) != (time_dim == 0):
        raise CompressedStreamError(
            f"compressed stream header has {steps} time steps of {time_dim} codes: both or "
            "neither must be 0"
        )
    if num_samples > MAX_NUM_SAMPLES:
        raise CompressedStreamError(
            f"compressed stream claims {num_samples} samples, more than the limit {MAX_NUM_SAMPLES}"
        )
    if segments > min(MAX_SEGMENTS, num_samples):
        raise CompressedStreamError(
            f"compressed stream claims {segments} segments for {num_samples} samples (the "
            f"limit is {MAX_SEGMENTS} and one per sample)"
        )
    per_segment = dim + steps * time_dim
    if segments * per_segment > MAX_CODES:
        raise CompressedStreamError(
            f"compressed stream claims {segments * per_segment} codes, more than the limit "
            f"{MAX_CODES}"
        )
    # The encoder falls back to raw codes when range coding would be longer, so this bounds
    # every stream it writes.
    limit = entropy.max_payload_bytes(segments=segments, codes_per_segment=per_segment, bits=bits)
    if payload_len > min(limit, MAX_PAYLOAD_BYTES):
        raise CompressedStreamError(
            f"compressed stream payload of {payload_len} bytes exceeds the limit "
            f"{min(limit, MAX_PAYLOAD_BYTES)} for its {segments} segments"
        )
    offset = start + _FIXED_V2.size
    _check_payload(view, offset, payload_len)
    name = _name(view, start)
    return Header(
        model=name,
        weights_sha256=sha.hex(),
        sample_rate=int(sr),
        num_samples=int(num_samples),
        segments=int(segments),
        latent_dim=int(dim),
        bits=int(bits),
        lo=None,
        hi=None,
        offset=offset,
        version=V2,
        steps=int(steps),
        time_dim=int(time_dim),
        payload_bytes=int(payload_len),
    )


def _require_v1(version: int) -> None:
    if version != V1:
        raise CompressedStreamError(
            f"compressed stream version {version} is not supported here: its codes are "
            "entropy coded; read them with unpack_v2"
        )


def unpack_rows(
    blob: bytes | bytearray | memoryview, header: Header, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Codes ``(stop - start, latent_dim)`` uint16 of segments ``start:stop`` of a version 1
    stream whose header :func:`read_header` returned (so a long stream can be decoded in
    batches)."""
    _require_v1(header.version)
    stop = header.segments if stop is None else stop
    if not 0 <= start <= stop <= header.segments:
        raise CompressedStreamError(f"segments {start}:{stop} out of 0:{header.segments}")
    row_bits = header.latent_dim * header.bits
    first_byte = header.offset + start * row_bits // 8
    payload = memoryview(blob).cast("B")[first_byte : header.offset + header.payload_bytes]
    count = (stop - start) * header.latent_dim
    codes = unpack_bits(payload, count, header.bits, skip=start * row_bits % 8)
    return codes.reshape(stop - start, header.latent_dim)


def unpack(blob: bytes | bytearray | memoryview) -> Stream:
    """Parse a version 1 ``.mlz`` stream (header checks of :func:`read_header`, then every
    code).

    Raises:
        CompressedStreamError: see :func:`read_header`; a version 2 stream (read it with
            :func:`unpack_v2`).
    """
    if isinstance(blob, bytes | bytearray | memoryview):
        view = memoryview(blob).cast("B")
        if len(view) > 4 and bytes(view[:4]) == MAGIC and view[4] == V2:
            _require_v1(V2)  # before its checks, which might blame the wrong thing
    header = read_header(blob)
    return Stream(
        model=header.model,
        weights_sha256=header.weights_sha256,
        sample_rate=header.sample_rate,
        num_samples=header.num_samples,
        codes=unpack_rows(blob, header),
        bits=header.bits,
        lo=header.lo,
        hi=header.hi,
    )


def pack_v2(
    global_codes: np.ndarray,
    time_codes: np.ndarray | None,
    *,
    model: str,
    weights_sha256: str,
    sample_rate: int,
    num_samples: int,
    bits: int,
    entropy_model: EntropyModel,
) -> bytes:
    """Serialise integer codes to a version 2 ``.mlz`` stream, entropy coded.

    Args:
        global_codes: ``(segments, latent_dim)`` codes in ``[0, 2**bits)``.
        time_codes: ``(segments, steps, time_dim)`` codes, or None without a time latent.
        model, weights_sha256, sample_rate, num_samples: written to the header.
        bits: precision of the codes; ``entropy_model`` must cover it.
        entropy_model: the model's priors (the decoder needs the same ones).

    Raises:
        CompressedStreamError: codes that do not fit the entropy model or ``bits``, or header
            fields out of the format's range.
        ConfigError: ``bits`` is not a precision of ``entropy_model``.

    Example:
        >>> from keras_musiclatent.entropy import fit_entropy_model
        >>> codes = np.zeros((2, 4), int)
        >>> em = fit_entropy_model({3: (codes, None)}, steps=0)
        >>> blob = pack_v2(codes, None, model="m", weights_sha256="0" * 64, sample_rate=22050,
        ...                num_samples=44100, bits=3, entropy_model=em)
        >>> head = read_header(blob)
        >>> (head.version, head.segments, head.latent_dim, head.time_dim)
        (2, 2, 4, 0)
        >>> unpack_v2(blob, head, em)[0].shape
        (2, 4)
    """
    if not 1 <= bits <= 16:
        raise CompressedStreamError(f"bits must be in 1..16, got {bits}")
    name = model.encode("utf-8")
    if len(name) > 255:
        raise CompressedStreamError("model name longer than 255 bytes")
    try:
        sha = bytes.fromhex(weights_sha256)
    except ValueError:
        sha = b""
    if len(sha) != 32:
        raise CompressedStreamError("weights_sha256 must be 64 hex digits")
    if np.ndim(global_codes) != 2:
        raise CompressedStreamError(
            f"global codes must be (segments, latent_dim), got {np.shape(global_codes)}"
        )
    segments = int(np.shape(global_codes)[0])
    if not 1 <= num_samples <= MAX_NUM_SAMPLES or not 1 <= segments <= min(
        MAX_SEGMENTS, num_samples
    ):
        raise CompressedStreamError(
            f"{segments} segments of {num_samples} samples are out of the format's range"
        )
    if not 1 <= sample_rate < 1 << 32:
        raise CompressedStreamError(f"sample_rate {sample_rate} does not fit the header")
    payload = entropy.encode(entropy_model, global_codes, time_codes, bits=bits)
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise CompressedStreamError(
            f"payload of {len(payload)} bytes exceeds the limit {MAX_PAYLOAD_BYTES}"
        )
    body = (
        MAGIC
        + bytes([V2, len(name)])
        + name
        + _FIXED_V2.pack(
            sha,
            int(sample_rate),
            int(num_samples),
            segments,
            entropy_model.latent_dim,
            entropy_model.steps,
            entropy_model.time_dim,
            int(bits),
            len(payload),
        )
        + payload
    )
    return body + struct.pack(">I", zlib.crc32(body))


def unpack_v2(
    blob: bytes | bytearray | memoryview, header: Header, entropy_model: EntropyModel
) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes of a version 2 stream whose header :func:`read_header` returned.

    Check the header against the model first (weights, sample rate, the segments its
    ``num_samples`` make): decoding takes memory in proportion to ``header.segments``.

    Returns:
        ``(global (segments, latent_dim), time (segments, steps, time_dim) or None)`` int32
        codes in ``[0, 2**bits)``.

    Raises:
        CompressedStreamError: not a version 2 header, a header that disagrees with the
            entropy model or with ``blob``, or a damaged payload.
    """
    if header.version != V2:
        raise CompressedStreamError(
            f"unpack_v2 reads version 2 streams, this one is version {header.version}"
        )
    em = entropy_model
    ours = (em.latent_dim, em.steps, em.time_dim)
    theirs = (header.latent_dim, header.steps, header.time_dim)
    if theirs != ours:
        raise CompressedStreamError(
            f"stream of (latent_dim, steps, time_dim) {theirs} does not match the entropy "
            f"model's {ours}"
        )
    if header.bits not in em.bits:
        raise CompressedStreamError(
            f"stream codes have {header.bits} bits; the entropy model covers "
            f"{em.bits[0]}..{em.bits[-1]}"
        )
    view = memoryview(blob).cast("B")
    if len(view) != header.offset + header.payload_bytes + 4:
        raise CompressedStreamError("the header was not read from this stream")
    payload = view[header.offset : header.offset + header.payload_bytes]
    return entropy.decode(em, payload, bits=header.bits, segments=header.segments)
