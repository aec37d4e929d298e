"""Parity of LogMelSpectrogram with librosa, serialization, and backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import librosa
import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.layers import LogMelSpectrogram, mel_filterbank
from tests.conftest import REPO_ROOT, tone

TOLERANCE_DB = 0.05


def librosa_log_mel(y: np.ndarray, **kw) -> np.ndarray:
    sr = kw.pop("sample_rate", 22050)
    top_db = kw.pop("top_db", None)
    hop = kw.pop("hop_length", 512)
    spec = librosa.feature.melspectrogram(y=y, sr=sr, hop_length=hop, **kw)
    return librosa.power_to_db(spec, ref=1.0, amin=1e-10, top_db=top_db).T


def max_error_in_range(ours: np.ndarray, ref: np.ndarray, dynamic_db: float = 80.0) -> float:
    """Largest |difference| over bins within ``dynamic_db`` of the reference's maximum."""
    mask = ref >= ref.max() - dynamic_db
    return float(np.abs(ours - ref)[mask].max())


def synthetic_signals(rng: np.random.Generator, samples: int) -> np.ndarray:
    t = np.arange(samples) / 22050
    chirp = 0.3 * np.sin(2 * np.pi * (100 * t + 2000 * t**2))
    clicks = np.zeros(samples)
    clicks[::5000] = 0.9
    return np.stack(
        [
            tone(samples / 22050, freq=440.0)[:samples],
            0.1 * rng.standard_normal(samples),
            chirp,
            clicks,
            1e-4 * rng.standard_normal(samples),  # quiet: must keep its own range
        ]
    ).astype(np.float32)


def test_filterbank_matches_librosa():
    ours = mel_filterbank(sample_rate=22050, n_fft=2048, n_mels=128, fmin=0.0, fmax=None)
    ref = librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128)
    np.testing.assert_allclose(ours, ref, rtol=1e-6, atol=1e-9)


def test_parity_synthetic(rng):
    y = synthetic_signals(rng, 66150)
    out = keras.ops.convert_to_numpy(LogMelSpectrogram()(y))
    assert out.shape == (5, 130, 128)
    for i in range(len(y)):
        err = max_error_in_range(out[i], librosa_log_mel(y[i]))
        assert err <= TOLERANCE_DB, f"signal {i}: {err:.5f} dB"


@pytest.mark.parametrize(
    "recipe",
    [
        {"n_fft": 1024, "hop_length": 256, "n_mels": 64},
        {"n_fft": 512, "hop_length": 128, "n_mels": 40, "fmin": 50.0, "fmax": 8000.0},
        {"sample_rate": 16000, "n_fft": 400, "hop_length": 160, "n_mels": 80},
    ],
)
def test_parity_other_recipes(rng, recipe):
    y = synthetic_signals(rng, 16000)[:4]
    out = keras.ops.convert_to_numpy(LogMelSpectrogram(**recipe)(y))
    for i in range(len(y)):
        ref = librosa_log_mel(y[i], **dict(recipe))
        assert out[i].shape == ref.shape
        assert max_error_in_range(out[i], ref) <= TOLERANCE_DB


def test_top_db_is_per_example(rng):
    loud = tone(1.0, amp=0.9)
    quiet = (1e-5 * rng.standard_normal(22050)).astype(np.float32)
    out = keras.ops.convert_to_numpy(LogMelSpectrogram(top_db=80.0)(np.stack([loud, quiet])))
    for i, y in enumerate([loud, quiet]):
        ref = librosa_log_mel(y, top_db=80.0)
        np.testing.assert_allclose(out[i], ref, atol=TOLERANCE_DB)
    # A batch-wide top_db would flatten the quiet clip to one value.
    assert out[1].max() - out[1].min() > 10.0


