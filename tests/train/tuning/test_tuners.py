"""tuning.tuners: best-epoch metrics reported for a trial."""

from __future__ import annotations

import keras_tuner as kt
import pytest

from keras_musiclatent.train.tuning.tuners import best_epoch_metrics


class History:
    def __init__(self, epochs: list[int], **logs: list[float]) -> None:
        self.epoch, self.history = epochs, logs


def test_best_epoch_by_direction_and_averaged_over_executions():
    a = History([0, 1, 2], val_x=[3.0, 1.0, 2.0], kl=[5.0, 6.0, 7.0])
    b = History([0, 1, 2], val_x=[2.0, 4.0, 3.0], kl=[1.0, 2.0, 3.0])
    low = best_epoch_metrics([a], kt.Objective("val_x", "min"))
    assert low == {"best_epoch": 1.0, "epochs_run": 3.0, "kl": 6.0, "val_x": 1.0}
    high = best_epoch_metrics([a], kt.Objective("val_x", "max"))
    assert (high["best_epoch"], high["val_x"]) == (0.0, 3.0)
    mean = best_epoch_metrics([a, b], kt.Objective("val_x", "min"))
    assert (mean["val_x"], mean["kl"], mean["best_epoch"]) == (1.5, 3.5, 0.5)


def test_nan_epochs_are_skipped_and_no_value_fails_the_trial():
    # Hyperband's later rounds number their epochs from where the parent stopped.
    h = History([3, 4], val_x=[float("nan"), 2.0])
    assert best_epoch_metrics([h], kt.Objective("val_x", "min"))["best_epoch"] == 4.0
    with pytest.raises(kt.errors.FailedTrialError, match="no finite val_x"):
        best_epoch_metrics([History([0], loss=[1.0])], kt.Objective("val_x", "min"))
