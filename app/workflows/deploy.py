"""Deploy definition files: validate the whole set first, then store new versions only where content changed.

A refused set stores nothing (one transaction, validation before any write). Deploying is a privileged, audited
action: the caller checks the role; every deploy writes a `Deployment` row.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from app import engine as eng
from app.auth.principal import ROLES
from app.core import clock
from app.core.db import session as current_session
from app.core.db import unit_of_work
from app.engine import dmn

from . import bindings, versions
from .decisions import case_failures, parsed_decision
from .models import DecisionVersion, Deployment, ProcessVersion


@dataclass
class DeployResult:
    processes: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    deployment_id: int
    warnings: list[str] = field(default_factory=list)
    overrides: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = {"deployment_id": self.deployment_id, "deployed": self.processes, "decisions": self.decisions,
               "warnings": self.warnings}
        if self.overrides:
            out["overrides"] = self.overrides
        return out


def collect_folder_files(root: Path, paths: list[Path] | None = None) -> dict[str, bytes]:
    """Read `bpmn/`, `dmn/` and `forms/` (or the given files/folders) as {relative path: bytes}."""
    targets = paths or [root / "bpmn", root / "dmn", root / "forms"]
    files: dict[str, bytes] = {}
    for target in targets:
        target = target.resolve()
        candidates = [target] if target.is_file() else sorted(p for p in target.rglob("*") if p.is_file())
        for path in candidates:
            if path.suffix in (".bpmn", ".dmn", ".json"):
                try:
                    rel = path.relative_to(root.resolve()).as_posix()
                except ValueError:
                    rel = path.name
                files[rel] = path.read_bytes()
    return files


def latest_process_versions(session) -> dict[str, ProcessVersion]:
    sub = select(ProcessVersion.process_id, func.max(ProcessVersion.version).label("v")).group_by(
        ProcessVersion.process_id).subquery()
    rows = session.execute(select(ProcessVersion).join(
        sub, (ProcessVersion.process_id == sub.c.process_id) & (ProcessVersion.version == sub.c.v))).scalars()
    return {row.process_id: row for row in rows}


def latest_decision_versions(session) -> dict[str, DecisionVersion]:
    sub = select(DecisionVersion.decision_id, func.max(DecisionVersion.version).label("v")).group_by(
        DecisionVersion.decision_id).subquery()
    rows = session.execute(select(DecisionVersion).join(
        sub, (DecisionVersion.decision_id == sub.c.decision_id) & (DecisionVersion.version == sub.c.v))).scalars()
    return {row.decision_id: row for row in rows}


@dataclass(frozen=True)
class FindingsOverride:
    """A process owner's explicit override of the analysis findings of ANY/FIRST tables (issue 14.3): the decisions
    named and why. Stored with the deployment and in its audit entry; UNIQUE tables are never overridden."""
    decisions: tuple[str, ...]
    reason: str

    def __post_init__(self):
        if self.decisions and len((self.reason or "").strip()) < 4:
            raise eng.DefinitionError("豁免重叠/遗漏须写明理由 (an override of findings needs a reason)",
                                      problem="override_reason_required")


def deploy_files(files: Mapping[str, bytes], *, deployed_by: str, source: str = "upload",
                 override: FindingsOverride | None = None) -> DeployResult:
    """Validate and store; raise `DefinitionError` (nothing stored) on any bad file."""
    if not files:
        raise eng.DefinitionError("no files to deploy")
    with unit_of_work() as session:
        latest_processes = latest_process_versions(session)
        latest_decisions = latest_decision_versions(session)
        bundle = _bundle(session, files, override)
        overrides = [{**o, "reason": override.reason, "by": deployed_by} for o in bundle.overridden] if override else []
        now = clock.now()
        decisions = [_store_decision(session, d, latest_decisions.get(d.decision_id), deployed_by, now)
                     for d in bundle.decisions]
        stored = {p.process_id: _store_process(session, p, latest_processes.get(p.process_id), deployed_by, now)
                  for p in bundle.processes}
        session.flush()
        for draft in bundle.processes:
            _bind_calls(session, stored[draft.process_id], draft)
        processes = [_outcome(stored[p.process_id], p, latest_processes.get(p.process_id)) for p in bundle.processes]
        result = {"processes": processes, "decisions": decisions, "unused_forms": bundle.unused_forms,
                  "warnings": bundle.warnings}
        if overrides:
            result["overrides"] = overrides
        deployment = Deployment(deployed_at=now, deployed_by=deployed_by, source=source, files=sorted(files),
                                result=result)
        session.add(deployment)
        session.flush()
        return DeployResult(processes, decisions, deployment.id, bundle.warnings, overrides)


def _unchanged(draft: eng.ProcessDraft, latest: ProcessVersion | None) -> bool:
    # versions stored by earlier releases were hashed over the raw bytes; either hash matching means a no-op
    return latest is not None and latest.content_hash in (draft.content_hash, draft.legacy_hash)


def _store_process(session, draft: eng.ProcessDraft, latest: ProcessVersion | None, by: str, now) -> ProcessVersion:
    if _unchanged(draft, latest):
        return latest
    unknown_roles = sorted(set(draft.start.get("roles", ())) - set(ROLES))
    if unknown_roles:
        raise eng.DefinitionError(f"startRoles: unknown role {', '.join(unknown_roles)}", file=draft.file,
                                  element_id=draft.process_id)
    row = ProcessVersion(
        process_id=draft.process_id, version=(latest.version + 1) if latest else 1, name=draft.name,
        file_name=Path(draft.file).name, content_hash=draft.content_hash, bpmn_xml=draft.bpmn_xml,
        spec_json=draft.spec_json, forms=draft.forms,
        meta={"user_tasks": [vars(t) for t in draft.user_tasks], "decisions": draft.decisions,
              "operators": draft.operators, "called_processes": draft.called_processes,
              "start_messages": draft.start_messages, "catch_messages": draft.catch_messages,
              "element_ids": draft.element_ids, "reused_forms": draft.reused_forms, "start": draft.start},
        deployed_at=now, deployed_by=by)
    session.add(row)
    return row


def _bind_calls(session, row: ProcessVersion, draft: eng.ProcessDraft) -> None:
    """Record each call activity's version policy; `deployment`/`version` bindings pin a version row now."""
    if row.meta.get("calls") is not None or not draft.calls:
        return
    calls = []
    for ref in draft.calls:
        pinned = None
        if ref.binding == "deployment":
            pinned = versions.latest_version_id(ref.process_id)
        elif ref.binding == "version":
            pinned = versions.version_id(ref.process_id, ref.version)
        calls.append({"element_id": ref.element_id, "process_id": ref.process_id, "binding": ref.binding,
                      "version": ref.version, "version_id": pinned})
    row.meta = {**row.meta, "calls": calls}


