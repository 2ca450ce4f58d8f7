"""Deploy-time checks of the code a model carries: every script and expression is checked with the sandbox's
static rules, so what the sandbox would refuse at run time is refused when deploying instead."""
from __future__ import annotations

import ast
from datetime import datetime

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.spiff.specs.defaults import ScriptTask

from . import sandbox
from .errors import DefinitionError
from .tasks import OutboxServiceTask

MAX_SCRIPT_LINES = 60
EVALUATED_PROPERTIES = ("dueIn", "dueAt", "priority", "assignOrg", "assignUser", "candidateRole", "disease", "riskLevel",
                        "excludeUser")


def _check(path, element_id, source, mode, what):
    if source is None or not str(source).strip():
        return
    if mode == "exec" and len(str(source).splitlines()) > MAX_SCRIPT_LINES:
        raise DefinitionError(f"{what} is longer than {MAX_SCRIPT_LINES} lines; move logic into a helper",
                              file=path, element_id=element_id)
    try:
        sandbox.check(str(source), mode, filename=f"{path}#{element_id}")
    except sandbox.SandboxError as exc:
        raise DefinitionError(f"{what}: {exc.reason}", file=path, element_id=element_id,
                              line=exc.lineno) from exc


def check_task_expressions(path: str, ts) -> None:
    """Refuse scripts and expressions the sandbox would refuse at run time, at deploy time instead."""
    el = ts.bpmn_id
    if isinstance(ts, ScriptTask):
        _check(path, el, ts.script, "exec", "script")
    _check(path, el, getattr(ts, "prescript", None), "exec", "pre-script")
    _check(path, el, getattr(ts, "postscript", None), "exec", "post-script")
    if isinstance(ts, (ExclusiveGateway, InclusiveGateway)):
        for condition, _target in getattr(ts, "cond_task_specs", []):
            if condition is not None:
                _check(path, el, condition.args[0], "eval", "gateway condition")
    if isinstance(ts, OutboxServiceTask):
        for name, param in ts.operation_params.items():
            _check(path, el, param.get("value"), "eval", f"service parameter '{name}'")
    ed = getattr(ts, "event_definition", None)
    for definition in getattr(ed, "event_definitions", None) or [ed]:
        if isinstance(definition, TimerEventDefinition):
            _check(path, el, definition.expression, "eval", "timer expression")
            _check_timer_literal(path, el, definition)
    props = (getattr(ts, "extensions", {}) or {}).get("properties") or {}
    for key in EVALUATED_PROPERTIES:
        if key in props:
            _check(path, el, props[key], "eval", f"property '{key}'")


def _check_timer_literal(path, element_id, ed) -> None:
    """A literal timeDate must carry its UTC offset: naive times are read in the server's zone (ENGINE_NOTES §1.3)."""
    if not isinstance(ed, TimeDateEventDefinition):
        return
    try:
        node = ast.parse(str(ed.expression), mode="eval").body
    except SyntaxError:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            when = datetime.fromisoformat(node.value)
        except ValueError as exc:
            raise DefinitionError(f"timeDate '{node.value}' is not an ISO date-time", file=path,
                                  element_id=element_id) from exc
        if when.tzinfo is None:
            raise DefinitionError(f"timeDate '{node.value}' has no UTC offset; write e.g. +08:00", file=path,
                                  element_id=element_id)
