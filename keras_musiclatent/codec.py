"""The ``.mlz`` compressed-stream format: quantised latent codes plus a small binary header.

Layout (all integers big-endian)::

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
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

import numpy as np

from keras_musiclatent.errors import CompressedStreamError

__all__ = [
    "MAGIC",
    "MAX_PAYLOAD_BYTES",
    "MAX_SEGMENTS",
    "VERSION",
    "Header",
    "Stream",
    "dequantize",
    "header_bytes",
    "pack",
    "quantize",
    "read_header",
    "stream_bits",
    "unpack",
    "unpack_rows",
]

MAGIC = b"MLZ\x00"
VERSION = 1
_FIXED = struct.Struct(">32sIQIHBff")
#: Most segments a stream may hold (about 36 days of 3-s segments): a header is checked
#: against it before anything is allocated.
MAX_SEGMENTS = 1 << 20
#: Most payload bytes a stream may hold (2**20 segments of 64 dims at 8 bits).
MAX_PAYLOAD_BYTES = 64 << 20
# Codes unpacked per step: the bit planes of a chunk take 8 bytes a bit.
_CHUNK_CODES = 1 << 16


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
    """Bytes of header and checksum a stream written by ``model`` carries."""
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


def _pack_codes(codes: np.ndarray, bits: int) -> bytes:
    flat = np.asarray(codes, dtype=np.int64).ravel()
    planes = (flat[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    return np.packbits(planes.astype(np.uint8).ravel()).tobytes()


def _unpack_codes(payload: bytes | memoryview, count: int, bits: int, skip: int = 0) -> np.ndarray:
    """``count`` codes from ``payload``, starting ``skip`` bits in; memory of a few chunks."""
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
        + _pack_codes(codes, bits)
    )
    return body + struct.pack(">I", zlib.crc32(body))


@dataclass(frozen=True)
class Header:
    """The fields of an ``.mlz`` header, read and checked without touching the codes.

    Attributes:
        model, weights_sha256, sample_rate, num_samples, bits, lo, hi: as in :class:`Stream`.
        segments: latent vectors in the payload.
        latent_dim: codes per vector.
        offset: where the payload starts in the stream.
    """

    model: str
    weights_sha256: str
    sample_rate: int
    num_samples: int
    segments: int
    latent_dim: int
    bits: int
    lo: float
    hi: float
    offset: int

    @property
    def payload_bytes(self) -> int:
        """Bytes of bit-packed codes the header promises."""
        return -(-self.segments * self.latent_dim * self.bits // 8)


def read_header(blob: bytes | bytearray | memoryview) -> Header:
    """Parse and check an ``.mlz`` header (and the whole stream's checksum), allocating nothing
    the size of the payload, so a caller can check it against a model before decoding.

    Raises:
        CompressedStreamError: not an ``.mlz`` stream, an unknown version, truncated or
            damaged (checksum) data, inconsistent header fields, or more than
            :data:`MAX_SEGMENTS` segments or :data:`MAX_PAYLOAD_BYTES` of payload.
    """
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise CompressedStreamError(f"expected bytes, got {type(blob).__name__}")
    view = memoryview(blob).cast("B")
    if len(view) < len(MAGIC) or bytes(view[: len(MAGIC)]) != MAGIC:
        raise CompressedStreamError("not a musiclatent compressed stream (bad magic bytes)")
    if len(view) < len(MAGIC) + 2:
        raise CompressedStreamError("compressed stream is truncated (header)")
    version, name_len = view[4], view[5]
    if version != VERSION:
        raise CompressedStreamError(
            f"compressed stream version {version} is not supported (this package reads "
            f"version {VERSION})"
        )
    start = 6 + name_len
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
    payload = len(view) - 4 - offset
    expected = -(-segments * dim * bits // 8)
    if expected > MAX_PAYLOAD_BYTES:
        raise CompressedStreamError(
            f"compressed stream payload of {expected} bytes exceeds the limit {MAX_PAYLOAD_BYTES}"
        )
    (crc,) = struct.unpack(">I", view[-4:])
    if zlib.crc32(view[:-4]) != crc:
        raise CompressedStreamError("compressed stream is damaged or truncated (checksum mismatch)")
    if payload != expected:
        raise CompressedStreamError(
            f"compressed stream payload has {payload} bytes, the header promises {expected}"
        )
    try:
        name = bytes(view[6:start]).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CompressedStreamError("compressed stream has an invalid model name") from exc
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
    )


def unpack_rows(
    blob: bytes | bytearray | memoryview, header: Header, start: int = 0, stop: int | None = None
) -> np.ndarray:
    """Codes ``(stop - start, latent_dim)`` uint16 of segments ``start:stop`` of a stream whose
    header :func:`read_header` returned (so a long stream can be decoded in batches)."""
    stop = header.segments if stop is None else stop
    if not 0 <= start <= stop <= header.segments:
        raise CompressedStreamError(f"segments {start}:{stop} out of 0:{header.segments}")
    row_bits = header.latent_dim * header.bits
    first_byte = header.offset + start * row_bits // 8
    payload = memoryview(blob).cast("B")[first_byte : header.offset + header.payload_bytes]
    count = (stop - start) * header.latent_dim
    codes = _unpack_codes(payload, count, header.bits, skip=start * row_bits % 8)
    return codes.reshape(stop - start, header.latent_dim)


def unpack(blob: bytes | bytearray | memoryview) -> Stream:
    """Parse an ``.mlz`` stream (header checks of :func:`read_header`, then every code).

    Raises:
        CompressedStreamError: see :func:`read_header`.
    """
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
