"""evaluate.clips: the windows a view shows, and file-safe names."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from keras_musiclatent.data.sources import load_table
from keras_musiclatent.errors import DatasetError
from keras_musiclatent.evaluate.clips import safe_name, segments_of
from tests.evaluate.test_report import make_genre_folder


def test_safe_name():
    assert safe_name("rock/live/song1") == "rock_live_song1"
    assert safe_name("../..") == "clip"
    assert safe_name("a b.wav") == "a_b.wav"


def test_segments_of(tmp_path):
    table = load_table(make_genre_folder(tmp_path, n=4), dataset="folder")
    space = SimpleNamespace(sample_rate=22050, segment_seconds=1.0)
    seg = segments_of(table, space)
    assert len(seg) == 8 and seg.waves.shape == (8, 22050)  # 4 clips x 2 one-second windows
    assert seg.rows_of(1).tolist() == [2, 3]
    assert seg.labels == [c.label for c in table for _ in range(2)]
    assert np.all(seg.lengths == 22050)
    with pytest.raises(DatasetError, match="no clips"):
        segments_of(table.filter(lambda c: False), space)
