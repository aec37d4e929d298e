"""Audio in and out: decode any file soundfile reads, resample, and save atomically.

Conventions of the evaluation protocol (docs/evaluation.md): float32 samples in [-1, 1], mono,
22050 Hz, 3-s windows.
Decoding streams the file in blocks, so memory stays bounded by the output plus one block.
"""

from __future__ import annotations

import math
import os
import struct
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from keras_musiclatent._files import atomic_path
from keras_musiclatent.audio.windows import DEFAULT_SEGMENT_SECONDS, segment_count
from keras_musiclatent.errors import (
    AudioDecodeError,
    AudioFileNotFoundError,
    AudioIsDirectoryError,
    EmptyAudioError,
    InvalidAudioError,
)

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "DEFAULT_SEGMENT_SECONDS",
    "AudioInfo",
    "info",
    "load",
    "prepare",
    "resample",
    "save",
    "stream",
]

DEFAULT_SAMPLE_RATE = 22050
# One decode block: large enough to amortise soxr's per-call cost, small enough that a
# multi-channel float file never needs much more memory than its mono output.
_BLOCK_FRAMES = 1 << 18
# MP3 frame counts come from the Xing/LAME header and are off by encoder delay and padding.
_MP3_SLACK_FRAMES = 4 * 1152
# Vorbis frame counts come from the last page's granule position, which can run past the last
# decodable sample (seen: 224 frames in a real soundtrack); a cut file is caught by the Ogg
# page check instead (_ogg_truncation).
_OGG_SLACK_FRAMES = 4096
# Lowest native rate taken for audio. A corrupt header claiming, say, 1 Hz would make resampling
# to 22050 Hz expand a few kilobytes into gigabytes.
_MIN_SAMPLE_RATE = 1000
# load() preallocates at most this many output frames from the header's count (a corrupt header
# may claim anything); longer files grow block by block.
_MAX_PREALLOCATED_FRAMES = 1 << 27
# Largest sample magnitude taken. Float audio is nominally within [-1, 1]; a peak 90 dB over
# full scale (where even unscaled 16-bit PCM ends) is garbage, and values near the float32
# limit overflow to inf/NaN in the log-mel power and in every latent after it.
MAX_ABS_SAMPLE = 2.0**15
# Most channels an in-memory array may have along its shorter axis (7.1 surround).
_MAX_CHANNELS = 8

PathOrFile = str | os.PathLike | IO[bytes]

# libsndfile's wording when it cannot open a file, whatever the reason; _check_path has already
# ruled out a missing path, so for a regular file it means "no decoder recognises these bytes".
_SNDFILE_NOT_A_FILE = "File does not exist or is not a regular file"


class _QuietStderr:
    """Descriptor 2 pointed at ``os.devnull`` while a decoder runs, restored when the last
    user leaves.

    Decoder libraries under libsndfile (libmpg123's ``Note: ...`` lines) write to descriptor 2
    directly, where no Python code can catch it; the typed error raised afterwards says what
    went wrong. Counted under a lock, since the descriptor is one per process and decoding
    runs in threads. ``MUSICLATENT_DEBUG=1`` lets the decoder's lines through.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = -1

    @contextmanager
    def __call__(self) -> Iterator[None]:
        if os.environ.get("MUSICLATENT_DEBUG"):
            yield
            return
        with self._lock:
            if self._users == 0:
                sys.stderr.flush()
                null = os.open(os.devnull, os.O_WRONLY)
                self._saved = os.dup(2)
                os.dup2(null, 2)
                os.close(null)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    os.dup2(self._saved, 2)
                    os.close(self._saved)
                    self._saved = -1


_quiet_decoder = _QuietStderr()


def _name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<file object>"))


def _check_source(source: Any) -> None:
    """Refuse numbers: soundfile would take an int as a file descriptor, then close it."""
    if isinstance(source, (bool, int, float, np.number, np.bool_)):
        raise InvalidAudioError(
            f"{source!r}: expected a path or a binary file object, got {type(source).__name__} "
            "(file descriptors are not accepted; pass open(fd, 'rb', closefd=False))"
        )


def _check_rate(sr: Any, what: str) -> int:
    """The rate rule of files, for any rate a caller passes: an integer (not a bool) from
    :data:`_MIN_SAMPLE_RATE` Hz up."""
    if isinstance(sr, (bool, np.bool_)) or not isinstance(sr, (int, np.integer)):
        raise InvalidAudioError(f"{what}: sample rate must be an integer in Hz, got {sr!r}")
    if sr < _MIN_SAMPLE_RATE:
        raise InvalidAudioError(
            f"{what}: sample rate {int(sr)} Hz is implausible (below {_MIN_SAMPLE_RATE} Hz)"
        )
    return int(sr)


def _too_large(block: np.ndarray) -> bool:
    """True when a sample's magnitude exceeds :data:`MAX_ABS_SAMPLE` (no temporary copy)."""
    return bool(block.size) and (block.max() > MAX_ABS_SAMPLE or block.min() < -MAX_ABS_SAMPLE)


