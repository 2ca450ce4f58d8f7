"""Evaluate decisions with real hit-policy semantics, chaining required decisions and tracing every fired rule."""
from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.engine import sandbox
from app.engine.dmn.errors import DmnDefinitionError, DmnEvaluationError, DmnInputError
from app.engine.dmn.functions import FUNCTIONS
from app.engine.dmn.model import (
    INTEGER_TYPES,
    MISSING,
    NUMBER_TYPES,
    Decision,
    Input,
    InputField,
    Rule,
)
from app.engine.dmn.values import is_number

TraceStep = dict[str, Any]
Helpers = Mapping[str, Callable[..., Any]]
SINGLE_HIT = ("UNIQUE", "FIRST", "PRIORITY", "ANY")


@dataclass(frozen=True)
class Evaluation:
    outputs: dict[str, Any]
    trace: list[TraceStep] = field(default_factory=list)


def _default_helpers() -> Helpers:

    return FUNCTIONS


class DecisionRegistry:
    """An immutable set of decisions by id; evaluates a decision and the decisions it requires."""

    def __init__(self, decisions: Iterable[Decision], *, helpers: Helpers | None = None):
        self._decisions: dict[str, Decision] = {}
        for d in decisions:
            if d.id in self._decisions:
                raise DmnDefinitionError(f"decision id '{d.id}' is defined twice (also in "
                                         f"{self._decisions[d.id].file})", file=d.file, element_id=d.id)
            self._decisions[d.id] = d
        self._helpers = dict(_default_helpers() if helpers is None else helpers)
        self._orders: dict[str, tuple[Decision, ...]] = {}
        self._fields: dict[str, tuple[_FieldSpec, ...]] = {}
        for d in self._decisions.values():
            self._order(d.id)
            clash = set(d.output_names) & set(self._helpers)
            if clash:
                raise DmnDefinitionError(f"output {sorted(clash)} has the name of a helper function; rename it",
                                         file=d.file, element_id=d.table_id or d.id)

    def __contains__(self, decision_id: object) -> bool:
        return decision_id in self._decisions

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._decisions.values())

    def get(self, decision_id: str) -> Decision:
        try:
            return self._decisions[decision_id]
        except KeyError:
            raise KeyError(f"unknown decision '{decision_id}'") from None

    def input_fields(self, decision_id: str) -> list[InputField]:
        """The raw inputs a caller must or may pass, across the decision and every decision it requires."""
        return [s.field for s in self._field_specs(decision_id)]

    def evaluate(self, decision_id: str, inputs: Mapping[str, Any]) -> Evaluation:
        """Evaluate a decision (required decisions first); outputs merge every decision's, the top one last."""
        context = _validated_inputs(self._field_specs(decision_id), inputs, decision_id)
        outputs: dict[str, Any] = {}
        trace: list[TraceStep] = []
        for d in self._order(decision_id):
            step_outputs, step = _evaluate_one(d, context, self._helpers)
            context.update(step_outputs)
            outputs.update(step_outputs)
            trace.append(step)
        return Evaluation(outputs, trace)

    # --- the decision requirements graph -------------------------------------------------------------------------

    def _order(self, decision_id: str) -> tuple[Decision, ...]:
        """Required decisions in evaluation order, ending with `decision_id`; refuses unknown ids and cycles."""
        if decision_id in self._orders:
            return self._orders[decision_id]
        order: list[Decision] = []
        state: dict[str, str] = {}

        def visit(d: Decision, path: list[str]) -> None:
            if state.get(d.id) == "done":
                return
            if state.get(d.id) == "active":
                cycle = " → ".join(path[path.index(d.id):] + [d.id])
                raise DmnDefinitionError(f"decision requirements form a cycle: {cycle}", file=d.file,
                                         element_id=d.id)
            state[d.id] = "active"
            for ref in d.required:
                if ref not in self._decisions:
                    raise DmnDefinitionError(f"decision '{d.id}' requires unknown decision '{ref}'", file=d.file,
                                             element_id=d.id)
                visit(self._decisions[ref], path + [d.id])
            state[d.id] = "done"
            order.append(d)

        visit(self.get(decision_id), [])
        self._orders[decision_id] = tuple(order)
        return self._orders[decision_id]

    def _field_specs(self, decision_id: str) -> tuple[_FieldSpec, ...]:
        if decision_id not in self._fields:
            self._fields[decision_id] = _collect_fields(self._order(decision_id), set(self._helpers))
        return self._fields[decision_id]


