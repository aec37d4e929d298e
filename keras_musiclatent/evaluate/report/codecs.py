"""Conventional codecs beside the latent: Opus and MP3 through ``ffmpeg``, when it is installed.

A latent stream is far smaller than anything these codecs can write, so each runs at the lowest
bitrate it supports; the report states the real file size of every stream.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["CODECS", "Codec", "CodecResult", "available_codecs", "round_trip"]


@dataclass(frozen=True)
class Codec:
    """One ffmpeg encoder setting.

    Attributes:
        name: shown in the report.
        encoder: ffmpeg's encoder name.
        kbps: target bitrate.
        suffix: container file suffix.
        args: extra ffmpeg output options.
    """

    name: str
    encoder: str
    kbps: float
    suffix: str
    args: tuple[str, ...] = ()


#: The lowest bitrates the encoders accept: libopus stops at 6 kbit/s, MPEG-2 layer III at 8.
CODECS = (
    Codec("Opus 6 kbit/s", "libopus", 6.0, ".opus", ("-application", "audio")),
    Codec("MP3 8 kbit/s", "libmp3lame", 8.0, ".mp3", ("-ar", "22050")),
)


@dataclass(frozen=True)
class CodecResult:
    """A clip through one codec.

    Attributes:
        codec: the setting.
        num_bytes: size of the encoded file.
        kbps: its bitrate from the file size and the clip's duration.
        audio: float32 ``(samples,)`` decoded back at the clip's rate, cut or padded to its length.
    """

    codec: Codec
    num_bytes: int
    kbps: float
    audio: np.ndarray


@lru_cache(maxsize=1)
def _encoders() -> frozenset[str]:
    exe = shutil.which("ffmpeg")
    if exe is None:
        return frozenset()
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-encoders"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and len(parts[0]) == 6 and parts[0][0] == "A":
            names.add(parts[1])
    return frozenset(names)


def available_codecs() -> tuple[list[Codec], str]:
    """The codecs this machine can run, and a sentence saying what was left out and why."""
    if shutil.which("ffmpeg") is None:
        return [], "ffmpeg is not on PATH, so Opus and MP3 were skipped"
    encoders = _encoders()
    usable = [c for c in CODECS if c.encoder in encoders]
    missing = [c.encoder for c in CODECS if c.encoder not in encoders]
    note = f"this ffmpeg lacks {', '.join(missing)}" if missing else ""
    return usable, note


def _ffmpeg(*args: str) -> None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise OSError("ffmpeg is not on PATH")
    proc = subprocess.run(
        [exe, "-hide_banner", "-loglevel", "error", "-nostdin", "-y", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode != 0:
        raise OSError(f"ffmpeg failed: {proc.stderr.strip()[-300:]}")


def round_trip(audio: np.ndarray, sample_rate: int, codec: Codec) -> CodecResult:
    """Encode a mono waveform with ``codec`` and decode it back.

    Raises:
        OSError: ffmpeg is missing or fails.
    """
    import soundfile as sf

    y = np.asarray(audio, np.float32)
    with tempfile.TemporaryDirectory(prefix="musiclatent-codec-") as tmp:
        src, enc, dec = Path(tmp, "in.wav"), Path(tmp, "enc" + codec.suffix), Path(tmp, "out.wav")
        sf.write(src, y, sample_rate, subtype="PCM_16")
        _ffmpeg(
            "-i", str(src), "-c:a", codec.encoder, "-b:a", f"{codec.kbps:g}k", *codec.args, str(enc)
        )
        _ffmpeg("-i", str(enc), "-ac", "1", "-ar", str(sample_rate), "-c:a", "pcm_f32le", str(dec))
        num_bytes = enc.stat().st_size
        decoded, _ = sf.read(dec, dtype="float32", always_2d=False)
    out = np.zeros(len(y), np.float32)
    n = min(len(y), len(decoded))
    out[:n] = decoded[:n]
    seconds = len(y) / sample_rate
    return CodecResult(codec, num_bytes, 8 * num_bytes / seconds / 1000, out)