def _too_large_message(name: str, block: np.ndarray, rate: int, offset: int = 0) -> str:
    big = np.abs(block) > MAX_ABS_SAMPLE
    index = int(np.argmax(big.any(axis=1) if big.ndim == 2 else big))
    peak = float(np.max(np.abs(block)))
    return (
        f"{name}: samples too large (peak {peak:.3g} at {(index + offset) / rate:.3f} s; float "
        f"audio is nominally within [-1, 1] and at most +-{MAX_ABS_SAMPLE:g} is accepted)"
    )


def _check_path(source: PathOrFile) -> None:
    _check_source(source)
    if not isinstance(source, (str, os.PathLike)):
        return
    path = Path(source)
    if path.is_dir():
        raise AudioIsDirectoryError(f"{path}: is a directory, not an audio file")
    if not path.exists():
        raise AudioFileNotFoundError(f"{path}: no such file")


def _wav_truncation(fh: IO[bytes], base: int, size: int) -> str | None:
    """Return a message when a RIFF/WAVE header promises more sample bytes than the file has.

    libsndfile quietly shortens such files to what is there; a truncated download should
    not pass for a short song. ``fh`` holds the file from offset ``base``, ``size`` bytes.
    """
    fh.seek(base)
    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= size:
        fh.seek(base + pos)
        chunk = fh.read(8)
        if len(chunk) < 8:
            return None
        cid, csize = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"data":
            # 0 and 0xFFFFFFFF mark streamed WAVs whose size was never filled in.
            if csize in (0, 0xFFFFFFFF):
                return None
            have = size - (pos + 8)
            if csize > have:
                return (
                    f"truncated: the WAV header promises {csize} bytes of samples "
                    f"but the file holds {have}"
                )
            return None
        pos += 8 + csize + (csize & 1)
    return None


def _ogg_truncation(fh: IO[bytes], base: int, size: int) -> str | None:
    """Return a message when an Ogg stream does not end with a complete end-of-stream page.

    libsndfile reports the length up to the last page it finds, so a cut Ogg file would
    otherwise look like a shorter, intact one.
    """
    fh.seek(base)
    if fh.read(4) != b"OggS":
        return None
    start = max(0, size - (1 << 17))  # an Ogg page is at most 65307 bytes
    fh.seek(base + start)
    tail = fh.read(size - start)
    pos = tail.rfind(b"OggS")
    while pos >= 0:
        header = tail[pos : pos + 27]
        if len(header) == 27 and header[4] == 0:  # version 0: a real page header
            n_segments = header[26]
            lacing = tail[pos + 27 : pos + 27 + n_segments]
            page_end = pos + 27 + n_segments + sum(lacing)
            if len(lacing) < n_segments or page_end > len(tail):
                return "truncated: the last Ogg page is incomplete"
            if not header[5] & 0x04:
                return "truncated: the Ogg stream has no end-of-stream page"
            return None
        pos = tail.rfind(b"OggS", 0, pos)
    return "truncated or corrupt: no Ogg page found at the end of the file"


