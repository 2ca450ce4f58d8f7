"""The script environment every workflow runs with: our sandbox, registered helpers, our DMN evaluator.

The library's default environment is plain `eval`/`exec` (ENGINE_NOTES §0.9); here every script, gateway condition,
timer and parameter expression goes through `app.engine.sandbox`, which refuses imports and dunder access and
stops runaway scripts. Scripts (script tasks, pre- and post-scripts: statements, loops) run in an OS-limited worker
process when the context asks for `process` isolation; expressions (one line, no loops but comprehensions) run in
this process with the sandbox's guards and its traced time limit.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import isolation, sandbox


class DecisionEvaluator(Protocol):
    def __call__(self, decision_id: str, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Return (outputs, record) where record says which decision version decided and why (trace)."""


@dataclass(frozen=True)
class Isolation:
    """Where scripts run: `inline` (this process; the sandbox's own checks) or `process` (a pooled worker whose
    memory and time the OS limits, see `isolation`). `setup` is called in the worker before each script (e.g. to
    give it the platform clock) and must be importable by reference."""

    mode: str = "inline"
    memory_mb: int = 256
    pool_size: int = 2
    setup: Callable[[], isolation.Setup] | None = None
    preload: tuple[str, ...] = ()         # modules of the helpers, imported once by the zygote


class ScriptDeferred(Exception):
    """Raised out of a batch start's engine run at a script whose answer is not known yet (`ScriptReplay`): the run
    is discarded, the script joins the chunk's one isolation request, and the start is run again with the answer.
    Not a library exception, so nothing in the engine turns it into an incident."""

    def __init__(self, request: isolation.Request):
        super().__init__("script deferred to the batch's isolation request")
        self.request = request


@dataclass
class ScriptReplay:
    """The answers a batch start's scripts got so far, in the order the run asks for them. A run that asks for a
    script past them raises `ScriptDeferred` (or, `live`, runs it in the pool itself as a single start does)."""

    answers: list[tuple[str, Any]] = field(default_factory=list)    # (script source, new names | SandboxError)
    live: bool = False
    asked: int = 0

    def answer(self, script: str, request: Callable[[], isolation.Request]) -> dict[str, Any] | None:
        """The new names for the run's next script, or None when it must run now (`live`)."""
        index, self.asked = self.asked, self.asked + 1
        if index < len(self.answers) and self.answers[index][0] == script:
            found = self.answers[index][1]
            if isinstance(found, BaseException):
                raise found
            return dict(found)
        del self.answers[index:]        # a different path than before (should not happen: runs are deterministic)
        if self.live:
            return None
        raise ScriptDeferred(request())


class EngineEnvironment(BasePythonScriptEngineEnvironment):
    def __init__(self, helpers: Mapping[str, Callable[..., Any]] | None = None,
                 decisions: DecisionEvaluator | None = None, *, script_timeout_s: float = 2.0,
                 isolation_: Isolation | None = None):
        super().__init__({})
        self.helpers = dict(helpers or {})
        self.decisions = decisions
        self.script_timeout_s = script_timeout_s
        self.isolation = isolation_ or Isolation()
        self.decision_log: list[dict[str, Any]] = []
        self.call_log: list[dict[str, Any]] = []
        self.callees: Any = None            # runtime._Callees: who a call activity starts
        self.max_call_depth: int | None = None
        self.replay: ScriptReplay | None = None     # a batch start: scripts answered by the chunk's one request

    def evaluate(self, expression, context, external_context=None):
        names = dict(context)
        names.update(external_context or {})
        return sandbox.evaluate(expression, names, helpers=self.helpers, timeout_s=self.script_timeout_s)

    def execute(self, script, context, external_context=None):
        if external_context:
            context.update(external_context)
        if self.isolation.mode == "process":
            iso = self.isolation
            names = None
            if self.replay is not None:
                names = self.replay.answer(script, lambda: (
                    "exec", script, dict(context), self.helpers, self.script_timeout_s,
                    iso.setup() if iso.setup else None))
            if names is None:
                names = self.pool().run("exec", script, context, helpers=self.helpers,
                                        timeout_s=self.script_timeout_s, setup=iso.setup() if iso.setup else None)
            context.clear()
            context.update(names)
        else:
            sandbox.execute(script, context, helpers=self.helpers, timeout_s=self.script_timeout_s)
        for key in external_context or ():
            context.pop(key, None)
        return True

    def pool(self) -> isolation.ScriptPool:
        iso = self.isolation
        return isolation.pool(size=iso.pool_size, memory_mb=iso.memory_mb, preload=iso.preload)

    def call_service(self, context, **kwargs):  # pragma: no cover - service tasks use the outbox
        raise RuntimeError("service tasks are executed through the outbox, never inline")

    def evaluate_decision(self, decision_id: str, data: Mapping[str, Any], *, task_ref: tuple[str, str]):
        if self.decisions is None:
            raise LookupError(f"no decision evaluator configured for '{decision_id}'")
        outputs, record = self.decisions(decision_id, data)
        self.decision_log.append({**record, "task_guid": task_ref[0], "element_id": task_ref[1]})
        return outputs


def _task_error(exc: sandbox.SandboxError, task, source_line: str) -> WorkflowTaskException:
    error = WorkflowTaskException(f"{exc.code}: {exc.reason}", task=task, exception=exc,
                                  line_number=exc.lineno or 0, error_line=source_line)
    error.exception = exc      # the library does not keep it; the incident's code comes from here
    return error


class EngineScriptEngine(PythonScriptEngine):
    """Map sandbox failures to the library's task exception with line number and source line."""

    def evaluate(self, task, expression, external_context=None):
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException:
            raise
        except sandbox.SandboxError as exc:
            raise _task_error(exc, task, exc.source_line or expression) from exc
        except Exception as exc:  # noqa: BLE001 (any script error becomes the engine's task error)
            raise WorkflowTaskException(f"Error evaluating expression '{expression}': {exc}", task=task,
                                        exception=exc)

    def execute(self, task, script, external_context=None):
        try:
            return self.environment.execute(script, task.data, external_context or {})
        except (SpiffWorkflowException, ScriptDeferred):
            raise
        except sandbox.SandboxError as exc:
            raise _task_error(exc, task, exc.source_line or "") from exc
        except Exception as exc:  # noqa: BLE001 (any script error becomes the engine's task error)
            raise WorkflowTaskException(f"{type(exc).__name__}: {exc}", task=task, exception=exc)
