"""Log-mel dB → audio, batched NumPy in float32.

Two steps, both aimed at the evaluation's *audio RMSE* (log-mel of the inverted audio against
the target, in dB):

1. **mel → linear power** (:func:`mel_to_power`): a non-negative spectrum whose mel projection
   matches the target, by multiplicative updates for the Kullback-Leibler divergence (Lee &
   Seung 2001) from the clipped pseudo-inverse. The error is judged in dB, so relative errors in
   quiet bands matter as much as those in loud ones; a least-squares fit on linear power would
   spend all its effort on the loudest bins, and an exact NNLS solution is sparse (peaky), which
   phase recovery turns into broadband leakage.
2. **phase** (:func:`griffin_lim`): fast Griffin-Lim with momentum (Perraudin et al. 2013). Given
   the target mel, every iteration after the first quarter also rescales the current consistent
   spectrum band by band towards the target mel (one over-relaxed multiplicative step), so the
   fine structure inside each band comes from a real signal and the loop minimises the mel
   error of the output itself.

Frames are centred with zero padding and a periodic Hann window, as in ``librosa.stft`` and the
package's ``LogMelSpectrogram``. Each example is processed independently of the others in its
batch (same result batched or one by one).
"""

from __future__ import annotations

import functools

import numpy as np

from keras_musiclatent.errors import InvalidAudioError

__all__ = ["griffin_lim", "logmel_to_audio", "mel_to_power"]

# Relative floor on power (-110 dB under each example's peak): below the 80-dB range the
# metric looks at, and keeps float32 clear of denormals, which are slow on x86.
_REL_FLOOR = 1e-11
# Bound on the per-bin power gain of one mel step: a numerical guard for bins that hold
# (almost) no energy yet, never reached on ordinary spectra.
_MAX_GAIN = 1e3


