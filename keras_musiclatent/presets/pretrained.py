"""Pretrained front ends from the zoo: copy a shipped network's weights into a latent model."""

from __future__ import annotations

from typing import Any

from keras_musiclatent.errors import IncompatibleModelError
from keras_musiclatent.models.musicnn import MusicnnBackbone
from keras_musiclatent.models.musicnn_encoder import MusicnnEncoder
from keras_musiclatent.presets import registry
from keras_musiclatent.presets.files import load_model_files

__all__ = ["load_encoder_weights"]

# Options that may differ between the zoo network and the front end it initialises: the
# window length (the network is convolutional in time) and bookkeeping.
_FREE = {"name", "segment_seconds", "trainable", "dtype"}


def _layout(model: MusicnnBackbone) -> dict[str, Any]:
    return {k: v for k, v in model.get_config().items() if k not in _FREE}


def load_encoder_weights(model: Any, name: str = "musicnn-msd") -> Any:
    """Initialise a latent model's pretrained networks from a zoo model's shipped files.

    Fills the musicnn encoder (``encoder="musicnn"``), the musicnn teacher
    (``teacher="musicnn"``) and the musicnn features (``musicnn_features=True``), whichever
    the model has, with the default ``MSD_musicnn``
    layout. The zoo files are checked against their sha256 before they are read, and nothing
    is downloaded.

    Args:
        model: a :class:`~keras_musiclatent.models.LatentAudioModel`.
        name: the zoo model whose weights to copy.

    Returns:
        ``model``, those networks' weights replaced.

    Raises:
        IncompatibleModelError: the model has neither a musicnn encoder nor a teacher, or
            their layout differs from the zoo network's.

    Example:
        >>> model = MusicVAE(encoder="musicnn", encoder_trainable=False)  # doctest: +SKIP
        >>> load_encoder_weights(model, "musicnn-msd")  # doctest: +SKIP
    """
    fronts = [
        part
        for part in (
            getattr(model, "encoder", None),
            getattr(model, "teacher", None),
            getattr(model, "semantic", None),
        )
        if isinstance(part, MusicnnEncoder)
    ]
    if not fronts:
        raise IncompatibleModelError(
            f"{name} weights fit a model with encoder='musicnn', teacher='musicnn' or "
            "musicnn_features=True; this one has none of them"
        )
    folder, expected = registry.resolve(name)
    source = load_model_files(folder, expected_sha256=expected).model
    if not isinstance(source, MusicnnBackbone):
        raise IncompatibleModelError(f"{name} is a {type(source).__name__}, not a musicnn network")
    for front in fronts:
        target = front.backbone
        if _layout(source) != _layout(target):
            differ = sorted(
                k for k in _layout(source) if _layout(source)[k] != _layout(target).get(k)
            )
            raise IncompatibleModelError(
                f"the {front.name}'s musicnn layout differs from {name}'s in {differ}; use the "
                "default musicnn_backbone"
            )
        target.set_weights(source.get_weights())
    return model
