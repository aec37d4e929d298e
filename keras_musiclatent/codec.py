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

__all__ = ["MAGIC", "VERSION", "Stream", "header_bytes", "pack", "stream_bits", "unpack"]

MAGIC = b"MLZ\x00"
VERSION = 1
_FIXED = struct.Struct(">32sIQIHBff")


@dataclass(frozen=True)
class Stream:
    """A decoded ``.mlz`` stream.

    Attributes:
        model: name of the model that wrote it.
        weights_sha256: hex sha256 of that model's weights.
        sample_rate: Hz.
        num_samples: samples of the original signal.
        codes: ``(segments, latent_dim)`` integer codes in ``[0, 2**bits)``.
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
        step = (self.hi - self.lo) / (2**self.bits - 1)
        return (self.lo + self.codes.astype(np.float64) * step).astype(np.float32)


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


def _pack_codes(codes: np.ndarray, bits: int) -> bytes:
    flat = np.asarray(codes, dtype=np.int64).ravel()
    planes = (flat[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    return np.packbits(planes.astype(np.uint8).ravel()).tobytes()


def _unpack_codes(payload: bytes, count: int, bits: int) -> np.ndarray:
    planes = np.unpackbits(np.frombuffer(payload, dtype=np.uint8))[: count * bits]
    planes = planes.reshape(count, bits).astype(np.int64)
    return planes @ (1 << np.arange(bits - 1, -1, -1))


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


def unpack(blob: bytes) -> Stream:
    """Parse an ``.mlz`` stream.

    Raises:
        CompressedStreamError: not an ``.mlz`` stream, an unknown version, truncated or
            damaged (checksum) data, or inconsistent header fields.
    """
    if not isinstance(blob, bytes | bytearray | memoryview):
        raise CompressedStreamError(f"expected bytes, got {type(blob).__name__}")
    blob = bytes(blob)
    if len(blob) < len(MAGIC) or blob[: len(MAGIC)] != MAGIC:
        raise CompressedStreamError("not a musiclatent compressed stream (bad magic bytes)")
    if len(blob) < len(MAGIC) + 2:
        raise CompressedStreamError("compressed stream is truncated (header)")
    version, name_len = blob[4], blob[5]
    if version != VERSION:
        raise CompressedStreamError(
            f"compressed stream version {version} is not supported (this package reads "
            f"version {VERSION})"
        )
    start = 6 + name_len
    if len(blob) < start + _FIXED.size + 4:
        raise CompressedStreamError("compressed stream is truncated (header)")
    body, (crc,) = blob[:-4], struct.unpack(">I", blob[-4:])
    if zlib.crc32(body) != crc:
        raise CompressedStreamError("compressed stream is damaged or truncated (checksum mismatch)")
    try:
        name = blob[6:start].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CompressedStreamError("compressed stream has an invalid model name") from exc
    sha, sr, num_samples, segments, dim, bits, lo, hi = _FIXED.unpack_from(blob, start)
    finite = bool(np.isfinite(lo) and np.isfinite(hi))
    if not 1 <= bits <= 16 or not segments or not dim or not sr or not (finite and hi > lo):
        raise CompressedStreamError("compressed stream header holds invalid values")
    payload = body[start + _FIXED.size :]
    expected = -(-segments * dim * bits // 8)
    if len(payload) != expected:
        raise CompressedStreamError(
            f"compressed stream payload has {len(payload)} bytes, the header promises {expected}"
        )
    codes = _unpack_codes(payload, segments * dim, bits).reshape(segments, dim)
    return Stream(
        model=name,
        weights_sha256=sha.hex(),
        sample_rate=int(sr),
        num_samples=int(num_samples),
        codes=codes,
        bits=int(bits),
        lo=float(lo),
        hi=float(hi),
    )
