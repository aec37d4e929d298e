"""Building blocks shared by the encoders and the decoder (functional-API helpers)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras

from keras_musiclatent.errors import ConfigError

STEMS = ("cnn", "mobilenet_v2")


def check_conv_config(
    conv_filters: Sequence[int], pool_sizes: Sequence[Sequence[int]]
) -> tuple[tuple[int, ...], tuple[tuple[int, int], ...]]:
    """Validate and normalise ``conv_filters``/``pool_sizes`` to tuples."""
    filters = tuple(int(f) for f in conv_filters)
    pools = tuple((int(p[0]), int(p[1])) for p in pool_sizes)
    if not filters or len(filters) != len(pools):
        raise ConfigError(
            f"conv_filters and pool_sizes need the same, non-zero length; "
            f"got {len(filters)} and {len(pools)}"
        )
    if any(f <= 0 for f in filters) or any(p[0] <= 0 or p[1] <= 0 for p in pools):
        raise ConfigError("conv_filters and pool_sizes must be positive")
    return filters, pools


def reduced_grid(frames: int, n_mels: int, pool_sizes: Sequence[Sequence[int]]) -> tuple[int, int]:
    """(time, mel) size after the pooling blocks ('same' pooling rounds up)."""
    t, m = frames, n_mels
    for pt, pm in pool_sizes:
        t, m = math.ceil(t / pt), math.ceil(m / pm)
    return t, m


def conv_block(x, *, filters: int, pool_size: tuple[int, int], name: str):
    """3x3 conv → max pool → batch norm → ReLU (Choi et al. 2017).

    Pooling before BN/ReLU gives the same features up to BN's running statistics (max
    commutes with the monotonic ReLU) at a quarter or less of their memory traffic, which
    dominates at full spectrogram resolution on CPU.
    """
    x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv")(x)
    if pool_size != (1, 1):
        x = keras.layers.MaxPooling2D(pool_size, padding="same", name=f"{name}_pool")(x)
    x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
    return keras.layers.ReLU(name=f"{name}_relu")(x)


def conv_front_end(
    x,
    *,
    frames: int,
    n_mels: int,
    conv_filters: tuple[int, ...],
    pool_sizes: tuple[tuple[int, int], ...],
    stem: str,
    stem_weights: str | None,
):
    """``(batch, frames, n_mels)`` → ``(batch, steps, features)`` over time.

    ``stem="cnn"`` stacks :func:`conv_block`; ``stem="mobilenet_v2"`` runs a
    ``keras.applications.MobileNetV2`` (alpha 0.35) on the spectrogram as an image, optionally
    ImageNet-initialised (``stem_weights="imagenet"``), then projects its channels to
    ``conv_filters[-1]``.
    """
    x = keras.layers.Reshape((frames, n_mels, 1), name="to_image")(x)
    if stem == "cnn":
        for i, (filters, pool) in enumerate(zip(conv_filters, pool_sizes, strict=True)):
            x = conv_block(x, filters=filters, pool_size=pool, name=f"block{i + 1}")
    elif stem == "mobilenet_v2":
        # One input channel repeated as RGB would waste the pretrained colour filters;
        # a learned 1x1 projection lets training pick the mix.
        x = keras.layers.Conv2D(3, 1, name="stem_rgb")(x)
        backbone = keras.applications.MobileNetV2(
            input_shape=(frames, n_mels, 3),
            alpha=0.35,
            include_top=False,
            weights=stem_weights,
        )
        x = backbone(x)
        x = keras.layers.Conv2D(conv_filters[-1], 1, use_bias=False, name="stem_projection")(x)
        x = keras.layers.BatchNormalization(name="stem_projection_bn")(x)
        x = keras.layers.ReLU(name="stem_projection_relu")(x)
    else:
        raise ConfigError(f"stem must be one of {STEMS}, got {stem!r}")
    steps, mels, channels = x.shape[1], x.shape[2], x.shape[3]
    # Mel positions and channels become one feature vector per time step (Choi et al. CRNN).
    return keras.layers.Reshape((steps, mels * channels), name="to_sequence")(x)


def bidirectional_gru(units: int, *, return_sequences: bool, name: str) -> keras.layers.Layer:
    """A ``Bidirectional(GRU)`` that stays correct when built inside ``keras.saving.load_model``.

    ``Bidirectional`` serializes its template layer and rebuilds it, inside Keras's
    object-sharing scope while a model loads. That scope matches objects by ``id()``, and our
    models build their layers from hyperparameters during the load: once a template is freed,
    the next template can get its ``id`` and come back as the earlier wrapper's GRU (one GRU in
    two wrappers, or an encoder GRU in the decoder). Giving the backward layer means only the
    forward template is serialized, and keeping that template alive as long as its wrapper means
    no later template can take its ``id`` while the scope lasts.
    """
    template = keras.layers.GRU(units, return_sequences=return_sequences)
    wrapper = keras.layers.Bidirectional(
        template,
        backward_layer=keras.layers.GRU(
            units, return_sequences=return_sequences, go_backwards=True
        ),
        name=name,
    )
    # object.__setattr__ keeps the template out of Keras's layer tracking (no weights, not saved).
    object.__setattr__(wrapper, "_template_kept_alive", template)
    return wrapper
