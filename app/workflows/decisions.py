"""Deployed DMN decisions as evaluable registries: latest versions for the API, pinned versions for instances.

The evaluate API and business-rule tasks both evaluate through `evaluate()` here, so they can never disagree;
every evaluation names the decision versions that decided.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from app.core.db import session as current
from app.core.errors import Invalid, NotFound
from app.engine import DefinitionError, EngineError, dmn

from .models import DecisionVersion, ProcessEvent


@lru_cache(maxsize=512)
def _parse(xml: str, file_name: str, content_hash: str) -> dmn.Decision:
    return dmn.parse_decision(xml.encode("utf-8"), filename=file_name)


def parsed_decision(xml: str, file_name: str, content_hash: str) -> dmn.Decision:
    """Parse once per content hash (stored versions are immutable)."""
    return _parse(xml, file_name, content_hash)


@dataclass
class PinnedRegistry:
    registry: dmn.DecisionRegistry
    versions: dict[str, int]


def registry(session, pins: Mapping[str, int] | None = None) -> PinnedRegistry:
    """The decisions (latest versions, with `pins` overriding) as one registry, built once per distinct set."""
    latest = _latest_keys(session)
    wanted = dict(latest)
    for decision_id, version in (pins or {}).items():
        if decision_id in latest and latest[decision_id][0] != version:
            row = session.execute(select(DecisionVersion.content_hash).where(
                DecisionVersion.decision_id == decision_id, DecisionVersion.version == version)).scalar_one()
            wanted[decision_id] = (version, row)
    return _registry_for(frozenset((d, v, h) for d, (v, h) in wanted.items()))


def _latest_keys(session) -> dict[str, tuple[int, str]]:
    """decision id → (latest version, content hash): a narrow query, no XML."""
    sub = select(DecisionVersion.decision_id, func.max(DecisionVersion.version).label("v")).group_by(
        DecisionVersion.decision_id).subquery()
    rows = session.execute(select(DecisionVersion.decision_id, DecisionVersion.version, DecisionVersion.content_hash)
                           .join(sub, (DecisionVersion.decision_id == sub.c.decision_id)
                                 & (DecisionVersion.version == sub.c.v)))
    return {d: (v, h) for d, v, h in rows}


@lru_cache(maxsize=64)
def _registry_for(key: frozenset) -> PinnedRegistry:
    hashes = {h for _d, _v, h in key}
    rows = current().execute(select(DecisionVersion).where(DecisionVersion.content_hash.in_(hashes))).scalars()
    by_id = {}
    for row in rows:
        if (row.decision_id, row.version, row.content_hash) in key:
            by_id[row.decision_id] = row
    reg = dmn.DecisionRegistry(parsed_decision(r.xml, r.file_name, r.content_hash) for r in by_id.values())
    return PinnedRegistry(reg, {r.decision_id: r.version for r in by_id.values()})


def closure(reg: dmn.DecisionRegistry, decision_ids: Iterable[str]) -> set[str]:
    """The decisions and everything they require (transitively)."""
    seen: set[str] = set()
    stack = list(decision_ids)
    while stack:
        did = stack.pop()
        if did in seen or did not in reg:
            continue
        seen.add(did)
        stack.extend(reg.get(did).required)
    return seen


def evaluate(pinned: PinnedRegistry, decision_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Evaluate and return `{outputs, trace, versions, reason}`; input problems raise `Invalid` (422)."""
    if decision_id not in pinned.registry:
        raise NotFound(f"决策 {decision_id} 不存在 (unknown decision)", code="not_found", decision_id=decision_id)
    try:
        result = pinned.registry.evaluate(decision_id, inputs)
    except dmn.DmnInputError as exc:
        raise Invalid(exc.reason, code=exc.code, field=exc.field, decision_id=decision_id,
                      errors=[{"field": exc.field, "message": exc.reason}]) from exc
    except dmn.DmnEvaluationError as exc:
        raise Invalid(exc.reason, code=exc.code, decision_id=decision_id, **exc.details) from exc
    used = closure(pinned.registry, [decision_id])
    reason = "; ".join(step.get("reason", "") for step in result.trace if step.get("reason"))
    return {"decision_id": decision_id, "outputs": result.outputs, "trace": result.trace, "reason": reason,
            "versions": {d: pinned.versions[d] for d in sorted(used) if d in pinned.versions}}


