"""Typed exceptions of keras-musiclatent.

Every error the package raises on purpose derives from :class:`MusicLatentError`, so callers
can catch one type, and the CLI can print one line for it and exit non-zero.
"""

from __future__ import annotations

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
    "MissingComponentError",
    "MusicLatentError",
    "UnknownModelError",
]


class MusicLatentError(Exception):
    """Base class of every error raised on purpose by keras-musiclatent."""


class AudioError(MusicLatentError):
    """A problem with an audio file or array."""


class AudioFileNotFoundError(AudioError, FileNotFoundError):
    """The audio path does not exist."""


class AudioIsDirectoryError(AudioError, IsADirectoryError):
    """A directory was given where an audio file was expected."""


class AudioDecodeError(AudioError):
    """The file is not audio, or its data is truncated or corrupt."""


class EmptyAudioError(AudioError, ValueError):
    """The audio holds zero samples."""


class InvalidAudioError(AudioError, ValueError):
    """The samples are unusable: NaN/inf values, or a wrong shape or rate."""


class DatasetError(MusicLatentError):
    """A dataset directory, split file or metadata table is missing or malformed."""


class ConfigError(MusicLatentError, ValueError):
    """A configuration (model, training, search) is invalid."""


class UnknownModelError(MusicLatentError, KeyError):
    """A model name is not in the zoo."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class IncompatibleModelError(MusicLatentError):
    """Model files, weights or a compressed stream do not match the model in use."""


class CorruptModelError(IncompatibleModelError):
    """A model file is missing, unreadable, or fails its sha256 check."""


class CompressedStreamError(MusicLatentError, ValueError):
    """A compressed stream is not ours, of an unknown version, truncated or damaged."""


class LatentShapeError(MusicLatentError, ValueError):
    """A latent array, dimension index or vector does not fit the model's latent space."""


class MissingComponentError(MusicLatentError):
    """The model lacks a part the call needs (e.g. a genre head or latent statistics)."""


class FolderInUseError(MusicLatentError):
    """Another process holds the run (or search) folder."""


class DamagedStateError(MusicLatentError):
    """A state file of a run or search folder cannot be read and has no intact copy."""
