"""Reference codecs beside the latent: Opus and MP3 through ``ffmpeg``, when it is installed.

Opus at 6 kbit/s (the lowest rate libopus accepts), 12 and 24 kbit/s, and MP3 at 32 kbit/s, a
common low-rate streaming setting: a rate-quality curve for the latent codecs to be judged
against. Every rate a table shows comes from the encoded file's size, not the setting.

Example:
    >>> usable, note = available_codecs()
    >>> result = round_trip(clip, 22050, usable[0])  # doctest: +SKIP
    >>> result.audio.shape == clip.shape  # doctest: +SKIP
    True
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

__all__ = ["CODECS", "FFMPEG_MISSING", "Codec", "CodecResult", "available_codecs", "round_trip"]


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

    @property
    def family(self) -> str:
        """The codec without its rate (``"Opus"``), one curve of a rate-quality plot."""
        return self.name.split()[0]

    @property
    def key(self) -> str:
        """A name unique among :data:`CODECS` and safe in file names (``"opus-6k"``); one
        encoder runs at several rates, so ``encoder`` alone does not tell them apart."""
        return f"{self.family.lower()}-{self.kbps:g}k"


# Opus's "audio" application tunes for music rather than speech. MP3 is pinned to 22050 Hz
# (MPEG-2 layer III), the package's rate, so every input rate gets the same encoder setting.
CODECS = (
    Codec("Opus 6 kbit/s", "libopus", 6.0, ".opus", ("-application", "audio")),
    Codec("Opus 12 kbit/s", "libopus", 12.0, ".opus", ("-application", "audio")),
    Codec("Opus 24 kbit/s", "libopus", 24.0, ".opus", ("-application", "audio")),
    Codec("MP3 32 kbit/s", "libmp3lame", 32.0, ".mp3", ("-ar", "22050")),
)

#: The note of :func:`available_codecs` on a machine without ffmpeg.
FFMPEG_MISSING = "ffmpeg not found: reference codecs skipped (apt-get install ffmpeg)"


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


@lru_cache(maxsize=4)
def _encoders(exe: str) -> frozenset[str]:
    """Audio encoders of the ffmpeg at ``exe`` (cached per path: a later install is seen)."""
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


def available_codecs(codecs: Sequence[Codec] = CODECS) -> tuple[list[Codec], str]:
    """The codecs this machine can run, and a sentence saying what was left out and why.

    Args:
        codecs: the settings wanted.

    Returns:
        ``(usable codecs, note)``; the note is empty when every codec can run, else e.g.
        :data:`FFMPEG_MISSING`.

    Example:
        >>> usable, note = available_codecs()
        >>> bool(usable) or note.startswith(("ffmpeg not found", "this ffmpeg lacks"))
        True
    """
    exe = shutil.which("ffmpeg")
    if exe is None:
        return [], FFMPEG_MISSING
    encoders = _encoders(exe)
    usable = [c for c in codecs if c.encoder in encoders]
    missing = sorted({c.encoder for c in codecs if c.encoder not in encoders})
    if not missing:
        return usable, ""
    skipped = ", ".join(c.name for c in codecs if c.encoder in missing)
    return usable, f"this ffmpeg lacks {', '.join(missing)}: {skipped} skipped"


def _ffmpeg(*args: str) -> None:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise OSError(FFMPEG_MISSING)
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
