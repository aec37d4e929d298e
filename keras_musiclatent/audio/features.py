"""Audio descriptors that put words on latent dimensions (librosa features, one number each).

Each descriptor summarises a mono waveform by one float: the mean over frames of a librosa
feature (centroid, bandwidth, roll-off, flatness, RMS, zero-crossing rate), the onset rate in
onsets per second, or the entropy of the mean chroma vector. ``probe`` and
``explain_dimensions`` in :mod:`keras_musiclatent.latent_space` report how these move.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from keras_musiclatent.errors import ConfigError, InvalidAudioError

__all__ = ["DESCRIPTORS", "UNITS", "describe", "describe_batch"]

# name → what a reader should picture when it goes up.
DESCRIPTORS: dict[str, str] = {
    "spectral_centroid": "brightness (centre of mass of the spectrum)",
    "spectral_bandwidth": "spectral spread around the centroid",
    "spectral_rolloff": "frequency under which 85% of the energy lies",
    "spectral_flatness": "noisiness (1 = white noise, 0 = pure tones)",
    "rms": "loudness (root-mean-square amplitude)",
    "onset_rate": "note/percussive onsets per second",
    "zero_crossing_rate": "sign changes per sample (noisy or high-pitched content)",
    "chroma_entropy": "spread of pitch classes (low = tonal centre, high = all 12 classes)",
}
UNITS: dict[str, str] = {
    "spectral_centroid": "Hz",
    "spectral_bandwidth": "Hz",
    "spectral_rolloff": "Hz",
    "spectral_flatness": "",
    "rms": "",
    "onset_rate": "1/s",
    "zero_crossing_rate": "",
    "chroma_entropy": "bits",
}


def describe(
    audio: np.ndarray,
    *,
    sample_rate: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    names: Sequence[str] | None = None,
) -> dict[str, float]:
    """Descriptors of one mono waveform.

    Args:
        audio: ``(samples,)`` float.
        sample_rate: its rate in Hz.
        n_fft, hop_length: STFT settings of the frame-wise features.
        names: descriptors to compute (default: all of :data:`DESCRIPTORS`).

    Returns:
        ``{name: value}`` floats.

    Example:
        >>> t = np.arange(22050) / 22050
        >>> d = describe(np.sin(2 * np.pi * 440 * t).astype("float32"))
        >>> 400 < d["spectral_centroid"] < 500
        True
    """
    import librosa

    names = list(DESCRIPTORS) if names is None else list(names)
    unknown = [n for n in names if n not in DESCRIPTORS]
    if unknown:
        raise ConfigError(f"unknown descriptor(s) {unknown}; choose from {list(DESCRIPTORS)}")
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim != 1 or y.size == 0:
        raise InvalidAudioError(f"describe expects a non-empty (samples,) signal, got {y.shape}")
    if not np.isfinite(y).all():
        raise InvalidAudioError("describe: the signal holds NaN or infinite samples")
    if y.size < n_fft:
        y = np.pad(y, (0, n_fft - y.size))
    magnitude = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length))
    out: dict[str, float] = {}
    for name in names:
        if name == "spectral_centroid":
            value = librosa.feature.spectral_centroid(S=magnitude, sr=sample_rate)
        elif name == "spectral_bandwidth":
            value = librosa.feature.spectral_bandwidth(S=magnitude, sr=sample_rate)
        elif name == "spectral_rolloff":
            value = librosa.feature.spectral_rolloff(S=magnitude, sr=sample_rate)
        elif name == "spectral_flatness":
            value = librosa.feature.spectral_flatness(S=magnitude)
        elif name == "rms":
            value = librosa.feature.rms(y=y, frame_length=n_fft, hop_length=hop_length)
        elif name == "zero_crossing_rate":
            value = librosa.feature.zero_crossing_rate(y, frame_length=n_fft, hop_length=hop_length)
        elif name == "onset_rate":
            onsets = librosa.onset.onset_detect(y=y, sr=sample_rate, hop_length=hop_length)
            value = np.array(len(onsets) / (len(y) / sample_rate))
        else:  # chroma_entropy
            chroma = librosa.feature.chroma_stft(S=magnitude**2, sr=sample_rate).mean(axis=1)
            p = chroma / chroma.sum() if chroma.sum() > 0 else np.full(12, 1 / 12)
            value = np.array(-(p * np.log2(np.maximum(p, 1e-12))).sum())
        out[name] = float(np.mean(value))
    return out


def describe_batch(
    audio: np.ndarray,
    *,
    sample_rate: int = 22050,
    names: Sequence[str] | None = None,
) -> dict[str, np.ndarray]:
    """:func:`describe` for each row of ``(n, samples)``; returns ``{name: (n,) array}``."""
    audio = np.asarray(audio)
    if audio.ndim != 2:
        raise InvalidAudioError(f"describe_batch expects (n, samples), got {audio.shape}")
    rows = [describe(a, sample_rate=sample_rate, names=names) for a in audio]
    keys = list(DESCRIPTORS) if names is None else list(names)
    return {k: np.array([r[k] for r in rows], dtype=np.float64) for k in keys}
