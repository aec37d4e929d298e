"""TensorBoard embedding-projector export of a latent space, without TensorFlow.

:func:`export_projector` writes, into one folder that ``tensorboard --logdir`` can point at:

- ``tensors.tsv``: the latent means, one row per 3-s segment (or per clip: the mean of its
  segments' means), tab-separated; the projector plugin reads it through ``tensor_path``, so
  no TensorFlow checkpoint is needed and any Keras backend works;
- ``metadata.tsv``: a header row, then clip id, genre, split, segment, the genre head's guess
  and audio descriptors (spectral centroid, RMS, flatness) of each point;
- ``sprite.png``: a grid of log-mel thumbnails (low frequencies at the bottom), one per point;
- ``projector_config.pbtxt``: the plugin's config naming the three files.

TensorBoard lists the folder as run ``"."``. Example::

    musiclatent projector gtzan-vae --data data/gtzan --logdir runs/projector
    tensorboard --logdir runs/projector     # then open the PROJECTOR tab
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from keras_musiclatent._files import atomic_path
from keras_musiclatent._progress import progress_bar
from keras_musiclatent.audio.features import describe
from keras_musiclatent.data.sources import subsample
from keras_musiclatent.errors import ConfigError
from keras_musiclatent.evaluate.clips import safe_name, segments_of
from keras_musiclatent.evaluate.plots import log_mel_rgb
from keras_musiclatent.latent_space import LatentSpace

__all__ = ["CONFIG_FILE", "DESCRIPTOR_COLUMNS", "export_projector", "sprite_image"]

CONFIG_FILE = "projector_config.pbtxt"
TENSOR_FILE = "tensors.tsv"
METADATA_FILE = "metadata.tsv"
SPRITE_FILE = "sprite.png"
#: Descriptors written per point (names of :data:`keras_musiclatent.audio.features.DESCRIPTORS`).
DESCRIPTOR_COLUMNS = ("spectral_centroid", "rms", "spectral_flatness")
# WebGL textures (the projector draws the sprite as one) are limited to 8192 px a side.
_MAX_SPRITE_PX = 8192


def sprite_image(log_mels: np.ndarray, *, size: int = 48) -> tuple[np.ndarray, int]:
    """A square grid of log-mel thumbnails, row-major, as the projector expects.

    Args:
        log_mels: ``(n, frames, mels)`` dB.
        size: thumbnail side in pixels (shrunk so the sprite fits in 8192 px).

    Returns:
        ``(sprite (H, W, 3) uint8, thumbnail size used)``; ``H = W = ceil(sqrt(n)) * size``.

    Raises:
        ConfigError: no log-mels.
    """
    n = len(log_mels)
    if n == 0:
        raise ConfigError("no log-mels to draw")
    cols = math.ceil(math.sqrt(n))
    size = max(1, min(int(size), _MAX_SPRITE_PX // cols))
    sprite = np.zeros((cols * size, cols * size, 3), np.uint8)
    for i, m in enumerate(log_mels):
        r, c = divmod(i, cols)
        sprite[r * size : (r + 1) * size, c * size : (c + 1) * size] = log_mel_rgb(m, size=size)
    return sprite, size


def _tsv_cell(value: Any) -> str:
    if isinstance(value, float | np.floating):
        return f"{float(value):.6g}"
    # The format has no quoting: tabs and newlines inside a value would shift columns.
    return " ".join(str(value).split()) or "-"


def _config_text(*, tensor_name: str, shape: tuple[int, int], thumbnail: int) -> str:
    return (
        "embeddings {\n"
        f'  tensor_name: "{tensor_name}"\n'
        f'  tensor_path: "{TENSOR_FILE}"\n'
        f'  metadata_path: "{METADATA_FILE}"\n'
        f"  tensor_shape: {shape[0]}\n"
        f"  tensor_shape: {shape[1]}\n"
        "  sprite {\n"
        f'    image_path: "{SPRITE_FILE}"\n'
        f"    single_image_dim: {thumbnail}\n"
        f"    single_image_dim: {thumbnail}\n"
        "  }\n"
        "}\n"
    )


def export_projector(
    space: Any,
    table: Any,
    *,
    logdir: str | os.PathLike,
    split: str = "valid",
    level: str = "segment",
    max_clips: int | None = None,
    thumbnail: int = 48,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Write the projector files of ``space``'s latents on ``table``'s ``split`` to ``logdir``.

    Args:
        space: a :class:`~keras_musiclatent.latent_space.LatentSpace`, or a name / folder to load.
        table: the dataset's clip table.
        logdir: the folder (created); files written earlier are replaced.
        split: which split (``"all"``: every clip).
        level: ``"segment"`` (a point per 3-s segment: its latent mean) or ``"clip"`` (a point
            per clip: the mean of its segments' latent means).
        max_clips: clips drawn from the split (seeded, round-robin over genres); ``None``: all.
        thumbnail: sprite thumbnail side in pixels.
        seed: the subsample's seed.
        cache_dir: decoded-audio cache.
        progress: a progress bar on stderr (default: in a terminal or notebook).

    Returns:
        A JSON-ready summary: the files, the tensor name and its shape ``[points, latent_dim]``.

    Raises:
        ConfigError: a bad ``level`` or ``thumbnail``. DatasetError: the split holds no
            readable clip.
    """
    if level not in ("segment", "clip"):
        raise ConfigError(f"level must be 'segment' or 'clip', got {level!r}")
    if thumbnail < 1:
        raise ConfigError(f"thumbnail must be at least 1 pixel, got {thumbnail}")
    start = time.time()
    if isinstance(space, str | os.PathLike):
        space = LatentSpace.load(space)
    seg = segments_of(
        subsample(table.split(split), max_clips=max_clips, seed=seed), space, cache_dir=cache_dir
    )
    model = space.model
    z, _, _ = model.encode(seg.waves, sample=False, batch_size=32)
    log_mels, descriptors = [], []
    for i in progress_bar(range(len(seg)), desc="projector", unit="segment", progress=progress):
        log_mels.append(model.log_mel(seg.waves[i : i + 1])[0])
        y = seg.waves[i, : max(int(seg.lengths[i]), 1)]
        values = describe(y, sample_rate=space.sample_rate, names=list(DESCRIPTOR_COLUMNS))
        descriptors.append([values[k] for k in DESCRIPTOR_COLUMNS])
    mels, desc = np.stack(log_mels), np.asarray(descriptors)

    head = space.genre_head
    header = ["clip", "genre", "split", "segment", "segments"]
    if head is not None:
        header.append("predicted_genre")
    header += list(DESCRIPTOR_COLUMNS)
    rows: list[list[Any]] = []
    if level == "segment":
        points = z
        thumbs = mels
        probs = head.predict_proba(z) if head is not None else None
        position = np.zeros(len(seg), int)
        for i, c in enumerate(seg.clip_index):
            clip = seg.table[int(c)]
            rows.append(
                [
                    clip.clip_id,
                    clip.label,
                    clip.split,
                    int(position[c]),
                    int(np.sum(seg.clip_index == c)),
                ]
            )
            position[c] += 1
            if probs is not None:
                rows[-1].append(head.genres[int(np.argmax(probs[i]))])
            rows[-1] += desc[i].tolist()
    else:
        points = np.stack([z[seg.rows_of(p)].mean(0) for p in range(len(seg.table))])
        thumbs = np.stack([mels[seg.rows_of(p)[0]] for p in range(len(seg.table))])
        for p, clip in enumerate(seg.table):
            r = seg.rows_of(p)
            rows.append([clip.clip_id, clip.label, clip.split, "all", len(r)])
            if head is not None:
                clip_probs = head.predict_proba(z[r]).mean(0)
                rows[-1].append(head.genres[int(np.argmax(clip_probs))])
            rows[-1] += desc[r].mean(0).tolist()

    out = Path(logdir)
    tensor_name = f"{safe_name(space.name)}_latent_mean_per_{level}"
    with atomic_path(out / TENSOR_FILE) as tmp:
        tmp.write_text(
            "".join("\t".join(f"{v:.7g}" for v in row) + "\n" for row in points),
            encoding="utf-8",
        )
    with atomic_path(out / METADATA_FILE) as tmp:
        lines = ["\t".join(header)] + ["\t".join(_tsv_cell(v) for v in row) for row in rows]
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sprite, size = sprite_image(thumbs, size=thumbnail)
    with atomic_path(out / SPRITE_FILE) as tmp:
        Image.fromarray(sprite).save(tmp, format="PNG", optimize=True)
    # The config goes last: TensorBoard picks the run up once it exists.
    with atomic_path(out / CONFIG_FILE) as tmp:
        tmp.write_text(
            _config_text(tensor_name=tensor_name, shape=points.shape, thumbnail=size),
            encoding="utf-8",
        )
    return {
        "logdir": str(out),
        "run": ".",
        "tensor_name": tensor_name,
        "shape": [int(points.shape[0]), int(points.shape[1])],
        "level": level,
        "clips": len(seg.table),
        "segments": len(seg),
        "files": [TENSOR_FILE, METADATA_FILE, SPRITE_FILE, CONFIG_FILE],
        "thumbnail": size,
        "seconds": round(time.time() - start, 1),
    }
