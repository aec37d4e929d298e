"""Waveform → log-mel spectrogram in dB, inside the model, matching librosa."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

__all__ = ["LogMelSpectrogram", "mel_filterbank"]


def mel_filterbank(
    *,
    sample_rate: int,
    n_fft: int,
    n_mels: int,
    fmin: float,
    fmax: float | None,
    htk: bool = False,
    norm: str | None = "slaney",
) -> np.ndarray:
    """The mel filterbank librosa uses, ``(n_mels, n_fft // 2 + 1)`` float32.

    Built from the recipe each time, so a saved model stores numbers, never the matrix.
    """
    import librosa

    return librosa.filters.mel(
        sr=sample_rate,
        n_fft=n_fft,
        n_mels=n_mels,
        fmin=fmin,
        fmax=fmax,
        htk=htk,
        norm=norm,
        dtype=np.float32,
    )


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class LogMelSpectrogram(keras.layers.Layer):
    """Log-mel spectrogram in decibels, numerically matching librosa.

    Equal to ``librosa.power_to_db(librosa.feature.melspectrogram(y, ...), ref=ref, amin=amin,
    top_db=top_db)`` per example, with librosa's defaults: periodic Hann window, centred frames
    padded with zeros (``pad_mode="constant"``), slaney mel scale and norm. Written with
    ``keras.ops`` only, so it runs on the TensorFlow, JAX and PyTorch backends. ``top_db`` is
    applied per example (never across the batch), so a quiet clip batched with a loud one keeps
    its own dynamic range.

    Args:
        sample_rate: input rate in Hz.
        n_fft: FFT size (and window length).
        hop_length: samples between frames.
        n_mels: mel bands.
        fmin: lowest band edge in Hz.
        fmax: highest band edge in Hz; ``None`` means ``sample_rate / 2``.
        power: exponent of the magnitude (2.0 = power spectrogram).
        amin: floor before the log, as in ``librosa.power_to_db``.
        ref: reference power for 0 dB.
        top_db: if set, clip each example to ``max - top_db``.
        center: pad ``n_fft // 2`` on both sides so frame ``t`` is centred at ``t * hop``.
        pad_mode: ``"constant"`` (zeros, librosa >= 0.10 default) or ``"reflect"``.
        htk: HTK mel formula instead of slaney.
        norm: filter normalisation, ``"slaney"`` or ``None``.

    Shapes:
        ``(batch, samples)`` → ``(batch, frames, n_mels)`` with
        ``frames = 1 + samples // hop_length`` when centred.

    Example:
        >>> layer = LogMelSpectrogram()
        >>> layer(np.zeros((2, 66150), "float32")).shape
        (2, 130, 128)
    """

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        n_fft: int = 2048,
        hop_length: int = 512,
        n_mels: int = 128,
        fmin: float = 0.0,
        fmax: float | None = None,
        power: float = 2.0,
        amin: float = 1e-10,
        ref: float = 1.0,
        top_db: float | None = None,
        center: bool = True,
        pad_mode: str = "constant",
        htk: bool = False,
        norm: str | None = "slaney",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if pad_mode not in ("constant", "reflect"):
            raise ValueError(f"pad_mode must be 'constant' or 'reflect', got {pad_mode!r}")
        if n_fft <= 0 or hop_length <= 0 or n_mels <= 0 or sample_rate <= 0:
            raise ValueError("sample_rate, n_fft, hop_length and n_mels must be positive")
        if amin <= 0 or ref <= 0:
            raise ValueError("amin and ref must be positive")
        if top_db is not None and top_db < 0:
            raise ValueError(f"top_db must be non-negative, got {top_db}")
        self.sample_rate = int(sample_rate)
        self.n_fft = int(n_fft)
        self.hop_length = int(hop_length)
        self.n_mels = int(n_mels)
        self.fmin = float(fmin)
        self.fmax = None if fmax is None else float(fmax)
        self.power = float(power)
        self.amin = float(amin)
        self.ref = float(ref)
        self.top_db = None if top_db is None else float(top_db)
        self.center = bool(center)
        self.pad_mode = pad_mode
        self.htk = bool(htk)
        self.norm = norm
        # Derived from the recipe, never serialised: loading rebuilds them.
        fb = mel_filterbank(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=self.n_mels,
            fmin=self.fmin,
            fmax=self.fmax,
            htk=self.htk,
            norm=self.norm,
        )
        self._filterbank = np.ascontiguousarray(fb.T)  # (bins, mels) for a right matmul
        n = np.arange(self.n_fft, dtype=np.float64)
        self._window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / self.n_fft)).astype(np.float32)
        self._db_offset = 10.0 * float(np.log10(max(self.amin, self.ref)))

    def num_frames(self, samples: int) -> int:
        """Frames produced for ``samples`` input samples."""
        if self.center:
            return 1 + samples // self.hop_length
        return 1 + (samples - self.n_fft) // self.hop_length

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        samples = input_shape[-1]
        frames = None if samples is None else self.num_frames(int(samples))
        return (input_shape[0], frames, self.n_mels)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.center:
            pad = self.n_fft // 2
            x = ops.pad(x, [[0, 0], [pad, pad]], mode=self.pad_mode)
        real, imag = ops.stft(
            x,
            sequence_length=self.n_fft,
            sequence_stride=self.hop_length,
            fft_length=self.n_fft,
            window=ops.convert_to_tensor(self._window),
            center=False,
        )
        magnitude_sq = real * real + imag * imag
        if self.power == 2.0:
            spec = magnitude_sq
        elif self.power == 1.0:
            spec = ops.sqrt(magnitude_sq)
        else:
            spec = ops.power(magnitude_sq, self.power / 2.0)
        mel = ops.matmul(spec, ops.convert_to_tensor(self._filterbank))
        log_mel = 10.0 * ops.log10(ops.maximum(mel, self.amin)) - self._db_offset
        if self.top_db is not None:
            peak = ops.max(log_mel, axis=(1, 2), keepdims=True)
            log_mel = ops.maximum(log_mel, peak - self.top_db)
        return log_mel

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "n_fft": self.n_fft,
                "hop_length": self.hop_length,
                "n_mels": self.n_mels,
                "fmin": self.fmin,
                "fmax": self.fmax,
                "power": self.power,
                "amin": self.amin,
                "ref": self.ref,
                "top_db": self.top_db,
                "center": self.center,
                "pad_mode": self.pad_mode,
                "htk": self.htk,
                "norm": self.norm,
            }
        )
        return config