# --- raw input fields ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _FieldSpec:
    field: InputField
    column: Input | None  # the column that reads the field directly (its type, domain and default)


def _in_reading_order(names: frozenset[str], text: str) -> list[str]:
    def position(name: str) -> int:
        found = re.search(rf"\b{re.escape(name)}\b", text)
        return found.start() if found else len(text)

    return sorted(names, key=lambda n: (position(n), n))


def _referenced(d: Decision) -> list[str]:
    """Context names the decision reads, in the order a person reads the table (so forms list them so)."""
    names: list[str] = []
    for i in d.inputs:
        names += _in_reading_order(i.names, i.expression)
    for r in d.rules:
        for e in r.input_entries:
            names += _in_reading_order(e.test.names, e.text)
        for o in r.output_entries:
            names += _in_reading_order(o.value.names, o.text)
    return names


def _collect_fields(order: tuple[Decision, ...], functions: set[str]) -> tuple[_FieldSpec, ...]:
    produced = {name for d in order for name in d.output_names}
    seen: dict[str, list[Input]] = {}
    for d in order:
        for name in _referenced(d):
            if name not in produced and name not in functions:
                seen.setdefault(name, [])
    for d in order:
        for column in d.inputs:
            if d.kind == "table" and column.expression in seen:
                seen[column.expression].append(column)
    specs = []
    for name, columns in seen.items():
        typed = next((c for c in columns if c.type_ref), columns[0] if columns else None)
        defaulted = next((c for c in columns if c.default is not MISSING), None)
        bounded = next((c for c in columns if c.allowed), None)
        default = defaulted.default if defaulted else MISSING
        specs.append(_FieldSpec(InputField(
            name=name, type=typed.type_ref if typed else None, required=default is MISSING, default=default,
            allowed=bounded.allowed if bounded else None, label=typed.label if typed else None,
        ), bounded or typed))
    return tuple(specs)


def _validated_inputs(specs: tuple[_FieldSpec, ...], inputs: Mapping[str, Any], decision_id: str
                      ) -> dict[str, Any]:
    context: dict[str, Any] = {}
    for spec in specs:
        f = spec.field
        value = inputs.get(f.name)
        if value is None:
            if f.required:
                raise DmnInputError("missing_input", f.name, f"缺少必填输入 {f.name} (missing required input)",
                                    decision_id=decision_id)
            context[f.name] = f.default
            continue
        context[f.name] = _check_value(f.name, value, f.type, spec.column, decision_id)
    return context


_TYPE_WORDS = {"number": "数字 (a number)", "integer": "整数 (an integer)", "boolean": "布尔值 (true/false)",
               "string": "字符串 (a string)"}


_DATE_TYPES = {"date": _dt.date, "datetime": _dt.datetime, "date and time": _dt.datetime}


def _as_date(name: str, value: Any, type_ref: str, decision_id: str) -> Any:
    """Dates arrive from JSON as ISO strings; compare them as dates."""
    kind = _DATE_TYPES[type_ref]
    if isinstance(value, str):
        try:
            value = kind.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, kind) and (kind is _dt.datetime or not isinstance(value, _dt.datetime)):
        return value
    raise DmnInputError("invalid_input", name, f"{name} 应为日期 (an ISO {type_ref}), got {value!r}",
                        decision_id=decision_id)


