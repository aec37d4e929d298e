"""A linear genre classifier on latent means (the "latent probe" of
the evaluation protocol (docs/evaluation.md)).

Fitted with scikit-learn's logistic regression, stored as plain arrays (``.npz``, no pickles)
and applied with NumPy, so loading a model never executes code from a file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from keras_musiclatent._files import write_npz
from keras_musiclatent.errors import ConfigError, CorruptModelError, LatentShapeError

__all__ = ["GenreHead", "LatentStats"]


@dataclass(frozen=True)
class LatentStats:
    """Per-dimension mean and standard deviation of training latent means.

    ``probe`` sweeps a dimension in units of ``std``; ``sample`` draws from them for models
    without a prior (the autoencoder).
    """

    mean: np.ndarray
    std: np.ndarray
    count: int

    @classmethod
    def fit(cls, latents: np.ndarray) -> LatentStats:
        """Statistics of ``(n, latent_dim)`` latent means."""
        z = np.asarray(latents, dtype=np.float64)
        if z.ndim != 2 or z.shape[0] < 2:
            raise LatentShapeError(f"need (n >= 2, latent_dim) latents, got {z.shape}")
        return cls(
            mean=z.mean(0).astype(np.float32),
            std=np.maximum(z.std(0), 1e-6).astype(np.float32),
            count=int(z.shape[0]),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write ``mean``, ``std`` ``(latent_dim,)`` and ``count`` to an ``.npz`` (atomically)."""
        write_npz(path, mean=self.mean, std=self.std, count=np.array(self.count))

    @classmethod
    def load(cls, path: str | os.PathLike) -> LatentStats:
        """Read statistics written by :meth:`save` (no pickle); ``CorruptModelError`` if bad."""
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(mean=f["mean"], std=f["std"], count=int(f["count"]))
        except (OSError, KeyError, ValueError) as exc:
            raise CorruptModelError(f"{path}: unreadable latent statistics ({exc})") from None


@dataclass(frozen=True)
class GenreHead:
    """Multinomial logistic regression ``softmax(((z - mean) / scale) @ coef.T + intercept)``.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> z = np.r_[rng.normal(-2, 1, (20, 3)), rng.normal(2, 1, (20, 3))]
        >>> head = GenreHead.fit(z, ["a"] * 20 + ["b"] * 20)
        >>> head.genres, head.predict_proba(np.full((1, 3), 2.0)).argmax()
        (['a', 'b'], 1)
    """

    genres: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(
        cls, latents: np.ndarray, labels: Sequence[str], *, c: float = 1.0, seed: int = 0
    ) -> GenreHead:
        """Fit on ``(n, latent_dim)`` latent means and their ``n`` genre labels.

        Args:
            latents: latent means, one row per segment (or clip).
            labels: genre per row; at least two distinct genres.
            c: inverse L2 strength of scikit-learn's ``LogisticRegression``.
            seed: its random state.
        """
        from sklearn.linear_model import LogisticRegression

        z = np.asarray(latents, dtype=np.float64)
        labels = [str(x) for x in labels]
        if z.ndim != 2 or z.shape[0] != len(labels):
            raise LatentShapeError(f"latents {z.shape} and {len(labels)} labels do not match")
        genres = sorted(set(labels))
        if len(genres) < 2:
            raise ConfigError("a genre head needs at least two genres")
        mean, scale = z.mean(0), np.maximum(z.std(0), 1e-6)
        clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
        y = np.array([genres.index(x) for x in labels])
        clf.fit((z - mean) / scale, y)
        coef, intercept = clf.coef_, clf.intercept_
        if len(genres) == 2:  # scikit-learn keeps one row for two classes
            coef = np.r_[-coef / 2, coef / 2]
            intercept = np.r_[-intercept / 2, intercept / 2]
        return cls(
            genres=genres,
            coef=coef.astype(np.float32),
            intercept=intercept.astype(np.float32),
            mean=mean.astype(np.float32),
            scale=scale.astype(np.float32),
        )

    @property
    def latent_dim(self) -> int:
        """Width of the latents the head takes."""
        return int(self.coef.shape[1])

    def predict_proba(self, latents: np.ndarray) -> np.ndarray:
        """``(n, len(genres))`` probabilities for ``(n, latent_dim)`` latent means."""
        z = np.asarray(latents, dtype=np.float64)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise LatentShapeError(
                f"the genre head expects (n, {self.latent_dim}) latents, got {z.shape}"
            )
        logits = ((z - self.mean) / self.scale) @ self.coef.T.astype(np.float64) + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True)

    def save(self, path: str | os.PathLike) -> None:
        """Write the genres and the standardised logistic regression to an ``.npz``."""
        write_npz(
            path,
            genres=np.array(self.genres, dtype=str),
            coef=self.coef,
            intercept=self.intercept,
            mean=self.mean,
            scale=self.scale,
        )

    @classmethod
    def load(cls, path: str | os.PathLike) -> GenreHead:
        """Read a head written by :meth:`save` (no pickle); ``CorruptModelError`` if bad."""
        try:
            with np.load(path, allow_pickle=False) as f:
                return cls(
                    genres=[str(g) for g in f["genres"]],
                    coef=f["coef"],
                    intercept=f["intercept"],
                    mean=f["mean"],
                    scale=f["scale"],
                )
        except (OSError, KeyError, ValueError) as exc:
            raise CorruptModelError(f"{path}: unreadable genre head ({exc})") from None
