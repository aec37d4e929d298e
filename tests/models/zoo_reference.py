"""Writes the zoo models' outputs on a fixed generated input, the reference that
``test_zoo_outputs.py`` holds every later version of the model code to.

Run from the repository root: ``python -m tests.models.zoo_reference``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from keras_musiclatent import LatentSpace
from keras_musiclatent.data.synthetic import demo_clip

REFERENCE = Path(__file__).resolve().parent / "data" / "zoo_outputs.npz"
MODELS = ("gtzan-vae", "gtzan-ae", "gtzan-codec")


def fixed_input() -> np.ndarray:
    """Two 3-s windows of the built-in 96-bpm demo clip, float32 ``(2, 66150)``."""
    y = demo_clip(seconds=6.0, tempo=96.0, seed=0)
    return np.stack([y[:66150], y[66150:132300]]).astype(np.float32)


def outputs(name: str) -> dict[str, np.ndarray]:
    """Latent means ``(2, 64)`` and every 8th frame and band of the decodes ``(2, 17, 16)``
    (and, for a model with one, the time-varying latent and the decode of both)."""
    space = LatentSpace.load(name)
    z_mean, _, _ = space.model.encode(fixed_input(), sample=False)
    decoded = space.model.decode(z_mean)
    out = {f"{name}/z_mean": z_mean, f"{name}/decoded": decoded[:, ::8, ::8]}
    if space.has_time_latent:
        # The time-varying latent (``(2, 17, 4)`` in gtzan-vae) and the decode of both.
        z_time = space.model.encode_time(fixed_input())
        both = space.model.decode(z_mean, z_time=z_time)
        out.update({f"{name}/z_time": z_time, f"{name}/decoded_both": both[:, ::8, ::8]})
    return out


def main() -> None:
    arrays: dict[str, np.ndarray] = {}
    for name in MODELS:
        arrays.update(outputs(name))
    REFERENCE.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(REFERENCE, **arrays)
    print(f"wrote {REFERENCE}")


if __name__ == "__main__":
    main()
