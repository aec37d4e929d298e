"""``training.distribute``: the strategy scope a run builds and trains in, and multi-worker glue.

- ``"mirrored"``: ``tf.distribute.MirroredStrategy`` over every local GPU (TensorFlow);
- ``"multi_worker"``: ``tf.distribute.MultiWorkerMirroredStrategy`` over the cluster in
  ``TF_CONFIG`` (TensorFlow); each worker but the chief writes to its own folder
  (:func:`worker_out`);
- ``"data_parallel"``: ``keras.distribution.DataParallel`` over every local device (JAX).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train._optional import tensorflow
from keras_musiclatent.train.config import DISTRIBUTE_BACKENDS

__all__ = ["distribution", "fit_for_mirrored", "worker_out"]


def distribution(distribute: str | None) -> tuple[Any, Callable[[], None] | None]:
    """Set up ``training.distribute`` for the current Keras backend.

    Returns:
        ``(scope, reset)``: the context to build and train in, and a callable that undoes a
        global setting (or ``None``).

    Raises:
        ConfigError: an option of another backend; ``multi_worker`` without ``TF_CONFIG``.

    Example:
        >>> scope, reset = distribution(None)
        >>> with scope:
        ...     pass
    """
    if distribute is None:
        return contextlib.nullcontext(), None
    backend = keras.backend.backend()
    wanted = DISTRIBUTE_BACKENDS[distribute]
    if backend != wanted:
        raise ConfigError(
            f"training.distribute={distribute!r} needs the {wanted} backend, but Keras runs on "
            f"{backend}; set KERAS_BACKEND={wanted} or choose "
            + " / ".join(
                [repr(k) for k, v in DISTRIBUTE_BACKENDS.items() if v == backend] + ["null"]
            )
        )
    if distribute == "data_parallel":
        previous = keras.distribution.distribution()
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        return contextlib.nullcontext(), lambda: keras.distribution.set_distribution(previous)
    tf = tensorflow()
    if distribute == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ConfigError(
                "training.distribute='multi_worker' needs TF_CONFIG (the cluster and this "
                "worker's task) in the environment of every worker"
            )
        return tf.distribute.MultiWorkerMirroredStrategy().scope(), None
    return tf.distribute.MirroredStrategy().scope(), None


def worker_out(out: Path) -> Path:
    """Where this worker writes: ``out`` for the chief (or no cluster), else a sibling.

    Under ``TF_CONFIG`` the chief is the ``chief`` task, or worker 0 when there is none; every
    other worker keeps its own checkpoints in ``<out>.<type>-<index>``.

    Example:
        >>> os.environ.get("TF_CONFIG") is None and worker_out(Path("runs/vae")) == Path("runs/vae")
        True
    """
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return out
    try:
        tf_config = json.loads(raw)
        task = tf_config["task"]
        kind, index = str(task["type"]), int(task["index"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError("TF_CONFIG is not JSON with a task type and index") from None
    has_chief = "chief" in tf_config.get("cluster", {})
    if kind == "chief" or (kind == "worker" and index == 0 and not has_chief):
        return out
    return out.with_name(f"{out.name}.{kind}-{index}")


def fit_for_mirrored(model: keras.Model, *, multi_worker: bool = False) -> None:
    """Adapt a compiled model to ``fit`` under ``tf.distribute.MirroredStrategy``.

    Keras sums the replicas' gradients and expects ``compute_loss`` to return each replica's
    share (the built-in one divides by the replica count); a model's own ``compute_loss``
    returns the batch mean, so it is divided here. And Keras first reduces a whole input batch
    across replicas to build the model symbolically, which fails for dict inputs; the model is
    built already and has no compiled loss or metrics, so building the optimizer is all that
    step would do.
    """
    tf = tensorflow()
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    compute_loss = model.compute_loss

    def per_replica_loss(*args: Any, **kwargs: Any):
        return compute_loss(*args, **kwargs) / replicas

    model.compute_loss = per_replica_loss
    model.optimizer.build(model.trainable_variables)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    if multi_worker:
        # Keras reduces each log across workers with reduce(MEAN, axis=0), which fails for
        # the scalars a train step returns ("Invalid reduction dimension 0 for input with 0
        # dimensions"); one-element vectors reduce to the same mean.
        for name in ("train_step", "test_step"):
            step = getattr(model, name)

            def as_vectors(data, _step=step):
                return {k: tf.reshape(v, [1]) for k, v in _step(data).items()}

            setattr(model, name, as_vectors)
