"""Write the model card of ``musicnn-msd``: measured parity and the tags it gives real clips.

Every figure in the card comes from this command: the parity table from the JSON the tests
write, the tags from running the converted model on GTZAN valid clips. From the repository
root::

    MUSICNN_PARITY_JSON=runs/musicnn-parity.json python -m pytest tests/models/test_musicnn.py
    python scripts/musicnn_card.py --parity runs/musicnn-parity.json --data ../shared/data/gtzan
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import keras  # noqa: E402

from keras_musiclatent._files import atomic_path  # noqa: E402
from keras_musiclatent.layers.musicnn_log_mel import FLOAT16_MAX  # noqa: E402
from keras_musiclatent.models.musicnn import MSD_TAGS  # noqa: E402
from keras_musiclatent.presets import registry  # noqa: E402

ZOO_DIR = REPO_ROOT / "zoo" / "musicnn-msd"
GENRES = ("classical", "country", "disco", "jazz", "metal")
OUTPUTS = ("tags", "penultimate", "mean_pool", "max_pool")
COMMANDS = """\
MUSICNN_PARITY_JSON=runs/musicnn-parity.json python -m pytest tests/models/test_musicnn.py
python scripts/musicnn_card.py --parity runs/musicnn-parity.json --data ../shared/data/gtzan"""
# musicnn's float16 log compression tops out here; a window holding this value is one where
# the original extractor's spectrogram overflows to inf.
SATURATED = float(np.float16(np.log10(np.float16(FLOAT16_MAX))))

ISC_NOTICE = """\
Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019. Code developed by Jordi
Pons (www.jordipons.me).

Permission to use, copy, modify, and/or distribute this software for any purpose with or
without fee is hereby granted, provided that the above copyright notice and this permission
notice appear in all copies.

THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS
SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE
AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES
WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT,
NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR
PERFORMANCE OF THIS SOFTWARE."""

CARD = """\
# musicnn-msd

musicnn (Pons & Serra 2019), the `MSD_musicnn` network of musicnn 0.1.0, trained by its
authors on the Million Song Dataset to predict the 50 most frequent Last.fm tags. The weights
are converted from the authors' TensorFlow 1 checkpoint, not retrained: every variable maps
onto `keras_musiclatent.models.musicnn.MusicnnBackbone`, a Keras 3 network written with
`keras.ops` and `keras.layers` only (TensorFlow, JAX, PyTorch).

- Input: 16 kHz mono waveform windows of 3 s, `(batch, 48000)` float32. The model computes
  musicnn's input itself: a 96-band mel spectrogram (n_fft 512, hop 256, librosa's slaney
  filterbank), `log10(10000 * mel + 1)` with musicnn's float16 rounding, 187 frames.
  `input_type="log_mel"` takes those `(batch, 187, 96)` patches instead.
