"""Training: configs, the resumable training loop, callbacks, packaging a run, and tuning.

- :mod:`.config`: ``load_config`` and the defaults of a training config
- :mod:`.datasets`: the clip tables and segment datasets a config names
- :mod:`.distribute`: ``training.distribute`` strategies and multi-worker folders
- :mod:`.loop`: ``train(config, out=...)``, the run folder, resume
- :mod:`.callbacks`: the per-epoch checkpoint and the reconstruction-summary callbacks
- :mod:`.package`: a run → a model folder with latent statistics and a genre head
- :mod:`.tuning`: keras-tuner searches
"""