class _MelOperator:
    """A mel filterbank as sparse operators on ``(N, bins)`` / ``(N, mels)`` rows."""

    def __init__(self, filterbank: np.ndarray) -> None:
        import scipy.sparse

        fb = np.asarray(filterbank, dtype=np.float32)
        if fb.ndim != 2:
            raise InvalidAudioError(f"filterbank must be (n_mels, bins), got shape {fb.shape}")
        self.n_mels, self.bins = fb.shape
        # Each bin lies in at most a couple of triangles: sparse products cost O(bins) per frame
        # and need no BLAS threads (which spin badly on a busy machine).
        self._to_mel = scipy.sparse.csc_matrix(fb.T)  # right operand: (N, bins) @ -> (N, mels)
        self._to_bins = scipy.sparse.csr_matrix(fb)  # right operand: (N, mels) @ -> (N, bins)
        colsum = fb.sum(axis=0)
        # Bins no band sees get no energy: nothing constrains them.
        self._inv_colsum = np.where(colsum > 0, 1.0 / np.maximum(colsum, 1e-30), 0.0).astype(
            np.float32
        )
        self._fb = fb

    @functools.cached_property
    def pinv_t(self) -> np.ndarray:
        """``pinv(filterbank).T``, ``(mels, bins)`` float32."""
        return np.ascontiguousarray(np.linalg.pinv(self._fb.astype(np.float64)).T, np.float32)

    def mel(self, power: np.ndarray) -> np.ndarray:
        return np.asarray(power @ self._to_mel, dtype=np.float32)

    def gain(self, power: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Per-bin multiplicative KL update factor, ``(N, bins)``."""
        ratio = target / np.maximum(self.mel(power), _REL_FLOOR)
        return np.asarray(ratio @ self._to_bins, dtype=np.float32) * self._inv_colsum


@functools.lru_cache(maxsize=8)
def _cached_operator(
    sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None
) -> _MelOperator:
    import librosa

    # The same filterbank as LogMelSpectrogram (librosa's slaney mel), without importing Keras.
    fb = librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax, dtype=np.float32
    )
    return _MelOperator(fb)


def _nnls_kl(target: np.ndarray, op: _MelOperator, iterations: int) -> np.ndarray:
    """Multiplicative KL updates on rows already scaled to a peak of 1; ``(N, bins)``."""
    x = np.maximum(target @ op.pinv_t, _REL_FLOOR)
    for _ in range(iterations):
        x *= op.gain(x, target)
    return x


def mel_to_power(
    mel_power: np.ndarray,
    filterbank: np.ndarray,
    *,
    iterations: int = 30,
) -> np.ndarray:
    """Non-negative linear power spectrum whose mel projection matches ``mel_power``.

    Multiplicative updates for the KL divergence, started from the pseudo-inverse clipped at
    zero, on every frame of the batch at once; each frame is scaled to a peak of 1 first, so
    any level works in float32.

    Args:
        mel_power: ``(..., frames, n_mels)`` linear mel power (non-negative).
        filterbank: ``(n_mels, bins)``.
        iterations: multiplicative updates (0 = pseudo-inverse clipped at zero).

    Returns:
        ``(..., frames, bins)`` float32 power.

    Raises:
        InvalidAudioError: shapes that do not fit, negative or non-finite power.
    """
    op = filterbank if isinstance(filterbank, _MelOperator) else _MelOperator(filterbank)
    mel = np.asarray(mel_power, dtype=np.float32)
    if mel.ndim < 1 or mel.shape[-1] != op.n_mels:
        raise InvalidAudioError(
            f"mel_power's last axis must hold {op.n_mels} mels, got shape {mel.shape}"
        )
    if not np.isfinite(mel).all() or (mel < 0).any():
        raise InvalidAudioError("mel_power must be finite and non-negative")
    if iterations < 0:
        raise InvalidAudioError(f"iterations must be >= 0, got {iterations}")
    rows = mel.reshape(-1, op.n_mels)
    peak = rows.max(axis=1, keepdims=True) if rows.size else np.zeros((0, 1), np.float32)
    safe = np.where(peak > 0, peak, 1.0)
    target = np.maximum(rows / safe, _REL_FLOOR)
    power = _nnls_kl(target, op, iterations) * np.where(peak > 0, peak, 0.0)
    return power.reshape(*mel.shape[:-1], op.bins).astype(np.float32, copy=False)


class _Stft:
    """Centred, zero-padded STFT / ISTFT with a periodic Hann window, on a fixed frame count."""

    def __init__(self, n_fft: int, hop_length: int, frames: int, length: int) -> None:
        if n_fft <= 0 or hop_length <= 0 or frames <= 0:
            raise InvalidAudioError("n_fft, hop_length and the frame count must be positive")
        self.n_fft, self.hop, self.frames, self.length = n_fft, hop_length, frames, length
        n = np.arange(n_fft, dtype=np.float64)
        self.window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)).astype(np.float32)
        self.pad = n_fft // 2
        # Overlap-add in blocks of one hop: frames are cut into ``k`` blocks and shifted sums
        # replace a per-frame loop.
        self.k = -(-n_fft // hop_length)
        self.buffer = (frames + self.k - 1) * hop_length
        wss = np.zeros((frames + self.k - 1, hop_length), np.float32)
        w2 = np.zeros(self.k * hop_length, np.float32)
        w2[:n_fft] = self.window**2
        for j, block in enumerate(w2.reshape(self.k, hop_length)):
            wss[j : j + frames] += block
        wss = wss.reshape(-1)
        # Where the windows barely overlap (the outer ~1% of the first and last frames), an
        # exact division would blow up whatever the phase estimate leaves there; those samples
        # lie in the padding unless ``length`` runs past the last frame.
        self.inv_wss = (1.0 / np.maximum(wss, 1e-3 * wss.max())).astype(np.float32)
        # The returned signal is [pad, pad + length) of the buffer; everything else is the
        # zero padding the analysis (and the metric) assumes.
        self.keep = np.zeros(self.buffer, np.float32)
        self.keep[self.pad : self.pad + length] = 1.0

    def inverse(self, spec: np.ndarray) -> np.ndarray:
        """``(B, frames, bins)`` complex → ``(B, buffer)`` float32, outside samples zeroed."""
        import scipy.fft

        batch = spec.shape[0]
        frames = scipy.fft.irfft(spec, n=self.n_fft, axis=-1).astype(np.float32, copy=False)
        frames *= self.window
        if self.k * self.hop != self.n_fft:
            frames = np.pad(frames, ((0, 0), (0, 0), (0, self.k * self.hop - self.n_fft)))
        blocks = frames.reshape(batch, self.frames, self.k, self.hop)
        out = np.zeros((batch, self.frames + self.k - 1, self.hop), np.float32)
        for j in range(self.k):
            out[:, j : j + self.frames] += blocks[:, :, j]
        return out.reshape(batch, self.buffer) * (self.inv_wss * self.keep)

    def forward(self, buffer: np.ndarray) -> np.ndarray:
        """``(B, buffer)`` → ``(B, frames, bins)`` complex64."""
        import scipy.fft

        if buffer.shape[1] < (self.frames - 1) * self.hop + self.n_fft:
            extra = (self.frames - 1) * self.hop + self.n_fft - buffer.shape[1]
            buffer = np.pad(buffer, ((0, 0), (0, extra)))
        view = np.lib.stride_tricks.sliding_window_view(buffer, self.n_fft, axis=-1)
        frames = view[:, :: self.hop][:, : self.frames] * self.window
        return scipy.fft.rfft(frames, axis=-1)

    def signal(self, buffer: np.ndarray) -> np.ndarray:
        """The ``length`` real samples of a buffer."""
        out = buffer[:, self.pad : self.pad + self.length]
        if out.shape[1] < self.length:
            out = np.pad(out, ((0, 0), (0, self.length - out.shape[1])))
        return np.ascontiguousarray(out, dtype=np.float32)


def _griffin_lim(
    magnitude: np.ndarray,
    *,
    n_fft: int,
    hop_length: int,
    n_iter: int,
    momentum: float,
    length: int,
    seed: int,
    mel: tuple[np.ndarray, _MelOperator] | None,
) -> np.ndarray:
    """Fast Griffin-Lim on ``(B, frames, bins)`` magnitudes scaled to a peak near 1."""
    batch, frames, bins = magnitude.shape
    stft = _Stft(n_fft, hop_length, frames, length)
    # One phase draw shared by every example: the result of an example does not depend on
    # its place in the batch.
    rng = np.random.default_rng(seed)
    angle = (2.0 * np.pi) * rng.random((frames, bins), dtype=np.float64)
    phase = np.exp(1j * angle).astype(np.complex64)
    spec = magnitude * phase
    alpha = np.float32(momentum / (1.0 + momentum))
    previous = None
    mag = magnitude
    # Plain iterations first: from random phases the spectrum is too inconsistent for the mel
    # steps to help (measured on GTZAN: steering from the first iteration is never better, and
    # worse than plain Griffin-Lim below ~8 iterations).
    mel_start = max(1, n_iter // 4)
    # In-place arithmetic throughout: the loop is memory-bound, temporaries cost as much as
    # the FFTs.
    for it in range(n_iter):
        rebuilt = stft.forward(stft.inverse(spec))
        if mel is not None and it >= mel_start:
            target, op = mel
            power = np.square(rebuilt.real)
            power += np.square(rebuilt.imag)
            np.maximum(power, _REL_FLOOR, out=power)
            power = power.reshape(-1, bins)
            gain = op.gain(power, target)
            np.clip(gain, 1.0 / _MAX_GAIN, _MAX_GAIN, out=gain)
            # Magnitude sqrt(power) * gain**0.75: the plain multiplicative step has exponent
            # 0.5; over-relaxed to 0.75 it converges faster, from 1.0 on it can oscillate.
            # Written with square roots, which are much faster than a generic power.
            mag = np.sqrt(gain)
            mag *= gain
            mag *= power
            np.sqrt(mag, out=mag)
            mag = mag.reshape(batch, frames, bins)
        if previous is None:
            step = rebuilt.copy()
        else:
            step = previous
            step *= -alpha
            step += rebuilt
        previous = rebuilt
        scale = np.abs(step)
        np.maximum(scale, 1e-20, out=scale)
        np.divide(mag, scale, out=scale)
        step *= scale
        spec = step
    return stft.signal(stft.inverse(spec))


def _check_iterations(n_iter: int, hop_length: int, n_fft: int) -> None:
    if n_iter < 0:
        raise InvalidAudioError(f"n_iter must be >= 0, got {n_iter}")
    if hop_length <= 0 or n_fft <= 0:
        raise InvalidAudioError(f"n_fft and hop_length must be positive, got {n_fft}, {hop_length}")


def griffin_lim(
    magnitude: np.ndarray,
    *,
    n_fft: int = 2048,
    hop_length: int = 512,
    n_iter: int = 32,
    momentum: float = 0.99,
    length: int | None = None,
    seed: int = 0,
    mel_power: np.ndarray | None = None,
    filterbank: np.ndarray | None = None,
) -> np.ndarray:
    """Phase recovery by fast Griffin-Lim (with momentum), batched.

    Args:
        magnitude: ``(batch, frames, bins)`` or ``(frames, bins)`` STFT magnitude.
        n_fft, hop_length: the STFT the magnitude came from (centred, Hann window).
        n_iter: iterations.
        momentum: the acceleration of Perraudin et al., as in ``librosa.griffinlim``
            (0 = classic Griffin-Lim).
        length: samples to return (default ``(frames - 1) * hop_length``).
        seed: seeds the initial random phase (the same draw for every example).
        mel_power: optional ``(..., frames, n_mels)`` linear mel power the output should have;
            with ``filterbank``, every iteration after the first quarter also rescales the
            spectrum towards it, so the output's mel matches it rather than ``magnitude`` bin
            by bin.
        filterbank: ``(n_mels, bins)``, needed with ``mel_power``.

    Returns:
        ``(batch, samples)`` or ``(samples,)`` float32.

    Raises:
        InvalidAudioError: bad shapes, non-finite values or settings.
    """
    mag = np.asarray(magnitude, dtype=np.float32)
    single = mag.ndim == 2
    if single:
        mag = mag[None]
    if mag.ndim != 3:
        raise InvalidAudioError(
            f"expected (frames, bins) or (batch, frames, bins), got shape {np.shape(magnitude)}"
        )
    if mag.shape[-1] != n_fft // 2 + 1:
        raise InvalidAudioError(
            f"magnitude has {mag.shape[-1]} bins but n_fft={n_fft} gives {n_fft // 2 + 1}"
        )
    if not np.isfinite(mag).all():
        raise InvalidAudioError("magnitude holds NaN or infinite values")
    _check_iterations(n_iter, hop_length, n_fft)
    frames = mag.shape[1]
    if length is None:
        length = (frames - 1) * hop_length
    mag = np.abs(mag)
    peak = mag.max(axis=(1, 2), keepdims=True)
    scale = np.where(peak > 0, peak, 1.0)
    mel = None
    if mel_power is not None:
        if filterbank is None:
            raise InvalidAudioError("mel_power needs the filterbank it was made with")
        op = filterbank if isinstance(filterbank, _MelOperator) else _MelOperator(filterbank)
        target = np.asarray(mel_power, dtype=np.float32).reshape(mag.shape[0], frames, -1)
        if target.shape[-1] != op.n_mels or op.bins != mag.shape[-1]:
            raise InvalidAudioError(
                f"mel_power {np.shape(mel_power)} and filterbank {(op.n_mels, op.bins)} do not "
                f"fit magnitude {mag.shape}"
            )
        if not np.isfinite(target).all() or (target < 0).any():
            raise InvalidAudioError("mel_power must be finite and non-negative")
        # Same scale as the magnitude, so both targets agree on levels.
        target = np.maximum(target / (scale * scale), _REL_FLOOR).reshape(-1, op.n_mels)
        mel = (target, op)
    y = _griffin_lim(
        mag / scale,
        n_fft=int(n_fft),
        hop_length=int(hop_length),
        n_iter=int(n_iter),
        momentum=float(momentum),
        length=int(length),
        seed=seed,
        mel=mel,
    )
    y *= np.where(peak > 0, peak, 0.0)[:, :, 0]
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
    mel_consistent: bool = True,
) -> np.ndarray:
    """Audio from a log-mel in dB (the output of ``LogMelSpectrogram`` or a decoder).

    Args:
        log_mel_db: ``(batch, frames, n_mels)`` or ``(frames, n_mels)``, ``ref=1`` dB.
        sample_rate, n_fft, hop_length, fmin, fmax: the log-mel's recipe.
        n_iter: Griffin-Lim iterations (more: lower error, proportionally slower).
        nnls_iterations: multiplicative updates of the mel → linear step.
        length: samples to return (default ``(frames - 1) * hop_length``).
        seed: seeds the initial phase.
        mel_consistent: steer every Griffin-Lim iteration towards the target mel (lower error
            at the same speed); ``False`` runs plain Griffin-Lim on the mel → linear estimate.

    Returns:
        ``(batch, samples)`` or ``(samples,)`` float32.

    Raises:
        InvalidAudioError: a wrong shape, NaN or infinite values, bad settings.

    Example:
        >>> y = logmel_to_audio(np.full((130, 128), -40.0, np.float32))  # doctest: +SKIP
    """
    db = np.asarray(log_mel_db, dtype=np.float32)
    if db.ndim not in (2, 3):
        raise InvalidAudioError(
            f"expected (frames, mels) or (batch, frames, mels), got shape {db.shape}"
        )
    if db.size == 0:
        raise InvalidAudioError(f"log-mel of shape {db.shape} holds no frames")
    if not np.isfinite(db).all():
        raise InvalidAudioError("log-mel holds NaN or infinite values")
    _check_iterations(n_iter, hop_length, n_fft)
    single = db.ndim == 2
    if single:
        db = db[None]
    op = _cached_operator(
        int(sample_rate),
        int(n_fft),
        db.shape[-1],
        float(fmin),
        None if fmax is None else float(fmax),
    )
    # dB relative to each example's peak: any level, no overflow in float32.
    peak_db = db.max(axis=(1, 2), keepdims=True)
    rel = np.power(np.float32(10.0), (db - peak_db) / np.float32(10.0))
    power = mel_to_power(rel, op, iterations=nnls_iterations)
    frames = db.shape[1]
    if length is None:
        length = (frames - 1) * hop_length
    y = griffin_lim(
        np.sqrt(power),
        n_fft=n_fft,
        hop_length=hop_length,
        n_iter=n_iter,
        length=length,
        seed=seed,
        mel_power=rel if mel_consistent else None,
        filterbank=op if mel_consistent else None,
    )
    y *= np.power(np.float32(10.0), peak_db[:, :, 0] / np.float32(20.0))
    return y[0] if single else y
