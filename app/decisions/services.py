"""Use cases of the decision API; evaluation goes through `app.workflows.decisions` like business-rule tasks."""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import Invalid, NotFound
from app.workflows import decisions as wf_decisions
from app.workflows.deploy import latest_decision_versions, validate_files
from app.workflows.models import DecisionVersion


def _summary(row: DecisionVersion) -> dict[str, Any]:
    p = row.provenance or {}
    return {"decision_id": row.decision_id, "name": row.name, "version": row.version, "source": p.get("source"),
            "edition": p.get("edition"), "section": p.get("section"), "table": p.get("table"),
            "confidence": p.get("confidence"), "deployed_at": row.deployed_at,
            "cases": len((row.cases or {}).get("cases", []))}


def list_decisions() -> list[dict[str, Any]]:
    return [_summary(row) for _, row in sorted(latest_decision_versions(session()).items())]


def version_row(decision_id: str, version: int | None = None) -> DecisionVersion:
    stmt = select(DecisionVersion).where(DecisionVersion.decision_id == decision_id)
    stmt = stmt.where(DecisionVersion.version == version) if version else \
        stmt.order_by(DecisionVersion.version.desc()).limit(1)
    row = session().execute(stmt).scalars().first()
    if row is None:
        raise NotFound("决策不存在 (decision not found)", decision_id=decision_id)
    return row


def decision_detail(decision_id: str) -> dict[str, Any]:
    row = version_row(decision_id)
    versions = session().execute(select(DecisionVersion).where(DecisionVersion.decision_id == decision_id)
                                 .order_by(DecisionVersion.version.desc())).scalars()
    pinned = wf_decisions.registry(session())
    return {**_summary(row),
            "versions": [{"version": v.version, "deployed_at": v.deployed_at.isoformat(),
                          "deployed_by": v.deployed_by, "content_hash": v.content_hash} for v in versions],
            "inputs": wf_decisions.input_fields(pinned, decision_id)}


def evaluate(decision_id: str, inputs: Mapping[str, Any], *, principal: Principal | None = None) -> dict[str, Any]:
    """Evaluate the latest deployed versions; the answer names the versions that decided."""
    return wf_decisions.evaluate(wf_decisions.registry(session()), decision_id, inputs)


def evaluate_draft(decision_id: str, draft_xml: bytes | None, inputs_json: str | None) -> dict[str, Any]:
    """Evaluate a draft DMN (with the deployed decisions it requires) against the given inputs."""
    if draft_xml is None:
        raise Invalid("请上传决策草稿 (multipart field 'file')", code="invalid_definition", reason="no file")
    try:
        inputs = json.loads(inputs_json or "{}")
    except json.JSONDecodeError as exc:
        raise Invalid(f"inputs 不是合法 JSON: {exc}", code="validation_error", field="inputs") from exc
    if not isinstance(inputs, dict):
        raise Invalid("inputs 必须是对象 (inputs must be an object)", code="validation_error", field="inputs")
    registry = wf_decisions.draft_registry(session(), decision_id, draft_xml)
    return wf_decisions.evaluate(wf_decisions.PinnedRegistry(registry, {}), decision_id, inputs)


def run_cases(decision_id: str, *, draft_xml: bytes | None = None, draft_cases: bytes | None = None,
              progress=None):
    """Run conformance cases (the job of `analyses.start`); `progress(done, total)` is called between cases."""
    s = session()
    if draft_xml is not None:
        registry = wf_decisions.draft_registry(s, decision_id, draft_xml)
    else:
        registry = wf_decisions.registry(s).registry
    if draft_cases is not None:
        try:
            cases = json.loads(draft_cases)
        except json.JSONDecodeError as exc:
            raise Invalid(f"cases 不是合法 JSON: {exc}", code="invalid_cases") from exc
    else:
        cases = version_row(decision_id).cases
    if decision_id not in registry:
        raise NotFound("决策不存在 (decision not found)", decision_id=decision_id)
    return wf_decisions.run_cases(registry, decision_id, cases, progress=progress)


def validate_drafts(files: Mapping[str, bytes]) -> dict[str, Any]:
    return validate_files(files)
