"""Shared behaviour of the waveform → latent → log-mel models (inputs, encode/decode, adapt)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import keras
import numpy as np
from keras import ops

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.band_normalization import BandNormalization
from keras_musiclatent.layers.frame_mask import FrameMask
from keras_musiclatent.layers.log_mel_spectrogram import LogMelSpectrogram
from keras_musiclatent.models.attention_encoder import AttentionEncoder
from keras_musiclatent.models.crnn_encoder import CRNNEncoder
from keras_musiclatent.models.losses import masked_reconstruction_loss, spectral_rmse_db
from keras_musiclatent.models.mel_decoder import MelDecoder

__all__ = ["LatentAudioModel"]

ENCODERS = ("crnn", "attention")


def build_parts(
    *,
    encoder: str,
    latent_dim: int,
    sample_rate: int,
    segment_seconds: float,
    n_fft: int,
    hop_length: int,
    n_mels: int,
    conv_filters,
    pool_sizes,
    rnn_units: int,
    hidden_dim: int,
    attention_dim: int,
    num_layers: int,
    num_heads: int,
    decoder_sequence: str | None,
    dropout: float,
    stem: str,
    stem_weights: str | None,
    linear_path: bool = False,
    linear_path_trainable: bool = True,
) -> dict[str, Any]:
    """The layers both models share: front end, encoder backbone, decoder."""
    if encoder not in ENCODERS:
        raise ConfigError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
    if latent_dim <= 0:
        raise ConfigError(f"latent_dim must be positive, got {latent_dim}")
    samples = round(sample_rate * segment_seconds)
    if samples < n_fft:
        raise ConfigError(f"a segment ({samples} samples) must be at least n_fft ({n_fft})")
    log_mel = LogMelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, name="log_mel"
    )
    frames = log_mel.num_frames(samples)
    if encoder == "crnn":
        backbone = CRNNEncoder(
            frames=frames,
            n_mels=n_mels,
            conv_filters=conv_filters,
            pool_sizes=pool_sizes,
            rnn_units=rnn_units,
            output_dim=hidden_dim,
            dropout=dropout,
            stem=stem,
            stem_weights=stem_weights,
            name="encoder",
        )
    else:
        backbone = AttentionEncoder(
            frames=frames,
            n_mels=n_mels,
            conv_filters=conv_filters,
            pool_sizes=pool_sizes,
            hidden_dim=attention_dim,
            num_layers=num_layers,
            num_heads=num_heads,
            intermediate_dim=2 * attention_dim,
            output_dim=hidden_dim,
            dropout=dropout,
            stem=stem,
            stem_weights=stem_weights,
            name="encoder",
        )
    if decoder_sequence is None:
        decoder_sequence = "gru" if encoder == "crnn" else "transformer"
    decoder = MelDecoder(
        latent_dim=latent_dim,
        frames=frames,
        n_mels=n_mels,
        conv_filters=conv_filters,
        pool_sizes=pool_sizes,
        sequence=decoder_sequence,
        rnn_units=rnn_units,
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        num_heads=num_heads,
        dropout=dropout,
        linear_path=linear_path,
        linear_path_trainable=linear_path_trainable,
        name="decoder",
    )
    return {
        "samples": samples,
        "frames": frames,
        "log_mel": log_mel,
        "frame_mask": FrameMask(frames=frames, hop_length=hop_length, name="frame_mask"),
        "band_norm": BandNormalization(n_bands=n_mels, name="band_norm"),
        "encoder": backbone,
        "decoder": decoder,
        "decoder_sequence": decoder_sequence,
    }


class LatentAudioModel(keras.Model):
    """Base of :class:`MusicVAE` and :class:`MusicAutoencoder`; not used directly.

    Inputs: a waveform batch ``(batch, samples)`` float32, or a dict
    ``{"audio": (batch, samples) float32, "length": (batch,) int32}`` where ``length`` is the
    number of real samples of each zero-padded segment (missing = all real).

    Outputs of ``call``/``predict``: a dict with ``"reconstruction"`` (decoded log-mel, dB,
    ``(batch, frames, n_mels)``), ``"log_mel"`` (the input's log-mel, dB, same shape),
    ``"mask"`` (``(batch, frames)``, 1 = real frame) and ``"z"`` (``(batch, latent_dim)``,
    plus ``"z_mean"``/``"z_log_var"`` for the VAE).
    """

    # Subclasses set these in __init__ (see build_parts).
    samples: int
    frames: int

    def _init_trackers(self) -> None:
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.spectral_rmse_tracker = keras.metrics.Mean(name="spectral_rmse_db")

    # --- inputs ---------------------------------------------------------------------------

    def _standardize_audio_inputs(self, inputs):
        if isinstance(inputs, dict):
            audio = inputs["audio"]
            length = inputs.get("length")
        elif isinstance(inputs, list | tuple) and len(inputs) == 2:
            audio, length = inputs
        else:
            audio, length = inputs, None
        # numpy in, tensors out: Keras refuses a dict that mixes arrays and tensors.
        if isinstance(audio, np.ndarray):
            audio = ops.convert_to_tensor(audio, "float32")
        if isinstance(length, np.ndarray | list):
            length = ops.convert_to_tensor(np.asarray(length, "int32"))
        if length is None:
            length = ops.cast(ops.ones_like(audio[:, 0]), "int32") * self.samples
        return {"audio": audio, "length": length}

    def __call__(self, inputs, *args, **kwargs):
        # Standardise before Keras checks the inputs against the two named model inputs.
        return super().__call__(self._standardize_audio_inputs(inputs), *args, **kwargs)

    def call(self, inputs, training=None, mask=None):
        return super().call(self._standardize_audio_inputs(inputs), training=training, mask=mask)

    def compute_output_spec(self, inputs, training=None, mask=None):
        return super().compute_output_spec(
            self._standardize_audio_inputs(inputs), training=training, mask=mask
        )

    # --- losses and metrics ---------------------------------------------------------------

    def _reconstruction_terms(self, y_pred):
        """(reconstruction loss on the normalised log-mel, per-example spectral RMSE in dB)."""
        scale = ops.maximum(ops.convert_to_tensor(self.band_norm.std), self.band_norm.epsilon)
        recon = masked_reconstruction_loss(
            y_pred["log_mel"],
            y_pred["reconstruction"],
            y_pred["mask"],
            kind=self.reconstruction_loss,
            top_db=self.loss_top_db,
            scale=scale,
        )
        rmse = spectral_rmse_db(y_pred["log_mel"], y_pred["reconstruction"], y_pred["mask"])
        return recon, rmse

    def _regularization_losses(self):
        """Sum of weight-regulariser and ``add_loss`` terms (0.0 when there are none)."""
        losses = [ops.sum(ops.cast(loss, "float32")) for loss in self.losses]
        if not losses:
            return 0.0
        return ops.sum(ops.stack(losses))

    # --- user API ---------------------------------------------------------------------------

    @property
    def segment_samples(self) -> int:
        """Samples per input segment."""
        return self.samples

    def _batches(self, data, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        if isinstance(data, dict):
            audio = np.asarray(data["audio"], "float32")
            length = data.get("length")
            length = None if length is None else np.asarray(length, "int32")
        else:
            audio, length = np.asarray(data, "float32"), None
        if audio.ndim == 1:
            audio = audio[None, :]
        if audio.ndim != 2 or audio.shape[1] != self.samples:
            raise ConfigError(
                f"expected waveforms of shape (batch, {self.samples}), got {audio.shape}"
            )
        for start in range(0, audio.shape[0], batch_size):
            stop = start + batch_size
            yield audio[start:stop], None if length is None else length[start:stop]

    def _encode_batch(self, audio, *, sample: bool):
        raise NotImplementedError

    def encode(
        self, waveforms, *, sample: bool = True, batch_size: int = 32
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Encode waveforms to latents.

        Args:
            waveforms: ``(batch, samples)`` array (or ``(samples,)``), or a dict with ``"audio"``
                (``"length"`` is accepted and ignored: the encoder sees the padded segment).
            sample: draw ``z`` from the posterior (VAE); ``False`` returns ``z = z_mean``.
            batch_size: examples per forward pass.

        Returns:
            ``(z_mean, z_log_var, z)``, each ``(batch, latent_dim)`` numpy float32.
        """
        parts = [
            self._encode_batch(ops.convert_to_tensor(a), sample=sample)
            for a, _ in self._batches(waveforms, batch_size)
        ]
        return tuple(np.concatenate([ops.convert_to_numpy(p[i]) for p in parts]) for i in range(3))

    def encode_log_mel(self, log_mel, *, batch_size: int = 32) -> np.ndarray:
        """Latent means ``(batch, latent_dim)`` of log-mels in dB ``(batch, frames, n_mels)``.

        Lets decodes be re-encoded (e.g. to classify an interpolation step) without audio.
        """
        log_mel = np.asarray(log_mel, "float32")
        if log_mel.ndim != 3 or log_mel.shape[1:] != (self.frames, self.n_mels):
            raise ConfigError(
                f"expected log-mels (batch, {self.frames}, {self.n_mels}), got {log_mel.shape}"
            )
        parts = [
            ops.convert_to_numpy(
                self._encode_log_mel(
                    ops.convert_to_tensor(log_mel[i : i + batch_size]), sample=False
                )[0]
            )
            for i in range(0, len(log_mel), batch_size)
        ]
        return np.concatenate(parts)

    def _decode_batch(self, z):
        normalised = self.decoder(z, training=False)
        return self.band_norm(normalised, inverse=True)

    def decode(self, z, *, batch_size: int = 32) -> np.ndarray:
        """Decode latents ``(batch, latent_dim)`` to log-mel dB ``(batch, frames, n_mels)``."""
        z = np.asarray(z, "float32")
        if z.ndim == 1:
            z = z[None, :]
        outs = [
            ops.convert_to_numpy(self._decode_batch(ops.convert_to_tensor(z[i : i + batch_size])))
            for i in range(0, z.shape[0], batch_size)
        ]
        return np.concatenate(outs)

    def reconstruct(self, waveforms, *, batch_size: int = 32) -> np.ndarray:
        """Log-mel dB of ``decode(encode(waveforms, sample=False)[0])``."""
        z_mean, _, _ = self.encode(waveforms, sample=False, batch_size=batch_size)
        return self.decode(z_mean, batch_size=batch_size)

    def log_mel(self, waveforms) -> np.ndarray:
        """The input log-mel dB ``(batch, frames, n_mels)`` the model sees."""
        return ops.convert_to_numpy(self.log_mel_layer(ops.convert_to_tensor(waveforms)))

    def adapt(self, data: Any, *, batch_size: int = 32) -> None:
        """Set the per-band normalisation statistics from training audio.

        Call once before training. ``data`` is a waveform array ``(n, samples)``, a dict
        ``{"audio", "length"}`` of arrays, or an iterable of batches (arrays, such dicts, or
        ``(x, y)`` tuples whose ``x`` is one of those) — e.g. a ``keras.utils.PyDataset``.
        Only real (unpadded) frames count.
        """

        def pairs(batches: Iterable):
            for batch in batches:
                x = batch[0] if isinstance(batch, tuple) else batch
                for audio, length in self._batches(
                    x if isinstance(x, dict) else ops.convert_to_numpy(x), batch_size
                ):
                    log_mel = self.log_mel_layer(ops.convert_to_tensor(audio))
                    mask = None
                    if length is not None:
                        mask = self.frame_mask_layer(ops.convert_to_tensor(length))
                    yield (
                        ops.convert_to_numpy(log_mel),
                        None if mask is None else ops.convert_to_numpy(mask),
                    )

        if isinstance(data, np.ndarray | dict):
            data = [data]
        self.band_norm.adapt(pairs(data))
