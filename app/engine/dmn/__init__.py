"""Our DMN engine: parse one decision per file, evaluate with real hit policies and traces, prove tables.

SpiffWorkflow's DMN only knows first-match UNIQUE and list COLLECT (ENGINE_NOTES §1.6), so decisions are parsed
and evaluated here; expressions run in app.engine.sandbox and may call the helpers in `functions.FUNCTIONS`.
"""
from __future__ import annotations

from collections.abc import Iterable

from app.engine.dmn.analysis import Finding, analyze
from app.engine.dmn.errors import DmnDefinitionError, DmnEvaluationError, DmnInputError
from app.engine.dmn.evaluate import DecisionRegistry, Evaluation, TraceStep
from app.engine.dmn.model import MISSING, Decision, Input, InputField, Output, Rule
from app.engine.dmn.parser import parse_decision

__all__ = [
    "MISSING", "Decision", "DecisionRegistry", "DmnDefinitionError", "DmnEvaluationError", "DmnInputError",
    "Evaluation", "Finding", "Input", "InputField", "Output", "Rule", "TraceStep", "analyze", "parse_decision",
    "validate_for_deploy",
]

_REPORTED = 3


def validate_for_deploy(decisions: Iterable[Decision], *, known: Iterable[Decision] = ()) -> DecisionRegistry:
    """Refuse decisions that could not run exactly: bad references, cycles, overlaps, gaps, unprovable cells.

    `known` are decisions already deployed that the new ones may require (they are not re-analysed). Returns the
    registry of both, so callers need not build it twice.
    """
    decisions = list(decisions)
    new_ids = {d.id for d in decisions}
    registry = DecisionRegistry([*decisions, *(k for k in known if k.id not in new_ids)])
    for d in decisions:
        _refuse_unknown_names(d, registry)
        findings = analyze(d)
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
    from app.engine.dmn.functions import FUNCTIONS
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
