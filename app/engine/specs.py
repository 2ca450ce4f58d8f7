"""Parse and validate a set of definition files (BPMN, DMN, forms) into deployable drafts.

Pure: bytes in, plain data out. Every problem is a `DefinitionError` naming the file, the element and the reason;
nothing here touches a database, so a refused set is never half-deployed.
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import CallActivity
from SpiffWorkflow.spiff.parser import VALIDATOR
from SpiffWorkflow.spiff.specs.defaults import ManualTask, ScriptTask, UserTask

from . import dmn, sandbox
from .codec import dump_spec
from .errors import DefinitionError
from .tasks import DecisionTask, EngineParser, OutboxServiceTask

MODELER_DEFAULT_ID = re.compile(
    r"^(Activity|Event|Gateway|Flow|StartEvent|EndEvent|Task|SequenceFlow|DataObject(Reference)?|Lane|LaneSet|"
    r"Participant|Process|Collaboration|Message|Definitions|Decision|DecisionTable|DecisionRule|InputClause|"
    r"OutputClause|UnaryTests|LiteralExpression|BPMNShape|BPMNEdge|BPMNPlane|BPMNDiagram)_[0-9a-zA-Z]{5,8}$")
MAX_SCRIPT_LINES = 60


@dataclass
class UserTaskMeta:
    element_id: str
    name: str
    lane: str | None
    process_id: str
    form_key: str | None
    properties: dict[str, str]
    instructions: str | None


@dataclass
class ProcessDraft:
    process_id: str
    name: str
    file: str
    bpmn_xml: str
    content_hash: str
    spec_json: dict[str, Any]
    user_tasks: list[UserTaskMeta]
    forms: dict[str, dict[str, Any]]           # form_key -> {"schema", "ui_schema"}
    decisions: list[str]
    operators: list[str]
    called_processes: list[str]
    start_messages: list[str]
    catch_messages: dict[str, list[str]]       # message name -> correlation property names
    element_ids: list[str] = field(default_factory=list)


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


def sha256(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def parse_bundle(files: Mapping[str, bytes], *, library_bpmn: Mapping[str, bytes] | None = None,
                 known_decisions: Mapping[str, Any] | None = None,
                 known_operators: Iterable[str] | None = None) -> Bundle:
    """Validate every file and return drafts ready to store.

    `files` maps a relative path (`bpmn/screening.bpmn`, `forms/screening/verify_case.json`, `x.dmn`) to bytes.
    `library_bpmn` holds already-deployed BPMN files that call activities may target; `known_decisions` maps
    decision ids already deployed to parsed decisions; `known_operators`, when given, must contain every
    service-task operator.
    """
    bpmn_files = {p: b for p, b in files.items() if p.endswith(".bpmn") or p.endswith(".bpmn20.xml")}
    dmn_files = {p: b for p, b in files.items() if p.endswith(".dmn")}
    case_files = {p: b for p, b in files.items() if p.endswith(".cases.json")}
    form_files = {p: b for p, b in files.items() if p.endswith(".json") and p not in case_files}
    unknown = sorted(set(files) - set(bpmn_files) - set(dmn_files) - set(case_files) - set(form_files))
    if unknown:
        raise DefinitionError("unsupported file type (expected .bpmn, .dmn or .json)", file=unknown[0])

    decisions = _parse_decisions(dmn_files, case_files, known_decisions or {})
    all_decision_ids = set(known_decisions or {}) | {d.decision_id for d in decisions}
    forms = {path: _load_json(path, data) for path, data in form_files.items()}
    processes, used = _parse_processes(bpmn_files, library_bpmn or {}, forms, all_decision_ids,
                                       set(known_operators) if known_operators is not None else None)
    return Bundle(processes=processes, decisions=decisions, unused_forms=sorted(set(forms) - used))


# -- DMN ---------------------------------------------------------------------------------------------------

def _parse_decisions(dmn_files, case_files, known) -> list[DecisionDraft]:
    if not dmn_files:
        return []
    drafts = []
    for path, data in sorted(dmn_files.items()):
        try:
            decision = dmn.parse_decision(data, filename=path)
        except dmn.DmnDefinitionError as exc:
            raise DefinitionError(exc.reason, file=exc.file or path, element_id=exc.element_id) from exc
        stem = PurePosixPath(path).name[: -len(".dmn")]
        if decision.id != stem:
            raise DefinitionError(f"decision id '{decision.id}' must equal the file name '{stem}'", file=path,
                                  element_id=decision.id)
        cases_path = path[: -len(".dmn")] + ".cases.json"
        cases = _load_json(cases_path, case_files[cases_path]) if cases_path in case_files else None
        drafts.append(DecisionDraft(
            decision_id=decision.id, name=decision.name or decision.id, file=path,
            xml=data.decode("utf-8"), content_hash=sha256(data, json.dumps(cases, sort_keys=True)),
            decision=decision, cases=cases, provenance=dict(decision.provenance or {})))
    try:
        dmn.validate_for_deploy([d.decision for d in drafts],
                                known=[v for k, v in known.items() if k not in {d.decision_id for d in drafts}])
    except dmn.DmnDefinitionError as exc:
        raise DefinitionError(exc.reason, file=exc.file, element_id=exc.element_id) from exc
    return drafts


# -- forms -------------------------------------------------------------------------------------------------

def _load_json(path: str, data: bytes) -> Any:
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DefinitionError(f"not valid JSON: {exc}", file=path) from exc


def normalize_form(path: str, doc: Any, ui_doc: Any = None) -> dict[str, Any]:
    """Accept our `{schema, uiSchema}` files and SpiffArena's bare schema + separate uiSchema file."""
    if not isinstance(doc, dict):
        raise DefinitionError("a form must be a JSON object", file=path)
    schema = doc.get("schema", doc) if "schema" in doc else doc
    ui_schema = doc.get("uiSchema") or doc.get("ui_schema") or ui_doc or {}
    try:
        jsonschema.validators.validator_for(schema).check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise DefinitionError(f"invalid JSON Schema at {'/'.join(map(str, exc.path)) or '/'}: {exc.message}",
                              file=path) from exc
    if schema.get("type", "object") != "object":
        raise DefinitionError("a task form's schema must be of type object", file=path)
    return {"schema": schema, "ui_schema": ui_schema}


