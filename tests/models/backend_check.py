"""Train, save and reload the tiny models on the backend named by KERAS_BACKEND.

Run as a script: ``python -m tests.models.backend_check [vae,vae_attention,autoencoder]``.
Prints one JSON line that ``test_backends.py`` checks. Kept outside pytest collection so each
backend runs in a fresh process (Keras fixes its backend at import).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import keras
import numpy as np

from keras_musiclatent.models import MusicAutoencoder, MusicVAE
from tests.models.harness import sinusoids, tiny_model_kwargs

CHECKS = {
    "vae": (MusicVAE, {"kl_warmup_steps": 10, "beta": 1e-3, "free_bits": 0.1}),
    "vae_attention": (MusicVAE, {"encoder": "attention", "kl_warmup_steps": 0}),
    "autoencoder": (MusicAutoencoder, {"bits": 6}),
}


def main(names: list[str]) -> dict:
    keras.utils.set_random_seed(0)
    audio = sinusoids(16, seed=3)
    lengths = np.full(16, audio.shape[1], "int32")
    lengths[:4] = audio.shape[1] // 2  # some zero-padded clips
    audio[:4, audio.shape[1] // 2 :] = 0.0
    result: dict = {"backend": keras.backend.backend()}
    tmp = Path(tempfile.mkdtemp())
    for name in names:
        cls, extra = CHECKS[name]
        model = cls(**tiny_model_kwargs(**extra))
        model.adapt({"audio": audio, "length": lengths})
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        epochs = 10 if name == "vae" else 1
        history = model.fit(
            {"audio": audio, "length": lengths}, batch_size=8, epochs=epochs, verbose=0
        )
        entry = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        if hasattr(model, "kl_step"):
            entry["kl_step"] = float(keras.ops.convert_to_numpy(model.kl_step))
        z_mean, _, _ = model.encode(audio, sample=False)
        decoded = model.decode(z_mean)
        path = tmp / f"{name}.keras"
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
        z_loaded, _, _ = loaded.encode(audio, sample=False)
        entry["reload_encode_max_diff"] = float(np.max(np.abs(z_loaded - z_mean)))
        entry["reload_decode_max_diff"] = float(np.max(np.abs(loaded.decode(z_mean) - decoded)))
        entry["decode_shape"] = list(decoded.shape)
        result[name] = entry
    return result


if __name__ == "__main__":
    print(
        "RESULT " + json.dumps(main(sys.argv[1].split(",") if len(sys.argv) > 1 else list(CHECKS)))
    )
    sys.stdout.flush()
