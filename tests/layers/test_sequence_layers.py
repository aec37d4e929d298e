"""FrameMask, SinusoidalPositionEncoding, TransformerBlock and AttentionPooling."""

from __future__ import annotations

import numpy as np

from keras_musiclatent.layers import (
    AttentionPooling,
    FrameMask,
    SinusoidalPositionEncoding,
    TransformerBlock,
)
from tests.models.harness import check_layer


def test_frame_mask_marks_frames_of_the_unpadded_clip(tmp_path):
    lengths = np.array([0, 511, 512, 2048], "int32")
    out = np.asarray(
        check_layer(
            FrameMask,
            {"frames": 6, "hop_length": 512},
            lengths,
            expected_output_shape=(4, 6),
            tmp_path=tmp_path,
        )
    )
    # An unpadded clip of n samples has 1 + n // hop centred frames.
    np.testing.assert_array_equal(out.sum(1), 1 + lengths // 512)
    np.testing.assert_array_equal(out[3], [1, 1, 1, 1, 1, 0])


def test_position_encoding_values(tmp_path):
    x = np.zeros((2, 5, 4), "float32")
    out = np.asarray(
        check_layer(
            SinusoidalPositionEncoding,
            {},
            x,
            expected_output_shape=(2, 5, 4),
            tmp_path=tmp_path,
        )
    )
    np.testing.assert_allclose(out[0, 0], [0.0, 1.0, 0.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(out[1, 3, :2], [np.sin(3.0), np.cos(3.0)], atol=1e-6)
    freq = 10000.0 ** (-2.0 / 4.0)
    np.testing.assert_allclose(out[0, 3, 2:], [np.sin(3 * freq), np.cos(3 * freq)], atol=1e-6)


def test_transformer_block(tmp_path, rng):
    x = rng.normal(size=(2, 7, 8)).astype("float32")
    out = np.asarray(
        check_layer(
            TransformerBlock,
            {"num_heads": 2, "intermediate_dim": 16},
            x,
            expected_output_shape=(2, 7, 8),
            tmp_path=tmp_path,
        )
    )
    assert np.all(np.isfinite(out)) and not np.allclose(out, x)


def test_attention_pooling_is_a_convex_combination(tmp_path, rng):
    x = rng.normal(size=(3, 9, 4)).astype("float32")
    out = np.asarray(
        check_layer(
            AttentionPooling,
            {"hidden_dim": 8},
            x,
            expected_output_shape=(3, 4),
            tmp_path=tmp_path,
        )
    )
    assert np.all(out <= x.max(1) + 1e-5) and np.all(out >= x.min(1) - 1e-5)
    constant = np.ones((2, 9, 4), "float32") * 3.0
    np.testing.assert_allclose(np.asarray(AttentionPooling()(constant)), 3.0, rtol=1e-5)
