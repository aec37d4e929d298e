"""The model zoo: pretrained models shipped with the package, by name.

``zoo/index.json`` maps each name to its folder, a description and the sha256 of every file;
files are checked against it before anything is parsed. The folder ships as package data
(``keras_musiclatent.zoo_models``), so names resolve offline after a plain ``pip install``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from keras_musiclatent._files import sha256_file, write_json
from keras_musiclatent.errors import CorruptModelError, UnknownModelError

__all__ = [
    "is_clearly_path",
    "list_models",
    "model_info",
    "resolve",
    "update_index",
    "zoo_root",
]

INDEX = "index.json"


def zoo_root() -> Path:
    """Folder of the zoo: the installed package data, or ``zoo/`` of a source checkout.

    ``MUSICLATENT_ZOO`` overrides it (a folder with its own ``index.json``).
    """
    override = os.environ.get("MUSICLATENT_ZOO")
    if override:
        return Path(override)
    try:
        from importlib.resources import files

        root = Path(str(files("keras_musiclatent.zoo_models")))
        if (root / INDEX).is_file():
            return root
    except (ModuleNotFoundError, TypeError):
        pass
    return Path(__file__).resolve().parents[2] / "zoo"


def _index() -> dict[str, Any]:
    path = zoo_root() / INDEX
    if not path.is_file():
        return {"models": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CorruptModelError(f"{path}: unreadable zoo index ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        raise CorruptModelError(f"{path}: malformed zoo index")
    return data


def list_models() -> list[str]:
    """Names of the shipped models.

    Example:
        >>> "gtzan-vae" in list_models()  # doctest: +SKIP
        True
    """
    return sorted(_index()["models"])


def is_clearly_path(name_or_path: str | os.PathLike) -> bool:
    """True when an argument can only mean a path, never a zoo name: an ``os.PathLike``, or
    text that starts with ``.``, ``/`` or ``~`` or holds a path separator.

    Anything else is a zoo name first, so a folder that happens to share a zoo model's name in
    the working directory never replaces the sha256-checked zoo model.

    Example:
        >>> is_clearly_path("gtzan-vae"), is_clearly_path("./gtzan-vae")
        (False, True)
    """
    if isinstance(name_or_path, os.PathLike):
        return True
    text = str(name_or_path)
    separators = {"/", os.sep} | ({os.altsep} if os.altsep else set())
    return text.startswith((".", "~")) or any(sep in text for sep in separators)


def _entry(name: str) -> dict[str, Any]:
    models = _index()["models"]
    if name not in models:
        valid = ", ".join(sorted(models)) or "none installed"
        raise UnknownModelError(
            f"unknown model {name!r}: not a zoo name ({valid}) and not an existing path"
        )
    return models[name]


def model_info(name: str) -> dict[str, Any]:
    """The index entry of a model plus its ``metadata.json`` and the path of its card.

    Raises:
        UnknownModelError: ``name`` is not in the zoo (the message lists the names).
    """
    entry = dict(_entry(name))
    folder = zoo_root() / entry["folder"]
    meta_path = folder / "metadata.json"
    if meta_path.is_file():
        try:
            entry["metadata"] = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorruptModelError(f"{meta_path}: unreadable ({exc})") from None
    entry["name"] = name
    entry["path"] = str(folder)
    card = folder / "card.md"
    entry["card"] = str(card) if card.is_file() else None
    return entry


def resolve(name: str) -> tuple[Path, dict[str, str]]:
    """``(folder, {file: sha256})`` of a zoo model, for a verified load."""
    entry = _entry(name)
    return zoo_root() / entry["folder"], dict(entry["files"])


def update_index(name: str, folder: str | os.PathLike, *, description: str) -> dict[str, Any]:
    """Add or refresh ``name`` in the zoo index with the sha256 of every file in ``folder``.

    ``folder`` must lie inside :func:`zoo_root`; used when a model is (re)packaged.
    """

    root = zoo_root()
    folder = Path(folder).resolve()
    try:
        rel = folder.relative_to(root.resolve())
    except ValueError:
        raise CorruptModelError(f"{folder} is not inside the zoo folder {root}") from None
    data = _index()
    entry = {
        "folder": rel.as_posix(),
        "description": description,
        "files": {f.name: sha256_file(f) for f in sorted(folder.iterdir()) if f.is_file()},
    }
    data["models"][name] = entry
    write_json(root / INDEX, data)
    return entry
