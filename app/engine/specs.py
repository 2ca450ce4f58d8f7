"""Parse and validate a set of definition files (BPMN, DMN, forms) into deployable drafts.

Pure: bytes in, plain data out. Every problem is a `DefinitionError` naming the file, the element and the reason;
nothing here touches a database, so a refused set is never half-deployed.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from lxml import etree

from . import dmn
from .bpmn import (
    CallRef,
    PriorProcess,
    ProcessDraft,
    UserTaskMeta,
    parse_processes,
    sha256,
)
from .errors import DefinitionError
from .forms import normalize_form

__all__ = ["Bundle", "CallRef", "DecisionDraft", "PriorProcess", "ProcessDraft", "UserTaskMeta",
           "modeler_default_ids", "normalize_form", "parse_bundle", "sha256"]

MODELER_DEFAULT_ID = re.compile(
    r"^(Activity|Event|Gateway|Flow|StartEvent|EndEvent|Task|SequenceFlow|DataObject(Reference)?|Lane|LaneSet|"
    r"Participant|Process|Collaboration|Message|Definitions|Decision|DecisionTable|DecisionRule|InputClause|"
    r"OutputClause|UnaryTests|LiteralExpression|BPMNShape|BPMNEdge|BPMNPlane|BPMNDiagram)_[0-9a-zA-Z]{5,8}$")


@dataclass
class DecisionDraft:
    decision_id: str
    name: str
    file: str
    xml: str
    content_hash: str
    decision: Any
    cases: dict[str, Any] | None
    provenance: dict[str, Any]


@dataclass
class Bundle:
    processes: list[ProcessDraft]
    decisions: list[DecisionDraft]
    unused_forms: list[str]
    warnings: list[str] = field(default_factory=list)
    overridden: list[dict[str, Any]] = field(default_factory=list)   # ANY/FIRST findings deployed by override


def parse_bundle(files: Mapping[str, bytes], *, prior_processes: Mapping[str, PriorProcess] | None = None,
                 known_decisions: Mapping[str, Any] | None = None,
                 known_operators: Iterable[str] | None = None,
                 override_findings: Iterable[str] = ()) -> Bundle:
    """Validate every file and return drafts ready to store.

    `files` maps a relative path (`bpmn/screening.bpmn`, `forms/screening/verify_case.json`, `x.dmn`) to bytes.
    `prior_processes` describes the processes deployed before (call activities may target them; a BPMN uploaded
    without its forms keeps theirs); `known_decisions` maps decision ids already deployed to parsed decisions;
    `known_operators`, when given, must contain every service-task operator. `override_findings` names ANY/FIRST
    decisions whose analysis findings the caller overrides (they come back in `Bundle.overridden`).
    """
    bpmn_files = {p: b for p, b in files.items() if p.endswith((".bpmn", ".bpmn20.xml"))}
    dmn_files = {p: b for p, b in files.items() if p.endswith(".dmn")}
    case_files = {p: b for p, b in files.items() if p.endswith(".cases.json")}
    form_files = {p: b for p, b in files.items() if p.endswith(".json") and p not in case_files}
    unknown = sorted(set(files) - set(bpmn_files) - set(dmn_files) - set(case_files) - set(form_files))
    if unknown:
        raise DefinitionError("unsupported file type (expected .bpmn, .dmn or .json)", file=unknown[0])

    overridden: list[dict[str, Any]] = []
    decision_warnings: list[str] = []
    decisions = _parse_decisions(dmn_files, case_files, known_decisions or {},
                                 frozenset(override_findings), overridden, decision_warnings)
    all_decision_ids = set(known_decisions or {}) | {d.decision_id for d in decisions}
    forms = {path: _load_json(path, data) for path, data in form_files.items()}
    processes, used, warnings = parse_processes(
        bpmn_files, forms, decision_ids=all_decision_ids, prior=prior_processes or {},
        operators=set(known_operators) if known_operators is not None else None)
    return Bundle(processes=processes, decisions=decisions, unused_forms=sorted(set(forms) - used),
                  warnings=decision_warnings + warnings, overridden=overridden)


def _load_json(path: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError(f"not valid JSON: {exc}", file=path) from exc


# -- DMN ---------------------------------------------------------------------------------------------------

def decision_hash(xml: bytes | str, cases: Any) -> str:
    """What 'unchanged' means for a decision: its XML and the conformance cases stored with it."""
    return sha256(xml, json.dumps(cases, sort_keys=True))


def _parse_decisions(dmn_files, case_files, known, overrides=frozenset(), overridden=None,
                     warnings=None) -> list[DecisionDraft]:
    if not dmn_files:
        return []
    drafts = []
    for path, data in sorted(dmn_files.items()):
        try:
            decision = dmn.parse_decision(data, filename=path)
        except dmn.DmnDefinitionError as exc:
            raise DefinitionError(exc.reason, file=exc.file or path, element_id=exc.element_id) from exc
        stem = PurePosixPath(path).name[: -len(".dmn")]
        if decision.id != stem and decision.clinical:
            raise DefinitionError(f"decision id '{decision.id}' must equal the file name '{stem}'", file=path,
                                  element_id=decision.id)
        cases_path = path[: -len(".dmn")] + ".cases.json"
        cases = _load_json(cases_path, case_files[cases_path]) if cases_path in case_files else None
        drafts.append(DecisionDraft(
            decision_id=decision.id, name=decision.name or decision.id, file=path,
            xml=data.decode("utf-8"), content_hash=decision_hash(data, cases),
            decision=decision, cases=cases, provenance=dict(decision.provenance or {})))
    try:
        dmn.validate_for_deploy([d.decision for d in drafts],
                                known=[v for k, v in known.items() if k not in {d.decision_id for d in drafts}],
                                overrides=overrides, overridden=overridden, warnings=warnings)
    except dmn.DmnDefinitionError as exc:
        raise DefinitionError(exc.reason, file=exc.file, element_id=exc.element_id) from exc
    return drafts


def modeler_default_ids(xml: bytes) -> list[str]:
    """Ids left as the modeler generated them (`Activity_0x7k2pq`): they are an API, name them by meaning."""
    tree = etree.fromstring(xml)
    return sorted({el.get("id") for el in tree.iter() if el.get("id") and MODELER_DEFAULT_ID.match(el.get("id"))})
