"""Keras callbacks of :mod:`keras_musiclatent.train.loop`: the epoch commit, TensorBoard media."""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from keras_musiclatent._files import atomic_path, save_model
from keras_musiclatent.audio.inversion import logmel_to_audio
from keras_musiclatent.data.stream import SegmentDataset
from keras_musiclatent.train._optional import tensorflow
from keras_musiclatent.train.state import CHECKPOINTS, RunState, commit

__all__ = ["EpochCommit", "ReconstructionSummary", "restore_seed_states", "seed_states"]


def seed_states(model: keras.Model) -> tuple[tuple[int, ...], ...]:
    """The state of every random seed generator of ``model`` (sampling noise, dropout), in
    ``model.variables`` order. ``save_weights`` leaves them out, so a resumed run restores
    them from the run state to draw the noise an uninterrupted run would.

    Example:
        >>> seed_states(model)  # doctest: +SKIP
        ((1234, 96), (5678, 0))
    """
    return tuple(
        tuple(int(x) for x in np.asarray(keras.ops.convert_to_numpy(v)).ravel())
        for v in _seed_variables(model)
    )


def restore_seed_states(model: keras.Model, states: Sequence[Sequence[int]]) -> None:
    """Set the seed generators of ``model`` to ``states`` (from :func:`seed_states`).

    Raises:
        ValueError: ``states`` is not of a model of this architecture.
    """
    variables = _seed_variables(model)
    if len(variables) != len(states):
        raise ValueError(
            f"the run state holds {len(states)} seed generator states, the model has "
            f"{len(variables)}"
        )
    for variable, value in zip(variables, states, strict=True):
        variable.assign(np.asarray(value, dtype=variable.dtype).reshape(variable.shape))


def _seed_variables(model: keras.Model) -> list[Any]:
    return [v for v in model.variables if v.name == "seed_generator_state"]


class EpochCommit(keras.callbacks.Callback):
    """Commit every epoch to the run folder and stop early; the last callback of a run.

    At each epoch's end: the resume checkpoint (weights and optimizer), ``last.keras`` and,
    when ``monitor`` improved, ``best.keras`` are written under new names, then one atomic
    ``state.json`` makes them the run's state (see :mod:`keras_musiclatent.train.state`).
    The epoch's training order is set from ``(seed, epoch)`` at its start, so a resumed run
    sees the batches an uninterrupted one would. Early stopping (lower ``monitor`` is
    better, Keras ``EarlyStopping`` semantics) and a NaN loss end the run; its counters are
    part of the state, so they survive a resume.

    Args:
        out: the run folder (its lock held).
        state: the committed state to go on from.
        epochs: the run's length.
        monitor: a log key, lower is better.
        patience: epochs without improvement before stopping.
        train_data: the training ``SegmentDataset`` (its order is set at each epoch), or None.
        info: facts for ``training.json``.
    """

    def __init__(
        self,
        out: str | os.PathLike,
        state: RunState,
        *,
        epochs: int,
        monitor: str = "val_spectral_rmse_db",
        patience: int = 8,
        train_data: SegmentDataset | None = None,
        info: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.out = Path(out)
        self.state = state
        self.epochs = int(epochs)
        self.monitor = monitor
        self.patience = int(patience)
        self.train_data = train_data
        self.info = dict(info or {})
        self._started = time.monotonic()

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Serve ``epoch``'s window order, the same whether or not the run was resumed."""
        if self.train_data is not None:
            self.train_data.set_epoch(epoch)
        self._started = time.monotonic()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Commit the epoch: checkpoint, history row and ``state.json`` in one atomic step."""
        logs = {k: float(v) for k, v in (logs or {}).items()}
        state = self.state
        best, best_epoch, wait = state.best, state.best_epoch, state.wait
        value = logs.get(self.monitor)
        improved = value is not None and math.isfinite(value) and (best is None or value < best)
        if improved:
            best, best_epoch, wait = value, epoch, 0
        elif value is not None:
            wait += 1
        done = epoch + 1
        if not math.isfinite(logs.get("loss", 0.0)):
            reason = "nan_loss"
        elif not improved and wait >= self.patience and epoch > 0:
            reason = "early_stopping"
        elif done >= self.epochs:
            reason = "epochs"
        else:
            reason = None
        weights = f"{CHECKPOINTS}/epoch-{done:04d}.weights.h5"
        with atomic_path(self.out / weights, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp)
        pending = {"last.keras": f"{CHECKPOINTS}/last-{done:04d}.keras"}
        if improved:
            pending["best.keras"] = f"{CHECKPOINTS}/best-{done:04d}.keras"
        for name in pending.values():
            save_model(self.model, self.out / name)
        self.state = dataclasses.replace(
            state,
            epochs_completed=done,
            weights=weights,
            rng=seed_states(self.model),
            history=(*state.history, {"epoch": epoch, **logs}),
            best=best,
            best_epoch=best_epoch,
            wait=wait,
            finished=reason is not None,
            stop_reason=reason,
            pending=pending,
            seconds=state.seconds + time.monotonic() - self._started,
            info=self.info,
        )
        commit(self.out, self.state, monitor=self.monitor)
        if reason in ("nan_loss", "early_stopping"):
            self.model.stop_training = True


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
        """Write the epoch's log-mel images and audio to TensorBoard."""
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
