"""Run model scripts in pooled worker processes whose time and memory limits the operating system enforces.

The sandbox's own checks (syntax-tree whitelist, guards on value-amplifying operators, a traced time limit) cannot
stop a single long C-level call: `'x'.ljust(10**10)` allocates 10 GB in one call and the traced clock only looks
again when it returns (issue 13.5). Scripts therefore run in a worker process:

* memory — `RLIMIT_AS` caps the worker's address space at its idle size plus `memory_mb`; an allocation past it
  fails with MemoryError (`script_memory`) and the worker is replaced;
* time — the caller waits `timeout_s` (+ a short grace) for the answer, then kills the worker (`script_timeout`);
  `RLIMIT_CPU` backs that up inside the worker.

Workers come from a *zygote*: a clean interpreter (`python -m app.engine.zygote`) that imported the sandbox and
the helper modules once and forks a worker on request (a few milliseconds), handing it a socket the caller passed
in. No database socket or thread of the caller is ever inherited. The zygote is shared by the process that started
it and everything that process forks later (rq job processes, pre-forked web workers): requests are single
datagrams and every worker talks only on its own socket. A small pool per process keeps workers between scripts, so
a script costs one round trip over a socket. Script helpers and the setup hook travel by reference (module-level
functions), so they must be importable and pure.
"""
from __future__ import annotations

import atexit
import importlib
import os
import pickle
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from multiprocessing.connection import Connection
from typing import Any

from . import sandbox
from .sandbox import SandboxError

GRACE_S = 0.5
ACK = "ack"          # a worker confirms it got a request before it runs it (a dead idle worker never does)
MANY = "many"        # a batch of scripts in one request, answered one by one (`ScriptPool.run_many`)
Setup = tuple[Callable[..., Any], tuple] | None
# what `ScriptPool.run_many` takes per script: mode, source, names, helpers, timeout_s, setup
Request = tuple[str, str, Mapping[str, Any], Mapping[str, Callable[..., Any]], float, Setup]


class IsolationUnavailable(RuntimeError):
    """The zygote could not be started (the caller falls back to nothing: scripts fail, they never run unlimited)."""


# -- the zygote (runs as `python -m app.engine.zygote <socket fd> <lifeline fd> <module>...`) ----------------------

def serve_zygote(sock_fd: int, lifeline_fd: int, preload: Sequence[str]) -> None:
    for name in ("app.engine.sandbox", *preload):
        importlib.import_module(name)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)   # workers are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = socket.socket(fileno=sock_fd)
    while True:
        ready, _, _ = select.select([requests, lifeline_fd], [], [])
        if lifeline_fd in ready and not os.read(lifeline_fd, 1):
            os._exit(0)                             # every process that could ask has gone
        if requests in ready:
            msg, fds, _flags, _addr = socket.recv_fds(requests, 64, 1)
            if not fds:
                continue
            memory_bytes = int(msg.decode() or 0)
            if os.fork() == 0:
                requests.close()
                os.close(lifeline_fd)
                _worker(fds[0], memory_bytes)
                os._exit(0)
            os.close(fds[0])


def _address_space() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[0]) * resource.getpagesize()


def _worker(fd: int, memory_bytes: int) -> None:
    conn = Connection(fd)
    conn.send(os.getpid())
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (_address_space() + memory_bytes, resource.RLIM_INFINITY))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        conn.send(ACK)
        # one script, or a batch ("many", [request, ...]): each one is run and answered on its own, under its own
        # CPU limit; a fatal answer (memory) ends the worker and the caller goes on with the rest on a fresh one
        for one in (request[1] if request[0] == MANY else [request]):
            reply, fatal = _handle(one)
            try:
                conn.send(reply)
            except (OSError, ValueError):
                return
            if fatal:
                return


def _handle(request) -> tuple[tuple, bool]:
    mode, source, names, helpers, timeout_s, setup = request
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu_now = int(used.ru_utime + used.ru_stime)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_now + int(timeout_s) + 2, resource.RLIM_INFINITY))
    try:
        if setup is not None:
            setup[0](*setup[1])
        if mode == "eval":
            return ("ok", sandbox.evaluate(source, names, helpers=helpers, timeout_s=timeout_s)), False
        sandbox.execute(source, names, helpers=helpers, timeout_s=timeout_s)
        return ("ok", names), False
    except sandbox.SandboxError as exc:
        memory = exc.reason.startswith("MemoryError")
        return ("error", "script_memory" if memory else exc.code, exc.reason, exc.lineno, exc.source_line), memory
    except MemoryError:
        return ("error", "script_memory", "MemoryError", None, None), True


