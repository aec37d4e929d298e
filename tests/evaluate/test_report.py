"""``musiclatent report``: the page, its media, and the page as headless Chromium renders it."""

from __future__ import annotations

import csv
import functools
import http.server
import importlib.util
import io
import json
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from keras_musiclatent import audio
from keras_musiclatent.cli.main import main
from keras_musiclatent.data.sources import load_table, subsample
from keras_musiclatent.entropy import fit_entropy_model
from keras_musiclatent.evaluate.evaluator import evaluate_space
from keras_musiclatent.evaluate.report.build import build_report, find_history
from keras_musiclatent.evaluate.report.codecs import CODECS, available_codecs
from keras_musiclatent.evaluate.report.html import Page, Table, render
from keras_musiclatent.latent_space import LatentSpace
from keras_musiclatent.models import MusicAutoencoder
from tests.conftest import TINY_SPACE_MODEL, two_genre_clips

#: The compression table's listener columns measured on every report here (ViSQOL when
#: visqol-python is installed, musicnn agreement since musicnn-msd ships in the zoo).
LISTENER = ["onset_r", "chroma_r", "beat_f", "embedding_cos", "tag_overlap"]
if importlib.util.find_spec("visqol") is not None:
    LISTENER.append("visqol")


def make_genre_folder(root: Path, *, n: int = 6, seed: int = 3) -> Path:
    """A ``<genre>/<files>`` dataset of generated 2-s clips ("low" tones, "bright" noise)."""
    clips, labels = two_genre_clips(np.random.default_rng(seed), n=n)
    for i, (clip, label) in enumerate(zip(clips, labels, strict=True)):
        audio.save(root / label / f"{label}{i}.wav", clip, 22050)
    return root


def _write_history(path: Path, epochs: int = 4) -> Path:
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["epoch", "loss", "kl", "val_loss", "val_kl"])
        for e in range(epochs):
            writer.writerow([e, 1.0 / (e + 1), 0.5 + e, 1.2 / (e + 1), 0.6 + e])
    return path


@pytest.fixture(scope="module")
def report(tiny_space_dir, tmp_path_factory) -> tuple[Path, dict]:
    """One report of the tiny model on a generated folder dataset, built through the CLI."""
    base = tmp_path_factory.mktemp("report")
    data = make_genre_folder(base / "data")
    history = _write_history(base / "history.csv")
    out = base / "report"
    args = ["report", str(tiny_space_dir), "--data", str(data), "--dataset", "folder"]
    args += ["--split", "all", "--out", str(out), "--listen", "2", "--probe-dims", "2"]
    args += ["--pairs", "1", "--steps", "5", "--iterations", "8", "--history", str(history)]
    assert main(args) == 0
    return out, json.loads((out / "report.json").read_text())


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def _refs(page: Path) -> _Refs:
    parser = _Refs()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_report_writes_a_self_contained_page(report):
    out, summary = report
    assert summary["clips"] == 6 and summary["segments"] == 12
    assert len(summary["listened"]) == 2
    parser = _refs(out / "index.html")
    audios = [a["src"] for t, a in parser.tags if t == "audio"]
    images = [a["src"] for t, a in parser.tags if t == "img"]
    # original, inverted, reconstruction, compressed, PCA (+ two codecs with ffmpeg) x 2 clips,
    # and one interpolation walk.
    assert len(audios) >= 2 * 5 + 1
    for src in audios:
        assert (out / src).read_bytes()[:4] == b"RIFF"
    for src in images:
        assert (out / src).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    names = {Path(s).name for s in images}
    assert {"latent-tsne.png", "latent-pca.png", "confusion.png", "history.png"} <= names
    assert "rate-quality.png" in names  # beside the compression table
    assert "walk-0.png" in names
    text = (out / "index.html").read_text(encoding="utf-8")
    # Nothing is fetched from the network: no absolute URL and no script.
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)
    assert "<script" not in text
    for section in ("listen", "compression", "latents", "genre", "training", "interpolation"):
        assert f'id="{section}"' in text
    assert "round-robin" in text  # the subsample is documented on the page
    assert "UMAP" in text  # drawn, or said why not


