"""The musicnn port: structure, checkpoint conversion, and parity with the original musicnn 0.1.0.

The original runs in a subprocess (``musicnn_reference.py``; it needs TF1 graph mode and the
legacy ``tf_keras``), the port in this process and, for the other backends, in one subprocess
each: ``python -m tests.models.test_musicnn WEIGHTS_DIR INPUTS.npz OUT.npz`` with
``KERAS_BACKEND`` set. Set ``MUSICNN_PARITY_JSON=path`` to collect the measured errors (the
model card's parity table is rendered from that file).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from keras_musiclatent.errors import ConfigError
from keras_musiclatent.layers.musicnn_log_mel import FLOAT16_MAX, MusicnnLogMel
from keras_musiclatent.models.musicnn import MSD_TAGS, MusicnnBackbone
from tests.conftest import REPO_ROOT
from tests.models.harness import check_config_round_trip, check_layer

SAMPLE_RATE = 16000
SEGMENT = 48000  # 3 s: one musicnn patch of 187 frames
FRAMES = 187
OUTPUTS = ("tags", "penultimate", "mean_pool", "max_pool")
RELATIVE_TOLERANCE = 1e-4
ABSOLUTE_TOLERANCE = 1e-6  # for outputs that are all (near) zero
ZOO_DIR = REPO_ROOT / "zoo" / "musicnn-msd"
REFERENCE_SCRIPT = Path(__file__).with_name("musicnn_reference.py")
CONVERT_SCRIPT = REPO_ROOT / "scripts" / "convert_musicnn.py"
UNAVAILABLE = 3  # musicnn_reference.py's exit status when the original cannot run
# The largest value musicnn's float16 log compression can produce without overflowing.
LOG_MEL_MAX = float(np.float16(np.log10(np.float16(FLOAT16_MAX))))

TINY = {
    "segment_seconds": 0.5,
    "n_mels": 16,
    "timbral_filters": 4,
    "temporal_filters": 3,
    "temporal_frames": (8, 4),
    "midend_filters": 4,
    "embedding_dim": 8,
    "num_tags": 5,
}
TINY_SAMPLES = 8000
TINY_FRAMES = 1 + (TINY_SAMPLES - 256) // 256  # 31


# --- helpers -------------------------------------------------------------------------------


def synthetic_clips(seed: int = 2019) -> np.ndarray:
    """Four 3-s clips at 16 kHz, float32 ``(4, 48000)``: chirp, noise bursts, chord, mixture.

    Levels stay below the point where musicnn's float16 spectrogram overflows (where the
    original returns a constant, input-independent output that no port should copy).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(SEGMENT) / SAMPLE_RATE
    chirp = 0.05 * np.sin(2 * np.pi * (80 * t + (5000 - 80) / 6 * t**2))
    bursts = np.zeros(SEGMENT)
    for start in range(0, SEGMENT - 2400, 6000):
        bursts[start : start + 2400] = 0.04 * rng.standard_normal(2400) * np.hanning(2400)
    swell = 1.0 + 0.5 * np.sin(2 * np.pi * 1.5 * t)
    chord = 0.02 * swell * sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.18, 329.63))
    clicks = np.zeros(SEGMENT)
    clicks[:: SAMPLE_RATE // 4] = 0.3
    mixture = 0.5 * chirp[::-1] + 0.5 * chord + clicks + 0.005 * rng.standard_normal(SEGMENT)
    return np.stack([chirp, bursts, chord, mixture]).astype(np.float32)


def loud_clips() -> np.ndarray:
    """Two different loud 3-s clips whose float16 spectrogram overflows in musicnn."""
    t = np.arange(SEGMENT) / SAMPLE_RATE
    bass = 0.8 * np.sin(2 * np.pi * 90.0 * t)
    noise = 0.5 * np.random.default_rng(7).standard_normal(SEGMENT)
    return np.stack([bass, noise]).astype(np.float32)


def take(ref: dict[str, np.ndarray], rows: slice) -> dict[str, np.ndarray]:
    return {key: value[rows] for key, value in ref.items()}


def relative_errors(port: dict[str, np.ndarray], ref: dict[str, np.ndarray]) -> dict[str, float]:
    """``max|port - ref| / max|ref|`` per output."""
    return {
        key: float(np.max(np.abs(port[key] - ref[key])) / max(np.max(np.abs(ref[key])), 1e-30))
        for key in OUTPUTS
    }


def assert_parity(port: dict[str, np.ndarray], ref: dict[str, np.ndarray], label: str) -> None:
    """Every output within ``1e-4 * max|ref| + 1e-6`` of the original, errors in the message."""
    errors = relative_errors(port, ref)
    record_parity(label, errors)
    report = ", ".join(f"{k} {v:.2e}" for k, v in errors.items())
    for key in OUTPUTS:
        assert port[key].shape == ref[key].shape, (key, port[key].shape, ref[key].shape)
        bound = RELATIVE_TOLERANCE * np.max(np.abs(ref[key])) + ABSOLUTE_TOLERANCE
        worst = float(np.max(np.abs(port[key] - ref[key])))
        assert worst <= bound, f"{label}: {key} differs by {worst:.3g} > {bound:.3g} ({report})"


def record_parity(label: str, errors: dict[str, float]) -> None:
    """Add ``label``'s errors to ``$MUSICNN_PARITY_JSON`` when that is set."""
    path = os.environ.get("MUSICNN_PARITY_JSON")
    if not path:
        return
    path = Path(path)
    data = json.loads(path.read_text()) if path.is_file() else {}
    data[label] = errors
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def load_port(weights_dir: Path, *, input_type: str = "waveform") -> MusicnnBackbone:
    """The converted model from a zoo folder, taking waveforms or musicnn's log-mel patches."""
    config = json.loads((weights_dir / "config.json").read_text())
    config["config"]["input_type"] = input_type
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    model.load_weights(weights_dir / "model.weights.h5")
    return model


def port_outputs(weights_dir: Path, clips: np.ndarray, patches: np.ndarray) -> dict:
    """The port's outputs on waveforms (``waveform/<output>``) and on log-mel patches."""
    result = {}
    for input_type, x in (("waveform", clips), ("log_mel", patches)):
        out = load_port(weights_dir, input_type=input_type).predict(x, batch_size=8, verbose=0)
        result.update({f"{input_type}/{k}": np.asarray(out[k]) for k in OUTPUTS})
    return result


def split_outputs(outputs: dict, input_type: str) -> dict[str, np.ndarray]:
    return {key: outputs[f"{input_type}/{key}"] for key in OUTPUTS}


def run_reference(clips: np.ndarray, tmp: Path) -> dict[str, np.ndarray]:
    """The original musicnn's outputs on ``clips`` (one 3-s patch each), or skip."""
    tmp.mkdir(parents=True, exist_ok=True)
    np.save(tmp / "clips.npy", clips)
    env = {**os.environ, "TF_USE_LEGACY_KERAS": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [sys.executable, str(REFERENCE_SCRIPT), str(tmp / "clips.npy"), str(tmp / "ref.npz")],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode == UNAVAILABLE:
        pytest.skip(f"the original musicnn cannot run here: {proc.stdout.strip()}")
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    with np.load(tmp / "ref.npz") as data:
        ref = {key: data[key] for key in data.files}
    assert ref["tags"].shape == (len(clips), len(MSD_TAGS)), "expected one patch per clip"
    return ref


def numpy_musicnn_log_mel(y: np.ndarray) -> np.ndarray:
    """musicnn's extractor pre-processing of one 3-s clip: float16 ``log10(10000 mel + 1)``."""
    import librosa

    mel = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=512, hop_length=256, n_mels=96)
    with np.errstate(over="ignore"):
        return np.log10(10000 * mel.T.astype(np.float16) + 1)[:FRAMES]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory) -> Path:
    """The converted zoo folder, or a fresh conversion when it is not in the checkout."""
    if (ZOO_DIR / "model.weights.h5").is_file() and (ZOO_DIR / "config.json").is_file():
        return ZOO_DIR
    if importlib.util.find_spec("musicnn") is None:
        pytest.skip("zoo/musicnn-msd is missing and musicnn is not installed to convert it")
    out = tmp_path_factory.mktemp("musicnn") / "musicnn-msd"
    proc = subprocess.run(
        [sys.executable, str(CONVERT_SCRIPT), "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def reference_runs(tmp_path_factory) -> dict[str, tuple[np.ndarray, dict[str, np.ndarray]]]:
    """``{"synthetic": (clips, outputs), "loud": (clips, outputs)}`` of the original, one run."""
    quiet, loud = synthetic_clips(), loud_clips()
    ref = run_reference(np.concatenate([quiet, loud]), tmp_path_factory.mktemp("musicnn_ref"))
    runs = {
        "synthetic": (quiet, take(ref, slice(0, len(quiet)))),
        "loud": (loud, take(ref, slice(len(quiet), None))),
    }
    assert np.isfinite(runs["synthetic"][1]["patches"]).all(), "a quiet clip overflowed"
    return runs


@pytest.fixture(scope="module")
def synthetic_reference(reference_runs) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    return reference_runs["synthetic"]


def load_convert_script():
    spec = importlib.util.spec_from_file_location("convert_musicnn", CONVERT_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the log-mel layer ---------------------------------------------------------------------


def test_log_mel_layer_matches_musicnn_float16_preprocessing() -> None:
    layer = MusicnnLogMel()
    for y in synthetic_clips():
        ref = numpy_musicnn_log_mel(y).astype(np.float32)
        ours = keras.ops.convert_to_numpy(layer(y[None]))[0]
        assert ours.shape == ref.shape == (FRAMES, 96)
        diff = np.abs(ours - ref)
        # A mel value within float32 round-off of a float16 rounding boundary may round the
        # other way, in a handful of bins: one float16 step of the linear value (a log change
        # of at most log10(1 + 2**-10)) plus one step of the log.
        bound = np.spacing(ref.astype(np.float16)).astype(np.float32) + np.log10(1 + 2**-10)
        assert np.all(diff <= bound), f"max diff {diff.max():.3g}"
        assert np.count_nonzero(diff) <= 0.001 * diff.size, np.count_nonzero(diff)


def test_log_mel_layer_saturates_where_musicnn_overflows() -> None:
    t = np.arange(SEGMENT) / SAMPLE_RATE
    loud = (0.9 * np.sin(2 * np.pi * 110.0 * t)).astype(np.float32)
    assert np.isinf(numpy_musicnn_log_mel(loud)).any()  # the original's input overflows
    ours = keras.ops.convert_to_numpy(MusicnnLogMel()(loud[None]))
    assert np.isfinite(ours).all()
    assert ours.max() == pytest.approx(LOG_MEL_MAX)
    unrounded = keras.ops.convert_to_numpy(MusicnnLogMel(float16_rounding=False)(loud[None]))
    assert unrounded.max() > LOG_MEL_MAX + 0.5


def test_log_mel_layer_config_and_save(tmp_path) -> None:
    x = synthetic_clips()[:2, :TINY_SAMPLES]
    check_layer(
        MusicnnLogMel,
        {"n_mels": 32, "float16_rounding": False, "compression": 100.0},
        x,
        expected_output_shape=(2, TINY_FRAMES, 32),
        tmp_path=tmp_path,
    )
    config = MusicnnLogMel().get_config()
    assert config["compression"] == 10000.0 and config["float16_rounding"] is True
    assert "top_db" not in config and "amin" not in config  # no dB conversion here
    with pytest.raises(ValueError, match="compression"):
        MusicnnLogMel(compression=0.0)


# --- the backbone --------------------------------------------------------------------------


def test_tiny_backbone_outputs_config_and_save(tmp_path) -> None:
    model = MusicnnBackbone(**TINY)
    assert (model.samples, model.frames) == (TINY_SAMPLES, TINY_FRAMES)
    x = synthetic_clips()[:, :TINY_SAMPLES]
    out = model.predict(x, verbose=0)
    width = 2 * 4 + 2 * 3 + 3 * 4  # timbral + temporal + mid-end features
    assert {k: v.shape for k, v in out.items()} == {
        "tags": (4, 5),
        "penultimate": (4, 8),
        "mean_pool": (4, width),
        "max_pool": (4, width),
    }
    assert np.all((out["tags"] > 0) & (out["tags"] < 1))
    check_config_round_trip(model)

    path = tmp_path / "musicnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded) is MusicnnBackbone
    assert loaded.get_config() == model.get_config()
    again = loaded.predict(x, verbose=0)
    for key in OUTPUTS:
        np.testing.assert_allclose(again[key], out[key], rtol=1e-6, atol=1e-6, err_msg=key)

    # The log-mel input variant shares every weight and gives the same outputs.
    patches = model.get_layer("log_mel")(x)
    on_log_mel = MusicnnBackbone(**TINY, input_type="log_mel")
    assert on_log_mel.input_shape == (None, TINY_FRAMES, 16)
    on_log_mel.set_weights(model.get_weights())
    same = on_log_mel.predict(patches, verbose=0)
    for key in OUTPUTS:
        np.testing.assert_allclose(same[key], out[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_backbone_rejects_bad_config() -> None:
    with pytest.raises(ConfigError, match="input_type"):
        MusicnnBackbone(**TINY, input_type="spectrogram")
    with pytest.raises(ConfigError, match="timbral_band_fractions"):
        MusicnnBackbone(**{**TINY, "timbral_band_fractions": (0.01, 0.7)})
    with pytest.raises(ConfigError, match="temporal_frames"):
        MusicnnBackbone(**{**TINY, "temporal_frames": (8, 8)})
    with pytest.raises(ConfigError, match="midend_layers"):
        MusicnnBackbone(**TINY, midend_layers=0)


def test_msd_tags() -> None:
    assert len(MSD_TAGS) == len(set(MSD_TAGS)) == 50
    assert MSD_TAGS[:3] == ("rock", "pop", "alternative") and MSD_TAGS[-1] == "happy"


# --- the conversion ------------------------------------------------------------------------


def fake_checkpoint(convert, model: MusicnnBackbone, seed: int = 0) -> dict[str, np.ndarray]:
    """Variables named and shaped as in musicnn's checkpoint, with random values."""
    rng = np.random.default_rng(seed)
    variables = {}
    for tf_layer, layer in convert.LAYER_MAP.items():
        for weight in model.get_layer(layer).weights:
            shape = tuple(weight.shape)
            kind = weight.path.rpartition("/")[2]
            if layer in convert.SQUEEZED_KERNELS and kind == "kernel":
                shape = (*shape[:2], 1, shape[2])
            variables[f"{tf_layer}/{kind}"] = rng.standard_normal(shape).astype(np.float32)
    return variables


def test_conversion_maps_every_variable_and_fails_loudly() -> None:
    convert = load_convert_script()
    model = MusicnnBackbone()
    variables = fake_checkpoint(convert, model)
    assert len(variables) == len(model.weights) == 64
    convert.assign_weights(model, variables)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.get_layer("midend_2_conv").kernel),
        variables["conv2d_6/kernel"][:, :, 0, :],
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(model.get_layer("pool_bn").moving_variance),
        variables["batch_normalization_9/moving_variance"],
    )
    assert convert.is_optimizer_state("conv2d/kernel/Adam_1")
    assert convert.is_optimizer_state("beta1_power")
    assert not convert.is_optimizer_state("dense/kernel")

    broken = dict(variables)
    del broken["dense/bias"]
    broken["conv2d_8/kernel"] = np.zeros((3, 3, 1, 4), np.float32)
    broken["conv2d/kernel"] = np.zeros((7, 39, 1, 204), np.float32)
    with pytest.raises(convert.ConversionError) as info:
        convert.assign_weights(MusicnnBackbone(), broken)
    message = str(info.value)
    assert "penultimate_dense/bias: no checkpoint variable" in message
    assert "conv2d_8/kernel (3, 3, 1, 4): no port layer" in message
    assert "conv2d/kernel (7, 39, 1, 204) -> timbral_38_conv/kernel" in message


def test_zoo_folder_holds_the_checkpoint(weights_dir) -> None:
    if importlib.util.find_spec("musicnn") is None:
        pytest.skip("musicnn is not installed: nothing to compare the zoo weights with")
    convert = load_convert_script()
    model = MusicnnBackbone()
    convert.assign_weights(model, convert.read_checkpoint(convert.checkpoint_prefix()))
    loaded = load_port(weights_dir)
    for a, b in zip(loaded.weights, model.weights, strict=True):
        assert a.path == b.path
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path
        )
    assert (weights_dir / "model.weights.h5").stat().st_size < 10 * 1024 * 1024
    metadata = json.loads((weights_dir / "metadata.json").read_text())
    assert metadata["licence"] == "ISC" and metadata["sample_rate"] == SAMPLE_RATE
    assert tuple(metadata["tags"]) == MSD_TAGS
    from keras_musiclatent._files import sha256_file

    for name, sha in metadata["files"].items():
        assert sha256_file(weights_dir / name) == sha, name


# --- parity with the original --------------------------------------------------------------


def test_parity_with_original(weights_dir, synthetic_reference) -> None:
    clips, ref = synthetic_reference
    outputs = port_outputs(weights_dir, clips, ref["patches"])
    backend = keras.backend.backend()
    # musicnn's own log-mel patches through the network alone...
    assert_parity(split_outputs(outputs, "log_mel"), ref, f"{backend} log-mel input, synthetic")
    # ...and waveforms through the port's log-mel layer too.
    assert_parity(split_outputs(outputs, "waveform"), ref, f"{backend} waveform input, synthetic")


def test_original_collapses_where_float16_overflows_and_port_does_not(
    weights_dir, reference_runs
) -> None:
    clips, ref = reference_runs["loud"]
    assert np.isinf(ref["patches"]).any(axis=(1, 2)).all()
    # musicnn's output no longer depends on the audio: both clips give the same tags.
    np.testing.assert_allclose(ref["tags"][0], ref["tags"][1], rtol=1e-6)
    port = load_port(weights_dir).predict(clips, verbose=0)
    assert np.isfinite(port["penultimate"]).all()
    assert np.max(np.abs(port["tags"][0] - port["tags"][1])) > 0.05


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_parity_on_backend(backend, weights_dir, synthetic_reference, tmp_path) -> None:
    if backend == keras.backend.backend():
        pytest.skip(f"{backend} is this process's backend: test_parity_with_original covers it")
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"the {backend} backend is not installed")
    clips, ref = synthetic_reference
    np.savez(tmp_path / "inputs.npz", clips=clips, patches=ref["patches"])
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.models.test_musicnn",
            str(weights_dir),
            str(tmp_path / "inputs.npz"),
            str(tmp_path / "port.npz"),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0 and f"RESULT {backend}" in proc.stdout, proc.stderr[-3000:]
    with np.load(tmp_path / "port.npz") as data:
        outputs = {key: data[key] for key in data.files}
    assert_parity(split_outputs(outputs, "log_mel"), ref, f"{backend} log-mel input, synthetic")
    assert_parity(split_outputs(outputs, "waveform"), ref, f"{backend} waveform input, synthetic")


def gtzan_excerpts(root: Path, genres: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """The first 3 s (at 16 kHz) of the first long enough valid clip of each genre, scaled.

    Loud music overflows musicnn's float16 spectrogram (its output is then a constant), so
    each excerpt is scaled until its largest mel value is 6.0, under the 6.55 limit.
    """
    import librosa
    import soundfile as sf
    import soxr

    with open(root / "split.csv", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["clip"])
    clips, names = [], []
    for genre in genres:
        for row in (r for r in rows if r["genre"] == genre and r["split"] == "valid"):
            path = next((root / genre).glob(f"{row['clip']}.*"), None)
            # Some listed clips are absent, a few are shorter than 3 s.
            if path is not None and sf.info(path).duration >= 3.1:
                break
        else:
            pytest.skip(f"no valid {genre} clip of 3 s or more in {root}")
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        y = soxr.resample(y.mean(axis=1), sr, SAMPLE_RATE)[:SEGMENT].astype(np.float32)
        mel = librosa.feature.melspectrogram(
            y=y, sr=SAMPLE_RATE, n_fft=512, hop_length=256, n_mels=96
        )
        clips.append(y * np.float32(min(1.0, np.sqrt(6.0 / mel.max()))))
        names.append(row["clip"])
    return np.stack(clips), names


@pytest.mark.gtzan
def test_parity_on_real_gtzan_clips(weights_dir, gtzan_root, tmp_path) -> None:
    clips, names = gtzan_excerpts(gtzan_root, ("classical", "rock"))
    assert clips.shape == (2, SEGMENT), names
    ref = run_reference(clips, tmp_path)
    assert np.isfinite(ref["patches"]).all()
    outputs = port_outputs(weights_dir, clips, ref["patches"])
    backend = keras.backend.backend()
    assert_parity(split_outputs(outputs, "log_mel"), ref, f"{backend} log-mel input, GTZAN")
    assert_parity(split_outputs(outputs, "waveform"), ref, f"{backend} waveform input, GTZAN")


if __name__ == "__main__":
    # The port's side of test_parity_on_backend, on the backend named by KERAS_BACKEND.
    weights, inputs, out = sys.argv[1:4]
    with np.load(inputs) as data:
        result = port_outputs(Path(weights), data["clips"], data["patches"])
    np.savez(out, **result)
    print(f"RESULT {keras.backend.backend()}")
