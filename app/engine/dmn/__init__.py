"""Our DMN engine: parse one decision per file, evaluate with real hit policies and traces, prove tables.

SpiffWorkflow's DMN only knows first-match UNIQUE and list COLLECT (ENGINE_NOTES §1.6), so decisions are parsed
and evaluated here; expressions run in app.engine.sandbox and may call the helpers in `functions.FUNCTIONS`.
"""
from __future__ import annotations

from collections.abc import Iterable

from app.engine.dmn.analysis import WARNING_ONLY, Finding, analyze
from app.engine.dmn.errors import DmnDefinitionError, DmnEvaluationError, DmnInputError
from app.engine.dmn.evaluate import DecisionRegistry, Evaluation, TraceStep
from app.engine.dmn.functions import FUNCTIONS
from app.engine.dmn.model import MISSING, Decision, Input, InputField, Output, Rule
from app.engine.dmn.parser import parse_decision

__all__ = [
    "MISSING", "Decision", "DecisionRegistry", "DmnDefinitionError", "DmnEvaluationError", "DmnInputError",
    "Evaluation", "Finding", "Input", "InputField", "Output", "Rule", "TraceStep", "analyze", "parse_decision",
    "validate_for_deploy",
]

_REPORTED = 3
OVERRIDABLE = ("ANY", "FIRST")   # hit policies whose findings a process owner may override (audited)


def validate_for_deploy(decisions: Iterable[Decision], *, known: Iterable[Decision] = (),
                        overrides: frozenset[str] = frozenset(),
                        overridden: list[dict] | None = None,
                        warnings: list[str] | None = None) -> DecisionRegistry:
    """Refuse decisions that could not run exactly: bad references, cycles, overlaps, gaps, unprovable cells.

    `known` are decisions already deployed that the new ones may require (they are not re-analysed). Returns the
    registry of both, so callers need not build it twice. The findings of an ANY or FIRST table named in
    `overrides` are appended to `overridden` instead of refusing it (the caller records who overrode and why);
    a UNIQUE table's findings are never overridden. Only clinical decisions (`Decision.clinical`) are gated on
    their findings; those of any other decision are appended to `warnings` (the SpiffWorkflow dialect, 14.8), as
    are those of every FIRST table (a shadowed rule or a gap: warnings, never a refusal).
    """
    decisions = list(decisions)
    new_ids = {d.id for d in decisions}
    registry = DecisionRegistry([*decisions, *(k for k in known if k.id not in new_ids)])
    for d in decisions:
        _refuse_unknown_names(d, registry)
        findings = analyze(d)
        if findings and (not d.clinical or d.hit_policy in WARNING_ONLY):
            if warnings is not None:
                warnings.extend(f"{d.id}: {f.message}" for f in findings[:_REPORTED])
            continue
        if findings and d.id in overrides:
            if d.hit_policy not in OVERRIDABLE:
                raise DmnDefinitionError(
                    f"{d.table_code}: {d.hit_policy} 表的重叠/遗漏不能豁免，只有 ANY/FIRST 表可以 "
                    f"(the findings of a {d.hit_policy} table cannot be overridden; only ANY/FIRST)",
                    file=d.file, element_id=findings[0].element_id or d.table_id or d.id)
            if overridden is not None:
                overridden.append({"decision_id": d.id, "hit_policy": d.hit_policy,
                                   "findings": [{"kind": f.kind, "rules": list(f.rules), "message": f.message,
                                                 "element_id": f.element_id} for f in findings]})
            continue
        if findings:
            shown = "; ".join(f.message for f in findings[:_REPORTED])
            more = f" (+{len(findings) - _REPORTED} more)" if len(findings) > _REPORTED else ""
            raise DmnDefinitionError(f"{d.table_code}: {shown}{more}", file=d.file,
                                     element_id=findings[0].element_id or d.table_id or d.id)
    return registry


def _refuse_unknown_names(d: Decision, registry: DecisionRegistry) -> None:
    """A cell may read the table's inputs, what its required decisions produce and the helper functions; any other
    name would only fail at evaluation (`>= abc(())` made every later `bp_grade` answer `missing_input abc`)."""
    if d.kind != "table":
        return
    known = {n for column in d.inputs for n in column.names} | {column.expression.strip() for column in d.inputs}
    known |= {n for r in d.required if r in registry for n in registry.get(r).output_names}
    known |= set(FUNCTIONS)
    for rule in d.rules:
        cells = [(e, e.test.names, col.label) for e, col in zip(rule.input_entries, d.inputs)]
        cells += [(o, o.value.names, out.name) for o, out in zip(rule.output_entries, d.outputs)]
        for cell, names, column in cells:
            unknown = sorted(set(names) - known)
            if unknown:
                raise DmnDefinitionError(
                    f"{d.table_code}: 规则 {rule.index} 列 '{column}' 的单元格 {cell.text!r} 引用了未知输入 "
                    f"{', '.join(unknown)} (rule {rule.index}, column '{column}': the cell names unknown input "
                    f"{', '.join(unknown)}; a cell may read the table's inputs and required decisions)",
                    file=d.file, element_id=cell.id or rule.id or d.table_id)
