"""Optional heavy imports of the training code, each behind one named function."""

from __future__ import annotations

import importlib.util
from types import ModuleType

__all__ = ["has_tensorflow", "tensorflow"]


def has_tensorflow() -> bool:
    """Whether TensorFlow can be imported (TensorBoard summaries and tf.distribute need it)."""
    return importlib.util.find_spec("tensorflow") is not None


def tensorflow() -> ModuleType:
    """TensorFlow, imported on first use: the JAX backend trains without it."""
    import tensorflow as tf

    return tf
