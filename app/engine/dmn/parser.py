"""Parse one DMN file (one `<decision>`) into a Decision, refusing anything we could not evaluate exactly."""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from lxml import etree

from app.engine.dmn.errors import DmnDefinitionError
from app.engine.dmn.model import (
    AGGREGATIONS,
    HIT_POLICIES,
    MISSING,
    Decision,
    Input,
    InputEntry,
    Output,
    OutputEntry,
    Rule,
)
from app.engine.dmn.unary import (
    EntryError,
    check_expression,
    parse_input_entry,
    parse_literal,
    parse_output_entry,
    parse_value_list,
)

DMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # 1.1
    "http://www.omg.org/spec/DMN/20180521/MODEL/",  # 1.2 (SpiffArena, dmn-js)
    "https://www.omg.org/spec/DMN/20191111/MODEL/",  # 1.3
    "https://www.omg.org/spec/DMN/20211108/MODEL/",  # 1.4
    "https://www.omg.org/spec/DMN/20230324/MODEL/",  # 1.5
})
YGT = "https://yigongti.dev/dmn/1.0"
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False)


class _File:
    """Element helpers bound to one file's DMN namespace, raising errors that name the file."""

    def __init__(self, ns: str, filename: str):
        self.ns, self.filename = ns, filename

    def all(self, el: Any, name: str) -> list[Any]:
        return el.findall(f"{{{self.ns}}}{name}")

    def one(self, el: Any, name: str) -> Any:
        return el.find(f"{{{self.ns}}}{name}")

    def text(self, el: Any, name: str) -> str | None:
        child = self.one(el, name) if el is not None else None
        text = self.one(child, "text") if child is not None else None
        return text.text if text is not None else None

    def ext(self, el: Any, name: str) -> Any:
        ext = self.one(el, "extensionElements")
        return ext.find(f"{{{YGT}}}{name}") if ext is not None else None

    def error(self, reason: str, element_id: str | None = None) -> DmnDefinitionError:
        return DmnDefinitionError(reason, file=self.filename, element_id=element_id)


