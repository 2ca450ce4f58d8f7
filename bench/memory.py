"""Memory figures for the benchmarks (issue 23.7): resident set size of this process or of the processes a
benchmark drives (gunicorn workers, rq workers), read from /proc — no extra dependency.

`VmHWM` is the peak resident set size since the process started ("high water mark"), `VmRSS` the current one.
`python bench/memory.py PID… --seconds 60` samples running processes and their children (an rq worker forks a
work horse per job, which is gone before anyone reads its peak).
"""
from __future__ import annotations

import os
import resource
import time
from pathlib import Path


def _status(pid: int) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _mb(value: str | None) -> float | None:
    return round(int(value.split()[0]) / 1024, 1) if value else None       # "123456 kB"


def process_rss(pid: int) -> dict:
    """{pid, command, peak_rss_mb, rss_mb} of a running process (None figures if it is gone)."""
    try:
        status = _status(pid)
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return {"pid": pid, "command": None, "peak_rss_mb": None, "rss_mb": None}
    return {"pid": pid, "command": command[:80], "peak_rss_mb": _mb(status.get("VmHWM")),
            "rss_mb": _mb(status.get("VmRSS"))}


def self_peak_rss_mb() -> float:
    """Peak RSS of this process (the benchmark itself when it runs the web app or the jobs in-process)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def self_rss_mb() -> float | None:
    return _mb(_status(os.getpid()).get("VmRSS"))


def _children(pid: int) -> list[int]:
    try:
        found = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        return found
    except OSError:
        return []


def watch(pids: list[int], seconds: float, interval: float = 0.05) -> dict:
    """Sample the process trees of `pids` (gunicorn master → workers, rq worker → the work horse it forks per job)
    for `seconds`: the peak RSS of each root and the largest of its short-lived descendants."""
    peaks: dict[int, dict] = {pid: {"root": 0.0, "descendants": 0.0, "descendants_seen": set()} for pid in pids}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for pid in pids:
            row = peaks[pid]
            row["root"] = max(row["root"], process_rss(pid)["peak_rss_mb"] or 0.0)
            stack = _children(pid)
            while stack:
                child = stack.pop()
                row["descendants_seen"].add(child)
                rss = process_rss(child)["rss_mb"] or 0.0
                row["descendants"] = max(row["descendants"], rss)
                stack += _children(child)
        time.sleep(interval)
    return {pid: {"command": process_rss(pid)["command"], "peak_rss_mb": row["root"],
                  "descendants": len(row["descendants_seen"]), "descendant_peak_rss_mb": row["descendants"]}
            for pid, row in peaks.items()}


if __name__ == "__main__":
    import argparse
    import json
    ap = argparse.ArgumentParser(description="sample the RSS of running processes and their children")
    ap.add_argument("pids", type=int, nargs="+")
    ap.add_argument("--seconds", type=float, default=60)
    args = ap.parse_args()
    print(json.dumps(watch(args.pids, args.seconds), indent=1))
