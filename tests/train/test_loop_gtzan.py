"""Training on real GTZAN clips: a few epochs on ~20 clips make the validation loss fall."""

from __future__ import annotations

import pytest

from keras_musiclatent.train.loop import train


@pytest.mark.slow
@pytest.mark.gtzan
def test_valid_loss_falls_on_real_clips(gtzan_root, tmp_path):
    config = {
        "data": {
            "dataset": "gtzan",
            "root": str(gtzan_root),
            "max_clips": 20,  # every k-th clip of each split: all genres present
            "cache_dir": str(tmp_path / "cache"),
        },
        "model": {
            "class": "MusicVAE",
            "conv_filters": [8, 16],
            "pool_sizes": [[2, 4], [4, 8]],
            "rnn_units": 16,
            "hidden_dim": 32,
            "latent_dim": 8,
            "kl_warmup_steps": 20,
            "seed": 0,
        },
        "optimizer": {"learning_rate": 0.003},
        "training": {"epochs": 4, "batch_size": 16, "reconstruction_examples": 0},
    }
    result = train(config, out=tmp_path / "run", verbose=0)
    val = [row["val_reconstruction_loss"] for row in result.history]
    assert len(val) == 4
    assert min(val[1:]) < val[0], f"validation loss did not fall: {val}"
    assert result.best is not None and result.best < 30.0