def _outcome(row: ProcessVersion, draft: eng.ProcessDraft, latest: ProcessVersion | None) -> dict:
    out = {"process_id": draft.process_id, "version": row.version, "changed": row is not latest}
    if draft.reused_forms and row is not latest:
        out["reused_forms"] = draft.reused_forms
    return out


def _store_decision(session, draft: eng.DecisionDraft, latest: DecisionVersion | None, by: str, now) -> dict:
    if latest is not None and latest.content_hash == draft.content_hash:
        return {"decision_id": draft.decision_id, "version": latest.version, "changed": False}
    version = (latest.version + 1) if latest else 1
    session.add(DecisionVersion(
        decision_id=draft.decision_id, version=version, name=draft.name, file_name=Path(draft.file).name,
        content_hash=draft.content_hash, xml=draft.xml, cases=draft.cases, provenance=draft.provenance,
        deployed_at=now, deployed_by=by))
    return {"decision_id": draft.decision_id, "version": version, "changed": True}



def prior_processes(session) -> dict[str, eng.PriorProcess]:
    """What a new deployment must know of each deployed process (no XML, no specs: one narrow query each)."""
    numbers: dict[str, set[int]] = {}
    for pid, number in session.execute(select(ProcessVersion.process_id, ProcessVersion.version)):
        numbers.setdefault(pid, set()).add(number)
    return {pid: eng.PriorProcess(
        process_id=pid, file_name=row.file_name, versions=frozenset(numbers[pid]), forms=row.forms or {},
        form_refs={t["element_id"]: (t.get("properties") or {}).get("formJsonSchemaFilename")
                   for t in row.meta.get("user_tasks") or []})
        for pid, row in latest_process_versions(session).items()}


def _bundle(session, files: Mapping[str, bytes], override: FindingsOverride | None = None) -> eng.Bundle:
    latest = latest_decision_versions(session)
    known = {d.decision_id: parsed_decision(d.xml, d.file_name, d.content_hash) for d in latest.values()}
    bundle = eng.parse_bundle(files, prior_processes=prior_processes(session), known_decisions=known,
                              known_operators=bindings.operator_names(),
                              override_findings=override.decisions if override else ())
    bundle.decisions = _gated_decisions(bundle.decisions, latest, known)
    return bundle


def _gated_decisions(drafts: list[eng.DecisionDraft], latest: Mapping[str, DecisionVersion],
                     known: Mapping[str, Any]) -> list[eng.DecisionDraft]:
    """A decision deploys only if its conformance cases pass (issue 14.3). A `.dmn` uploaded without its cases file
    (the DMN editor deploys so) keeps, and must pass, the cases of the version it replaces."""
    if not drafts:
        return drafts
    new_ids = {d.decision_id for d in drafts}
    registry = dmn.DecisionRegistry([*(d.decision for d in drafts),
                                         *(v for k, v in known.items() if k not in new_ids)])
    gated = []
    for draft in drafts:
        source = "uploaded"
        prior = latest.get(draft.decision_id)
        if draft.cases is None and prior is not None and prior.cases:
            source = f"version {prior.version}"
            draft = replace(draft, cases=prior.cases, content_hash=eng.decision_hash(draft.xml, prior.cases))
        report = case_failures(registry, draft.decision, draft.cases)
        if report["failed"]:
            first = report["failures"][0]
            raise eng.DefinitionError(
                f"{draft.decision.table_code}: {report['failed']} / {report['total']} 个一致性用例未通过，首个：{first['name']} "
                f"({report['failed']} of {report['total']} conformance cases fail, cases from {source})",
                file=draft.file, element_id=first.get("element_id") or draft.decision.table_id or draft.decision_id,
                problem="cases_failed", cases_source=source, passed=report["total"] - report["failed"],
                failed=report["failed"], failures=report["failures"][:10])
        gated.append(draft)
    return gated


def validate_files(files: Mapping[str, bytes], override: FindingsOverride | None = None) -> dict[str, Any]:
    """Dry run of a deploy: everything `deploy_files` checks, nothing stored. Raises `DefinitionError`."""
    bundle = _bundle(current_session(), files, override)
    out = {"valid": True, "processes": [p.process_id for p in bundle.processes],
           "decisions": [d.decision_id for d in bundle.decisions], "unused_forms": bundle.unused_forms,
           "warnings": bundle.warnings}
    if bundle.overridden:
        out["overrides"] = bundle.overridden
    return out