def test_frames_and_output_shape():
    layer = LogMelSpectrogram(n_fft=512, hop_length=128, n_mels=32)
    assert layer.num_frames(22050) == 1 + 22050 // 128
    assert layer.compute_output_shape((None, 22050)) == (None, 173, 32)
    inputs = keras.Input((22050,))
    assert tuple(layer(inputs).shape) == (None, 173, 32)


def test_config_round_trip_and_save_load(tmp_path, rng):
    layer = LogMelSpectrogram(n_fft=1024, hop_length=256, n_mels=64, fmax=8000.0, top_db=90.0)
    config = layer.get_config()
    json.dumps(config)  # recipe only: numbers and strings, no arrays
    assert not any(isinstance(v, (list, np.ndarray)) and len(v) > 8 for v in config.values())
    clone = LogMelSpectrogram.from_config(config)
    y = synthetic_signals(rng, 22050)[:3]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(y)), keras.ops.convert_to_numpy(clone(y))
    )
    inputs = keras.Input((22050,))
    model = keras.Model(inputs, layer(inputs))
    path = tmp_path / "logmel.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.count_params() == 0  # the filterbank is rebuilt, not stored
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(y)), keras.ops.convert_to_numpy(model(y)), atol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs", [{"pad_mode": "wrap"}, {"n_fft": 0}, {"amin": 0.0}, {"top_db": -1.0}]
)
def test_bad_recipe_is_rejected(kwargs):
    with pytest.raises(ValueError):
        LogMelSpectrogram(**kwargs)


def test_reflect_padding_matches_librosa(rng):
    y = synthetic_signals(rng, 22050)[:2]
    out = keras.ops.convert_to_numpy(LogMelSpectrogram(pad_mode="reflect")(y))
    for i in range(2):
        ref = librosa_log_mel(y[i], pad_mode="reflect")
        assert max_error_in_range(out[i], ref) <= TOLERANCE_DB


@pytest.mark.gtzan
def test_parity_real_clips(gtzan_root):
    clips = sorted(gtzan_root.glob("*/*.ogg"))
    # One clip per genre keeps the test quick while covering quiet classical and loud metal.
    picked = {}
    for path in clips:
        picked.setdefault(path.parent.name, path)
    layer = LogMelSpectrogram()
    worst = 0.0
    for path in picked.values():
        windows, _ = audio.segment(audio.load(path), 22050)
        out = keras.ops.convert_to_numpy(layer(windows[:4]))
        for i in range(min(4, len(windows))):
            worst = max(worst, max_error_in_range(out[i], librosa_log_mel(windows[i])))
    assert len(picked) == 10
    assert worst <= TOLERANCE_DB, f"worst {worst:.5f} dB"


BACKEND_SCRIPT = textwrap.dedent(
    """
    import numpy as np, librosa, keras
    from keras_musiclatent.layers import LogMelSpectrogram
    assert keras.backend.backend() == "{backend}", keras.backend.backend()
    rng = np.random.default_rng(0)
    t = np.arange(66150) / 22050
    y = np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.1 * rng.standard_normal(66150),
                  0.3 * np.sin(2 * np.pi * (100 * t + 2000 * t**2))]).astype("float32")
    out = keras.ops.convert_to_numpy(LogMelSpectrogram()(y))
    worst = 0.0
    for i in range(len(y)):
        ref = librosa.power_to_db(librosa.feature.melspectrogram(y=y[i], sr=22050),
                                  ref=1.0, amin=1e-10, top_db=None).T
        mask = ref >= ref.max() - 80
        worst = max(worst, float(np.abs(out[i] - ref)[mask].max()))
    print("WORST", worst)
    """
)


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_parity_on_backend(backend):
    module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}[backend]
    probe = subprocess.run(
        [sys.executable, "-c", f"import {module}"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        pytest.skip(f"backend {backend} is not installed ({module} does not import)")
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", BACKEND_SCRIPT.format(backend=backend)],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    worst = float(result.stdout.split("WORST")[-1])
    assert worst <= TOLERANCE_DB
