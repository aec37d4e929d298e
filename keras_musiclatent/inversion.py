"""Log-mel dB → audio: mel → linear power (non-negative least squares), then Griffin-Lim.

Batched NumPy. The NNLS step runs projected gradient from the pseudo-inverse on every frame of
the batch at once; the phase comes from fast Griffin-Lim with momentum (Perraudin et al. 2013).
"""

from __future__ import annotations

import numpy as np

__all__ = ["griffin_lim", "logmel_to_audio", "mel_to_power"]


def _filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None):
    from keras_musiclatent.layers.log_mel_spectrogram import mel_filterbank

    return mel_filterbank(
        sample_rate=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax
    ).astype(np.float64)


def mel_to_power(
    mel_power: np.ndarray,
    filterbank: np.ndarray,
    *,
    iterations: int = 30,
) -> np.ndarray:
    """Non-negative linear power spectrum whose mel projection best matches ``mel_power``.

    Args:
        mel_power: ``(..., frames, n_mels)`` linear mel power.
        filterbank: ``(n_mels, bins)``.
        iterations: projected-gradient steps after the pseudo-inverse start (0 = pseudo-inverse
            clipped at zero).

    Returns:
        ``(..., frames, bins)`` float32 power.
    """
    fb = np.asarray(filterbank, dtype=np.float64)
    lead = mel_power.shape[:-1]
    target = np.asarray(mel_power, dtype=np.float64).reshape(-1, mel_power.shape[-1]).T
    x = np.maximum(np.linalg.pinv(fb) @ target, 0.0)  # (bins, N)
    if iterations > 0:
        gram = fb.T @ fb
        rhs = fb.T @ target
        step = 1.0 / np.linalg.norm(gram, 2)
        for _ in range(iterations):
            x = np.maximum(x - step * (gram @ x - rhs), 0.0)
    return x.T.reshape(*lead, fb.shape[1]).astype(np.float32)


def griffin_lim(
    magnitude: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_iter: int = 32,
    momentum: float = 0.99,
    length: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Phase recovery by fast Griffin-Lim (with momentum), batched.

    Args:
        magnitude: ``(batch, frames, bins)`` or ``(frames, bins)`` STFT magnitude.
        n_fft, hop_length: the STFT the magnitude came from (centred, Hann window).
        n_iter: iterations.
        momentum: the acceleration of Perraudin et al. (0 = classic Griffin-Lim).
        length: samples to return.
        seed: seeds the initial random phase.

    Returns:
        ``(batch, samples)`` or ``(samples,)`` float32.
    """
    import librosa

    mag = np.asarray(magnitude, dtype=np.float32)
    single = mag.ndim == 2
    if single:
        mag = mag[None]
    spec = np.swapaxes(mag, -1, -2)  # librosa layout: (batch, bins, frames)
    y = librosa.griffinlim(
        spec,
        n_iter=n_iter,
        hop_length=hop_length,
        n_fft=n_fft,
        momentum=momentum,
        init="random",
        random_state=seed,
        length=length,
    ).astype(np.float32)
    return y[0] if single else y


def logmel_to_audio(
    log_mel_db: np.ndarray,
    *,
    sample_rate: int = 22050,
    n_fft: int = 2048,
    hop_length: int = 512,
    fmin: float = 0.0,
    fmax: float | None = None,
    n_iter: int = 32,
    nnls_iterations: int = 30,
    length: int | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Audio from a log-mel in dB (the output of ``LogMelSpectrogram`` or a decoder).

    Args:
        log_mel_db: ``(batch, frames, n_mels)`` or ``(frames, n_mels)``, ``ref=1`` dB.
        sample_rate, n_fft, hop_length, fmin, fmax: the log-mel's recipe.
        n_iter: Griffin-Lim iterations.
        nnls_iterations: projected-gradient steps of the mel → linear step.
        length: samples to return (default ``(frames - 1) * hop_length``).
        seed: seeds the initial phase.

    Returns:
        ``(batch, samples)`` or ``(samples,)`` float32.

    Example:
        >>> y = logmel_to_audio(np.full((130, 128), -40.0, np.float32))  # doctest: +SKIP
    """
    db = np.asarray(log_mel_db, dtype=np.float32)
    if db.ndim not in (2, 3):
        raise ValueError(f"expected (frames, mels) or (batch, frames, mels), got {db.shape}")
    fb = _filterbank(sample_rate, n_fft, db.shape[-1], fmin, fmax)
    power = mel_to_power(np.power(10.0, db / 10.0), fb, iterations=nnls_iterations)
    frames = db.shape[-2]
    if length is None:
        length = (frames - 1) * hop_length
    return griffin_lim(
        np.sqrt(power),
        n_fft=n_fft,
        hop_length=hop_length,
        n_iter=n_iter,
        length=length,
        seed=seed,
    )
