"""keras-tuner HyperModels over the latent models: a space of choices → a model → a fit.

Each hyper-parameter of a space sets one thing of a training config (see
:data:`keras_musiclatent.train.config.DEFAULT_CONFIG`):

- ``learning_rate``, ``clipnorm``, ``weight_decay`` → ``optimizer``
- ``segment_seconds`` → ``data`` (the model follows the data)
- ``batch_size`` → ``training``
- ``conv_blocks`` and ``conv_width`` → the model's ``conv_filters`` and ``pool_sizes``
  (:func:`conv_stack`: depth and width of the conv stack as two numbers)
- anything else → a keyword argument of the model class (``encoder``, ``stem``,
  ``latent_dim``, ``hidden_dim``, ``rnn_units``, ``beta``, ``kl_warmup_steps``,
  ``linear_path``, ...), checked against its signature

The HyperModel reads its own data (the config's ``data`` section) on the first ``fit``, so a
keras-tuner chief, which only builds models to learn the space, never touches audio.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import keras
import keras_tuner as kt

from keras_musiclatent import models
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.train.config import load_config
from keras_musiclatent.train.datasets import (
    TrainingSources,
    adapt_batches,
    segment_datasets,
    training_sources,
)
from keras_musiclatent.train.loop import build_model
from keras_musiclatent.train.tuning.config import Objective
from keras_musiclatent.train.tuning.space import DEFAULT_SPACE, Param, parse_space

__all__ = [
    "LatentHyperModel",
    "MusicAutoencoderHyperModel",
    "MusicVAEHyperModel",
    "TrialLogs",
    "conv_stack",
    "default_space",
    "route",
]

OPTIMIZER_KEYS = frozenset({"learning_rate", "clipnorm", "weight_decay"})
DATA_KEYS = frozenset({"segment_seconds"})
TRAINING_KEYS = frozenset({"batch_size"})
CONV_KEYS = frozenset({"conv_blocks", "conv_width"})

#: (time, mel) pooling per conv depth. Every stack pools 128 mel bands to 2 and 130 frames
#: to 17 steps, like the default 4-block stack, so depth changes capacity, not the grid.
POOL_PRESETS: dict[int, tuple[tuple[int, int], ...]] = {
    2: ((2, 8), (4, 8)),
    3: ((2, 4), (2, 4), (2, 4)),
    4: ((2, 4), (2, 2), (2, 2), (1, 4)),
    5: ((2, 4), (2, 2), (2, 2), (1, 2), (1, 2)),
}

# Only the VAE has a KL term.
_VAE_ONLY = ("beta", "kl_warmup_steps")


class _FatalConfigError(ConfigError, kt.errors.FatalError):
    """A config problem found inside a trial: keras-tuner stops the search instead of
    counting one more failed trial."""


def route(name: str) -> str:
    """The config section a hyper-parameter sets: ``optimizer``, ``data``, ``training``,
    ``conv`` or ``model``.

    Example:
        >>> route("learning_rate"), route("latent_dim")
        ('optimizer', 'model')
    """
    if name in OPTIMIZER_KEYS:
        return "optimizer"
    if name in DATA_KEYS:
        return "data"
    if name in TRAINING_KEYS:
        return "training"
    if name in CONV_KEYS:
        return "conv"
    return "model"


def conv_stack(*, blocks: int, width: int) -> tuple[list[int], list[list[int]]]:
    """``conv_filters`` and ``pool_sizes`` of a conv stack of ``blocks`` blocks.

    Filters double per block from ``width`` up to ``8 * width``; pooling follows
    :data:`POOL_PRESETS`.

    Raises:
        ConfigError: a depth without a preset, or a width below 1.

    Example:
        >>> conv_stack(blocks=4, width=16)
        ([16, 32, 64, 128], [[2, 4], [2, 2], [2, 2], [1, 4]])
    """
    if int(blocks) not in POOL_PRESETS:
        raise ConfigError(f"conv_blocks must be one of {sorted(POOL_PRESETS)}, got {blocks}")
    if int(width) < 1:
        raise ConfigError(f"conv_width must be >= 1, got {width}")
    filters = [int(width) * 2 ** min(i, 3) for i in range(int(blocks))]
    return filters, [list(p) for p in POOL_PRESETS[int(blocks)]]


def default_space(model_class: str = "MusicVAE") -> dict[str, Any]:
    """:data:`~keras_musiclatent.train.tuning.space.DEFAULT_SPACE`, less what ``model_class`` lacks.

    Example:
        >>> "beta" in default_space("MusicAutoencoder")
        False
    """
    space = copy.deepcopy(DEFAULT_SPACE)
    if model_class != "MusicVAE":
        for key in _VAE_ONLY:
            space.pop(key, None)
    return space


def _model_arguments(class_name: str) -> set[str]:
    cls = getattr(models, class_name, None)
    if cls is None:
        raise ConfigError(f"unknown model class {class_name!r}")
    params = inspect.signature(cls.__init__).parameters.values()
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {p.name for p in params if p.kind in kinds and p.name != "self"}


class TrialLogs(keras.callbacks.Callback):
    """Adds what a trial is judged by to each epoch's logs: the combined objective (when the
    objective is a weighted sum) and the model's parameter count.

    Example:
        >>> cb = TrialLogs(Objective("val_score", combine={"val_a": 1.0, "val_b": 0.5}))
        >>> logs = {"val_a": 2.0, "val_b": 2.0}
        >>> cb.on_epoch_end(0, logs); logs["val_score"]
        3.0
    """

    def __init__(self, objective: Objective) -> None:
        super().__init__()
        self.objective = objective

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """Add the combined objective and the parameter count to ``logs``."""
        if logs is None:
            return
        if self.objective.combine:
            missing = [k for k in self.objective.combine if k not in logs]
            if missing:
                raise _FatalConfigError(
                    f"objective {self.objective.name}: {', '.join(missing)} not logged "
                    f"(logged: {', '.join(sorted(logs))})"
                )
            logs[self.objective.name] = float(
                sum(w * float(logs[k]) for k, w in self.objective.combine.items())
            )
        if self.model is not None:
            logs["parameters"] = float(self.model.count_params())


class LatentHyperModel(kt.HyperModel):
    """A keras-tuner HyperModel over :class:`MusicVAE` or :class:`MusicAutoencoder` choices.

    ``build(hp)`` declares the space on ``hp``, builds the model the values describe and
    compiles it (Adam); ``fit(hp, model, ...)`` reads the config's data (segments of the
    trial's ``segment_seconds``), sets the band statistics from training audio and trains,
    validating on the valid split each epoch, with early stopping on the objective.

    Args:
        base_config: the training config every trial starts from (a mapping or a file;
            see :data:`keras_musiclatent.train.config.DEFAULT_CONFIG`).
        space: ``name -> spec`` (:mod:`keras_musiclatent.train.tuning.space`) or parsed entries;
            ``None``: :func:`default_space` of the config's model class.
        objective: what the trials are judged by (default: ``val_spectral_rmse_db``, min).
        name: the HyperModel's name.

    Raises:
        ConfigError: a bad config, or a space entry the model class does not take.

    Example:
        >>> hm = LatentHyperModel({"data": {"root": "data/gtzan"}, "model": {"class": "MusicVAE"}},
        ...                       {"latent_dim": [32, 64], "learning_rate": [1e-3, 3e-4]})
        >>> tuner = kt.RandomSearch(hm, objective=hm.objective.name, max_trials=2)  # doctest: +SKIP
        >>> tuner.search(epochs=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        base_config: Mapping[str, Any] | str,
        space: Mapping[str, Any] | Sequence[Param] | None = None,
        *,
        objective: Objective | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name, tunable=True)
        self.base = load_config(base_config)
        class_name = self.base["model"]["class"]
        if space is None:
            space = default_space(class_name)
        self.space: tuple[Param, ...] = (
            parse_space(space) if isinstance(space, Mapping) else tuple(space)
        )
        self.objective = objective or Objective("val_spectral_rmse_db")
        allowed = _model_arguments(class_name)
        for param in self.space:
            target = route(param.name)
            if target == "model" and param.name not in allowed:
                raise ConfigError(f"search space {param.name}: {class_name} has no such argument")
            if target == "conv" and "conv_filters" not in allowed:
                raise ConfigError(f"search space {param.name}: {class_name} has no conv stack")
        self._sources: TrainingSources | None = None

    # --- hyper-parameters → config --------------------------------------------------------

    def trial_config(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """The complete training config of the trial ``hp`` describes (declares the space).

        Example:
            >>> hm.trial_config(kt.HyperParameters())["model"]["latent_dim"]  # doctest: +SKIP
            32
        """
        config = copy.deepcopy(self.base)
        conv: dict[str, int] = {}
        for param in self.space:
            value = param.declare(hp)
            if value is None:  # a conditional entry whose condition does not hold
                continue
            target = route(param.name)
            if target == "conv":
                conv[param.name] = int(value)
            else:
                config[target][param.name] = value
        if conv:
            filters = list(config["model"].get("conv_filters", (16, 32, 64, 128)))
            blocks = conv.get("conv_blocks", len(filters))
            width = conv.get("conv_width", int(filters[0]))
            config["model"]["conv_filters"], config["model"]["pool_sizes"] = conv_stack(
                blocks=blocks, width=width
            )
        return config

    def best_config(self, hp: kt.HyperParameters) -> dict[str, Any]:
        """The sections of a training config that a trial's values decide.

        ``model`` and ``optimizer`` whole, ``data.segment_seconds`` (the model's input
        length follows it), and ``training.batch_size`` when the space tunes it: merge them
        into a training config to train that model.
        """
        config = self.trial_config(hp)
        out: dict[str, Any] = {
            "model": config["model"],
            "optimizer": config["optimizer"],
            "data": {"segment_seconds": config["data"]["segment_seconds"]},
        }
        if any(route(p.name) == "training" for p in self.space):
            out["training"] = {"batch_size": config["training"]["batch_size"]}
        return out

    # --- keras-tuner API ------------------------------------------------------------------

    def build(self, hp: kt.HyperParameters) -> keras.Model:
        """Build and compile the model of ``hp``'s values (seeded: same values, same init)."""
        config = self.trial_config(hp)
        keras.utils.set_random_seed(int(config["training"]["seed"]))
        model_config = dict(config["model"])
        model_config["sample_rate"] = int(config["data"]["sample_rate"])
        model_config["segment_seconds"] = float(config["data"]["segment_seconds"])
        model = build_model(model_config)
        model.compile(optimizer=keras.optimizers.Adam(**config["optimizer"]))
        return model

    def fit(
        self,
        hp: kt.HyperParameters,
        model: keras.Model,
        *args: Any,
        callbacks: Sequence[keras.callbacks.Callback] = (),
        epochs: int | None = None,
        initial_epoch: int = 0,
        verbose: int | str = "auto",
        **kwargs: Any,
    ) -> keras.callbacks.History:
        """Train ``model`` on the config's data; returns the Keras ``History``."""
        if args:
            raise _FatalConfigError(
                "LatentHyperModel reads its data from the config: pass no data to search()"
            )
        config = self.trial_config(hp)
        training = config["training"]
        train_ds, valid_ds = self._datasets(config)
        if "tuner/trial_id" not in hp.values:
            # Hyperband's later rounds continue a trained model, whose band statistics came
            # with its weights; a fresh model learns them from a sample of training batches.
            model.adapt(adapt_batches(train_ds))
        mode = self.objective.direction
        own = [
            TrialLogs(self.objective),
            keras.callbacks.EarlyStopping(
                monitor=self.objective.name,
                mode=mode,
                patience=int(training["early_stopping_patience"]),
            ),
            keras.callbacks.TerminateOnNaN(),
        ]
        return model.fit(
            train_ds,
            validation_data=valid_ds,
            # TrialLogs first: the tuner's callbacks read the objective it adds.
            callbacks=[*own, *callbacks],
            epochs=int(training["epochs"] if epochs is None else epochs),
            initial_epoch=int(initial_epoch),
            verbose=verbose,
            **kwargs,
        )

    def _datasets(self, config: Mapping[str, Any]) -> tuple[Any, Any]:
        if self._sources is None:
            self._sources = training_sources(config)  # the clips never vary between trials
        return segment_datasets(config, self._sources)


class MusicVAEHyperModel(LatentHyperModel):
    """:class:`LatentHyperModel` with ``model.class: MusicVAE`` (the default space tunes the
    encoder family and stem, depth, width, latent size, ``beta``, ``kl_warmup_steps``,
    ``linear_path``, the learning rate and the segment length).

    Example:
        >>> hm = MusicVAEHyperModel({"data": {"root": "data/gtzan"}})  # doctest: +SKIP
    """

    def __init__(self, base_config: Mapping[str, Any], space: Any = None, **kwargs: Any) -> None:
        config = copy.deepcopy(dict(base_config))
        config["model"] = {**config.get("model", {}), "class": "MusicVAE"}
        super().__init__(config, space, **kwargs)


class MusicAutoencoderHyperModel(LatentHyperModel):
    """:class:`LatentHyperModel` with ``model.class: MusicAutoencoder`` (no KL terms).

    Example:
        >>> hm = MusicAutoencoderHyperModel({"data": {"root": "data/gtzan"}})  # doctest: +SKIP
    """

    def __init__(self, base_config: Mapping[str, Any], space: Any = None, **kwargs: Any) -> None:
        config = copy.deepcopy(dict(base_config))
        config["model"] = {**config.get("model", {}), "class": "MusicAutoencoder"}
        super().__init__(config, space, **kwargs)
