"""Training: configs, the resumable training loop, callbacks, packaging a run, and tuning.

- :mod:`.loop`: ``train(config, out=...)``, atomic checkpoints, resume
- :mod:`.callbacks`: checkpoint and reconstruction-summary callbacks
- :mod:`.package`: a run → a model folder with latent statistics and a genre head
- :mod:`.tuning`: keras-tuner searches
"""
