"""Keras callbacks of :mod:`keras_musiclatent.train.loop`: atomic checkpoints, TensorBoard media."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_musiclatent._files import atomic_path, save_model
from keras_musiclatent.audio.inversion import logmel_to_audio
from keras_musiclatent.train._optional import tensorflow

__all__ = ["AtomicCheckpoint", "ReconstructionSummary"]


class AtomicCheckpoint(keras.callbacks.Callback):
    """Save ``last.keras`` every epoch and ``best.keras`` when ``monitor`` improves.

    Both are written to a temporary file and renamed, so a crash never leaves a broken model.
    The best value so far is read back from an existing ``best_value.txt`` on resume.

    Args:
        out: the run folder.
        monitor: a log key, lower is better.
    """

    def __init__(self, out: str | os.PathLike, *, monitor: str = "val_spectral_rmse_db") -> None:
        super().__init__()
        self.out = Path(out)
        self.monitor = monitor
        marker = self.out / "best_value.txt"
        self.best = float(marker.read_text()) if marker.is_file() else math.inf

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        logs = logs or {}
        save_model(self.model, self.out / "last.keras")
        value = logs.get(self.monitor)
        if value is not None and math.isfinite(float(value)) and float(value) < self.best:
            self.best = float(value)
            save_model(self.model, self.out / "best.keras")
            with atomic_path(self.out / "best_value.txt") as tmp:
                tmp.write_text(repr(self.best))


class ReconstructionSummary(keras.callbacks.Callback):
    """Write log-mel images and audio of a few validation reconstructions to TensorBoard.

    The audio is inverted with the model's own recipe (``sample_rate``, ``n_fft``,
    ``hop_length`` and the mel band edges of its log-mel layer). Needs TensorFlow.

    Args:
        logdir: TensorBoard folder (a ``reconstructions`` run is made inside).
        inputs: a validation batch as the model takes it.
        examples: how many of its rows to show.
        griffin_lim_iterations: phase-recovery iterations for the audio.
    """

    def __init__(
        self,
        logdir: str | os.PathLike,
        inputs: Any,
        *,
        examples: int = 3,
        griffin_lim_iterations: int = 32,
    ) -> None:
        super().__init__()
        self.logdir = Path(logdir) / "reconstructions"
        self.inputs = _head(inputs, examples)
        self.examples = examples
        self.iterations = griffin_lim_iterations
        self._writer = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        tf = tensorflow()
        model = self.model
        waveform = self.inputs["audio"] if isinstance(self.inputs, dict) else self.inputs
        reference = keras.ops.convert_to_numpy(model.log_mel(waveform))
        z_mean = keras.ops.convert_to_numpy(model.encode(self.inputs)[0])
        decoded = keras.ops.convert_to_numpy(model.decode(z_mean))
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(str(self.logdir))
        lo, hi = float(reference.max()) - 80.0, float(reference.max())
        pair = np.concatenate([reference, decoded], axis=2)  # input | reconstruction, side by side
        image = np.clip((pair - lo) / (hi - lo), 0.0, 1.0)
        image = np.flip(np.swapaxes(image, 1, 2), axis=1)[..., None]  # low mels at the bottom
        sample_rate = int(model.sample_rate)
        audio = logmel_to_audio(
            decoded,
            sample_rate=sample_rate,
            n_fft=int(model.n_fft),
            hop_length=int(model.hop_length),
            fmin=float(model.log_mel_layer.fmin),
            fmax=model.log_mel_layer.fmax,
            n_iter=self.iterations,
        )
        peak = np.abs(audio).max(axis=1, keepdims=True) + 1e-9
        with self._writer.as_default(step=epoch):
            tf.summary.image("logmel/input|reconstruction", image, max_outputs=self.examples)
            tf.summary.audio(
                "reconstruction",
                (audio / peak * 0.9)[..., None],
                sample_rate,
                max_outputs=self.examples,
            )
        self._writer.flush()


def _head(inputs: Any, n: int) -> Any:
    if isinstance(inputs, dict):
        return {k: np.asarray(v)[:n] for k, v in inputs.items()}
    return np.asarray(inputs)[:n]
