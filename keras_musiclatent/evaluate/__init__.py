"""Evaluation: the figures of a model card, rendered cards, and the views a person looks at.

- :mod:`.metrics`: spectral RMSE, bitrate, interpolation smoothness (the evaluation protocol)
- :mod:`.evaluator`: the one evaluator (``evaluate_space``), its baselines and the pieces the
  report shares with it
- :mod:`.card`: Markdown model cards from its result (rendering only)
- :mod:`.plots`: every figure (log-mel strips, scatters, confusion matrix, loss curves)
- :mod:`.clips`: the decoded windows of the clips a view shows
- :mod:`.projector`: TensorBoard embedding-projector export
- :mod:`.report`: the static HTML report
"""
