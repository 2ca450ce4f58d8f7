"""Prove UNIQUE and ANY tables at deploy time: find overlapping rules and gaps in the input domain.

A FIRST table is read top-down, so its overlaps are intended and are not findings; what is worth telling its owner
is a rule that can never fire (earlier rules cover every input it accepts: `shadowed`) and the inputs no rule
covers (`gap`). Both are warnings, never a refusal (`WARNING_ONLY`).

Each rule is a box: per input, the ValueSet its cell covers, cut to the input's domain. Overlaps are pairs of boxes
that intersect; gaps are what remains of the domain box after subtracting every rule box (box subtraction, so a
table of 60 rules over 10 inputs never enumerates the cartesian product of all elementary intervals).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.engine.dmn.model import INTEGER_TYPES, NUMBER_TYPES, Decision, Input, Rule
from app.engine.dmn.values import ALL, REAL_LINE, ValueSet

Box = tuple[ValueSet, ...]
MAX_BOXES = 20_000  # fragments of the uncovered domain we are willing to track
MAX_REPORTED = 5


WARNING_ONLY = ("FIRST",)   # hit policies whose findings are reported as warnings and never block a deploy


@dataclass(frozen=True)
class Finding:
    kind: str  # 'overlap' | 'gap' | 'unprovable' | 'shadowed' (FIRST: a rule earlier rules always pre-empt)
    rules: tuple[int, ...]
    example_input: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    element_id: str | None = None


def analyze(decision: Decision) -> list[Finding]:
    """Return overlaps and gaps of a UNIQUE or ANY table, shadowed rules and gaps of a FIRST table (other hit
    policies and literals: nothing to prove)."""
    if decision.kind == "table" and decision.hit_policy == "FIRST":
        return _analyze_first(decision)
    if decision.kind != "table" or decision.hit_policy not in ("UNIQUE", "ANY"):
        return []
    opaque = _opaque_cells(decision)
    if opaque:
        return opaque
    domains = [_domain(col, [r.input_entries[k].test.value_set for r in decision.rules])  # type: ignore[misc]
               for k, col in enumerate(decision.inputs)]
    boxes = [_rule_box(r, domains) for r in decision.rules]
    return _overlaps(decision, boxes, domains) + _gaps(decision, boxes, domains)


def _analyze_first(d: Decision) -> list[Finding]:
    """Shadowed rules and gaps of a FIRST table. A cell holding an expression cannot be proven: its rule is taken
    to accept anything in that column when asking whether it is shadowed, and to cover nothing when it might
    shadow a later rule (so a reported shadow is certain). For the gaps it is taken to accept anything (as a
    UNIQUE/ANY table's gaps are found, but never refused as unprovable): what no rule covers even then is a
    certain gap, so an expression cell can hide a gap and never invents one."""
    opaque = {(r.index, k) for r in d.rules for k, e in enumerate(r.input_entries) if e.test.value_set is None}
    domains = [_domain(col, [r.input_entries[k].test.value_set for r in d.rules
                             if r.input_entries[k].test.value_set is not None])
               for k, col in enumerate(d.inputs)]
    accepts = [tuple(dom.values if (r.index, k) in opaque else part
                     for k, (part, dom) in enumerate(zip(_rule_box(r, domains, lenient=True), domains)))
               for r in d.rules]
    provable = [not any((r.index, c) in opaque for c in range(len(d.inputs))) for r in d.rules]
    findings = []
    for k, rule in enumerate(d.rules):
        earlier = [(r.index, box) for r, box, ok in zip(d.rules[:k], accepts[:k], provable[:k]) if ok]
        if _uncovered(accepts[k], [box for _, box in earlier]) == []:
            by = [index for index, box in earlier
                  if not any(a.intersect(b).is_empty() for a, b in zip(box, accepts[k]))]
            findings.append(Finding(
                "shadowed", (rule.index, *by), {},
                f"规则 {rule.index} 永远不会命中：之前的规则 {', '.join(map(str, by))} 已覆盖它的所有输入 (rule "
                f"{rule.index} never fires: earlier rules {', '.join(map(str, by))} cover every input it accepts)",
                rule.id))
    return findings + _gaps(d, accepts, domains)


def _uncovered(box: Box, cuts: list[Box]) -> list[Box] | None:
    """What of `box` no cut covers (None: too many fragments to tell)."""
    remaining = [box]
    for cut in cuts:
        remaining = [piece for r in remaining for piece in _subtract(r, cut)]
        if len(remaining) > MAX_BOXES:
            return None
        if not remaining:
            break
    return remaining


def _opaque_cells(d: Decision) -> list[Finding]:
    findings = []
    for rule in d.rules:
        for entry, col in zip(rule.input_entries, d.inputs):
            if entry.test.value_set is None:
                findings.append(Finding(
                    "unprovable", (rule.index,), {},
                    f"无法证明 {d.hit_policy} 表: 规则 {rule.index} 列 '{col.label}' 的单元格 {entry.text!r} 是表达式 "
                    f"(cannot prove the {d.hit_policy} table: rule {rule.index}, column '{col.label}' holds an "
                    "expression; use literals, ranges or lists, or hit policy FIRST/PRIORITY/COLLECT)",
                    entry.id or rule.id))
    return findings


# --- domains -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Domain:
    values: ValueSet
    integer: bool


def _domain(col: Input, cells: list[ValueSet]) -> _Domain:
    integer = col.type_ref in INTEGER_TYPES
    if col.allowed_test is not None and col.allowed_test.value_set is not None:
        values = col.allowed_test.value_set
    elif col.type_ref == "boolean":
        values = ValueSet.of(discrete=[True, False])
    elif col.type_ref in NUMBER_TYPES:
        values = ValueSet.of([REAL_LINE])
    elif col.type_ref == "string":
        values = ValueSet(cofinite=True)  # the values the rules name, plus "any other value"
    else:
        values = _inferred_domain(cells)
    if col.default is None:  # an optional input that defaults to null can be null
        values = values.union(ValueSet.of(discrete=[None]))
    return _Domain(values.integers() if integer else values, integer)


def _inferred_domain(cells: list[ValueSet]) -> ValueSet:
    named = [c for c in cells if c != ALL]
    numeric = any(c.intervals for c in named)
    discrete = any(c.discrete or c.cofinite for c in named)
    if numeric and not discrete:
        return ValueSet.of([REAL_LINE])
    if not numeric and named and all(c.discrete <= {True, False} and not c.cofinite for c in named):
        return ValueSet.of(discrete=[True, False])
    if not numeric:
        return ValueSet(cofinite=True)
    return ALL


def _rule_box(rule: Rule, domains: list[_Domain], *, lenient: bool = False) -> Box:
    box = []
    for entry, dom in zip(rule.input_entries, domains):
        cell = entry.test.value_set
        if cell is None and lenient:   # an expression cell (FIRST analysis decides what it stands for)
            box.append(dom.values)
            continue
        assert cell is not None
        box.append(dom.values.intersect(cell.integers() if dom.integer else cell))
    return tuple(box)


def _example(d: Decision, box: Box, domains: list[_Domain]) -> dict[str, Any]:
    return {col.field_name: part.sample(integer=dom.integer) for col, part, dom in zip(d.inputs, box, domains)}


# --- overlaps and gaps ---------------------------------------------------------------------------------------------

def _overlaps(d: Decision, boxes: list[Box], domains: list[_Domain]) -> list[Finding]:
    findings = []
    for i, (rule_a, box_a) in enumerate(zip(d.rules, boxes)):
        for rule_b, box_b in zip(d.rules[i + 1:], boxes[i + 1:]):
            common = tuple(a.intersect(b) for a, b in zip(box_a, box_b))
            if any(part.is_empty() for part in common):
                continue
            if d.hit_policy == "ANY" and _same_outputs(rule_a, rule_b):
                continue
            example = _example(d, common, domains)
            findings.append(Finding(
                "overlap", (rule_a.index, rule_b.index), example,
                f"规则 {rule_a.index} 与规则 {rule_b.index} 重叠 (rules {rule_a.index} and {rule_b.index} "
                f"overlap), e.g. {example}", rule_b.id))
    return findings


def _same_outputs(a: Rule, b: Rule) -> bool:
    def key(rule: Rule) -> list[tuple[str, Any]]:
        return [("literal", repr(e.value.literal)) if e.value.is_literal else ("expression", e.value.text)
                for e in rule.output_entries]

    return key(a) == key(b)


def _gaps(d: Decision, boxes: list[Box], domains: list[_Domain]) -> list[Finding]:
    remaining: list[Box] = [tuple(dom.values for dom in domains)]
    if any(part.is_empty() for part in remaining[0]):
        return []
    for box in boxes:
        remaining = [piece for r in remaining for piece in _subtract(r, box)]
        if len(remaining) > MAX_BOXES:
            return [Finding("unprovable", (), {}, f"表 {d.table_code} 太复杂, 无法证明无空缺 (too many "
                            f"fragments to prove the table has no gap)", d.table_id)]
    findings = []
    for piece in remaining[:MAX_REPORTED]:
        example = _example(d, piece, domains)
        findings.append(Finding("gap", (), example, f"输入域存在空缺 (gap), e.g. {example}", d.table_id))
    return findings


def _subtract(box: Box, cut: Box) -> list[Box]:
    """`box` minus `cut` as disjoint boxes: peel off, dimension by dimension, the part outside the cut."""
    common = [a.intersect(b) for a, b in zip(box, cut)]
    if any(part.is_empty() for part in common) or not box:
        return [box] if any(part.is_empty() for part in common) else []
    pieces: list[Box] = []
    current = list(box)
    for k, (part, cut_part) in enumerate(zip(box, cut)):
        outside = part.minus(cut_part)
        if not outside.is_empty():
            pieces.append(tuple(current[:k] + [outside] + current[k + 1:]))
        current[k] = common[k]
    return pieces