def _container_problem(source: PathOrFile) -> str | None:
    """A truncated WAV or Ogg container, for paths and seekable file objects alike."""
    if isinstance(source, (str, os.PathLike)):
        try:
            size = os.path.getsize(source)
            with open(source, "rb") as fh:
                return _wav_truncation(fh, 0, size) or _ogg_truncation(fh, 0, size)
        except (OSError, ValueError):  # missing, a directory, a NUL in the name: _open says
            return None
    try:
        base = source.tell()
        size = source.seek(0, os.SEEK_END) - base
    except (AttributeError, OSError, ValueError):
        return None  # not seekable: libsndfile's own checks are all there is
    try:
        return _wav_truncation(source, base, size) or _ogg_truncation(source, base, size)
    except (OSError, ValueError):
        return None
    finally:
        source.seek(base)


@dataclass(frozen=True)
class AudioInfo:
    """What a file holds, read from its header (no decoding).

    Attributes:
        path: the file's name.
        sample_rate: native sample rate in Hz.
        channels: channel count.
        frames: samples per channel.
        duration: seconds.
        format: container, e.g. ``"WAV"``, ``"OGG"``.
        subtype: sample encoding, e.g. ``"PCM_16"``, ``"VORBIS"``.
    """

    path: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    format: str
    subtype: str

    def segments(self, *, seconds: float = DEFAULT_SEGMENT_SECONDS) -> int:
        """Number of windows :func:`keras_musiclatent.audio.segment` makes of this file."""
        return segment_count(self.frames, self.sample_rate, seconds)


def _open(source: PathOrFile):
    import soundfile as sf

    _check_path(source)
    name = _name(source)
    if isinstance(source, (str, os.PathLike)) and os.path.getsize(source) == 0:
        raise AudioDecodeError(f"{name}: empty file (0 bytes)")
    try:
        with _quiet_decoder():
            return sf.SoundFile(source if not isinstance(source, Path) else str(source))
    except sf.LibsndfileError as exc:
        detail = str(exc).split(":", 1)[-1].strip() if ":" in str(exc) else str(exc)
        regular = not isinstance(source, (str, os.PathLike)) or os.path.isfile(source)
        if detail.startswith(_SNDFILE_NOT_A_FILE) and regular:
            detail = "not a recognised audio format, or the data is corrupt"
        raise AudioDecodeError(f"{name}: not a readable audio file ({detail})") from None
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioDecodeError(f"{name}: not a readable audio file ({exc})") from None


def info(source: PathOrFile) -> AudioInfo:
    """Read a file's header.

    Args:
        source: path or binary file object.

    Returns:
        An :class:`AudioInfo`.

    Raises:
        AudioFileNotFoundError, AudioIsDirectoryError, AudioDecodeError, EmptyAudioError.

    Example:
        >>> info("song.ogg").duration  # doctest: +SKIP
        30.01
    """
    name = _name(source)
    # Before decoding starts: a file object is checked from its current position.
    problem = _container_problem(source)
    with _open(source) as f:
        result = AudioInfo(
            path=name,
            sample_rate=int(f.samplerate),
            channels=int(f.channels),
            frames=int(f.frames),
            duration=float(f.frames) / float(f.samplerate),
            format=str(f.format),
            subtype=str(f.subtype),
        )
    if problem:
        raise AudioDecodeError(f"{name}: {problem}")
    if result.sample_rate < _MIN_SAMPLE_RATE:
        raise AudioDecodeError(
            f"{name}: implausible sample rate {result.sample_rate} Hz (corrupt header?)"
        )
    if result.frames == 0:
        raise EmptyAudioError(f"{name}: holds zero samples (empty or truncated)")
    return result


