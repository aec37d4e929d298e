"""Audio in and out, the window rule, log-mel inversion and NumPy features.

``load``/``save``/``info``/``stream`` (:mod:`.io`), ``segment`` and friends (:mod:`.windows`),
``logmel_to_audio`` (:mod:`.inversion`), descriptors (:mod:`.features`).

Example:
    >>> from keras_musiclatent import audio
    >>> y = audio.load("song.mp3")  # float32 mono at 22050 Hz
    >>> windows, lengths = audio.segment(y, 22050)  # (n, 66150), (n,)
"""

from keras_musiclatent.audio.io import (
    DEFAULT_SAMPLE_RATE,
    AudioInfo,
    duration_to_frames,
    info,
    load,
    prepare,
    resample,
    save,
    stream,
)
from keras_musiclatent.audio.windows import (
    DEFAULT_SEGMENT_SECONDS,
    MIN_REMAINDER_SECONDS,
    segment,
    segment_count,
    stream_windows,
    window_samples,
)

__all__ = [
    "DEFAULT_SAMPLE_RATE",
    "DEFAULT_SEGMENT_SECONDS",
    "MIN_REMAINDER_SECONDS",
    "AudioInfo",
    "duration_to_frames",
    "info",
    "load",
    "prepare",
    "resample",
    "save",
    "segment",
    "segment_count",
    "stream",
    "stream_windows",
    "window_samples",
]
