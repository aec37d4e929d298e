"""Log-mels of a few valid clips beside their reconstructions, for the README and the card.

For each clip (the first valid clip of each named genre), one 3-s segment: the original
log-mel, the decode of the global latent alone, and (for a model with one) the decode of the
global and time-varying latents. Also prints, per clip and decode, the listener measures of
:mod:`keras_musiclatent.evaluate.listener` on the whole clip inverted to audio (onsets,
chroma, beats, tempo; ViSQOL when visqol-python is installed).

    python docs/reconstruction_picture.py gtzan-vae --data path/to/gtzan \\
        --genres disco jazz metal --out docs/images/reconstruction.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from keras_musiclatent import audio
from keras_musiclatent.data import load_gtzan
from keras_musiclatent.evaluate.listener import listener_measures
from keras_musiclatent.evaluate.plots import save_log_mel_strip
from keras_musiclatent.latent_space import LatentSpace


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--data", type=Path, required=True, help="GTZAN folder")
    parser.add_argument("--split", default="valid")
    parser.add_argument("--genres", nargs="+", default=["disco", "jazz", "metal"])
    parser.add_argument("--segment", type=int, default=1, help="which 3-s segment of a clip")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    args = parser.parse_args()
    space = LatentSpace.load(args.model)
    table = load_gtzan(args.data).split(args.split)
    panels, titles, facts = [], [], []
    for genre in args.genres:
        clip = next(c for c in table if c.label == genre)
        wave = audio.load(clip.path, sr=space.sample_rate)  # decoded once, used three times
        enc = space.encode(wave)
        original = space.log_mel(wave)[args.segment]
        whole = {"global latent": space.decode(enc.mean)}
        if enc.time is not None:
            whole["global + time"] = space.decode(enc)
        decodes = {name: log_mel[args.segment] for name, log_mel in whole.items()}
        panels.append(original)
        titles.append(f"{clip.clip_id}\noriginal")
        fact = {"clip": clip.clip_id}
        for name, decoded in decodes.items():
            panels.append(decoded)
            titles.append(name)
            heard = space.to_audio(whole[name], num_samples=enc.num_samples)
            measures = listener_measures(wave, heard, sample_rate=space.sample_rate)
            fact[f"audio, {name}"] = {
                k: round(v, 3) if isinstance(v, float) else v for k, v in measures.items()
            }
        facts.append(fact)
    save_log_mel_strip(
        args.out,
        panels,
        titles=titles,
        title=f"{space.name}: {args.split} clips, segment {args.segment} (3 s each)",
        sample_rate=space.sample_rate,
        hop_length=int(space.model.hop_length),
    )
    print(json.dumps(facts, indent=1))


if __name__ == "__main__":
    main()