def stream(
    source: PathOrFile,
    *,
    sr: int | None = DEFAULT_SAMPLE_RATE,
    mono: bool = True,
    block_frames: int = _BLOCK_FRAMES,
) -> Iterator[np.ndarray]:
    """Decode a file block by block, mixed to mono and resampled on the fly.

    Args:
        source: path or binary file object (WAV, FLAC, OGG, MP3, AU, ... — what soundfile reads).
        sr: output rate in Hz; ``None`` keeps the file's rate.
        mono: average the channels.
        block_frames: input frames decoded per step.

    Yields:
        float32 arrays, ``(n,)`` when mono else ``(n, channels)``.

    Raises:
        AudioFileNotFoundError, AudioIsDirectoryError, AudioDecodeError (not audio, truncated,
        corrupt), EmptyAudioError (zero samples), InvalidAudioError (NaN/inf samples, or
        samples so large that mixing or resampling overflows).
    """
    yield from _decode(source, sr=sr, mono=mono, block_frames=block_frames)


def _decode(
    source: PathOrFile,
    *,
    sr: int | None,
    mono: bool,
    block_frames: int,
    header: dict[str, int] | None = None,
) -> Iterator[np.ndarray]:
    """:func:`stream`; fills ``header["frames"]`` (output frames the header announces, 0 when
    unknown) before the first block."""
    import soundfile as sf
    import soxr

    name = _name(source)
    _check_path(source)
    problem = _container_problem(source)
    if problem:
        raise AudioDecodeError(f"{name}: {problem}")
    with _open(source) as f:
        if str(f.format) == "MP3":
            # soundfile seeks back to the current position after every read, and libsndfile's
            # MP3 seek is approximate (mpg123's fuzzy seek): each block boundary would garble
            # ~60 ms of audio. Reading as a non-seekable stream skips those seeks.
            f.seekable = lambda: False
        native, channels, expected = int(f.samplerate), int(f.channels), int(f.frames)
        if native < _MIN_SAMPLE_RATE:
            raise AudioDecodeError(f"{name}: implausible sample rate {native} Hz (corrupt header?)")
        out_rate = native if sr is None else _check_rate(sr, "target")
        resampler = None
        if out_rate != native:
            resampler = soxr.ResampleStream(
                native, out_rate, 1 if mono else channels, dtype="float32", quality="HQ"
            )
        if header is not None:
            header["frames"] = math.ceil(expected * out_rate / native) + 1 if expected > 0 else 0
        done = 0
        produced = 0
        while True:
            try:
                with _quiet_decoder():
                    block = f.read(block_frames, dtype="float32", always_2d=True)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise AudioDecodeError(
                    f"{name}: corrupt or truncated audio data after {done / native:.2f} s ({exc})"
                ) from None
            last = len(block) < block_frames
            if len(block):
                bad = ~np.isfinite(block)
                if bad.any():
                    first = int(np.argmax(bad.any(axis=1))) + done
                    raise InvalidAudioError(
                        f"{name}: holds NaN or infinite samples (first at {first / native:.3f} s)"
                    )
                if _too_large(block):
                    raise InvalidAudioError(_too_large_message(name, block, native, done))
                done += len(block)
            with np.errstate(over="ignore", invalid="ignore"):  # checked just below
                data = block.mean(axis=1, dtype=np.float32) if mono else block
            if resampler is not None:
                data = resampler.resample_chunk(np.ascontiguousarray(data), last=last)
            data = np.ascontiguousarray(data, dtype=np.float32)
            if not np.isfinite(data).all():
                # Finite float samples near the float32 limit overflow when mixed or resampled.
                raise InvalidAudioError(
                    f"{name}: samples too large: mixing or resampling them overflows float32"
                )
            if len(data):
                produced += len(data)
                yield data
            if last:
                break
        if done == 0:
            raise EmptyAudioError(f"{name}: holds zero samples (empty or truncated)")
        slack = {"MP3": _MP3_SLACK_FRAMES, "OGG": _OGG_SLACK_FRAMES}.get(str(f.format), 0)
        if expected > 0 and done + slack < expected:
            raise AudioDecodeError(
                f"{name}: truncated: the header promises {expected} frames "
                f"but only {done} could be decoded"
            )


