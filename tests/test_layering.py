"""The package's import layering: each part imports only from the parts below it.

    errors ← _files, _progress, entropy ← audio, layers, codec, genre_head, latent_types
           ← models, data ← presets ← analysis ← latent_space ← evaluate, train ← cli

Parts on one level never import each other, nothing imports ``cli``, and package imports sit
at the top of modules (a function-level import would hide a dependency from this test; a
module-level ``__getattr__`` is the one deliberate lazy import).
Imports under ``if TYPE_CHECKING:`` are for type hints only and are not counted.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "keras_musiclatent"

LEVELS = {
    "errors": 0,
    "__version__": 0,
    "_files": 1,
    "_progress": 1,
    "entropy": 1,
    "audio": 2,
    "layers": 2,
    "codec": 2,
    "genre_head": 2,
    "latent_types": 2,
    "models": 3,
    "data": 3,
    "presets": 4,
    "analysis": 5,
    "latent_space": 6,
    "evaluate": 7,
    "train": 7,
    "cli": 8,
}


def _part(module: str) -> str:
    """``keras_musiclatent.audio.io`` → ``audio``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "keras_musiclatent"


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.Module, module: str, is_package: bool):
    """(imported module, line, at module top) for every package import outside TYPE_CHECKING."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            skip.update(id(n) for n in ast.walk(node))
    top = {id(n) for n in tree.body}
    for node in tree.body:
        # A module-level __getattr__ (PEP 562) is the one place for a deliberate lazy import.
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            top.update(id(n) for n in ast.walk(node))
    for node in tree.body:
        if isinstance(node, ast.Try | ast.If) and not (
            isinstance(node, ast.If) and _is_type_checking(node)
        ):
            top.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            names = [stem]
            if stem == "keras_musiclatent":
                names = [f"keras_musiclatent.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name == "keras_musiclatent" or name.startswith("keras_musiclatent."):
                yield name, node.lineno, id(node) in top


def _violations() -> tuple[list[str], list[str]]:
    layering, buried = [], []
    for module, path in _modules():
        here = _part(module)
        if here == "keras_musiclatent":
            continue  # the package root re-exports the public API
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line, at_top in _imports(tree, module, path.name == "__init__.py"):
            there = _part(name)
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
            if there not in LEVELS or here not in LEVELS:
                layering.append(f"{where}: add {here!r} or {there!r} to LEVELS")
            elif there != here and LEVELS[there] >= LEVELS[here]:
                layering.append(f"{where}: {there} is not below {here}")
            if not at_top:
                buried.append(where)
    return layering, buried


def test_every_part_imports_only_from_parts_below_it():
    layering, _ = _violations()
    assert not layering, "\n".join(layering)


def test_package_imports_sit_at_the_top_of_modules():
    _, buried = _violations()
    assert not buried, "\n".join(buried)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from keras_musiclatent.cli import main", "cli is not below audio"),
        ("def f():\n    from keras_musiclatent import errors", None),
    ],
)
def test_the_check_sees_violations(tmp_path, monkeypatch, source, expected):
    """The checker itself: an upward import and a buried import are both reported."""
    fake = tmp_path / "keras_musiclatent"
    (fake / "audio").mkdir(parents=True)
    (fake / "audio" / "bad.py").write_text(source, encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["PACKAGE"]), "PACKAGE", fake)
    layering, buried = _violations()
    if expected:
        assert any(expected in v for v in layering), layering
    else:
        assert buried and not layering
