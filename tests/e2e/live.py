"""Run the browser tests against a live platform (fresh data dir, migrate, deploy, seed the demo, serve, test,
stop). The UI's unit tests (Vitest) run in `make test` itself.

Used by `make test-e2e` (and so by `make test` where Chromium is installed). The tests themselves are Node
(`tests/e2e/run.mjs`, playwright-core from ui/node_modules driving Debian's chromium); this only hosts them.
Screenshots land in docs/screens/ under CI (kept as artifacts); local runs write them into the run's data dir
unless SCREENS_DIR is set.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited early with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"server not healthy at {url} after {seconds} s")


def training_files(data_dir: Path) -> Path:
    """Two on-site photos taken now (EXIF) and a slides PDF for the training story to upload."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from PIL import Image
    folder = data_dir / "e2e-files"
    folder.mkdir(parents=True, exist_ok=True)
    taken = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y:%m:%d %H:%M:%S")
    for n in (1, 2):
        exif = Image.Exif()
        exif.get_ifd(0x8769)[0x9003] = taken
        Image.new("RGB", (320, 240), (60 * n, 120, 160)).save(folder / f"photo{n}.jpg", "JPEG", exif=exif.tobytes())
    (folder / "slides.pdf").write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages"
                                        b"/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
    return folder


def main() -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="ygt-e2e-"))
    port = free_port()
    env = {**os.environ, "DATA_DIR": str(data_dir), "PORT": str(port),
           # the training story walks a 30-minute session in a minute: sign-out opens at once and any presence
           # counts (presence arithmetic is tested through the API with a fake clock)
           "YGT_TRAINING_SIGN_OUT_OPENS_MIN": "600", "YGT_TRAINING_MIN_PRESENCE": "0",
           # the camera sign-out films the code, then starts a second browser and logs in: on a busy CI machine that
           # outlasted a 30 s rotation (+10 s grace). Rotation and expiry are tested through the API with a fake clock.
           "YGT_TRAINING_QR_PERIOD_S": "300",
           # the demo install's 平台时钟 control (as `make run`): the referral no-show story moves the clock, last
           "YGT_CLOCK_CONTROL": "1",
           # the report-builder story sends a report of a year of months × townships to a background job
           "YGT_REPORT_MAX_ROWS": "40",
           "E2E_TRAINING_FILES": str(training_files(data_dir)), "E2E_PYTHON": sys.executable}
    if not os.environ.get("CI") and "SCREENS_DIR" not in os.environ:
        # local runs keep the committed screenshots untouched; CI (and SCREENS_DIR=docs/screens) refresh them
        env["SCREENS_DIR"] = str(data_dir / "screens")
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    ygt = str(BIN / "ygt")
    server = None
    try:
        for step in (["migrate"], ["deploy"], ["seed-demo"]):
            subprocess.run([ygt, *step], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        log = open(data_dir / "server.log", "w")  # noqa: SIM115 (the server's stdout while it runs)
        server = subprocess.Popen([ygt, "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        wait_healthy(f"{base}/healthz", server)
        # E2E_ONLY=<substring of a story's name> runs just that story (while working on it; CI runs them all)
        only = [f"--test-name-pattern={os.environ['E2E_ONLY']}"] if os.environ.get("E2E_ONLY") else []
        result = subprocess.run(["node", *only, str(ROOT / "tests" / "e2e" / "run.mjs")], cwd=ROOT, check=False,
                                env={**env, "BASE_URL": base}, timeout=2400)
        if result.returncode != 0:
            print((data_dir / "server.log").read_text()[-4000:], file=sys.stderr)
        return result.returncode
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
