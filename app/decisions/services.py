"""Use cases of the decision API; evaluation goes through `app.workflows.decisions` like business-rule tasks."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app.auth.principal import Principal
from app.core.db import session
from app.core.errors import Invalid, NotFound
from app.vocabulary import RiskLevel
from app.workflows import decisions as wf_decisions
from app.workflows.deploy import latest_decision_versions, validate_files
from app.workflows.models import DecisionVersion

from . import history


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


# -- replay of a draft over recorded evaluations (issue 14.14) --------------------------------------------------

REPLAY_EXAMPLES = 5
_IDENTIFYING = ("name", "id_number", "idcard", "id_card", "resident", "phone", "mobile", "address", "patient",
                "mrn", "business_key")


def replay(decision_id: str, *, draft_xml: bytes, limit: int, progress=None) -> dict[str, Any]:
    """Replay a draft over the inputs of the last `limit` real evaluations that used the deployed decision: how many
    results would change, a from → to matrix per output (with Chinese labels) and a few de-identified examples."""
    s = session()
    deployed = wf_decisions.registry(s)
    if decision_id not in deployed.registry:
        raise NotFound("决策不存在 (decision not found)", decision_id=decision_id)
    draft = wf_decisions.draft_registry(s, decision_id, draft_xml)
    evaluations = sorted(wf_decisions.recorded_evaluations(s, decision_id, limit) + history.recent(decision_id, limit),
                         key=lambda e: e.get("at") or "", reverse=True)[:limit]
    rows = wf_decisions.replay(deployed.registry, draft, decision_id, evaluations, progress=progress)["rows"]
    outputs = wf_decisions.decision_outputs(draft, decision_id)
    matrices: dict[str, dict[tuple, int]] = {}
    changed, errors = 0, {"from": 0, "to": 0}
    examples: list[dict[str, Any]] = []
    for row in rows:
        before, after = row["from"], row["to"]
        errors["from"] += "error" in before
        errors["to"] += "error" in after
        b = _own(before, outputs)
        a = _own(after, outputs)
        if b == a or (isinstance(b, dict) and isinstance(a, dict) and wf_decisions.same_outputs(b, a)):
            continue
        changed += 1
        for name in outputs:
            fv, tv = _value(before, name), _value(after, name)
            if fv != tv:
                key = (json.dumps(fv, ensure_ascii=False), json.dumps(tv, ensure_ascii=False))
                matrices.setdefault(name, {})[key] = matrices.setdefault(name, {}).get(key, 0) + 1
        if len(examples) < REPLAY_EXAMPLES:
            examples.append({"inputs": deidentified(row["inputs"]), "from": b, "to": a, "changes": [
                {"output": n, "from_label": value_label(_value(before, n)), "to_label": value_label(_value(after, n))}
                for n in outputs if _value(before, n) != _value(after, n)]})
    matrix = []
    for name in outputs:
        for (fv, tv), count in sorted(matrices.get(name, {}).items(), key=lambda kv: -kv[1]):
            f, t = json.loads(fv), json.loads(tv)
            matrix.append({"output": name, "from": f, "to": t, "from_label": value_label(f),
                           "to_label": value_label(t), "count": count})
    return {"decision_id": decision_id, "deployed_version": deployed.versions.get(decision_id),
            "draft_sha256": hashlib.sha256(draft_xml).hexdigest(), "limit": limit, "replayed": len(rows),
            "changed": changed, "unchanged": len(rows) - changed, "errors": errors, "outputs": outputs,
            "matrix": matrix, "examples": examples,
            "oldest_at": rows and evaluations[-1]["at"] or None, "newest_at": rows and evaluations[0]["at"] or None}


def _own(outcome: Mapping[str, Any], outputs: list[str]) -> Any:
    if "error" in outcome:
        return {"error": outcome["error"]}
    return {k: outcome["outputs"].get(k) for k in outputs}


def _value(outcome: Mapping[str, Any], name: str) -> Any:
    if "error" in outcome:
        return {"error": outcome["error"]}
    return outcome["outputs"].get(name)


def value_label(value: Any) -> str:
    """The Chinese label of an output value: risk levels from the vocabulary; errors and no result in words."""
    if isinstance(value, dict) and "error" in value:
        return f"评估出错（{value['error']}）"
    if value is None:
        return "无结果"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, str):
        return _BP_GRADE_LABELS.get(value) or RiskLevel.label_of(value)
    return str(value)


_BP_GRADE_LABELS = {"NORMAL": "正常血压", "NORMAL_HIGH": "正常高值", "G1": "1级高血压", "G2": "2级高血压",
                    "G3": "3级高血压", "NH_130_139_85_89": "正常高值(130–139/85–89)",
                    "MODERATE_OR_HIGH": "中危或高危", "HIGH_OR_VERY_HIGH": "高危或很高危",
                    "ANNUAL_BP": "每年测血压", "PRONE_BP_EVERY_6M": "每半年测血压（易患人群）",
                    "RECHECK_NON_SAME_DAY": "非同日复查血压"}


def deidentified(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Decision inputs without anything that names a person (names, ID numbers, resident ids, phone, address)."""
    return {k: v for k, v in inputs.items() if not any(p in k.lower() for p in _IDENTIFYING)}
