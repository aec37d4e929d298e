"""keras-musiclatent: latent spaces of short music clips with Keras 3."""

from __future__ import annotations

__version__ = "0.1.0"

from keras_musiclatent.errors import (
    AudioDecodeError,
    AudioError,
    AudioFileNotFoundError,
    AudioIsDirectoryError,
    ConfigError,
    DatasetError,
    EmptyAudioError,
    IncompatibleModelError,
    InvalidAudioError,
    MusicLatentError,
    UnknownModelError,
)

__all__ = [
    "AudioDecodeError",
    "AudioError",
    "AudioFileNotFoundError",
    "AudioIsDirectoryError",
    "ConfigError",
    "DatasetError",
    "EmptyAudioError",
    "IncompatibleModelError",
    "InvalidAudioError",
    "MusicLatentError",
    "UnknownModelError",
    "__version__",
]