def test_report_tables_hold_measurements(report):
    out, summary = report
    methods = {row["method"]: row for row in summary["compression"]}
    mlz = methods["tiny-vae latent, .mlz"]
    assert mlz["kbps"] > 0 and mlz["ratio"] > 1 and mlz["audio_rmse_db"] > 0
    # A fixed-rate model: one stream, one row, and the listener columns on every played row.
    assert [m for m in methods if ".mlz" in m] == ["tiny-vae latent, .mlz"]
    played = [m for m in methods if m != "PCA, same dims"]
    for key in LISTENER:
        assert all(key in methods[m] for m in methods)
        assert all(methods[m][key] is not None for m in played), key
    assert methods["PCA, same dims"]["onset_r"] is None  # no player, nothing measured
    assert methods["PCA, same bitrate"]["logmel_rmse_db"] >= 0
    if shutil.which("ffmpeg"):
        assert any(m.startswith("Opus") for m in methods)
    assert len(summary["probe"]) == 2
    assert summary["genre_accuracy"] is not None
    assert len(summary["interpolation_smoothness"]) == 1
    assert "history.csv (4 epochs)" in summary["history"]
    mlz_files = list((out / "media").glob("*.mlz"))
    assert len(mlz_files) == 2 and all(f.read_bytes()[:1] for f in mlz_files)


def test_history_is_found_beside_the_model(tiny_space_dir, tmp_path):
    assert find_history(SimpleNamespace(path=tiny_space_dir)) is None
    assert find_history(SimpleNamespace(path=None)) is None
    folder = shutil.copytree(tiny_space_dir, tmp_path / "model")
    _write_history(folder / "history.csv")
    assert find_history(SimpleNamespace(path=folder)) == folder / "history.csv"
    # A .keras file: its folder is searched.
    assert find_history(SimpleNamespace(path=folder / "best.keras")) == folder / "history.csv"
    assert find_history(SimpleNamespace(path=folder), "other.csv") == Path("other.csv")


def test_render_escapes_data():
    page = Page(
        title="<b>x</b>",
        facts=[("data", "a & b")],
        listen=[],
        listen_note="",
        compression=Table(["m"], [["<i>"], [1.5], [None]]),
        compression_note="",
        scatters=[],
        scatter_note="",
        confusion=None,
        confusion_note="none",
        history=None,
        history_note="No training history found",
        walks=[],
        walk_note="",
        probe=None,
        probe_note="",
    )
    text = render(page)
    assert "<b>x</b>" not in text and "&lt;b&gt;" in text and "a &amp; b" in text
    assert "&lt;i&gt;" in text and "1.50" in text and "No training history found" in text


def test_subsample_keeps_every_genre(tmp_path):
    table = load_table(make_genre_folder(tmp_path, n=8), dataset="folder")
    sub = subsample(table, max_clips=2, seed=0)
    assert len(sub) == 2 and sub.labels == ["bright", "low"]
    assert subsample(table, max_clips=None) is table


