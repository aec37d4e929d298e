"""A short synthetic music clip, so every command has something to run on without data."""

from __future__ import annotations

import numpy as np

__all__ = ["demo_clip"]

# A I-vi-IV-V progression in C: MIDI roots and chord intervals.
_PROGRESSION = [(48, (0, 4, 7)), (45, (0, 3, 7)), (41, (0, 4, 7)), (43, (0, 4, 7))]


def _midi_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69) / 12.0)


def demo_clip(
    *, seconds: float = 6.0, sample_rate: int = 22050, tempo: float = 110.0, seed: int = 0
) -> np.ndarray:
    """Make a deterministic pop-like clip: chords, bass, kick, snare and hi-hat.

    Args:
        seconds: length.
        sample_rate: rate in Hz.
        tempo: beats per minute.
        seed: seeds the drum noise.

    Returns:
        ``(round(seconds * sample_rate),)`` float32 in [-1, 1].

    Example:
        >>> demo_clip(seconds=1.0).shape
        (22050,)
    """
    rng = np.random.default_rng(seed)
    n = int(round(seconds * sample_rate))
    t = np.arange(n) / sample_rate
    beat = 60.0 / tempo
    bar = 4 * beat
    out = np.zeros(n)
    for i in range(int(np.ceil(seconds / bar))):
        root, chord = _PROGRESSION[i % len(_PROGRESSION)]
        start = int(i * bar * sample_rate)
        stop = min(n, int((i + 1) * bar * sample_rate))
        if start >= n:
            break
        tt = t[start:stop] - t[start]
        env = np.exp(-tt / (bar * 0.8))
        for interval in chord:
            f = _midi_hz(root + 12 + interval)
            for h, amp in ((1, 0.6), (2, 0.25), (3, 0.12), (4, 0.06)):
                out[start:stop] += 0.07 * amp * env * np.sin(2 * np.pi * f * h * tt)
        f_bass = _midi_hz(root - 12)
        out[start:stop] += 0.18 * np.sin(2 * np.pi * f_bass * tt) * np.exp(-(tt % beat) / beat)
    for k in range(int(seconds / (beat / 2)) + 1):
        start = int(k * beat / 2 * sample_rate)
        if start >= n:
            break
        length = min(n - start, int(0.25 * sample_rate))
        tt = np.arange(length) / sample_rate
        if k % 2 == 0 and (k // 2) % 2 == 0:  # kick on beats 1 and 3
            sweep = 2 * np.pi * (50 * tt + 60 * (1 - np.exp(-tt * 30)) / 30)
            out[start : start + length] += 0.5 * np.sin(sweep) * np.exp(-tt * 18)
        if k % 2 == 0 and (k // 2) % 2 == 1:  # snare on beats 2 and 4
            noise = rng.standard_normal(length)
            out[start : start + length] += 0.2 * noise * np.exp(-tt * 25)
        hat = rng.standard_normal(length)
        hat = np.diff(hat, prepend=0.0)  # crude high-pass: hats are bright
        out[start : start + length] += 0.04 * hat * np.exp(-tt * 60)
    peak = np.abs(out).max()
    return (0.8 * out / peak).astype(np.float32) if peak > 0 else out.astype(np.float32)