- Outputs (a dict): `tags` (50 sigmoid probabilities, a row of musicnn's taggram),
  `penultimate` (the 200-d embedding musicnn's authors recommend as features), `mean_pool` and
  `max_pool` (753-d pooled mid-end features).
- {parameters:,} parameters; `model.weights.h5` is {weights_mb:.1f} MB.

```python
import json
import keras
from keras_musiclatent.models.musicnn import MSD_TAGS, MusicnnBackbone  # registers the class

config = json.load(open("zoo/musicnn-msd/config.json"))
model = keras.saving.deserialize_keras_object(config, safe_mode=True)
model.load_weights("zoo/musicnn-msd/model.weights.h5")
out = model.predict(windows)  # windows: (n, 48000) float32 at 16 kHz
top3 = [MSD_TAGS[i] for i in out["tags"].mean(axis=0).argsort()[::-1][:3]]
```

## Licence and attribution

Weights and architecture: musicnn by Jordi Pons and Xavier Serra (Music Technology Group,
Universitat Pompeu Fabra), ISC licence; trained by its authors on the Million Song Dataset.
Cite: J. Pons and X. Serra, "musicnn: pre-trained convolutional neural networks for music
audio tagging", ISMIR 2019 late-breaking/demo. Source: musicnn 0.1.0 on PyPI,
<https://github.com/jordipons/musicnn>. The Keras code here is a new implementation of the
published architecture. The licence of the converted weights:

```
{isc_notice}
```

## Conversion

```bash
pip install --no-deps musicnn==0.1.0       # the checkpoint ships inside the package
python scripts/convert_musicnn.py --out zoo/musicnn-msd
```

The script reads the checkpoint with TensorFlow's checkpoint reader, skips Adam's slots, maps
the other {n_variables} variables by name and shape and stops on any unmapped, missing or
mis-shaped one, then writes `config.json`, `model.weights.h5` and `metadata.json` atomically
and prints their sha256.

## Parity with the original

The original network runs in its own process (musicnn's `extractor`, TF1 graph mode with
`tf_keras`), the port on each installed backend, on four generated 3-s clips (a chirp, noise
bursts, a chord, a mixture with clicks) and on the first 3 s of two GTZAN valid clips.
Figures are `max|port - original| / max|original|` per output; the tests require at most
1e-4 (plus 1e-6 absolute). "log-mel input" feeds musicnn's own patches to the network;
"waveform input" also runs the port's spectrogram, where a few mel values round to the
neighbouring float16 step.

{parity_table}

Reproduce (the second command rewrites this card):

```bash
{commands}
```

## Differences from musicnn's extractor

- Loud audio. musicnn stores the mel spectrogram as float16 and computes `10000 * mel` in
  float16, which overflows to inf when a mel value exceeds 6.55. Loud music does that (see
  the "saturated" column below), and the original network then returns the same output
  whatever the audio (`test_original_collapses_where_float16_overflows_and_port_does_not`).
  The port saturates those bins at the float16 maximum (log value {saturated:.3f}) and
  still responds to the audio there. The parity clips above stay below the overflow, where
  both compute the same numbers.
- Windows. The port tags independent 3-s windows (48000 samples, the first frame zero-padded on
  the left), which equals musicnn on a 3-s file. On a longer file musicnn steps by 187 frames
  (2.992 s) and a patch's first frame sees the previous patch's last samples.
- Resampling is the caller's: musicnn calls `librosa.load(sr=16000)`; the figures here resample
  with `soxr` (22050 to 16000 Hz), the same for both sides when comparing.

## Tags on real music

The top three tags (mean probability over the clip's complete 3-s windows) for the first
valid clip (of 3 s or more) of five GTZAN genres, read with `soundfile` and resampled to
16 kHz with `soxr`. "Saturated" counts windows with bins where musicnn's own extractor
overflows.

{tags_table}
{probe_section}"""


PROBE_HEADING = "## Genre probe on GTZAN"


def probe_section(metadata: dict) -> str:
    """The card's last section: the probe accuracy ``scripts/musicnn_head.py`` measured."""
    probe = metadata.get("genre_probe")
    if not probe:
        return ""
    genres = metadata.get("genres") or sorted(probe["per_genre"])
    rows = "\n".join(
        f"| {genre} | {100 * acc:.1f}% |" for genre, acc in sorted(probe["per_genre"].items())
    )
    return f"""\
{PROBE_HEADING}

The latent probe of the evaluation protocol on the 200-d penultimate embeddings, the rule
`musiclatent evaluate` applies to every model's latent: a standardised logistic regression
fitted on the embeddings of the {probe["train_segments"]} 3-s windows (16 kHz, the window
rule of `keras_musiclatent.audio.windows`) of the {probe["train_clips"]} clips of the
`{probe["train_split"]}` split ({probe["data"]}), scored on the {probe["clips"]} clips of the
`{probe["split"]}` split at clip level (the argmax of a clip's mean window probability; seed
{probe["seed"]}). That regression is the shipped `genre_head.npz`
(`LatentSpace.load("musicnn-msd").classify(...)`), and `musiclatent evaluate` shows this
figure, measured in the same run, beside every latent model's own probe.

**{probe["split"]} accuracy: {100 * probe["accuracy"]:.1f}%** over {probe["clips"]} clips
({len(genres)} genres, chance {100 / len(genres):.0f}%). Per genre (genres without
`{probe["split"]}` clips are left out):

| genre | accuracy |
|---|---|
{rows}

Reproduce (rewrites this section, the head and the zoo index's sha256):

```bash
{probe["command"]}
```
"""


def parity_table(parity: dict[str, dict[str, float]]) -> str:
    """The measured errors, one row per backend, input and clip set."""
    lines = [
        "| backend | input | clips | " + " | ".join(OUTPUTS) + " |",
        "|---|---|---|" + "---|" * len(OUTPUTS),
    ]
    for label in sorted(parity):
        backend, _, rest = label.partition(" ")
        input_kind, _, clips = rest.partition(", ")
        cells = " | ".join(f"{parity[label][key]:.1e}" for key in OUTPUTS)
        lines.append(f"| {backend} | {input_kind} | {clips} | {cells} |")
    return "\n".join(lines)


def first_valid_clips(root: Path, genres: tuple[str, ...]) -> list[tuple[str, str, Path]]:
    """``(clip, genre, path)`` of the first present valid clip of 3 s or more per genre."""
    import soundfile as sf

    with open(root / "MANIFEST.csv", newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["clip"])
    chosen = []
    for genre in genres:
        for row in rows:
            path = root / row["file"]
            if row["genre"] != genre or row["split"] != "valid" or not path.is_file():
                continue
            if sf.info(path).duration >= 3.1:
                chosen.append((row["clip"], genre, path))
                break
        else:
            raise SystemExit(f"musicnn_card: no valid {genre} clip of 3 s or more in {root}")
    return chosen


def windows_16k(path: Path, samples: int) -> np.ndarray:
    """The file's complete 3-s windows at 16 kHz, ``(n, samples)`` float32."""
    import soundfile as sf
    import soxr

    y, sr = sf.read(path, dtype="float32", always_2d=True)
    y = soxr.resample(y.mean(axis=1), sr, 16000).astype(np.float32)
    n = len(y) // samples
    return y[: n * samples].reshape(n, samples)


def tags_table(model, clips: list[tuple[str, str, Path]]) -> str:
    lines = ["| clip | genre | windows | saturated | top-3 tags |", "|---|---|---|---|---|"]
    log_mel = model.get_layer("log_mel")
    for clip, genre, path in clips:
        windows = windows_16k(path, model.samples)
        tags = model.predict(windows, batch_size=8, verbose=0)["tags"].mean(axis=0)
        peaks = keras.ops.convert_to_numpy(keras.ops.max(log_mel(windows), axis=(1, 2)))
        saturated = int(np.sum(peaks >= SATURATED))
        top = ", ".join(f"{MSD_TAGS[i]} {tags[i]:.2f}" for i in np.argsort(tags)[::-1][:3])
        lines.append(f"| {clip} | {genre} | {len(windows)} | {saturated} | {top} |")
    return "\n".join(lines)


def probe_section_of(folder: Path) -> str:
    """The probe section from ``folder/metadata.json`` (empty before the head is fitted)."""
    meta = folder / "metadata.json"
    if not meta.is_file():
        return ""
    section = probe_section(json.loads(meta.read_text(encoding="utf-8")))
    return "\n" + section if section else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parity", type=Path, required=True, help="JSON the tests wrote")
    parser.add_argument("--data", type=Path, required=True, help="GTZAN folder (MANIFEST.csv)")
    parser.add_argument("--model", type=Path, default=ZOO_DIR, help="converted zoo folder")
    parser.add_argument("--out", type=Path, default=None, help="card path (MODEL/card.md)")
    args = parser.parse_args(argv)

    config = json.loads((args.model / "config.json").read_text(encoding="utf-8"))
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    model.load_weights(args.model / "model.weights.h5")
    parity = json.loads(args.parity.read_text(encoding="utf-8"))
    if not parity:
        raise SystemExit(f"musicnn_card: {args.parity} holds no parity figures")
    card = CARD.format(
        parameters=int(model.count_params()),
        weights_mb=(args.model / "model.weights.h5").stat().st_size / 1e6,
        isc_notice=ISC_NOTICE,
        n_variables=len(model.weights),
        parity_table=parity_table(parity),
        commands=COMMANDS,
        saturated=SATURATED,
        tags_table=tags_table(model, first_valid_clips(args.data, GENRES)),
        probe_section=probe_section_of(args.model),
    )
    out = args.out or args.model / "card.md"
    with atomic_path(out) as tmp:
        tmp.write_text(card, encoding="utf-8")
    print(f"wrote {out}")
    if out.resolve().parent == ZOO_DIR.resolve() and ZOO_DIR.name in registry.list_models():
        # The card is one of the zoo model's files: refresh their sha256 in the index.
        entry = registry.model_info(ZOO_DIR.name)
        registry.update_index(ZOO_DIR.name, ZOO_DIR, description=entry["description"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