def process_evaluator(pinned: PinnedRegistry):
    """The callable the engine's business-rule tasks use: (decision_id, data) -> (outputs, record)."""
    def evaluate_for_task(decision_id: str, data: Mapping[str, Any]):
        result = evaluate(pinned, decision_id, data)
        return result["outputs"], {"decision_id": decision_id, "versions": result["versions"],
                                   "outputs": result["outputs"], "trace": result["trace"],
                                   "reason": result["reason"], "inputs": _traced_inputs(pinned, decision_id, data)}
    return evaluate_for_task


def _traced_inputs(pinned: PinnedRegistry, decision_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The raw inputs the decision (and what it requires) read, as they were: what a replay of a draft needs (14.14).
    Only the decision's declared input names are kept, never the rest of the instance data (names, ID numbers)."""
    names = [f.name for f in pinned.registry.input_fields(decision_id)]
    return {n: _jsonable(data[n]) for n in names if n in data}


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


REPLAY_SCAN_FACTOR = 20          # read at most limit × 20 evaluation events while looking for this decision's


def recorded_evaluations(session, decision_id: str, limit: int) -> list[dict[str, Any]]:
    """The inputs of the last `limit` real evaluations that used `decision_id` (directly or as a required decision),
    newest first, from the `decision_evaluated` history of process instances. Events from before inputs were
    traced carry none and are skipped."""
    found: list[dict[str, Any]] = []
    stmt = (select(ProcessEvent.id, ProcessEvent.at, ProcessEvent.data)
            .where(ProcessEvent.type == "decision_evaluated").order_by(ProcessEvent.id.desc())
            .limit(limit * REPLAY_SCAN_FACTOR))
    for _id, at, data in session.execute(stmt):
        if not isinstance(data, Mapping) or not isinstance(data.get("inputs"), Mapping):
            continue
        if decision_id not in (data.get("versions") or {}) and data.get("decision_id") != decision_id:
            continue
        found.append({"at": at.isoformat() if at else None, "inputs": dict(data["inputs"]),
                      "version": (data.get("versions") or {}).get(decision_id)})
        if len(found) >= limit:
            break
    return found


def replay(deployed: dmn.DecisionRegistry, draft: dmn.DecisionRegistry, decision_id: str,
           evaluations: Sequence[Mapping[str, Any]], progress=None) -> dict[str, Any]:
    """Evaluate the deployed decision and the draft on the same recorded inputs; count what would change.
    Each row: {inputs, from, to} (outputs of the deployed version and of the draft, or an `error` code)."""
    rows = []
    for n, ev in enumerate(evaluations):
        if progress is not None and n % 50 == 0:
            progress(n, len(evaluations))
        inputs = ev["inputs"]
        rows.append({"inputs": inputs, "from": _outcome(deployed, decision_id, inputs),
                     "to": _outcome(draft, decision_id, inputs)})
    return {"rows": rows}


def _outcome(reg: dmn.DecisionRegistry, decision_id: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    try:
        return {"outputs": reg.evaluate(decision_id, inputs).outputs}
    except (dmn.DmnInputError, dmn.DmnEvaluationError) as exc:
        return {"error": exc.code}


def same_outputs(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return set(a) == set(b) and all(_same(a[k], b[k]) for k in a)


def draft_decision_id(xml: bytes, filename: str) -> str | None:
    """The id of the decision a draft defines, or None when it does not parse (the job reports the parse error)."""
    try:
        return dmn.parse_decision(xml, filename=filename).id
    except dmn.DmnDefinitionError:
        return None


def decision_outputs(reg: dmn.DecisionRegistry, decision_id: str) -> list[str]:
    """The output names of one decision (its own table, not those of the decisions it requires)."""
    return [o.name for o in reg.get(decision_id).outputs]


def input_fields(pinned: PinnedRegistry, decision_id: str) -> list[dict[str, Any]]:
    if decision_id not in pinned.registry:
        raise NotFound(f"决策 {decision_id} 不存在 (unknown decision)", decision_id=decision_id)
    return [f.to_dict() for f in pinned.registry.input_fields(decision_id)]


def run_cases(reg: dmn.DecisionRegistry, decision_id: str, cases: Mapping[str, Any] | None,
              progress=None) -> dict[str, Any]:
    """Run a decision's conformance cases; each result says passed and what differed. `progress(done, total)`
    runs before each case (it may raise to stop the run)."""
    results = []
    todo = list((cases or {}).get("cases", []))
    for n, case in enumerate(todo):
        if progress is not None:
            progress(n, len(todo))
        outcome: dict[str, Any] = {"name": case.get("name"), "source": case.get("source")}
        try:
            got = reg.evaluate(decision_id, case.get("inputs", {})).outputs
            if "expect_error" in case:
                outcome.update(passed=False, got=got, expected_error=case["expect_error"])
            else:
                diff = {k: {"expected": v, "got": got.get(k)} for k, v in case.get("expect", {}).items()
                        if not _same(got.get(k), v)}
                outcome.update(passed=not diff, diff=diff)
        except (dmn.DmnInputError, dmn.DmnEvaluationError) as exc:
            expected = case.get("expect_error") or {}
            ok = bool(expected) and expected.get("code") == exc.code and \
                expected.get("field", getattr(exc, "field", None)) == getattr(exc, "field", None)
            outcome.update(passed=ok, error={"code": exc.code, "field": getattr(exc, "field", None),
                                             "reason": exc.reason})
        results.append(outcome)
    passed = sum(1 for r in results if r["passed"])
    return {"decision_id": decision_id, "passed": passed, "failed": len(results) - passed, "results": results}


def case_failures(reg: dmn.DecisionRegistry, decision: dmn.Decision, cases: Mapping[str, Any] | None
                  ) -> dict[str, Any]:
    """The deploy gate's view of `run_cases`: each failing case with the cell to show (the output cell of the rule
    that fired, for the first output that differs; the rule when no single cell is at fault)."""
    report = run_cases(reg, decision.id, cases)
    by_name = {c.get("name"): c for c in (cases or {}).get("cases", [])}
    failures = []
    for result in report["results"]:
        if result["passed"]:
            continue
        failure = {k: result[k] for k in ("name", "diff", "error", "expected_error") if k in result}
        failure["element_id"] = _failing_cell(reg, decision, by_name.get(result["name"]) or {}, result.get("diff"))
        failures.append(failure)
    return {"total": len(report["results"]), "failed": len(failures), "failures": failures}


def _failing_cell(reg: dmn.DecisionRegistry, decision: dmn.Decision, case: Mapping[str, Any],
                  diff: Mapping[str, Any] | None) -> str | None:
    try:
        trace = reg.evaluate(decision.id, case.get("inputs", {})).trace
    except (dmn.DmnInputError, dmn.DmnEvaluationError):
        return decision.table_id
    step = next((s for s in trace if s.get("decision_id") == decision.id), None)
    fired = [r for r in decision.rules if step and r.index in {x["index"] for x in step.get("rules") or []}]
    if not fired:
        return decision.table_id
    rule = fired[0]
    names = [o.name for o in decision.outputs]
    for key in diff or {}:
        if key in names and names.index(key) < len(rule.output_entries):
            return rule.output_entries[names.index(key)].id or rule.id
    return rule.id or decision.table_id


def _same(got: Any, expected: Any) -> bool:
    if isinstance(expected, float) or isinstance(got, float):
        try:
            # cases are written to 4 decimals, as tests/clinical/test_conformance.py compares them (77.7778)
            return abs(float(got) - float(expected)) <= 5e-4
        except (TypeError, ValueError):
            return False
    return got == expected


def draft_registry(session, decision_id: str, xml: bytes) -> dmn.DecisionRegistry:
    """The deployed decisions with one replaced by a draft (the modeler's "test before deploy")."""
    try:
        draft = dmn.parse_decision(xml, filename=f"{decision_id}.dmn")
    except dmn.DmnDefinitionError as exc:
        raise DefinitionError(exc.reason, file=exc.file or f"{decision_id}.dmn", element_id=exc.element_id) from exc
    current = registry(session).registry
    others = [d for d in current if d.id != draft.id]
    try:
        return dmn.validate_for_deploy([draft], known=others)
    except dmn.DmnDefinitionError as exc:
        raise DefinitionError(exc.reason, file=exc.file, element_id=exc.element_id) from exc


def definition_errors() -> tuple[type[Exception], ...]:
    """The errors a draft can raise (a bad definition, an input or evaluation error), each with code and message."""
    return (EngineError, dmn.DmnInputError, dmn.DmnEvaluationError)


def draft_size(xml: bytes, filename: str) -> dict[str, int] | None:
    """Rules, inputs and cells (rules × inputs) of a draft table, or None when it does not parse (the caller's
    normal path reports the parse error). Analysing a table costs about cells² steps: callers limit it."""
    try:
        d = dmn.parse_decision(xml, filename=filename)
    except dmn.DmnDefinitionError:
        return None
    return {"rules": len(d.rules), "inputs": len(d.inputs), "cells": len(d.rules) * max(1, len(d.inputs))}
