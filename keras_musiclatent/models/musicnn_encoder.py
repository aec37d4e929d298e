"""musicnn as the front end of a latent model: waveform at the model's rate → 200-d features."""

from __future__ import annotations

from typing import Any

import keras

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.resample import Resample
from keras_musiclatent.models.musicnn import MusicnnBackbone

__all__ = ["MUSICNN_RATE", "MusicnnEncoder"]

#: The rate musicnn was trained at.
MUSICNN_RATE = 16000


@keras.saving.register_keras_serializable(package="keras_musiclatent")
class MusicnnEncoder(keras.layers.Layer):
    """Resample to 16 kHz inside the model, then musicnn's network up to its penultimate layer.

    The latent model keeps its own rate and log-mel (the decoder's target and the evaluation
    protocol's spectrogram); only this front end sees 16 kHz, through a fixed polyphase
    :class:`~keras_musiclatent.layers.Resample` (no weights, differentiable). The backbone is a
    :class:`MusicnnBackbone` with the ``MSD_musicnn`` layout, so the ``musicnn-msd`` zoo weights
    load into it (``keras_musiclatent.presets.load_encoder_weights``); being convolutional in
    time, it takes windows of any length.

    Frozen (``trainable = False``) it runs in inference mode (batch-norm statistics kept,
    dropout off) even while the model trains; trainable, it is fine-tuned with musicnn's own
    dropout.

    Args:
        sample_rate: the latent model's input rate in Hz.
        samples: samples per input window at ``sample_rate``.
        backbone: extra :class:`MusicnnBackbone` options (tiny test networks); the default is
            the ``MSD_musicnn`` layout.

    Shapes:
        ``(batch, samples)`` → ``(batch, embedding_dim)`` (200 for the MSD layout).

    Example:
        >>> encoder = MusicnnEncoder(sample_rate=22050, samples=66150)
        >>> encoder(np.zeros((2, 66150), "float32")).shape
        (2, 200)
    """

    def __init__(
        self,
        *,
        sample_rate: int,
        samples: int,
        backbone: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        backbone = dict(backbone or {})
        fixed = {"input_type", "sample_rate", "segment_seconds"} & set(backbone)
        if fixed:
            raise ConfigError(f"MusicnnEncoder sets {sorted(fixed)} itself")
        self.sample_rate = int(sample_rate)
        self.samples = int(samples)
        self.backbone_options = backbone
        self.resample = Resample(
            source_rate=self.sample_rate, target_rate=MUSICNN_RATE, name="resample"
        )
        resampled = self.resample.output_length(self.samples)
        self.backbone = MusicnnBackbone(
            input_type="waveform",
            sample_rate=MUSICNN_RATE,
            segment_seconds=resampled / MUSICNN_RATE,
            name="musicnn",
            **backbone,
        )
        # The tag layer sits after the features: it never receives a gradient here.
        self.backbone.get_layer("tags").trainable = False
        self.output_dim = int(self.backbone.embedding_dim)

    def call(self, audio, training=None):
        # A frozen front end stays in inference mode while the rest of the model trains.
        training = bool(training) and self.trainable
        return self.backbone(self.resample(audio), training=training)["penultimate"]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "sample_rate": self.sample_rate,
                "samples": self.samples,
                "backbone": dict(self.backbone_options),
            }
        )
        return config
