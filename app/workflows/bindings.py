"""What models may call by name: service-task operators (run as outbox jobs) and script helpers (pure).

Operators are registered by the capability that owns them (explicit list below); each takes the evaluated
parameters plus an idempotency key and returns JSON-able data. A handler raises `ServiceError(code, message)` for
a failure the model may catch with an error boundary; any other exception is retried, then becomes an incident.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from importlib import import_module
from typing import Any

from app.core import clock
from app.engine.extensions import load_script_functions

OperatorFn = Callable[..., Any]
_operators: dict[str, OperatorFn] = {}
OPERATOR_MODULES = (
    "app.workflows.operators",
    "connectors.notify.operators",
    "app.screening.operators",
    "app.residents.operators",
    "app.care_plans.operators",
    "app.follow_up.operators",
    "app.referral.operators",
    "app.training.operators",
    "app.pharmacy.operators",
    "app.anticoag.operators",
    "app.contracting.operators",
    "app.consult.operators",
    "app.intervention.operators",
    "app.quality.operators",
    "app.liaison.operators",
    "app.research.operators",
)
_loaded = False


class ServiceError(Exception):
    """A business failure of a service call, thrown into the model as a BPMN error with this code."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def operator(name: str):
    """Register a service-task operator under `name` (e.g. `notify/send`)."""
    def decorate(fn: OperatorFn) -> OperatorFn:
        _operators[name] = fn
        return fn
    return decorate


def _load() -> None:
    """Import the operator modules (plus any named in YGT_OPERATOR_MODULES, comma-separated: site plugins)."""
    global _loaded
    if not _loaded:
        _loaded = True
        extra = [m.strip() for m in os.environ.get("YGT_OPERATOR_MODULES", "").split(",") if m.strip()]
        for path in (*OPERATOR_MODULES, *extra):
            import_module(path)


@contextmanager
def replaced_operator(name: str, fn: OperatorFn):
    """Temporarily route an operator to another handler (demo outages, maintenance); restores the original."""
    _load()
    real = _operators[name]
    _operators[name] = fn
    try:
        yield
    finally:
        _operators[name] = real


def operator_names() -> set[str]:
    _load()
    return set(_operators)


def get_operator(name: str) -> OperatorFn:
    _load()
    try:
        return _operators[name]
    except KeyError:
        raise LookupError(f"no service-task operator '{name}' is registered") from None


# -- script helpers: pure functions scripts, conditions and properties may call ------------------------------

def _today() -> str:
    return clock.today().isoformat()


def _now() -> str:
    return clock.now().isoformat()


def _in_days(days: float) -> str:
    """ISO datetime `days` from now (timer dates: `timeDate` = in_days(90))."""
    return (clock.now() + timedelta(days=float(days))).isoformat()


def _add_days(day: str | date, days: int) -> str:
    base = date.fromisoformat(day) if isinstance(day, str) else day
    return (base + timedelta(days=int(days))).isoformat()


def _age_on(birth_date: str | date, on: str | date | None = None) -> int:
    born = date.fromisoformat(birth_date) if isinstance(birth_date, str) else birth_date
    ref = date.fromisoformat(on) if isinstance(on, str) else on
    return clock.age(born, ref)


def _days_between(a: str, b: str) -> int:
    return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).days


def clock_state() -> tuple[str, str]:
    """What a script worker needs to share this process's platform clock (tests and demos move it) and zone."""
    return clock.now().isoformat(), clock.tz_name()


def sync_clock(state: tuple[str, str]) -> None:
    """In a script worker: make the platform clock read this instant in this zone (set before each script)."""
    now_iso, tz = state
    clock.configure(tz)
    clock.reset()
    clock.advance(datetime.fromisoformat(now_iso) - clock.now())


SCRIPT_HELPERS: dict[str, Callable[..., Any]] = {
    "today": _today, "now_iso": _now, "in_days": _in_days, "add_days": _add_days, "age_on": _age_on,
    "days_between": _days_between,
}

_PLATFORM_HELPERS = dict(SCRIPT_HELPERS)


def use_script_extensions(modules: tuple[str, ...] | list[str]) -> list[str]:
    """Add the SCRIPT_FUNCTIONS of the site modules (YGT_SCRIPT_EXTENSIONS) to what every model script may call,
    replacing any earlier site set; returns the names added. Raises engine.extensions.ScriptExtensionError naming
    a module that cannot be imported or used (before anything is changed)."""
    functions = load_script_functions(modules, reserved=_PLATFORM_HELPERS)
    SCRIPT_HELPERS.clear()
    SCRIPT_HELPERS.update(_PLATFORM_HELPERS)
    SCRIPT_HELPERS.update(functions)
    return sorted(functions)
