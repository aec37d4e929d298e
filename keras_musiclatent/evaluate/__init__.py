"""Evaluation: the figures of a model card, rendered cards, and the report a person looks at.

- :mod:`.metrics`: spectral RMSE, bitrate, interpolation smoothness (the evaluation protocol)
- :mod:`.evaluator`: the one evaluator (``evaluate_space``) and its baselines
- :mod:`.card`: Markdown model cards from its result
- :mod:`.plots`: log-mel strips, scatter, confusion matrix and loss curves (matplotlib)
- :mod:`.projector`: TensorBoard embedding-projector export
- :mod:`.report`: the static HTML report
"""