# -- the caller's side ------------------------------------------------------------------------------------------

class _Zygote:
    def __init__(self, preload: Sequence[str]):
        self.requests, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        lifeline_r, self.lifeline_w = os.pipe()
        cmd = [sys.executable, "-m", "app.engine.zygote", str(theirs.fileno()), str(lifeline_r), *preload]
        try:
            self.process = subprocess.Popen(cmd, pass_fds=(theirs.fileno(), lifeline_r), close_fds=True,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            raise IsolationUnavailable(f"cannot start the script zygote: {exc}") from exc
        finally:
            theirs.close()
            os.close(lifeline_r)
        self.pid = os.getpid()

    def spawn(self, memory_bytes: int, timeout_s: float = 15.0) -> _Worker:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self.requests, [str(memory_bytes).encode()], [theirs.fileno()])
        finally:
            theirs.close()
        conn = Connection(os.dup(mine.fileno()))
        mine.close()
        if not conn.poll(timeout_s):
            conn.close()
            raise IsolationUnavailable("the script zygote did not answer")
        return _Worker(conn, conn.recv())

    def alive(self) -> bool:
        """Whether the zygote still runs. Its starter asks `Popen.poll`; a process forked later (an rq job process)
        is not the zygote's parent, so `poll` cannot wait for it (ECHILD, which the library reads as "exited") and
        every job started a zygote of its own: it looks at the process in /proc instead (a zombie, or a pid now
        another process's, is gone; without /proc it starts its own, as before)."""
        if self.pid == os.getpid():
            return self.process.poll() is None
        try:
            with open(f"/proc/{self.process.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            return False
        return fields[0] not in ("Z", "X") and int(fields[1]) == self.pid

    def close(self) -> None:
        if self.pid != os.getpid():
            return
        try:
            os.close(self.lifeline_w)
        except OSError:
            pass
        self.requests.close()
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.process.kill()


class _Worker:
    def __init__(self, conn: Connection, pid: int):
        self.conn, self.pid = conn, pid

    def alive(self) -> bool:
        if self.conn.closed:
            return False
        try:
            os.kill(self.pid, 0)
        except OSError:
            return False
        return not self.conn.poll(0)         # an idle worker that has something to say has said EOF

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except OSError:
            pass
        if not self.conn.closed:
            self.conn.close()


class ScriptPool:
    """A few reusable workers for this process; `run` blocks while all of them are busy."""

    def __init__(self, zygote: _Zygote, *, size: int, memory_mb: int):
        self.zygote = zygote
        self.size = size
        self.memory_bytes = memory_mb * 2**20
        self._idle: list[_Worker] = []
        self._busy = 0
        self._cond = threading.Condition()

    def run(self, mode: str, source: str, names: Mapping[str, Any], *, helpers: Mapping[str, Callable[..., Any]],
            timeout_s: float, setup: Setup = None) -> Any:
        """Evaluate (`eval`) or execute (`exec`) in a worker; `exec` returns the new names. Raises SandboxError."""
        request = (mode, source, dict(names), dict(helpers), timeout_s, setup)
        for attempt in (1, 2):
            worker = self._take(fresh=attempt > 1)
            healthy = False
            try:
                reply = _ask(worker, request, timeout_s)
                healthy = not (reply[0] == "error" and reply[1] == "script_memory")
                break
            except _WorkerGone:
                if attempt > 1:
                    raise SandboxError("script_error", "the script worker could not be reached") from None
            finally:
                self._give_back(worker, healthy)
        if reply[0] == "ok":
            return reply[1]
        raise self._error(reply)

    def _error(self, reply: tuple) -> SandboxError:
        _, code, reason, lineno, source_line = reply
        if code == "script_memory":
            reason = f"脚本占用内存超过上限 {self.memory_bytes // 2**20} MB (script exceeded its memory limit)"
        return SandboxError(code, reason, lineno=lineno, source_line=source_line)

    def run_many(self, requests: Sequence[Request]) -> list[Any]:
        """Run many scripts with one round trip to a worker (batch starts): per request, what `run` returns, or the
        `SandboxError` it would raise. Each script keeps its own time and memory limits: one that times out or
        exhausts memory costs its worker and fails alone; the rest go on in a fresh worker."""
        results: list[Any] = [None] * len(requests)
        todo = list(range(len(requests)))
        fresh = False
        while todo:
            batch = [(mode, source, dict(names), dict(helpers), timeout_s, setup)
                     for mode, source, names, helpers, timeout_s, setup in (requests[i] for i in todo)]
            worker = self._take(fresh=fresh)
            healthy, done = False, 0
            try:
                try:
                    _send(worker, (MANY, batch))
                except _WorkerGone:
                    if fresh:           # a fresh worker cannot be reached either: these scripts fail
                        for i in todo:
                            results[i] = SandboxError("script_error", "the script worker could not be reached")
                        return results
                    fresh = True
                    continue
                except SandboxError:    # some item's data cannot be pickled: ask one by one (that one fails alone)
                    healthy = True
                    for i in todo:
                        try:
                            results[i] = self.run(*requests[i][:3], helpers=requests[i][3],
                                                  timeout_s=requests[i][4], setup=requests[i][5])
                        except SandboxError as exc:
                            results[i] = exc
                    return results
                for i, one in zip(todo, batch):
                    try:
                        reply = _answer(worker, one[4])
                    except SandboxError as exc:     # timeout (worker killed below) or killed by the system
                        results[i] = exc
                        done += 1
                        break
                    done += 1
                    if reply[0] == "ok":
                        results[i] = reply[1]
                    else:
                        results[i] = self._error(reply)
                        if reply[1] == "script_memory":
                            break
                else:
                    healthy = True
            finally:
                self._give_back(worker, healthy)
            todo, fresh = todo[done:], False
        return results

    def _take(self, *, fresh: bool = False) -> _Worker:
        with self._cond:
            while not self._idle and self._busy >= self.size:
                self._cond.wait()
            self._busy += 1
            worker = self._idle.pop() if self._idle and not fresh else None
        if worker is not None and worker.alive():
            return worker
        if worker is not None:
            worker.kill()
        try:
            return self.zygote.spawn(self.memory_bytes)
        except Exception:
            with self._cond:
                self._busy -= 1
                self._cond.notify()
            raise

    def _give_back(self, worker: _Worker, healthy: bool) -> None:
        if not healthy:
            worker.kill()
        with self._cond:
            self._busy -= 1
            if healthy:
                self._idle.append(worker)
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.kill()


class _WorkerGone(Exception):
    """The worker died before it got the request (killed while idle): try another one."""


def _ask(worker: _Worker, request: tuple, timeout_s: float) -> tuple:
    _send(worker, request)
    return _answer(worker, timeout_s)


def _send(worker: _Worker, request: tuple) -> None:
    try:
        worker.conn.send(request)
        if not worker.conn.poll(5) or worker.conn.recv() != ACK:
            raise _WorkerGone()
    except (OSError, EOFError):
        raise _WorkerGone() from None
    except (ValueError, TypeError, AttributeError, pickle.PicklingError) as exc:   # data that cannot be pickled
        raise SandboxError("script_error", f"cannot pass task data to the script worker: {exc}") from None


def _answer(worker: _Worker, timeout_s: float) -> tuple:
    if not worker.conn.poll(timeout_s + GRACE_S):
        raise SandboxError("script_timeout", f"script ran longer than {timeout_s:g} s (stopped)")
    try:
        return worker.conn.recv()
    except (EOFError, OSError):
        raise SandboxError("script_memory", "脚本被系统终止 (the script was stopped by the system: memory or CPU "
                                            "limit)") from None


_lock = threading.Lock()
_zygote_ref: _Zygote | None = None
_pools: dict[tuple[int, int, int], ScriptPool] = {}


def pool(*, size: int = 2, memory_mb: int = 256, preload: Sequence[str] = ()) -> ScriptPool:
    """This process's pool. A process forked from the one that started the zygote shares the zygote but has its
    own workers (the parent's stay the parent's). `preload`: modules the zygote imports when it starts."""
    global _zygote_ref
    with _lock:
        key = (os.getpid(), size, memory_mb)
        if key not in _pools:
            if _zygote_ref is None or not _zygote_ref.alive():
                _zygote_ref = _Zygote(preload)
            _pools[key] = ScriptPool(_zygote_ref, size=size, memory_mb=memory_mb)
        return _pools[key]


def warm_up(*, size: int = 2, memory_mb: int = 256, preload: Sequence[str] = ()) -> float:
    """Start the zygote and one worker now (before forking job processes); returns the seconds it took."""
    started = time.perf_counter()
    pool(size=size, memory_mb=memory_mb, preload=preload).run("eval", "1", {}, helpers={}, timeout_s=10)
    return time.perf_counter() - started


def shutdown() -> None:
    global _zygote_ref
    with _lock:
        for key, p in list(_pools.items()):
            if key[0] == os.getpid():
                p.close()
                del _pools[key]
        if _zygote_ref is not None:
            _zygote_ref.close()
            _zygote_ref = None


atexit.register(shutdown)
