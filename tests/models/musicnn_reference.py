"""Run the original musicnn 0.1.0 on 16 kHz clips and save its outputs, for the parity tests.

Usage::

    TF_USE_LEGACY_KERAS=1 python tests/models/musicnn_reference.py CLIPS.npy OUT.npz

``CLIPS.npy`` holds float32 clips ``(n, samples)`` at 16 kHz. Each clip is written to a float
WAV at 16 kHz (so ``librosa.load(sr=16000)`` inside musicnn reads the same samples back, with
no resampling) and passed to musicnn's own ``extractor`` with non-overlapping 3-s patches.
``OUT.npz`` gets, over all patches of all clips in order: ``patches`` (the log-mel input,
float16 values as musicnn computes them), ``tags``, ``penultimate``, ``mean_pool``,
``max_pool`` and ``clip`` (the clip of each patch).

Runs in its own process: musicnn disables eager execution on import and needs the legacy
``tf_keras`` (``TF_USE_LEGACY_KERAS=1``). Exits with status 3 and a line starting with
``UNAVAILABLE:`` when musicnn cannot be imported, so a caller can skip.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import sys
import tempfile
from pathlib import Path

import numpy as np

UNAVAILABLE = 3
SAMPLE_RATE = 16000


def main(clips_path: str, out_path: str, model: str = "MSD_musicnn") -> int:
    if importlib.util.find_spec("tf_keras") is None:
        print("UNAVAILABLE: tf_keras is not installed (musicnn's tf.compat.v1 layers need it)")
        return UNAVAILABLE
    try:
        import librosa
        import soundfile as sf
        from musicnn import configuration
        from musicnn.extractor import batch_data, extractor
    except Exception as exc:  # any import failure means the original cannot run here
        print(f"UNAVAILABLE: cannot import musicnn ({type(exc).__name__}: {exc})")
        return UNAVAILABLE
    if configuration.SR != SAMPLE_RATE:
        print(f"UNAVAILABLE: musicnn expects {configuration.SR} Hz, not {SAMPLE_RATE}")
        return UNAVAILABLE

    clips = np.load(clips_path).astype(np.float32)
    # musicnn's own patch length for 3-s inputs (187 frames at 16 kHz, hop 256).
    n_frames = 1 + int(
        librosa.time_to_frames(
            3, sr=SAMPLE_RATE, n_fft=configuration.FFT_SIZE, hop_length=configuration.FFT_HOP
        )
    )
    results: dict[str, list[np.ndarray]] = {
        key: [] for key in ("patches", "tags", "penultimate", "mean_pool", "max_pool", "clip")
    }
    with tempfile.TemporaryDirectory() as tmp:
        for index, clip in enumerate(clips):
            wav = Path(tmp) / f"clip{index}.wav"
            sf.write(wav, clip, SAMPLE_RATE, subtype="FLOAT")
            with contextlib.redirect_stdout(io.StringIO()):
                patches, _ = batch_data(str(wav), n_frames, n_frames)
                taggram, _, features = extractor(
                    str(wav),
                    model=model,
                    input_length=3,
                    input_overlap=False,
                    extract_features=True,
                )
            results["patches"].append(patches.astype(np.float32))
            results["tags"].append(np.asarray(taggram, np.float32))
            for key in ("penultimate", "mean_pool", "max_pool"):
                results[key].append(np.asarray(features[key], np.float32).reshape(len(taggram), -1))
            results["clip"].append(np.full(len(taggram), index, np.int32))
    np.savez(out_path, **{key: np.concatenate(value) for key, value in results.items()})
    print(f"OK {sum(len(c) for c in results['clip'])} patches")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
