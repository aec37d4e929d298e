"""Waveform → musicnn's log-compressed mel patches, ``log10(10000 * mel + 1)``, inside the model."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from keras_musiclatent.layers.log_mel_spectrogram import LogMelSpectrogram

__all__ = ["MusicnnLogMel"]

FLOAT16_MAX = 65504.0

# The parent's dB conversion and framing options do not apply to this recipe.
_FIXED_PARENT_OPTIONS = ("power", "amin", "ref", "top_db", "center", "pad_mode", "htk", "norm")


def _round_to_float16(x):
    """Round float32 values to the nearest float16 and return them as float32."""
    return ops.cast(ops.cast(x, "float16"), "float32")


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class MusicnnLogMel(LogMelSpectrogram):
    """The input representation of musicnn (Pons & Serra 2019): ``log10(C * mel + 1)``.

    The mel power spectrogram is librosa's (periodic Hann window, slaney mel scale and norm,
    power 2), as in :class:`LogMelSpectrogram`, whose filterbank and window this layer reuses.
    Two details follow musicnn's extractor so a converted checkpoint sees the inputs it expects:

    * Framing: a window of ``samples`` gives the frames of a musicnn patch cut from the start of
      a file: frame ``t`` is centred at ``t * hop_length``, the left edge is padded with zeros,
      and only frames whose window ends inside the input are kept, so 3 s at 16 kHz give 187
      frames (musicnn's ``n_frames``), ``1 + (samples - n_fft // 2) // hop_length`` in general.
    * ``float16_rounding``: musicnn stores the mel spectrogram as float16 and evaluates
      ``log10(C * mel + 1)`` in float16, rounding after every step; the layer rounds the same
      way. Where float16 overflows (``C * mel > 65504``, about 1% of the bins of loud music)
      musicnn's extractor produces ``inf`` and its network a constant, input-independent
      output; this layer saturates at the float16 maximum instead (a log value of 4.816, the
      largest finite value of musicnn's pipeline). With ``float16_rounding=False`` the
      compression is evaluated in float32 without saturation.

    Written with ``keras.ops`` only (TensorFlow, JAX, PyTorch). No weights: the recipe is the
    config and the filterbank is rebuilt on load.

    Args:
        sample_rate: input rate in Hz (musicnn: 16000).
        n_fft: FFT size and window length.
        hop_length: samples between frames.
        n_mels: mel bands.
        fmin: lowest band edge in Hz.
        fmax: highest band edge in Hz; ``None`` means ``sample_rate / 2``.
        compression: ``C`` in ``log10(C * mel + 1)``.
        float16_rounding: round as musicnn's float16 pipeline does (see above).

    Shapes:
        ``(batch, samples)`` → ``(batch, 1 + (samples - n_fft // 2) // hop_length, n_mels)``.

    Example:
        >>> layer = MusicnnLogMel()
        >>> layer(np.zeros((2, 48000), "float32")).shape
        (2, 187, 96)
    """

    def __init__(
        self,
        *,
        sample_rate: int = 16000,
        n_fft: int = 512,
        hop_length: int = 256,
        n_mels: int = 96,
        fmin: float = 0.0,
        fmax: float | None = None,
        compression: float = 10000.0,
        float16_rounding: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
            n_mels=n_mels,
            fmin=fmin,
            fmax=fmax,
            power=2.0,
            center=True,
            pad_mode="constant",
            htk=False,
            norm="slaney",
            **kwargs,
        )
        if compression <= 0:
            raise ValueError(f"compression must be positive, got {compression}")
        self.compression = float(compression)
        self.float16_rounding = bool(float16_rounding)

    def num_frames(self, samples: int) -> int:
        """Frames produced for ``samples`` input samples (musicnn's patch length)."""
        return 1 + (samples - self.n_fft // 2) // self.hop_length

    def mel_power(self, inputs):
        """The mel power spectrogram ``(batch, frames, n_mels)`` before compression."""
        x = ops.cast(inputs, "float32")
        # Left padding only: the frames are those of a patch cut from a centred spectrogram of
        # a longer signal, and no frame reaches past the end of the input.
        x = ops.pad(x, [[0, 0], [self.n_fft // 2, 0]])
        real, imag = ops.stft(
            x,
            sequence_length=self.n_fft,
            sequence_stride=self.hop_length,
            fft_length=self.n_fft,
            window=ops.convert_to_tensor(self._window),
            center=False,
        )
        return ops.matmul(real * real + imag * imag, ops.convert_to_tensor(self._filterbank))

    def call(self, inputs):
        mel = self.mel_power(inputs)
        if not self.float16_rounding:
            return ops.log10(self.compression * mel + 1.0)
        # NumPy's float16 arithmetic computes in float32 and rounds each result to float16;
        # for C = 10000 the float32 product and sum of float16 values are exact, so rounding
        # after each step gives the same numbers.
        mel = _round_to_float16(ops.minimum(mel, FLOAT16_MAX))
        scaled = _round_to_float16(ops.minimum(self.compression * mel, FLOAT16_MAX))
        shifted = _round_to_float16(scaled + 1.0)  # at most 65505, which rounds to 65504
        return _round_to_float16(ops.log10(shifted))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in _FIXED_PARENT_OPTIONS:
            config.pop(key, None)
        config.update(
            {
                "compression": self.compression,
                "float16_rounding": self.float16_rounding,
            }
        )
        return config