def _check_value(name: str, value: Any, type_ref: str | None, column: Input | None, decision_id: str) -> Any:
    """Return the value (ISO dates parsed) if it has the column's type and lies in its allowed values."""
    if type_ref in _DATE_TYPES:
        value = _as_date(name, value, type_ref, decision_id)
    kind = "integer" if type_ref in INTEGER_TYPES else "number" if type_ref in NUMBER_TYPES else type_ref
    ok = {
        "number": lambda v: is_number(v) and math.isfinite(v),
        "integer": lambda v: is_number(v) and math.isfinite(v) and float(v).is_integer(),
        "boolean": lambda v: isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
    }.get(kind or "", lambda v: True)
    if not ok(value):
        raise DmnInputError("invalid_input", name, f"{name} 应为{_TYPE_WORDS[kind]}, got {value!r}",
                            decision_id=decision_id)
    if column is not None and column.allowed_test is not None and not column.allowed_test.matches(value, {}):
        raise DmnInputError("invalid_input", name, f"{name}={value!r} 不在允许范围 {column.allowed} 内 "
                            f"(outside allowed values {column.allowed})", decision_id=decision_id)
    return value


# --- one decision ----------------------------------------------------------------------------------------------------

def _evaluate_one(d: Decision, context: dict[str, Any], helpers: Helpers) -> tuple[dict[str, Any], TraceStep]:
    if d.kind == "literal":
        value = _run(d, "literal expression", _evaluate_expression, d.literal_expression or "", context, helpers)
        outputs = {d.output_names[0]: _coerce(value, d.variable_type)}
        return outputs, _step(d, [], outputs, f"{d.table_code}: {d.output_names[0]} = {value!r}")
    values = [_column_value(d, col, context, helpers) if col.expression else None for col in d.inputs]
    matched = [r for r in d.rules if _matches(d, r, values, context, helpers)]
    outputs, fired = _apply_hit_policy(d, matched, context, helpers, values)
    return outputs, _step(d, fired, outputs, _reason(d, fired))


