"""The model zoo's files, shipped as package data (see keras_musiclatent.presets.registry)."""
