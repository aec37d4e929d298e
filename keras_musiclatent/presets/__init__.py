"""Presets: the model zoo by name, and the files of a packaged model.

- :mod:`.registry`: ``list_models``, ``model_info``, ``resolve`` over ``zoo/index.json``
  (sha256 of every file, checked before anything is parsed)
- :mod:`.files`: read and write a model folder (``config.json``, ``model.weights.h5``,
  ``metadata.json``, latent statistics, genre head), loaded in Keras safe mode
- :mod:`.pretrained`: ``load_encoder_weights`` copies a zoo network (``musicnn-msd``) into a
  latent model's pretrained encoder

Example:
    >>> from keras_musiclatent.presets import list_models
    >>> "gtzan-vae" in list_models()
    True
"""

from __future__ import annotations

from typing import Any

from keras_musiclatent.presets.registry import list_models, model_info, resolve

__all__ = ["list_models", "load_encoder_weights", "model_info", "resolve"]


def __getattr__(name: str) -> Any:
    # load_encoder_weights loads Keras: the registry alone (``musiclatent zoo``) must not.
    if name == "load_encoder_weights":
        from keras_musiclatent.presets.pretrained import load_encoder_weights

        return load_encoder_weights
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