def test_report_errors_in_one_line(tiny_space_dir, tmp_path, capsys):
    args = ["report", str(tiny_space_dir), "--data", str(tmp_path / "missing")]
    assert main([*args, "--dataset", "folder", "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("musiclatent: error:") and "\n" not in err
    assert not (tmp_path / "out" / "index.html").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["gtzan-vae", "gtzan-ae"])
def test_report_on_gtzan(gtzan_root, tmp_path, name):
    out = tmp_path / "report"
    args = ["report", name, "--data", str(gtzan_root), "--split", "valid"]
    args += ["--out", str(out), "--max-clips", "6", "--listen", "2", "--probe-dims", "2"]
    assert main([*args, "--pairs", "1", "--iterations", "8", "--no-codecs"]) == 0
    summary = json.loads((out / "report.json").read_text())
    assert summary["clips"] == 6 and summary["segments"] > 6
    assert "No training history found" in summary["history"]  # the zoo folder has none
    methods = {row["method"]: row for row in summary["compression"]}
    if name == "gtzan-ae":
        # The compression model beats PCA at its own bitrate on real music (its card's claim;
        # gtzan-vae's global latent alone does not, and its card says so).
        latent = methods[f"{name} latent, .mlz"]["logmel_rmse_db"]
        assert latent < methods["PCA, same bitrate"]["logmel_rmse_db"]
    else:
        # A time-varying latent without fitted priors has no stream: the page says why.
        assert f"{name} latent, .mlz" not in methods
        assert any("no .mlz stream" in n for n in summary["compression_notes"])
        assert np.isfinite(methods[f"{name} latent, float32"]["logmel_rmse_db"])
    for key in LISTENER:
        assert methods["original, inverted"][key] is not None


# --- in a real browser ------------------------------------------------------------------------


def _chromium() -> tuple[str, str]:
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.skip("selenium is not installed (pip install selenium)")
    browser = next(
        (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p),
        None,
    )
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        pytest.skip(
            "headless Chromium needs `chromium` and `chromedriver` on PATH "
            "(Debian: apt-get install chromium chromium-driver)"
        )
    return browser, driver


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # requests are not test output
        pass


@pytest.fixture
def served(report) -> Iterator[str]:
    """The report over HTTP on 127.0.0.1 (a free port), as a browser reaches it."""
    out, _ = report
    handler = functools.partial(_QuietHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def headless_chromium(browser: str, driver_path: str, *, width: int = 1280, height: int = 2000):
    """A Selenium driver for headless Chromium that records the browser console."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument("--mute-audio")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))


_MEDIA_STATE = """
const done = arguments[arguments.length - 1];
const audios = Array.from(document.querySelectorAll('audio'));
const deadline = Date.now() + 20000;
function check() {
  const pending = audios.filter(a => a.readyState < 1 && !a.error);
  if (pending.length && Date.now() < deadline) { setTimeout(check, 100); return; }
  done({
    audio: audios.map(a => ({src: a.currentSrc, ready: a.readyState,
                             error: a.error ? a.error.code : null, duration: a.duration})),
    images: Array.from(document.images).map(i => ({src: i.currentSrc, complete: i.complete,
                                                    width: i.naturalWidth})),
  });
}
check();
"""


def test_report_in_headless_chromium(served, report, tmp_path):
    browser, driver_path = _chromium()
    from PIL import Image

    driver = headless_chromium(browser, driver_path)
    try:
        driver.set_script_timeout(30)
        driver.get(served)
        state = driver.execute_async_script(_MEDIA_STATE)
        logs = driver.get_log("browser")
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()

    assert len(state["audio"]) >= 11
    bad_audio = [a for a in state["audio"] if a["ready"] < 1 or a["error"] is not None]
    assert not bad_audio, bad_audio
    assert all(a["duration"] > 0 for a in state["audio"])
    bad_images = [i for i in state["images"] if not i["complete"] or i["width"] <= 0]
    assert state["images"] and not bad_images, bad_images
    severe = [entry for entry in logs if entry.get("level") == "SEVERE"]
    assert not severe, severe
    for a in state["audio"]:  # what the server hands out is a WAV
        with urllib.request.urlopen(a["src"], timeout=10) as resp:
            assert resp.status == 200 and resp.read(4) == b"RIFF"

    shot = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float64)
    (tmp_path / "report.png").write_bytes(png)
    assert shot.shape[0] > 100 and shot.std() > 10, "the screenshot is blank"


def test_report_pca_baseline_agrees_with_the_card(tiny_space_dir, tmp_path):
    """The report's PCA is fitted on the whole train split, as the card's is, not on the clips
    it shows, so its figures over the shown split are the card's."""
    space = LatentSpace.load(tiny_space_dir)
    table = load_table(make_genre_folder(tmp_path / "data", n=10), dataset="folder")
    train, valid = table.split("train"), table.split("valid")
    assert len(train) == 8 and len(valid) == 2
    summary = build_report(
        space,
        table,
        out=tmp_path / "report",
        split="valid",
        max_clips=None,
        listen=1,
        pairs=0,
        probe_dims=0,
        iterations=2,
        codecs=False,
        progress=False,
    )
    pca = summary["pca_baseline"]
    assert pca["splits"] == "train" and pca["clips"] == 8 and pca["segments"] == 16
    card = evaluate_space(space, valid, train_table=train, audio_segments=1, interpolation_pairs=1)
    rec = card["reconstruction"]
    assert summary["latent_rmse_db"] == pytest.approx(rec["latent_rmse_db"], rel=1e-6)
    assert pca["pca_same_dims_rmse_db"] == pytest.approx(rec["pca_same_dims_rmse_db"], rel=1e-6)
    assert pca["pca_same_bitrate_rmse_db"] == pytest.approx(
        rec["pca_same_bitrate_rmse_db"], rel=1e-6
    )
    assert pca["reduction_vs_pca"] == pytest.approx(rec["reduction_vs_pca"], rel=1e-5, abs=1e-9)
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "fitted on 16 segments of 8 clips: the train split of this dataset" in page

    # A subsample shown is not a subsample fitted on: the baseline stays the train split's.
    small = build_report(
        space,
        table,
        out=tmp_path / "small",
        split="valid",
        max_clips=1,
        listen=1,
        pairs=0,
        probe_dims=0,
        iterations=2,
        codecs=False,
        listener=False,
        progress=False,
    )
    assert small["clips"] == 1 and small["pca_baseline"]["clips"] == 8


def test_report_says_when_pca_is_fitted_on_the_clips_shown(tiny_space_dir, tmp_path):
    space = LatentSpace.load(tiny_space_dir)
    table = load_table(make_genre_folder(tmp_path / "data", n=6), dataset="folder")
    summary = build_report(
        space,
        table,
        out=tmp_path / "report",
        split="all",
        listen=1,
        pairs=0,
        probe_dims=0,
        iterations=2,
        codecs=False,
        listener=False,
        progress=False,
        train_split="nonesuch",
    )
    pca = summary["pca_baseline"]
    assert pca["splits"] == "" and pca["clips"] == 5 and "not the model card's" in pca["on"]
    # Listener columns switched off: the table keeps its RMSE columns and says so.
    assert all("onset_r" not in row for row in summary["compression"])
    assert "listener columns switched off" in summary["compression_notes"]
    page = (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert "the report clips not listened to" in page


# --- a codec model: one stream per operating point --------------------------------------------


@pytest.fixture(scope="module")
def codec_report(tmp_path_factory) -> tuple[Path, dict, LatentSpace]:
    """The report of a tiny packaged codec (fitted priors at 2-5 bits) with the reference
    codecs and the listener columns, on one listened 2-s clip."""
    base = tmp_path_factory.mktemp("codec-report")
    table = load_table(make_genre_folder(base / "data", n=4), dataset="folder")
    config = {**TINY_SPACE_MODEL, "time_latent_dim": 2, "bits": 5, "min_bits": 2}
    model = MusicAutoencoder(**config)
    fit = LatentSpace(model, name="tiny-codec", weights_sha256="cd" * 32)
    clips, _ = two_genre_clips(np.random.default_rng(5), n=4)
    encodings = [fit.encode(c) for c in clips]
    z = np.concatenate([e.mean for e in encodings])
    z_time = np.concatenate([e.time for e in encodings])
    fit.entropy_model = fit_entropy_model(
        {b: model.codes_of(z, z_time, bits=b) for b in model.code_bits}, steps=model.time_steps
    )
    space = LatentSpace.load(fit.save(base / "tiny-codec"))
    out = base / "report"
    summary = build_report(
        space,
        table,
        out=out,
        split="all",
        listen=1,
        pairs=0,
        probe_dims=0,
        iterations=2,
        progress=False,
    )
    return out, summary, space


def test_codec_report_has_a_player_and_a_row_per_operating_point(codec_report):
    out, summary, space = codec_report
    assert space.code_bits == [2, 3, 4, 5]
    parser = _refs(out / "index.html")
    audios = [Path(a["src"]).name for t, a in parser.tags if t == "audio"]
    for bits in space.code_bits:
        assert sum(name.endswith(f"-compressed-{bits}bits.wav") for name in audios) == 1
    mlz = sorted(p.name for p in (out / "media").glob("*.mlz"))
    assert [name.rsplit("-", 1)[1] for name in mlz] == [
        "2bits.mlz",
        "3bits.mlz",
        "4bits.mlz",
        "5bits.mlz",
    ]
    methods = {row["method"]: row for row in summary["compression"]}
    rows = [methods[f"tiny-codec .mlz, {bits} bits"] for bits in space.code_bits]
    sizes = [(out / "media" / name).stat().st_size for name in mlz]
    assert sizes[0] < sizes[-1] and rows[0]["kbps"] < rows[-1]["kbps"]
    for row in rows:
        assert row["kbps"] > 0 and row["logmel_rmse_db"] > 0 and row["audio_rmse_db"] > 0
        for key in LISTENER:
            assert row[key] is not None, key
    assert "operating points" in (out / "index.html").read_text(encoding="utf-8")
    # The plot holds the same rows: every operating point and the ceiling.
    plotted = {row["system"]: row for row in summary["rate_quality"]}
    assert {f"tiny-codec .mlz, {b} bits" for b in space.code_bits} <= set(plotted)
    assert plotted["original, inverted"]["kind"] == "ceiling"
    assert plotted["tiny-codec .mlz, 2 bits"]["kbps"] == pytest.approx(rows[0]["kbps"])
    assert plotted["tiny-codec .mlz, 2 bits"]["onset_r"] == pytest.approx(rows[0]["onset_r"])
    assert Path(summary["rate_quality_plot"]).read_bytes()[:4] == b"\x89PNG"


def test_codec_report_keeps_each_reference_codec_apart(codec_report):
    if not shutil.which("ffmpeg"):
        pytest.skip("ffmpeg is not installed")
    out, summary, _ = codec_report
    usable, _ = available_codecs()
    assert len(usable) == len(CODECS)  # Opus 6/12/24 and MP3 32 on one ffmpeg
    methods = {row["method"]: row for row in summary["compression"]}
    rates = [methods[c.name]["kbps"] for c in usable]
    opus = [methods[c.name]["kbps"] for c in usable if c.family == "Opus"]
    assert opus == sorted(opus) and len(set(rates)) == len(rates)
    for codec in usable:
        assert methods[codec.name]["stored"].endswith(f"{codec.kbps:g} kbit/s")
        assert methods[codec.name]["onset_r"] is not None
        assert len(list((out / "media").glob(f"*-{codec.key}.wav"))) == 1
    assert {c.name for c in usable} <= {r["system"] for r in summary["rate_quality"]}


def test_cli_report_can_leave_out_the_listener_columns(tiny_space_dir, tmp_path):
    data = make_genre_folder(tmp_path / "data", n=4)
    out = tmp_path / "report"
    args = ["report", str(tiny_space_dir), "--data", str(data), "--dataset", "folder"]
    args += ["--split", "all", "--out", str(out), "--listen", "1", "--pairs", "0"]
    args += ["--probe-dims", "0", "--iterations", "2", "--no-codecs", "--no-listener"]
    assert main(args) == 0
    summary = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert "listener columns switched off" in summary["compression_notes"]
    assert all("onset_r" not in row for row in summary["compression"])