def load(
    source: PathOrFile,
    sr: int | None = DEFAULT_SAMPLE_RATE,
    mono: bool = True,
) -> np.ndarray:
    """Decode an audio file to float32 samples.

    Args:
        source: path or binary file object (WAV, FLAC, OGG, MP3, AU, ...).
        sr: output sample rate (soxr high-quality resampling); ``None`` keeps the file's rate.
        mono: mix channels to mono by averaging.

    Returns:
        ``(samples,)`` float32 when mono, else ``(samples, channels)``.

    Raises:
        AudioFileNotFoundError: the path does not exist.
        AudioIsDirectoryError: the path is a directory.
        AudioDecodeError: not audio, or truncated/corrupt data.
        EmptyAudioError: zero samples.
        InvalidAudioError: NaN or infinite samples, or samples so large that mixing or
            resampling overflows.

    Example:
        >>> y = load("song.ogg")  # doctest: +SKIP
        >>> y.dtype, y.ndim
        (dtype('float32'), 1)
    """
    # Blocks go straight into one buffer of the length the header announces, so the peak is
    # the output plus one block (a list of blocks joined at the end would need twice that).
    header: dict[str, int] = {}
    out: np.ndarray | None = None
    filled = 0
    rest: list[np.ndarray] = []
    for block in _decode(source, sr=sr, mono=mono, block_frames=_BLOCK_FRAMES, header=header):
        if out is None:
            size = min(header.get("frames", 0), _MAX_PREALLOCATED_FRAMES)
            out = np.empty((size, *block.shape[1:]), dtype=np.float32)
        take = min(len(block), len(out) - filled)
        out[filled : filled + take] = block[:take]
        filled += take
        if take < len(block):
            rest.append(block[take:])
    if out is None:
        raise EmptyAudioError(f"{_name(source)}: holds zero samples after resampling")
    if rest:  # the header under-counted (MP3 estimates, or no count at all)
        return np.concatenate([out[:filled], *rest], axis=0)
    return out[:filled]


