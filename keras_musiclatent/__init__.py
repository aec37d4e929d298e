"""keras-musiclatent: latent spaces of short music clips with Keras 3.

Example:
    >>> from keras_musiclatent import LatentSpace
    >>> space = LatentSpace.load("gtzan-vae")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.3.0"

from keras_musiclatent.errors import (
    AudioDecodeError,
    AudioError,
    AudioFileNotFoundError,
    AudioIsDirectoryError,
    CompressedStreamError,
    ConfigError,
    CorruptModelError,
    DamagedStateError,
    DatasetError,
    EmptyAudioError,
    FolderInUseError,
    IncompatibleModelError,
    InvalidAudioError,
    LatentShapeError,
    MissingComponentError,
    MusicLatentError,
    UnknownModelError,
)

if TYPE_CHECKING:
    from keras_musiclatent.latent_space import LatentSpace

__all__ = [
    "AudioDecodeError",
    "AudioError",
    "AudioFileNotFoundError",
    "AudioIsDirectoryError",
    "CompressedStreamError",
    "ConfigError",
    "CorruptModelError",
    "DamagedStateError",
    "DatasetError",
    "EmptyAudioError",
    "FolderInUseError",
    "IncompatibleModelError",
    "InvalidAudioError",
    "LatentShapeError",
    "LatentSpace",
    "MissingComponentError",
    "MusicLatentError",
    "UnknownModelError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    # LatentSpace loads Keras and its backend: importing the package (e.g. for the command
    # line, which first hides the backend's start-up logs) must not.
    if name == "LatentSpace":
        from keras_musiclatent.latent_space import LatentSpace

        return LatentSpace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
