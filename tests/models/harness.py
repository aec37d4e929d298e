"""Shared checks for every layer and model: config round trip, .keras save/load, shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keras
import numpy as np

TINY_AUDIO = {
    "sample_rate": 22050,
    "segment_seconds": 0.5,
    "n_fft": 512,
    "hop_length": 256,
    "n_mels": 32,
}
TINY_SAMPLES = 11025
TINY_FRAMES = 1 + TINY_SAMPLES // 256  # 44
TINY_NET = {
    "conv_filters": (4, 8),
    "pool_sizes": ((2, 4), (2, 2)),
    "rnn_units": 8,
    "hidden_dim": 16,
    "attention_dim": 16,
    "num_layers": 1,
    "num_heads": 2,
    "latent_dim": 4,
}


def tiny_model_kwargs(**overrides: Any) -> dict[str, Any]:
    """Constructor arguments of a MusicVAE/MusicAutoencoder that builds and runs in seconds."""
    return {**TINY_AUDIO, **TINY_NET, "seed": 1, **overrides}


def sinusoids(n: int, *, samples: int = TINY_SAMPLES, seed: int = 0) -> np.ndarray:
    """``(n, samples)`` float32 tones at a few frequencies and levels."""
    rng = np.random.default_rng(seed)
    t = np.arange(samples) / 22050.0
    freqs = rng.choice([220.0, 440.0, 880.0, 1760.0], size=n)
    amps = rng.uniform(0.1, 0.8, size=n)
    return (amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t[None, :])).astype("float32")


def _as_list(x):
    return list(x) if isinstance(x, list | tuple) else [x]


def _to_numpy(tree):
    return keras.tree.map_structure(keras.ops.convert_to_numpy, tree)


def assert_trees_close(a, b, *, atol: float = 1e-5) -> None:
    """Every leaf of two output structures is equal within ``atol``."""
    a, b = _to_numpy(a), _to_numpy(b)
    keras.tree.assert_same_structure(a, b)
    for x, y in zip(keras.tree.flatten(a), keras.tree.flatten(b), strict=True):
        np.testing.assert_allclose(x, y, atol=atol, rtol=1e-5)


def check_config_round_trip(obj) -> Any:
    """``from_config(get_config())`` builds an equal config; returns the copy."""
    config = obj.get_config()
    clone = type(obj).from_config(config)
    assert clone.get_config() == config
    return clone


def check_layer(
    layer_cls,
    init_kwargs: dict[str, Any],
    input_data,
    *,
    expected_output_shape,
    call_kwargs: dict[str, Any] | None = None,
    tmp_path: Path,
) -> Any:
    """Shape, config round trip and .keras save/load (``safe_mode=True``) of a layer.

    The layer is wrapped in a functional model for saving, called with ``training=False``.
    Returns the layer's output on ``input_data``.
    """
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    output = layer(input_data, **call_kwargs)
    shapes = keras.tree.map_structure(lambda t: tuple(t.shape), output)
    assert shapes == expected_output_shape, f"{shapes} != {expected_output_shape}"
    check_config_round_trip(layer)

    inputs = [
        keras.Input(shape=np.shape(x)[1:], dtype=np.asarray(x).dtype) for x in _as_list(input_data)
    ]
    wrapped = layer_cls(**init_kwargs)
    symbolic = wrapped(inputs if isinstance(input_data, list | tuple) else inputs[0], **call_kwargs)
    model = keras.Model(inputs, symbolic)
    data = _as_list(input_data)
    before = model(data, training=False)
    path = tmp_path / "layer.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert_trees_close(before, loaded(data, training=False))
    return output


def check_latent_model(model, waveforms: np.ndarray, *, tmp_path: Path) -> None:
    """Config round trip, output shapes, and identical encode/decode after a .keras round trip."""
    check_config_round_trip(model)
    outputs = model(waveforms, training=False)
    batch = waveforms.shape[0]
    assert tuple(outputs["reconstruction"].shape) == (batch, model.frames, model.n_mels)
    assert tuple(outputs["log_mel"].shape) == (batch, model.frames, model.n_mels)
    assert tuple(outputs["mask"].shape) == (batch, model.frames)
    assert tuple(outputs["z"].shape) == (batch, model.latent_dim)

    z_mean, _, _ = model.encode(waveforms, sample=False)
    decoded = model.decode(z_mean)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is type(model)
    assert loaded.get_config() == model.get_config()
    loaded_mean, _, _ = loaded.encode(waveforms, sample=False)
    np.testing.assert_allclose(loaded_mean, z_mean, atol=1e-5)
    np.testing.assert_allclose(loaded.decode(z_mean), decoded, atol=1e-4)
    for a, b in zip(loaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path
        )
