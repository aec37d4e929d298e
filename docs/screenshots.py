"""Screenshots of a report page and of TensorBoard's projector, for the documentation.

Needs selenium, ``chromium`` and ``chromedriver`` (Debian: ``apt-get install chromium
chromium-driver``) and tensorboard::

    python docs/screenshots.py --report runs/report-gtzan-vae \\
        --logdir runs/projector-gtzan-vae --out docs/images

The report is served on 127.0.0.1 and shot from its top to the end of ``--until`` (a section
id); TensorBoard is started on a free port, shot once the projector has drawn its points, and
stopped. Both PNGs are palette-quantised to stay small.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import io
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from PIL import Image

_MEDIA_READY = """
const done = arguments[arguments.length - 1];
const deadline = Date.now() + 30000;
(function check() {
  const waiting = Array.from(document.querySelectorAll('audio'))
    .filter(a => a.readyState < 1 && !a.error);
  const images = Array.from(document.images).filter(i => !i.complete);
  if ((waiting.length || images.length) && Date.now() < deadline) setTimeout(check, 200);
  else done(waiting.length + images.length);
})();
"""


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # requests are not worth printing
        pass


def _driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if browser is None or driver_path is None:
        sys.exit("chromium and chromedriver must be on PATH")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--mute-audio"):
        options.add_argument(arg)
    # The projector draws with WebGL: SwiftShader renders it without a GPU.
    options.add_argument("--use-angle=swiftshader")
    options.add_argument("--enable-unsafe-swiftshader")
    options.add_argument(f"--window-size={width},{height}")
    return webdriver.Chrome(options=options, service=Service(executable_path=driver_path))


def _save(png: bytes, dest: Path, *, width: int, crop_height: int | None = None) -> None:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    if crop_height is not None:
        image = image.crop((0, 0, image.width, min(image.height, crop_height)))
    if image.width > width:
        image = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Octree keeps the plots' few saturated colours apart (median cut merges them).
    image.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(dest, optimize=True)
    print(f"{dest}: {image.width}x{image.height}, {dest.stat().st_size / 1024:.0f} KiB")


def shoot_report(report: Path, dest: Path, *, until: str, width: int) -> None:
    """Serve ``report`` on 127.0.0.1 and shoot it down to the end of section ``until``."""
    handler = functools.partial(_QuietHandler, directory=str(report))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    driver = _driver(1280, 1000)
    try:
        driver.set_script_timeout(60)
        driver.get(f"http://127.0.0.1:{server.server_address[1]}/")
        driver.execute_async_script(_MEDIA_READY)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        bottom = driver.execute_script(
            "const e = document.getElementById(arguments[0]);"
            "return e ? e.getBoundingClientRect().bottom + window.scrollY + 16 : null;",
            until,
        )
        driver.set_window_size(1280, int(height) + 200)
        time.sleep(1)
        png = driver.get_screenshot_as_png()
    finally:
        driver.quit()
        server.shutdown()
    _save(png, dest, width=width, crop_height=int(bottom) if bottom else None)


def shoot_projector(logdir: Path, dest: Path, *, width: int, wait: float) -> None:
    """Start TensorBoard on ``logdir`` and shoot its projector once it has loaded."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)], stdout=log, stderr=log
        )
        try:
            runs_url = f"http://127.0.0.1:{port}/data/plugin/projector/runs"
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    with urllib.request.urlopen(runs_url, timeout=5) as resp:
                        if resp.read().strip() not in (b"", b"[]"):
                            break
                except OSError:
                    pass
                time.sleep(0.5)
            driver = _driver(1400, 900)
            try:
                driver.get(f"http://127.0.0.1:{port}/#projector")
                time.sleep(wait)  # the projector loads the tensor, runs PCA and draws
                png = driver.get_screenshot_as_png()
            finally:
                driver.quit()
        finally:
            proc.kill()
            proc.wait(timeout=30)
    _save(png, dest, width=width)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--report", type=Path, help="a folder written by musiclatent report")
    p.add_argument("--logdir", type=Path, help="a folder written by musiclatent projector")
    p.add_argument("--out", type=Path, default=Path("docs/images"))
    p.add_argument("--until", default="latents", help="last report section in the shot")
    p.add_argument("--width", type=int, default=1000, help="width of the saved PNGs")
    p.add_argument("--wait", type=float, default=25.0, help="seconds the projector gets to draw")
    args = p.parse_args()
    if args.report:
        shoot_report(args.report, args.out / "report.png", until=args.until, width=args.width)
    if args.logdir:
        shoot_projector(args.logdir, args.out / "projector.png", width=args.width, wait=args.wait)


if __name__ == "__main__":
    main()