def _find_form(forms: Mapping[str, Any], process_id: str, name: str) -> str | None:
    for candidate in (f"forms/{process_id}/{name}", f"{process_id}/{name}", name):
        if candidate in forms:
            return candidate
    matches = [p for p in forms if PurePosixPath(p).name == name]
    return matches[0] if len(matches) == 1 else None


# -- BPMN --------------------------------------------------------------------------------------------------

def _validation_error(exc: ValidationException, default_file: str | None) -> DefinitionError:
    reason = str(exc).split("\n")[0] if str(exc) else type(exc).__name__
    line = getattr(exc, "line_number", "") or None
    return DefinitionError(reason, file=getattr(exc, "file_name", None) or default_file,
                           element_id=getattr(exc, "id", None) or None, line=line)


def _parse_processes(bpmn_files, library, forms, decision_ids, operators):
    parser = EngineParser(validator=VALIDATOR)
    trees = {}
    for path, data in sorted(bpmn_files.items()):
        try:
            tree = etree.fromstring(data, parser=etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError as exc:
            raise DefinitionError(f"malformed XML: {exc.msg} (line {exc.lineno})", file=path,
                                  line=exc.lineno) from exc
        try:
            parser.add_bpmn_xml(tree, filename=path)
        except ValidationException as exc:
            raise _validation_error(exc, path) from exc
        trees[path] = tree
    new_ids = set(parser.get_process_ids())
    for path, data in library.items():
        if path in bpmn_files:
            continue
        tree = etree.fromstring(data)
        lib_ids = {p.get("id") for p in tree.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")}
        if lib_ids & new_ids:
            continue
        parser.add_bpmn_xml(tree, filename=path)

    drafts, used_forms = [], set()
    for path, tree in trees.items():
        for node in tree.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"):
            if node.get("isExecutable", "false") != "true":
                continue
            draft, used = _draft_process(parser, path, node, bpmn_files[path], forms, decision_ids, operators)
            drafts.append(draft)
            used_forms |= used
    if not drafts and bpmn_files:
        raise DefinitionError("no executable process (isExecutable=\"true\")", file=sorted(bpmn_files)[0])
    return drafts, used_forms


def _draft_process(parser, path, node, data, forms, decision_ids, operators):
    process_id = node.get("id")
    try:
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as exc:
        raise _validation_error(exc, path) from exc
    all_specs = [spec, *subprocess_specs.values()]
    user_tasks, task_forms, used = [], {}, set()
    decisions, ops, called, start_messages, catch_messages = set(), set(), set(), set(), {}
    for wf_spec in all_specs:
        for ts in wf_spec.task_specs.values():
            bpmn_id = getattr(ts, "bpmn_id", None)
            if bpmn_id is None:
                continue
            _check_expressions(path, ts)
            if isinstance(ts, (UserTask, ManualTask)):
                meta, form_paths = _user_task_meta(path, wf_spec.name, ts, forms)
                user_tasks.append(meta)
                if meta.form_key:
                    task_forms[meta.form_key] = normalize_form(
                        form_paths[0], forms[form_paths[0]], forms[form_paths[1]] if len(form_paths) > 1 else None)
                used.update(form_paths)
            elif isinstance(ts, DecisionTask):
                if ts.decision_id not in decision_ids:
                    raise DefinitionError(f"unknown decision '{ts.decision_id}'", file=path, element_id=bpmn_id)
                decisions.add(ts.decision_id)
            elif isinstance(ts, OutboxServiceTask):
                if operators is not None and ts.operation_name not in operators:
                    raise DefinitionError(f"unknown service-task operator '{ts.operation_name}'", file=path,
                                          element_id=bpmn_id)
                ops.add(ts.operation_name)
            elif isinstance(ts, CallActivity):
                called.add(ts.spec)
            ed = getattr(ts, "event_definition", None)
            if isinstance(ed, MessageEventDefinition):
                if isinstance(ts, StartEvent) and wf_spec is spec:
                    start_messages.add(ed.name)
                elif isinstance(ts, CatchingEvent):
                    catch_messages[ed.name] = sorted(p.name for p in ed.correlation_properties)
    content_hash = sha256(data, json.dumps(task_forms, sort_keys=True, ensure_ascii=False))
    return ProcessDraft(
        process_id=process_id, name=node.get("name") or process_id, file=path, bpmn_xml=data.decode("utf-8"),
        content_hash=content_hash, spec_json=dump_spec(spec, subprocess_specs), user_tasks=user_tasks,
        forms=task_forms, decisions=sorted(decisions), operators=sorted(ops), called_processes=sorted(called),
        start_messages=sorted(start_messages), catch_messages=catch_messages,
        element_ids=sorted({ts.bpmn_id for s in all_specs for ts in s.task_specs.values()
                            if getattr(ts, "bpmn_id", None)})), used


def _user_task_meta(path, process_id, ts, forms):
    ext = getattr(ts, "extensions", {}) or {}
    props = dict(ext.get("properties") or {})
    schema_name, ui_name = props.get("formJsonSchemaFilename"), props.get("formUiSchemaFilename")
    form_paths: list[str] = []
    if schema_name:
        found = _find_form(forms, process_id, schema_name)
        if not found:
            raise DefinitionError(f"form file '{schema_name}' not provided", file=path, element_id=ts.bpmn_id)
        form_paths.append(found)
        if ui_name:
            ui_found = _find_form(forms, process_id, ui_name)
            if not ui_found:
                raise DefinitionError(f"ui schema file '{ui_name}' not provided", file=path, element_id=ts.bpmn_id)
            form_paths.append(ui_found)
    else:
        found = _find_form(forms, process_id, f"{ts.bpmn_id}.json")
        if found:
            form_paths.append(found)
    form_key = f"{process_id}/{ts.bpmn_id}" if form_paths else None
    meta = UserTaskMeta(element_id=ts.bpmn_id, name=ts.bpmn_name or ts.bpmn_id, lane=ts.lane,
                        process_id=process_id, form_key=form_key, properties=props,
                        instructions=ext.get("instructionsForEndUser"))
    return meta, form_paths


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


def _check_expressions(path, ts):
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
    if isinstance(ed, TimerEventDefinition):
        _check(path, el, ed.expression, "eval", "timer expression")
        _check_timer_literal(path, el, ed)
    props = (getattr(ts, "extensions", {}) or {}).get("properties") or {}
    for key in ("dueIn", "dueAt", "priority", "assignOrg", "candidateRole", "disease", "riskLevel"):
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


def modeler_default_ids(xml: bytes) -> list[str]:
    """Ids left as the modeler generated them (`Activity_0x7k2pq`): they are an API, name them by meaning."""
    tree = etree.fromstring(xml)
    return sorted({el.get("id") for el in tree.iter() if el.get("id") and MODELER_DEFAULT_ID.match(el.get("id"))})
