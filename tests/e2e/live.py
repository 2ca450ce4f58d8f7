"""Run the browser tests against a live server with the demo seed (embedded default, fresh DATA_DIR).

Starts `ygt serve` on a free port, waits for /healthz, runs `node tests/e2e/run.mjs` with BASE_URL, stops the
server. Screenshots land in docs/screens/. Exit code: the browser tests'.
"""
from __future__ import annotations

import os
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


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="ygt-e2e-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATA_DIR=data_dir, TZ="UTC")
    for cmd in (["migrate"], ["deploy"], ["seed-demo", "--residents", "300"]):
        subprocess.run([str(BIN / "ygt"), *cmd], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    port = free_port()
    server = subprocess.Popen([str(BIN / "ygt"), "serve", "--port", str(port)], env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        else:
            print("server did not come up", file=sys.stderr)
            return 1
        return subprocess.run(["node", "tests/e2e/run.mjs"], env={**env, "BASE_URL": base}, cwd=ROOT).returncode
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
