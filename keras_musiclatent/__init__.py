"""keras-musiclatent: latent spaces of short music clips with Keras 3."""

from __future__ import annotations

__version__ = "0.2.0"

from keras_musiclatent.errors import (
    AudioDecodeError,
    AudioError,
    AudioFileNotFoundError,
    AudioIsDirectoryError,
    CompressedStreamError,
    ConfigError,
    CorruptModelError,
    DatasetError,
    EmptyAudioError,
    IncompatibleModelError,
    InvalidAudioError,
    LatentShapeError,
    MissingComponentError,
    MusicLatentError,
    UnknownModelError,
)
from keras_musiclatent.latent_space import LatentSpace

__all__ = [
    "AudioDecodeError",
    "AudioError",
    "AudioFileNotFoundError",
    "AudioIsDirectoryError",
    "CompressedStreamError",
    "ConfigError",
    "CorruptModelError",
    "DatasetError",
    "EmptyAudioError",
    "IncompatibleModelError",
    "InvalidAudioError",
    "LatentShapeError",
    "LatentSpace",
    "MissingComponentError",
    "MusicLatentError",
    "UnknownModelError",
    "__version__",
]
