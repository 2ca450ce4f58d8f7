"""Pacing of Python's cyclic garbage collector for allocation-heavy set work (a batch chunk).

A batch chunk allocates millions of small containers (each start's workflow, task tree, state dicts, rows) and keeps
thousands of them alive until its write, so with the default threshold (a collection every 700 net allocations) the
collector runs ≈ 700 young and ≈ 60 middle collections per 2,000 starts, each walking what the chunk keeps alive,
and a full one that walks the whole process: ≈ 17 % of the engine's CPU per start in one warm process and more in a
freshly forked rq job (measured 2026-12-05, docs/benchmarks.md). Collecting less often frees the same garbage (a
start's workflow is cyclic garbage once its snapshot is taken; it is collected at the next, rarer, collection).
A screening chunk goes further and pauses the collector (`paused`): what it allocates (features, findings, case rows)
is freed by reference counting, so the collections it set off only walked the work horse's heap (the compiled
decisions, the memo) again and again — about a fifth of a warm chunk's CPU (docs/benchmarks.md, 2026-12-05).
Both are process-wide (the collector is) and safe to nest or overlap across threads: the first block in saves the
setting, the last one out restores it.
"""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

CHUNK_YOUNG_THRESHOLD = 50_000      # net container allocations between young collections (Python's default: 700)

_lock = threading.Lock()
_users = 0
_saved: tuple[int, ...] = ()
_pausers = 0
_was_enabled = True


@contextmanager
def fewer_collections(young: int = CHUNK_YOUNG_THRESHOLD) -> Iterator[None]:
    """Run the block with young collections every `young` net allocations or more (the older generations' ratios
    unchanged). The thresholds are process-wide: the first of nested or concurrent blocks (threads of one web
    worker) saves them, the last to leave restores them. Changes when garbage is collected, never what is."""
    global _users, _saved
    with _lock:
        if _users == 0:
            _saved = gc.get_threshold()
        _users += 1
        gc.set_threshold(max(young, gc.get_threshold()[0]), *_saved[1:])
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                gc.set_threshold(*_saved)


@contextmanager
def paused() -> Iterator[None]:
    """Run the block without cyclic garbage collection (reference counting still frees what is not in a cycle); what
    the block leaves in cycles is collected after it. The first of nested or overlapping blocks saves whether the
    collector was enabled, the last to leave restores that, also when the block raised."""
    global _pausers, _was_enabled
    with _lock:
        if _pausers == 0:
            _was_enabled = gc.isenabled()
        _pausers += 1
        gc.disable()
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_enabled:
                gc.enable()
