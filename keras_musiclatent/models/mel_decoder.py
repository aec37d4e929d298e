"""Decoder from a latent vector back to a (normalised) log-mel spectrogram."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.sinusoidal_position_encoding import SinusoidalPositionEncoding
from keras_musiclatent.layers.transformer_block import TransformerBlock
from keras_musiclatent.models._blocks import bidirectional_gru, check_conv_config, reduced_grid

__all__ = ["MelDecoder"]


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class MelDecoder(keras.Model):
    """The encoder's steps in reverse: dense → sequence over time → upsampling convs.

    The latent vector is projected, repeated over the encoder's reduced time grid and given
    position codes; a bidirectional GRU (or transformer blocks) turns it into a sequence;
    conv blocks then undo the pooling steps in reverse (3x3 conv + nearest upsampling, the
    first step by a transposed conv to one channel) and the result is cropped (or padded) to
    exactly ``(frames, n_mels)``.

    Args:
        latent_dim: size of the input latent vector.
        frames: time frames of the output log-mel.
        n_mels: mel bands of the output log-mel.
        conv_filters: the encoder's conv filters (used in reverse order).
        pool_sizes: the encoder's pool sizes (undone in reverse order).
        sequence: ``"gru"`` or ``"transformer"``.
        rnn_units: GRU units per direction (``sequence="gru"``).
        hidden_dim: width of the dense projection (and of the transformer).
        num_layers: transformer blocks (``sequence="transformer"``).
        num_heads: attention heads (``sequence="transformer"``).
        dropout: dropout in the transformer blocks.
        linear_path: add a dense map from the latent straight to the log-mel grid. With
            it the decoder can at least represent the best linear (PCA) reconstruction,
            and the conv path learns what a linear map cannot.
        linear_path_trainable: train the linear path (``False`` keeps it as set, e.g. by
            ``initialize_from_pca``: Adam's per-weight steps would wreck its small weights).
        time_latent_dim: numbers per step of a time-varying latent on the pooled time grid
            (``steps`` of them), joined to the sequence before the GRU or transformer; 0: none,
            and the decoder takes the global latent alone.

    Shapes:
        ``(batch, latent_dim)`` → ``(batch, frames, n_mels)`` normalised log-mel; with
        ``time_latent_dim``, ``[(batch, latent_dim), (batch, steps, time_latent_dim)]`` →
        the same.

    Example:
        >>> dec = MelDecoder(latent_dim=4, frames=44, n_mels=32, conv_filters=(8, 8),
        ...                  pool_sizes=((2, 2), (2, 4)), rnn_units=8, hidden_dim=16)
        >>> dec(np.zeros((2, 4), "float32")).shape
        (2, 44, 32)
    """

    def __init__(
        self,
        *,
        latent_dim: int,
        frames: int,
        n_mels: int,
        conv_filters: Sequence[int] = (16, 32, 64, 128),
        pool_sizes: Sequence[Sequence[int]] = ((2, 4), (2, 2), (2, 2), (1, 4)),
        sequence: str = "gru",
        rnn_units: int = 128,
        hidden_dim: int = 256,
        num_layers: int = 2,
        num_heads: int = 4,
        dropout: float = 0.1,
        linear_path: bool = False,
        linear_path_trainable: bool = True,
        time_latent_dim: int = 0,
        **kwargs: Any,
    ) -> None:
        conv_filters, pool_sizes = check_conv_config(conv_filters, pool_sizes)
        if time_latent_dim < 0:
            raise ConfigError(f"time_latent_dim must be >= 0, got {time_latent_dim}")
        if sequence not in ("gru", "transformer"):
            raise ConfigError(f"sequence must be 'gru' or 'transformer', got {sequence!r}")
        steps, mels = reduced_grid(frames, n_mels, pool_sizes)
        channels = conv_filters[-1]

        # === Layers ===
        expand = keras.layers.Dense(hidden_dim, activation="relu", name="expand")
        repeat = keras.layers.RepeatVector(steps, name="repeat_over_time")
        position = SinusoidalPositionEncoding(name="position_encoding")
        if sequence == "gru":
            sequence_layers = [bidirectional_gru(rnn_units, return_sequences=True, name="bigru")]
        else:
            sequence_layers = [
                TransformerBlock(
                    num_heads=num_heads,
                    intermediate_dim=2 * hidden_dim,
                    dropout=dropout,
                    name=f"transformer_{i + 1}",
                )
                for i in range(num_layers)
            ]
        to_grid = keras.layers.Dense(mels * channels, activation="relu", name="to_grid")

        # === Functional Model ===
        inputs = keras.Input(shape=(latent_dim,), name="z")
        x = position(repeat(expand(inputs)))
        z_time = None
        if time_latent_dim:
            z_time = keras.Input(shape=(steps, time_latent_dim), name="z_time")
            x = keras.layers.Concatenate(name="with_time_latent")([x, z_time])
        for layer in sequence_layers:
            x = layer(x)
        x = to_grid(x)
        x = keras.layers.Reshape((steps, mels, channels), name="to_image")(x)
        # Each block convolves at the coarse grid, then upsamples (nearest): the next conv
        # smooths the repeats, and no conv runs at full resolution except the last, a
        # transposed conv straight to one channel (kernel = 2 x stride, so every output
        # pixel gets the same number of taps and no checkerboard appears).
        for i in reversed(range(1, len(conv_filters))):
            name = f"up{i + 1}"
            x = keras.layers.Conv2D(
                conv_filters[i - 1], 3, padding="same", use_bias=False, name=f"{name}_conv"
            )(x)
            x = keras.layers.BatchNormalization(name=f"{name}_bn")(x)
            x = keras.layers.ReLU(name=f"{name}_relu")(x)
            if pool_sizes[i] != (1, 1):
                x = keras.layers.UpSampling2D(pool_sizes[i], name=f"{name}_upsample")(x)
        strides = pool_sizes[0]
        kernel = tuple(2 * s if s > 1 else 3 for s in strides)
        x = keras.layers.Conv2DTranspose(
            1, kernel, strides=strides, padding="same", name="to_log_mel"
        )(x)
        grid_t, grid_m = int(x.shape[1]), int(x.shape[2])
        crop = ((0, max(grid_t - frames, 0)), (0, max(grid_m - n_mels, 0)))
        pad = ((0, max(frames - grid_t, 0)), (0, max(n_mels - grid_m, 0)))
        if any(c[1] for c in crop):
            x = keras.layers.Cropping2D(crop, name="crop")(x)
        if any(p[1] for p in pad):
            x = keras.layers.ZeroPadding2D(pad, name="pad")(x)
        outputs = keras.layers.Reshape((frames, n_mels), name="log_mel")(x)
        if linear_path:
            linear = keras.layers.Dense(
                frames * n_mels, trainable=linear_path_trainable, name="linear_path"
            )(inputs)
            linear = keras.layers.Reshape((frames, n_mels), name="linear_log_mel")(linear)
            outputs = keras.layers.Add(name="log_mel_sum")([outputs, linear])
        kwargs.setdefault("name", "mel_decoder")
        model_inputs = inputs if z_time is None else [inputs, z_time]
        super().__init__(inputs=model_inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.latent_dim = int(latent_dim)
        self.frames = int(frames)
        self.n_mels = int(n_mels)
        self.conv_filters = conv_filters
        self.pool_sizes = pool_sizes
        self.sequence = sequence
        self.rnn_units = int(rnn_units)
        self.hidden_dim = int(hidden_dim)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.dropout = float(dropout)
        self.linear_path = bool(linear_path)
        self.linear_path_trainable = bool(linear_path_trainable)
        self.time_latent_dim = int(time_latent_dim)
        self.steps = int(steps)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "latent_dim": self.latent_dim,
                "frames": self.frames,
                "n_mels": self.n_mels,
                "conv_filters": list(self.conv_filters),
                "pool_sizes": [list(p) for p in self.pool_sizes],
                "sequence": self.sequence,
                "rnn_units": self.rnn_units,
                "hidden_dim": self.hidden_dim,
                "num_layers": self.num_layers,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "linear_path": self.linear_path,
                "linear_path_trainable": self.linear_path_trainable,
                "time_latent_dim": self.time_latent_dim,
            }
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MelDecoder:
        return cls(**config)
