"""docs/quickstart.ipynb runs from top to bottom on generated clips (so it never rots)."""

from __future__ import annotations

import time

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "docs" / "quickstart.ipynb"


def _text(cell) -> str:
    out = []
    for o in cell.get("outputs", []):
        out.append(o.get("text", ""))
        out += [str(v) for k, v in o.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(out)


def test_quickstart_notebook_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("MUSICLATENT_CLIPS", raising=False)  # the generated clips
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored clean
    start = time.monotonic()
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    seconds = time.monotonic() - start
    code = [c for c in nb.cells if c.cell_type == "code"]
    texts = [_text(c) for c in code]
    everything = "\n".join(texts)
    assert "6 files in" in everything
    assert everything.count("<audio") >= 3  # a clip, the walk and the probe sweep
    assert "genre head says" in everything
    assert "dimension" in texts[-1]  # probe.summary()
    images = [o for c in code for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the 2-D map and the walk's log-mels
    if seconds > 120:
        pytest.fail(f"the notebook took {seconds:.0f} s; keep it under about a minute")