def resample(audio: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Resample with soxr (high quality); returns float32 of the same layout."""
    import soxr

    if orig_sr <= 0 or target_sr <= 0:
        raise InvalidAudioError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    audio = np.asarray(audio, dtype=np.float32)
    if orig_sr == target_sr:
        return audio
    return np.ascontiguousarray(soxr.resample(audio, orig_sr, target_sr, quality="HQ"), np.float32)


def prepare(
    audio: Any,
    *,
    sr: int,
    target_sr: int = DEFAULT_SAMPLE_RATE,
    channels_last: bool | None = None,
    name: str = "audio",
) -> np.ndarray:
    """Validate an in-memory signal and bring it to mono float32 at ``target_sr``.

    The rules of decoded files apply: an integer rate of at least 1000 Hz, finite samples of
    magnitude at most :data:`MAX_ABS_SAMPLE`, channels averaged to mono.

    Args:
        audio: ``(samples,)``, ``(samples, channels)`` (what soundfile returns) or
            ``(channels, samples)`` (what ``librosa.load(mono=False)`` returns); any real
            dtype (ints are scaled to [-1, 1]).
        sr: its sample rate in Hz.
        target_sr: the rate to return.
        channels_last: layout of a 2-D input; ``None`` infers it where it is unambiguous:
            one axis of at most 8 channels and the other axis longer.
        name: how errors refer to it.

    Returns:
        ``(samples,)`` float32.

    Raises:
        InvalidAudioError: a wrong or ambiguous shape, non-numeric, NaN/inf or too large
            values, a rate that is not an integer of at least 1000 Hz.
        EmptyAudioError: zero samples.
    """
    rate = _check_rate(sr, name)
    target = _check_rate(target_sr, f"{name} (target)")
    arr = np.asarray(audio)
    if arr.dtype.kind not in "fiu":
        raise InvalidAudioError(f"{name}: expected numeric samples, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise InvalidAudioError(
            f"{name}: expected (samples,), (samples, channels) or (channels, samples), "
            f"got shape {arr.shape}"
        )
    if arr.size == 0:
        raise EmptyAudioError(f"{name}: holds zero samples")
    if arr.ndim == 2 and channels_last is None:
        rows, cols = arr.shape
        if cols <= _MAX_CHANNELS and rows > cols:
            channels_last = True
        elif rows <= _MAX_CHANNELS and cols > rows:
            channels_last = False
        else:
            raise InvalidAudioError(
                f"{name}: ambiguous layout {arr.shape}: expected (samples, channels) or "
                f"(channels, samples) with at most {_MAX_CHANNELS} channels on the shorter "
                "axis; pass channels_last to say which"
            )
    if arr.dtype.kind in "iu":
        info_ = np.iinfo(arr.dtype)
        scale = float(max(abs(info_.min), info_.max))
        offset = 0.0 if arr.dtype.kind == "i" else (info_.max + 1) / 2.0
        arr = ((arr.astype(np.float64) - offset) / scale).astype(np.float32)
    if not np.isfinite(arr).all():
        raise InvalidAudioError(f"{name}: holds NaN or infinite samples")
    if _too_large(arr):
        frames = arr if arr.ndim == 1 or channels_last else arr.T
        raise InvalidAudioError(_too_large_message(name, frames, rate))
    if arr.ndim == 2:
        arr = arr.mean(axis=1 if channels_last else 0, dtype=np.float32)
    out = resample(np.asarray(arr, dtype=np.float32), rate, target)
    if out.size == 0:
        raise EmptyAudioError(f"{name}: holds zero samples after resampling to {target} Hz")
    return out


def save(
    path: str | os.PathLike,
    audio: np.ndarray,
    sr: int = DEFAULT_SAMPLE_RATE,
    *,
    subtype: str = "PCM_16",
) -> Path:
    """Write a WAV file atomically (temporary file in the same folder, then rename).

    A crash mid-write never leaves a partial file at ``path``, and never clobbers an existing one
    with half a file.

    Args:
        path: destination ``.wav``; parent folders are created.
        audio: ``(samples,)`` or ``(samples, channels)`` float in [-1, 1] (clipped).
        sr: sample rate.
        subtype: soundfile subtype, e.g. ``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``.

    Returns:
        The written path.

    Raises:
        InvalidAudioError: NaN/inf samples, bad shape or rate. EmptyAudioError: zero samples.
    """
    import soundfile as sf

    arr = np.asarray(audio, dtype=np.float32)
    if arr.ndim not in (1, 2):
        raise InvalidAudioError(f"cannot save audio of shape {arr.shape}")
    if arr.size == 0:
        raise EmptyAudioError(f"{path}: refusing to write zero samples")
    if not np.isfinite(arr).all():
        raise InvalidAudioError(f"{path}: refusing to write NaN or infinite samples")
    if not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise InvalidAudioError(f"sample rate must be a positive integer, got {sr!r}")
    if subtype != "FLOAT":
        arr = np.clip(arr, -1.0, 1.0)
    with atomic_path(path) as tmp:
        sf.write(tmp, arr, int(sr), format="WAV", subtype=subtype)
    dest = Path(path)
    return dest


def duration_to_frames(seconds: float, sr: int) -> int:
    """Samples in ``seconds`` at ``sr`` (rounded), the one rounding rule used everywhere."""
    return int(math.floor(seconds * sr + 0.5))