def _run(d: Decision, what: str, fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except sandbox.SandboxError as exc:
        raise DmnEvaluationError("evaluation_error", f"{what}: {exc.reason}", decision_id=d.id,
                                 details={"where": what}) from None


def _evaluate_expression(expression: str, context: dict[str, Any], helpers: Helpers) -> Any:
    return sandbox.evaluate(expression, context, helpers=helpers)


def _column_value(d: Decision, col: Input, context: dict[str, Any], helpers: Helpers) -> Any:
    if col.expression in context:
        value = context[col.expression]
    else:
        value = _run(d, f"input '{col.label}'", _evaluate_expression, col.expression, context, helpers)
    return value if value is None else _check_value(col.field_name, value, col.type_ref, col, d.id)


def _matches(d: Decision, rule: Rule, values: list[Any], context: dict[str, Any], helpers: Helpers) -> bool:
    for entry, col, value in zip(rule.input_entries, d.inputs, values):
        ok = _run(d, f"rule {rule.index}, column '{col.label}'", entry.test.matches, value, context, helpers)
        if not ok:
            return False
    return True


def _rule_outputs(d: Decision, rule: Rule, context: dict[str, Any], helpers: Helpers) -> dict[str, Any]:
    out = {}
    for entry, col in zip(rule.output_entries, d.outputs):
        value = _run(d, f"rule {rule.index}, output '{col.name}'", entry.value.value, context, helpers)
        out[col.name] = _coerce(value, col.type_ref)
    return out


def _coerce(value: Any, type_ref: str | None) -> Any:
    if type_ref in INTEGER_TYPES and is_number(value) and float(value).is_integer():
        return int(value)
    return value


def _priority(d: Decision, outputs: dict[str, Any]) -> int:
    order = d.outputs[0].allowed_values or []
    value = outputs[d.outputs[0].name]
    return order.index(value) if value in order else len(order)


def _apply_hit_policy(d: Decision, matched: list[Rule], context: dict[str, Any], helpers: Helpers,
                      values: list[Any]) -> tuple[dict[str, Any], list[Rule]]:
    results = [(r, _rule_outputs(d, r, context, helpers)) for r in matched]
    policy = d.hit_policy
    if policy in SINGLE_HIT:
        if not results:
            return _no_match(d, values), []
        if policy == "UNIQUE" and len(results) > 1 and not d.clinical:
            rule, out = results[0]               # SpiffWorkflow's UNIQUE is first-match
            return out, [rule]
        if policy == "UNIQUE" and len(results) > 1:
            numbers = [r.index for r in matched]
            raise DmnEvaluationError("unique_violation", f"UNIQUE 表 {d.table_code} 有多条规则同时命中 "
                                     f"(rules {numbers} all match)", decision_id=d.id, details={"rules": numbers})
        if policy == "ANY" and any(out != results[0][1] for _, out in results):
            raise DmnEvaluationError("any_conflict", f"ANY 表 {d.table_code} 命中规则输出不一致 "
                                     f"(rules {[r.index for r in matched]} disagree)", decision_id=d.id,
                                     details={"rules": [r.index for r in matched],
                                              "outputs": [out for _, out in results]})
        if policy == "PRIORITY":
            rule, out = min(results, key=lambda ro: _priority(d, ro[1]))
            return out, [rule]
        rule, out = results[0]
        return out, ([rule] if policy != "ANY" else matched)
    if policy == "OUTPUT ORDER":
        results.sort(key=lambda ro: _priority(d, ro[1]))
    if d.aggregation:
        return _aggregate(d, results), [r for r, _ in results]
    return {o.name: [out[o.name] for _, out in results] for o in d.outputs}, [r for r, _ in results]


def _aggregate(d: Decision, results: list[tuple[Rule, dict[str, Any]]]) -> dict[str, Any]:
    name = d.outputs[0].name
    values = [out[name] for _, out in results if out[name] is not None]
    if d.aggregation == "COUNT":
        return {name: len(results)}
    if d.aggregation == "SUM":
        return {name: _coerce(sum(values), d.outputs[0].type_ref)}
    if not values:
        return {name: None}
    return {name: min(values) if d.aggregation == "MIN" else max(values)}


def _no_match(d: Decision, values: list[Any]) -> dict[str, Any]:
    if all(o.default is not MISSING for o in d.outputs):
        return {o.name: o.default for o in d.outputs}
    if not d.clinical:                           # SpiffWorkflow: no rule matched, no result (null outputs)
        return {o.name: None if o.default is MISSING else o.default for o in d.outputs}
    shown = {col.field_name: v for col, v in zip(d.inputs, values)}
    raise DmnEvaluationError("no_rule_matched", f"{d.table_code} 无规则匹配 (no rule matched) for {shown}",
                             decision_id=d.id, details={"inputs": shown})


def _step(d: Decision, fired: list[Rule], outputs: dict[str, Any], reason: str) -> TraceStep:
    return {
        "decision_id": d.id, "decision_name": d.name, "table": d.table_code, "hit_policy": d.hit_policy,
        "aggregation": d.aggregation, "content_hash": d.content_hash,
        "rules": [{"index": r.index, "id": r.id, "annotation": r.annotation} for r in fired],
        "outputs": dict(outputs), "reason": reason,
    }


def _reason(d: Decision, fired: list[Rule]) -> str:
    if not fired:
        return f"{d.table_code}: 无规则命中 (no rule fired)"
    labels = [r.annotation or f"#{r.index}" for r in fired]
    names_table = re.compile(rf"^{re.escape(d.table_code)}[a-z]?(\s|:|$)")
    if all(names_table.match(label) for label in labels):
        return "; ".join(labels)  # annotations that already name their table ("T01 行7 …")
    return f"{d.table_code} 行 {'; '.join(labels)}"