def parse_decision(xml: bytes | str, *, filename: str) -> Decision:
    """Parse a `.dmn` file holding exactly one decision; raise DmnDefinitionError naming file, element, reason."""
    raw = xml.encode("utf-8") if isinstance(xml, str) else xml
    try:
        root = etree.fromstring(raw, _XML_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DmnDefinitionError(f"not well-formed XML: {exc}", file=filename) from None
    ns = etree.QName(root).namespace
    if etree.QName(root).localname != "definitions" or ns not in DMN_NAMESPACES:
        raise DmnDefinitionError(f"not a DMN document (root {root.tag})", file=filename)
    f = _File(ns, filename)
    decisions = f.all(root, "decision")
    if len(decisions) != 1:
        raise f.error(f"expected exactly one <decision> per file, found {len(decisions)}")
    return _decision(f, decisions[0], hashlib.sha256(raw).hexdigest())


CLINICAL_PACK_DIR = Path(__file__).resolve().parents[3] / "dmn"


@functools.lru_cache(maxsize=1)
def clinical_pack_ids() -> frozenset[str]:
    """The decision ids the clinical pack ships (`dmn/<id>.dmn` of the repository)."""
    return frozenset(p.name[: -len(".dmn")] for p in CLINICAL_PACK_DIR.glob("*.dmn"))


def is_clinical(decision_id: str, has_provenance: bool) -> bool:
    """The strict dialect applies to a decision that declares the guideline it encodes (`ygt:provenance`) or
    carries one of the clinical pack's ids (so removing the provenance does not lift the gate from bp_grade).
    Everything else is read as SpiffWorkflow reads it (issue 14.8)."""
    return has_provenance or decision_id in clinical_pack_ids()


def _decision(f: _File, el: Any, content_hash: str) -> Decision:
    decision_id = el.get("id")
    if not decision_id:
        raise f.error("decision has no id")
    provenance_el = f.ext(el, "provenance")
    description = el.find(f"{{{f.ns}}}description")
    common: dict[str, Any] = {
        "id": decision_id, "name": el.get("name") or decision_id, "file": f.filename,
        "content_hash": content_hash, "required": tuple(_required(f, el)),
        "provenance": dict(provenance_el.attrib) if provenance_el is not None else {},
        "description": (description.text or "").strip() or None if description is not None else None,
        "clinical": is_clinical(decision_id, provenance_el is not None),
    }
    table = f.one(el, "decisionTable")
    literal = f.one(el, "literalExpression")
    if table is not None:
        return _table(f, table, decision_id, common)
    if literal is not None:
        return _literal(f, el, literal, decision_id, common)
    raise f.error("decision holds neither a decisionTable nor a literalExpression", decision_id)


def _required(f: _File, el: Any) -> list[str]:
    out = []
    for req in f.all(el, "informationRequirement"):
        ref = f.one(req, "requiredDecision")
        if ref is not None:
            href = ref.get("href") or ""
            out.append(href.rsplit("#", 1)[-1])
    return out


def _literal(f: _File, el: Any, literal: Any, decision_id: str, common: dict[str, Any]) -> Decision:
    text_el = f.one(literal, "text")
    expression = (text_el.text or "").strip() if text_el is not None else ""
    if not expression:
        raise f.error("literal expression is empty", literal.get("id") or decision_id)
    try:
        names = check_expression(expression)
    except EntryError as exc:
        raise f.error(f"literal expression: {exc}", literal.get("id") or decision_id) from None
    variable = f.one(el, "variable")
    var_name = variable.get("name") if variable is not None else None
    var_type = (variable.get("typeRef") or "").lower() or None if variable is not None else None
    lit_input = Input(id=literal.get("id") or decision_id, label=decision_id, expression=expression,
                      type_ref=None, names=names)
    return Decision(hit_policy=None, aggregation=None, inputs=(lit_input,), outputs=(), rules=(), kind="literal",
                    literal_expression=expression, variable_name=var_name or decision_id,
                    variable_type=var_type, **common)


def _table(f: _File, table: Any, decision_id: str, common: dict[str, Any]) -> Decision:
    table_id = table.get("id") or decision_id
    hit_policy = (table.get("hitPolicy") or "UNIQUE").strip().upper().replace("_", " ")
    if hit_policy not in HIT_POLICIES:
        raise f.error(f"unknown hit policy {table.get('hitPolicy')!r} (known: {', '.join(HIT_POLICIES)})", table_id)
    aggregation = (table.get("aggregation") or "").strip().upper() or None
    stub = not f.all(table, "rule")
    inputs = tuple(_input(f, el, n, stub=stub) for n, el in enumerate(f.all(table, "input"), start=1))
    outputs = tuple(_output(f, el, decision_id, len(f.all(table, "output"))) for el in f.all(table, "output"))
    _check_table_shape(f, table_id, hit_policy, aggregation, outputs)
    rules = tuple(_rule(f, el, n, inputs, outputs) for n, el in enumerate(f.all(table, "rule"), start=1))
    return Decision(hit_policy=hit_policy, aggregation=aggregation, inputs=inputs, outputs=outputs, rules=rules,
                    kind="table", table_id=table_id, **common)


def _check_table_shape(f: _File, table_id: str, hit_policy: str, aggregation: str | None,
                       outputs: tuple[Output, ...]) -> None:
    if not outputs:
        raise f.error("decision table has no output", table_id)
    names = [o.name for o in outputs]
    if len(set(names)) != len(names):
        raise f.error(f"duplicate output names {names}", table_id)
    if aggregation is not None:
        if hit_policy != "COLLECT" or aggregation not in AGGREGATIONS:
            raise f.error(f"aggregation {aggregation!r} needs hit policy COLLECT and one of {AGGREGATIONS}",
                          table_id)
        if len(outputs) != 1:
            raise f.error(f"COLLECT {aggregation} needs exactly one output, found {len(outputs)}", table_id)
    if hit_policy in ("PRIORITY", "OUTPUT ORDER") and not outputs[0].allowed_values:
        raise f.error(f"hit policy {hit_policy} needs outputValues on output '{outputs[0].name}' "
                      "(their order is the priority)", table_id)


def _input(f: _File, el: Any, n: int, *, stub: bool = False) -> Input:
    """One input column. In a table without rules (the stub a modeler creates with a new DMN file, which
    SpiffWorkflow parses) the column may have no expression yet: nothing reads it."""
    input_id = el.get("id") or f"input_{n}"
    label = el.get("label") or input_id
    expr_el = f.one(el, "inputExpression")
    text_el = f.one(expr_el, "text") if expr_el is not None else None
    expression = (text_el.text or "").strip() if text_el is not None else ""
    if not expression and stub:
        type_ref = ((expr_el.get("typeRef") if expr_el is not None else None) or "").strip().lower() or None
        return Input(id=input_id, label=label, expression="", type_ref=type_ref)
    if not expression:
        raise f.error(f"input '{label}' has no input expression", input_id)
    try:
        names = check_expression(expression)
    except EntryError as exc:
        raise f.error(f"input '{label}': {exc}", input_id) from None
    allowed = (f.text(el, "inputValues") or "").strip() or None
    allowed_test = None
    if allowed:
        try:
            allowed_test = parse_input_entry(allowed)
        except EntryError as exc:
            raise f.error(f"inputValues of '{label}': {exc}", input_id) from None
    type_ref = (expr_el.get("typeRef") or el.get("typeRef") or "").strip().lower() or None
    return Input(id=input_id, label=label, expression=expression, type_ref=type_ref, allowed=allowed,
                 default=_ygt_default(f, el, input_id), allowed_test=allowed_test, names=names)


def _ygt_default(f: _File, el: Any, element_id: str) -> Any:
    default_el = f.ext(el, "default")
    if default_el is None:
        return MISSING
    try:
        return parse_literal(default_el.text or "")
    except EntryError as exc:
        raise f.error(f"ygt:default: {exc}", element_id) from None


def _output(f: _File, el: Any, decision_id: str, count: int) -> Output:
    output_id = el.get("id") or decision_id
    # as SpiffWorkflow: the result is stored under the output's name, else its label
    name = el.get("name") or (el.get("label") or "").strip() or (decision_id if count == 1 else None)
    if not name:
        raise f.error("output has no name", output_id)
    allowed = parse_value_list(f.text(el, "outputValues"))
    default_text = f.text(el, "defaultOutputEntry")
    default = MISSING
    if default_text is not None:
        try:
            default = parse_literal(default_text)
        except EntryError as exc:
            raise f.error(f"defaultOutputEntry: {exc}", output_id) from None
    type_ref = (el.get("typeRef") or "").strip().lower() or None
    return Output(id=output_id, name=name, type_ref=type_ref, allowed_values=allowed, default=default)


def _rule(f: _File, el: Any, n: int, inputs: tuple[Input, ...], outputs: tuple[Output, ...]) -> Rule:
    rule_id = el.get("id")
    in_els, out_els = f.all(el, "inputEntry"), f.all(el, "outputEntry")
    if len(in_els) != len(inputs) or len(out_els) != len(outputs):
        raise f.error(f"rule {n} has {len(in_els)} input and {len(out_els)} output entries; the table has "
                      f"{len(inputs)} inputs and {len(outputs)} outputs", rule_id or f"rule {n}")
    input_entries = tuple(_input_entry(f, e, n, col) for e, col in zip(in_els, inputs))
    output_entries = tuple(_output_entry(f, e, n, col) for e, col in zip(out_els, outputs))
    annotation = f.text(el, "annotationEntry")
    if annotation is None:
        description = f.one(el, "description")
        annotation = description.text if description is not None else None
    return Rule(index=n, id=rule_id, input_entries=input_entries, output_entries=output_entries,
                annotation=(annotation or "").strip() or None)


def _cell_text(f: _File, el: Any) -> str:
    text_el = f.one(el, "text")
    return (text_el.text or "") if text_el is not None else ""


def _input_entry(f: _File, el: Any, n: int, column: Input) -> InputEntry:
    text = _cell_text(f, el)
    try:
        test = parse_input_entry(text)
    except EntryError as exc:
        raise f.error(f"rule {n}, column '{column.label}': cannot parse {text.strip()!r}: {exc}",
                      el.get("id") or f"rule {n}, column {column.label}") from None
    return InputEntry(id=el.get("id"), text=text.strip(), test=test)


def _output_entry(f: _File, el: Any, n: int, column: Output) -> OutputEntry:
    text = _cell_text(f, el)
    element_id = el.get("id") or f"rule {n}, output {column.name}"
    try:
        value = parse_output_entry(text)
    except EntryError as exc:
        raise f.error(f"rule {n}, output '{column.name}': cannot parse {text.strip()!r}: {exc}",
                      element_id) from None
    allowed = column.allowed_values
    if value.is_literal and value.literal is not None and allowed and value.literal not in allowed:
        raise f.error(f"rule {n}, output '{column.name}': {text.strip()} is not one of its outputValues "
                      f"{allowed}", element_id)
    return OutputEntry(id=el.get("id"), text=text.strip(), value=value)
