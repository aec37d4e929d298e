"""The main job on an embedded default: the demo clip through a model and back to audio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from keras_musiclatent import audio
from keras_musiclatent.atomic import write_json, write_npz
from keras_musiclatent.demo import demo_clip

__all__ = ["run_demo"]


def run_demo(*, out: Path, seed: int = 0) -> dict[str, Any]:
    """Make the demo clip, encode it with a default ``MusicVAE``, decode it, write the results.

    Until a pretrained model ships, the model is the default architecture, untrained and seeded.

    Writes ``demo.wav``, ``reconstruction.wav`` (the decoded log-mel made audible),
    ``latent.npz`` (mean, log_var, z per 3-s segment), ``logmel.npz``
    (input and decoded log-mel, dB) and ``summary.json`` under ``out``.

    Args:
        out: output folder (created).
        seed: seeds the clip and an untrained model.

    Returns:
        The summary written to ``summary.json``.
    """
    import keras

    from keras_musiclatent.layers import LogMelSpectrogram
    from keras_musiclatent.models import MusicVAE

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    clip = demo_clip(seed=seed)
    audio.save(out / "demo.wav", clip, audio.DEFAULT_SAMPLE_RATE)
    windows, lengths = audio.segment(clip, audio.DEFAULT_SAMPLE_RATE)
    vae = MusicVAE(seed=seed)
    z_mean, z_log_var, z = (keras.ops.convert_to_numpy(t) for t in vae.encode(windows))
    decoded = keras.ops.convert_to_numpy(vae.decode(z_mean))
    reference = keras.ops.convert_to_numpy(LogMelSpectrogram()(windows))
    from keras_musiclatent.inversion import logmel_to_audio

    segment_samples = windows.shape[1]
    heard = logmel_to_audio(decoded, length=segment_samples, seed=seed)
    heard = np.concatenate([heard[i, :n] for i, n in enumerate(lengths)])
    audio.save(out / "reconstruction.wav", heard / max(1e-9, float(np.abs(heard).max())) * 0.9)
    write_npz(out / "latent.npz", mean=z_mean, log_var=z_log_var, z=z, lengths=lengths)
    write_npz(out / "logmel.npz", input=reference, decoded=decoded)
    summary = {
        "model": f"MusicVAE (untrained, seed {seed})",
        "clip_seconds": round(len(clip) / audio.DEFAULT_SAMPLE_RATE, 3),
        "segments": len(windows),
        "latent_dim": int(z_mean.shape[-1]),
        "logmel_shape": list(reference.shape[1:]),
        "files": sorted(
            ["demo.wav", "reconstruction.wav", "latent.npz", "logmel.npz", "summary.json"]
        ),
    }
    write_json(out / "summary.json", summary)
    return summary
