"""Real platform processes for integration tests: `ygt serve`, `ygt scheduler`, `ygt worker` as subprocesses.

Each runs in its own session (process group) so a test can SIGKILL it with everything it forked, and writes its
output to a log file the test shows when something goes wrong.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import REPO

YGT = str(Path(sys.executable).parent / "ygt")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    """One `ygt …` subprocess with its log."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.args, self.log = args, log
        self._out = open(log, "ab")  # noqa: SIM115 (the child's stdout for its whole life)
        self.popen = subprocess.Popen([YGT, *args], cwd=REPO, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                      start_new_session=True)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.alive():
            try:
                os.killpg(self.popen.pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=5)
        self._out.close()

    def stop(self) -> None:
        self.kill(signal.SIGTERM)

    def tail(self, n: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-n:] if self.log.exists() else ""


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "YGT_JOBS")}
    env.update({"PYTHONPATH": str(REPO), "TZ": "UTC"})
    env.update({k: v for k, v in extra.items() if v is not None})
    return env


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


def wait_http(url: str, proc: Proc, timeout: float = 60.0) -> None:
    def up():
        if not proc.alive():
            raise AssertionError(f"{proc.args} exited early:\n{proc.tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except OSError as exc:
            return getattr(exc, "code", None) is not None     # an HTTP error answer means the server is up
    if not wait_for(up, timeout):
        raise AssertionError(f"{url} did not answer:\n{proc.tail()}")


@contextmanager
def gunicorn_server(settings, database_url: str, log: Path, *serve_args: str, **env: str) -> Iterator[tuple[str, Proc]]:
    """`ygt serve` on PostgreSQL (gunicorn) for the app's data dir, with `serve_args` and extra environment; its base
    URL and process once /healthz answers, stopped afterwards."""
    port = free_port()
    proc = Proc(["serve", "--port", str(port), *serve_args],
                base_env(DATA_DIR=str(settings.data_dir), DATABASE_URL=database_url,
                         REDIS_URL=os.environ.get("REDIS_URL"), YGT_SCHEDULER="0", **env), log)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.stop()
