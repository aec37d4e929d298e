"""Old home of :func:`~keras_musiclatent.evaluate.evaluator.evaluate_space` (an alias)."""

from keras_musiclatent.evaluate.evaluator import evaluate_space

__all__ = ["evaluate_space"]
