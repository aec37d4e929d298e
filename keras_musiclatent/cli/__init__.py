"""The ``musiclatent`` command line: :func:`main`, one module per command group."""

from keras_musiclatent.cli.main import main

__all__ = ["main"]
