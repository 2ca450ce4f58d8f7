"""Limits every engine run obeys (configurable per site; see docs/operations.md "Engine limits").

* `step_budget` — engine steps (task runs) one operation may take; a loop that goes past it stops with an incident
  (`step_budget_exceeded`) at the task it reached, retryable, never a silent "completed" or a hung worker.
* `max_call_depth` — nesting of call activities (and subprocesses); a process calling itself without end stops with
  `call_depth_exceeded`.
* `script_timeout_s`, `script_memory_mb` — per script, enforced by the OS in a pooled worker process
  (`script_isolation = "process"`; `"inline"` runs in-process with the sandbox's own checks only: tests of the
  sandbox itself, and tools).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from app import engine as eng
from app.engine import isolation

from . import bindings


@dataclass
class EngineLimits:
    step_budget: int = 1000
    max_call_depth: int = 16
    script_timeout_s: float = 2.0
    script_memory_mb: int = 256
    script_isolation: str = "process"

    @classmethod
    def from_env(cls) -> EngineLimits:
        env = os.environ
        return cls(step_budget=int(env.get("YGT_STEP_BUDGET", cls.step_budget)),
                   max_call_depth=int(env.get("YGT_MAX_CALL_DEPTH", cls.max_call_depth)),
                   script_timeout_s=float(env.get("YGT_SCRIPT_TIMEOUT_S", cls.script_timeout_s)),
                   script_memory_mb=int(env.get("YGT_SCRIPT_MEMORY_MB", cls.script_memory_mb)),
                   script_isolation=env.get("YGT_SCRIPT_ISOLATION", cls.script_isolation))


limits = EngineLimits.from_env()


def script_isolation() -> eng.Isolation:
    """Where the platform's model scripts run (helpers from `bindings`, the platform clock in the worker)."""
    return eng.Isolation(mode=limits.script_isolation, memory_mb=limits.script_memory_mb,
                         setup=_clock_setup, preload=("app.workflows.bindings",))


def _clock_setup() -> isolation.Setup:
    return bindings.sync_clock, (bindings.clock_state(),)


def warm_up() -> float | None:
    """Start the script zygote before forking job processes (rq), so each job reuses it."""
    if limits.script_isolation != "process":
        return None
    return isolation.warm_up(memory_mb=limits.script_memory_mb, preload=("app.workflows.bindings",))
