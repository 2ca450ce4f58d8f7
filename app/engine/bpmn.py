"""Parse the BPMN files of one deployment into process drafts.

Every file is parsed on its own (its processes, their embedded subprocesses), so ids in one file never collide
with ids in another file or in an earlier deployment. Call activities are not resolved by parsing the callee's file:
the callee is found by process id at run time (latest version, or the version the deployment pinned), so a
deployment never depends on how earlier files happened to group their processes.

Embedded subprocesses are stored under keys qualified by their process and content hash
(`outer#3f2a…/review`), so an embedded `review` never meets a deployed process `review` in one workflow.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import (
    CallActivity,
    SubWorkflowTask,
)
from SpiffWorkflow.spiff.parser import VALIDATOR
from SpiffWorkflow.spiff.specs.defaults import ManualTask, UserTask

from . import forms as form_files
from .checks import check_task_expressions
from .codec import dump_spec
from .errors import DefinitionConflict, DefinitionError
from .tasks import DecisionTask, EngineParser, OutboxServiceTask

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
BINDINGS = ("latest", "deployment", "version")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_CANONICAL = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, remove_comments=True)


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
class CallRef:
    """A call activity: which process it calls and which version policy it follows."""

    element_id: str
    process_id: str
    binding: str = "latest"          # latest (at call time) | deployment (pinned when deployed) | version
    version: int | None = None       # for binding == "version"


@dataclass
class PriorProcess:
    """What a deployment needs to know of a process deployed earlier (plain data, from the store)."""

    process_id: str
    file_name: str
    versions: frozenset[int]
    forms: dict[str, Any] = field(default_factory=dict)          # form_key -> {"schema", "ui_schema"}
    form_refs: dict[str, str | None] = field(default_factory=dict)  # element id -> formJsonSchemaFilename


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
    calls: list[CallRef] = field(default_factory=list)
    legacy_hash: str = ""                      # the hash earlier releases stored (raw bytes), to spot no-ops
    reused_forms: list[str] = field(default_factory=list)
    start: dict[str, Any] = field(default_factory=dict)   # who may start it: {"roles": [...], "resident": ...}


def sha256(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode() if isinstance(part, str) else part)
        h.update(b"\0")
    return h.hexdigest()


def canonical_xml(data: bytes) -> bytes:
    """The document without formatting noise (indentation, attribute order, comments): what 'unchanged' means."""
    tree = etree.fromstring(data, parser=_CANONICAL)
    return etree.tostring(tree, method="c14n2", with_comments=False)


@dataclass
class _Context:
    forms: Mapping[str, Any]
    decision_ids: set[str]
    operators: set[str] | None
    prior: Mapping[str, PriorProcess]
    upload_ids: set[str]


def parse_processes(bpmn_files: Mapping[str, bytes], forms: Mapping[str, Any], *, decision_ids: set[str],
                    operators: set[str] | None, prior: Mapping[str, PriorProcess]
                    ) -> tuple[list[ProcessDraft], set[str], list[str]]:
    """Return (drafts, form files used, warnings); raise DefinitionError / DefinitionConflict."""
    trees = {path: _tree(path, data) for path, data in sorted(bpmn_files.items())}
    owners = _process_owners(trees)
    ctx = _Context(forms, decision_ids, operators, prior, set(owners))
    warnings = [f"流程 {pid} 原来自 {prior[pid].file_name}，本次由 {path} 部署 (process {pid} was deployed from "
                f"{prior[pid].file_name}; this version comes from {path})"
                for pid, path in sorted(owners.items())
                if pid in prior and prior[pid].file_name != _base(path)]
    drafts, used = [], set()
    for path, tree in trees.items():
        warnings += _drop_dangling_flows(path, tree)
        parser = EngineParser(validator=VALIDATOR)
        try:
            parser.add_bpmn_xml(tree, filename=path)
        except ValidationException as exc:
            raise validation_error(exc, path) from exc
        for node in _executable_processes(tree):
            draft, draft_used = _draft(parser, path, node, bpmn_files[path], ctx)
            drafts.append(draft)
            used |= draft_used
    if not drafts and bpmn_files:
        raise DefinitionError("no executable process (isExecutable=\"false\" everywhere)",
                              file=min(bpmn_files))
    return drafts, used, warnings


def _drop_dangling_flows(path: str, tree) -> list[str]:
    """A sequence flow without a source or a target connects nothing: SpiffWorkflow (which the tutorial models are
    written for) ignores it, while the schema refuses the file. Drop it from the parsed tree with a warning; the
    stored XML stays as uploaded."""
    warnings = []
    for flow in list(tree.iter(f"{{{BPMN_NS}}}sequenceFlow")):
        missing = [end for end in ("sourceRef", "targetRef") if not flow.get(end)]
        if missing:
            flow.getparent().remove(flow)
            warnings.append(f"{path}: 顺序流 {flow.get('id')} 缺少 {'/'.join(missing)}，不连接任何元素，已忽略 "
                            f"(sequence flow {flow.get('id')} has no {' or '.join(missing)} and is ignored)")
    return warnings


def _base(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _tree(path: str, data: bytes):
    try:
        return etree.fromstring(data, parser=_XML)
    except etree.XMLSyntaxError as exc:
        raise DefinitionError(f"malformed XML: {exc.msg} (line {exc.lineno})", file=path, line=exc.lineno) from exc


def _executable_processes(tree) -> list[Any]:
    # SpiffWorkflow reads a missing isExecutable as executable; only an explicit "false" opts a pool out
    return [n for n in tree.iter(f"{{{BPMN_NS}}}process") if n.get("isExecutable", "true") != "false"]


def _process_owners(trees: Mapping[str, Any]) -> dict[str, str]:
    """process id -> the file defining it; two files of one deployment defining one id is a conflict."""
    owners: dict[str, str] = {}
    for path, tree in trees.items():
        for node in _executable_processes(tree):
            pid = node.get("id")
            if pid in owners and owners[pid] != path:
                raise DefinitionConflict(
                    f"流程编号 {pid} 同时定义在 {owners[pid]} 和 {path} 中，一次部署中每个流程只能有一个定义 "
                    f"(process id '{pid}' is defined in both {owners[pid]} and {path})",
                    process_id=pid, files=[owners[pid], path])
            owners[pid] = path
    return owners


def validation_error(exc: ValidationException, default_file: str | None) -> DefinitionError:
    reason = str(exc).split("\n")[0] if str(exc) else type(exc).__name__
    line = getattr(exc, "line_number", "") or None
    return DefinitionError(reason, file=getattr(exc, "file_name", None) or default_file,
                           element_id=getattr(exc, "id", None) or None, line=line)


def _embedded_specs(parser, spec, path) -> dict[str, Any]:
    """Embedded subprocesses (subProcess, transaction, event subprocess) reachable from `spec`, by element id."""
    found: dict[str, Any] = {}
    stack = [spec]
    while stack:
        current = stack.pop()
        for ts in current.task_specs.values():
            if isinstance(ts, SubWorkflowTask) and not isinstance(ts, CallActivity) and ts.spec not in found:
                try:
                    found[ts.spec] = parser.get_spec(ts.spec)
                except ValidationException as exc:
                    raise validation_error(exc, path) from exc
                stack.append(found[ts.spec])
    return found


def _draft(parser, path: str, node, data: bytes, ctx: _Context) -> tuple[ProcessDraft, set[str]]:
    process_id = node.get("id")
    try:
        spec = parser.get_spec(process_id)
    except ValidationException as exc:
        raise validation_error(exc, path) from exc
    embedded = _embedded_specs(parser, spec, path)
    calls = _call_refs(node, path, ctx)
    facts = _Facts()
    for wf_spec in (spec, *embedded.values()):
        for ts in wf_spec.task_specs.values():
            if getattr(ts, "bpmn_id", None) is not None:
                facts.add(path, process_id, wf_spec, ts, is_top=wf_spec is spec, ctx=ctx)
    forms_json = json.dumps(facts.task_forms, sort_keys=True, ensure_ascii=False)
    content_hash = sha256(canonical_xml(data), forms_json)
    _qualify(spec, embedded, f"{process_id}#{content_hash[:16]}")
    draft = ProcessDraft(
        process_id=process_id, name=node.get("name") or process_id, file=path, bpmn_xml=data.decode("utf-8"),
        content_hash=content_hash, spec_json=dump_spec(spec, embedded), user_tasks=facts.user_tasks,
        forms=facts.task_forms, decisions=sorted(facts.decisions), operators=sorted(facts.operators),
        called_processes=sorted({c.process_id for c in calls}), start_messages=sorted(facts.start_messages),
        catch_messages=facts.catch_messages, element_ids=sorted(facts.element_ids), calls=calls,
        legacy_hash=sha256(data, forms_json), reused_forms=sorted(facts.reused), start=_start_policy(path, node))
    return draft, facts.used


_SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
_BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
START_RESIDENT = ("required", "optional", "none")


def _start_policy(path, node) -> dict[str, Any]:
    """Who may start the process through the API, from its own properties (absent: nobody declared).

    `startRoles`: comma-separated role codes; `startResident`: `required` (the instance is about one resident, in
    the caller's scope), `optional` or `none`.
    """
    props = {p.get("name"): (p.get("value") or "").strip() for p in node.findall(
        f"{{{_BPMN_NS}}}extensionElements/{{{_SPIFF_NS}}}properties/{{{_SPIFF_NS}}}property")}
    policy: dict[str, Any] = {}
    if props.get("startRoles"):
        policy["roles"] = sorted({r.strip() for r in props["startRoles"].split(",") if r.strip()})
        bad = [r for r in policy["roles"] if not re.fullmatch(r"[a-z_]{2,40}", r)]
        if bad:
            raise DefinitionError(f"startRoles: not a role code: {', '.join(bad)}", file=path,
                                  element_id=node.get("id"))
    if props.get("startResident"):
        if props["startResident"] not in START_RESIDENT:
            raise DefinitionError(f"startResident must be one of {', '.join(START_RESIDENT)}", file=path,
                                  element_id=node.get("id"))
        policy["resident"] = props["startResident"]
    return policy


def _qualify(spec, embedded: dict[str, Any], prefix: str) -> None:
    """Re-key embedded subprocess specs as `<prefix>/<element id>` (and point their tasks at the new keys)."""
    renamed = {old: f"{prefix}/{old}" for old in embedded}
    for wf_spec in (spec, *embedded.values()):
        for ts in wf_spec.task_specs.values():
            if isinstance(ts, SubWorkflowTask) and not isinstance(ts, CallActivity) and ts.spec in renamed:
                ts.spec = renamed[ts.spec]
        # event subprocesses started by a thrown event are looked up in the workflow's specs by these names
        start = wf_spec.start
        start.trigger_specs = [renamed.get(name, name) for name in getattr(start, "trigger_specs", [])]
    for old in list(embedded):
        embedded[renamed[old]] = embedded.pop(old)


def _call_refs(node, path: str, ctx: _Context) -> list[CallRef]:
    refs = []
    for el in node.iter(f"{{{BPMN_NS}}}callActivity"):
        element_id, called = el.get("id"), el.get("calledElement")
        binding = (el.get(f"{{{CAMUNDA_NS}}}calledElementBinding") or "latest").strip()
        if binding not in BINDINGS:
            raise DefinitionError(f"calledElementBinding '{binding}' is not one of {', '.join(BINDINGS)}",
                                  file=path, element_id=element_id)
        version = None
        if binding == "version":
            text = (el.get(f"{{{CAMUNDA_NS}}}calledElementVersion") or "").strip()
            if not text.isdigit():
                raise DefinitionError("calledElementBinding=version needs calledElementVersion (a number)",
                                      file=path, element_id=element_id)
            version = int(text)
        if called and called not in ctx.upload_ids and called not in ctx.prior:
            raise DefinitionError(f"调用的流程 '{called}' 未部署，也不在本次上传中 (called process '{called}' is "
                                  "neither deployed nor part of this upload)", file=path, element_id=element_id)
        if version is not None and (called not in ctx.prior or version not in ctx.prior[called].versions):
            raise DefinitionError(f"called process '{called}' has no deployed version {version}", file=path,
                                  element_id=element_id)
        refs.append(CallRef(element_id, called, binding, version))
    return refs


class _Facts:
    """What a deployment records about a process's tasks while walking its specs once."""

    def __init__(self) -> None:
        self.user_tasks: list[UserTaskMeta] = []
        self.task_forms: dict[str, dict[str, Any]] = {}
        self.used: set[str] = set()
        self.reused: set[str] = set()
        self.decisions: set[str] = set()
        self.operators: set[str] = set()
        self.start_messages: set[str] = set()
        self.catch_messages: dict[str, list[str]] = {}
        self.element_ids: set[str] = set()

    def add(self, path: str, process_id: str, wf_spec, ts, *, is_top: bool, ctx: _Context) -> None:
        bpmn_id = ts.bpmn_id
        self.element_ids.add(bpmn_id)
        check_task_expressions(path, ts)
        if isinstance(ts, (UserTask, ManualTask)):
            self._user_task(path, process_id, wf_spec, ts, ctx)
        elif isinstance(ts, DecisionTask):
            if ts.decision_id not in ctx.decision_ids:
                raise DefinitionError(f"unknown decision '{ts.decision_id}'", file=path, element_id=bpmn_id)
            self.decisions.add(ts.decision_id)
        elif isinstance(ts, OutboxServiceTask):
            if ctx.operators is not None and ts.operation_name not in ctx.operators:
                raise DefinitionError(f"unknown service-task operator '{ts.operation_name}'", file=path,
                                      element_id=bpmn_id)
            self.operators.add(ts.operation_name)
        ed = getattr(ts, "event_definition", None)
        for definition in getattr(ed, "event_definitions", None) or [ed]:
            if isinstance(definition, MessageEventDefinition):
                if isinstance(ts, StartEvent) and is_top:
                    self.start_messages.add(definition.name)
                elif isinstance(ts, CatchingEvent):
                    self.catch_messages[definition.name] = sorted(p.name for p in definition.correlation_properties)

    def _user_task(self, path, process_id, wf_spec, ts, ctx: _Context) -> None:
        ext = getattr(ts, "extensions", {}) or {}
        properties = dict(ext.get("properties") or {})
        form_key = f"{wf_spec.name}/{ts.bpmn_id}"
        found = form_files.task_form(path, process_id, wf_spec.name, ts.bpmn_id, properties, ctx.forms)
        if found is not None:
            form, used = found
            self.task_forms[form_key] = form
            self.used |= used
        elif not self._reuse(process_id, form_key, ts.bpmn_id, properties, ctx):
            schema_name = properties.get("formJsonSchemaFilename")
            if schema_name:
                raise DefinitionError(f"用户任务 {ts.bpmn_id} 的表单文件 {schema_name} 未上传 (form file "
                                      f"'{schema_name}' of user task '{ts.bpmn_id}' is not provided)",
                                      file=path, element_id=ts.bpmn_id, problem="form_missing", form=schema_name)
            form_key = None
        self.user_tasks.append(UserTaskMeta(
            element_id=ts.bpmn_id, name=ts.bpmn_name or ts.bpmn_id, lane=ts.lane, process_id=wf_spec.name,
            form_key=form_key, properties=properties, instructions=ext.get("instructionsForEndUser")))

    def _reuse(self, process_id: str, form_key: str, element_id: str, properties: dict, ctx: _Context) -> bool:
        """A BPMN uploaded without its forms keeps the forms of the version it replaces (same task, same file)."""
        prior = ctx.prior.get(process_id)
        if prior is None or form_key not in prior.forms:
            return False
        if prior.form_refs.get(element_id) != properties.get("formJsonSchemaFilename"):
            return False
        self.task_forms[form_key] = prior.forms[form_key]
        self.reused.add(form_key)
        return True
