"""Read side of care plans: scoped reads for the API, summaries for follow-up and reports."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, select

from app.auth.principal import Principal
from app.auth.queries import users_by_username
from app.core.db import session
from app.org.scope import row_scope_filter

from . import content as plan_content
from .errors import CarePlanNotFound, VersionNotFound
from .models import CarePlan, CarePlanComment, CarePlanVersion

MAX_ID = 2**63 - 1


def scoped_plan(principal: Principal, care_plan_id: int) -> CarePlan:
    """The plan if it is in the caller's scope (else 404, as if it did not exist)."""
    if not 0 < care_plan_id <= MAX_ID:
        raise CarePlanNotFound("管理方案不存在 (care plan not found)", care_plan_id=care_plan_id)
    plan = session().scalars(select(CarePlan).where(
        CarePlan.id == care_plan_id,
        row_scope_filter(principal, org_path=CarePlan.org_path, resident_id=CarePlan.resident_id))).first()
    if plan is None:
        raise CarePlanNotFound("管理方案不存在 (care plan not found)", care_plan_id=care_plan_id)
    return plan


def plans_of_resident(principal: Principal, resident_id: int) -> list[CarePlan]:
    return list(session().scalars(select(CarePlan).where(
        CarePlan.resident_id == resident_id,
        row_scope_filter(principal, org_path=CarePlan.org_path, resident_id=CarePlan.resident_id))
        .order_by(CarePlan.disease)))


def versions(care_plan_id: int) -> list[CarePlanVersion]:
    return list(session().scalars(select(CarePlanVersion).where(CarePlanVersion.care_plan_id == care_plan_id)
                                  .order_by(CarePlanVersion.version)))


def version(care_plan_id: int, number: int) -> CarePlanVersion:
    row = session().scalars(select(CarePlanVersion).where(CarePlanVersion.care_plan_id == care_plan_id,
                                                          CarePlanVersion.version == number)).first()
    if row is None:
        raise VersionNotFound("方案版本不存在 (version not found)", care_plan_id=care_plan_id, version=number)
    return row


def comments(care_plan_id: int) -> list[CarePlanComment]:
    return list(session().scalars(select(CarePlanComment).where(CarePlanComment.care_plan_id == care_plan_id)
                                  .order_by(CarePlanComment.id)))


def version_diff(care_plan_id: int, a: int, b: int) -> dict[str, Any]:
    """What changed from version `a` to version `b` (and the comments made on `b`)."""
    old, new = version(care_plan_id, a), version(care_plan_id, b)
    return {"care_plan_id": care_plan_id, "from_version": a, "to_version": b,
            "changes": plan_content.diff(old.content, new.content), "change_reason": new.change_reason,
            "comments": [c for c in comments(care_plan_id) if c.version == b]}


def current(care_plan_id: int) -> CarePlanVersion | None:
    plan = session().get(CarePlan, care_plan_id)
    if plan is None or plan.current_version is None:
        return None
    return version(care_plan_id, plan.current_version)


def content_in_force(plan: CarePlan) -> dict[str, Any]:
    """What the version in force asks for (targets, drugs, follow-up interval); empty while the first is drafted."""
    if plan.current_version is None:
        return {}
    return dict(version(plan.id, plan.current_version).content or {})


def plan_summary(resident_id: int, disease: str) -> dict[str, Any] | None:
    """The version in force, as a follow-up cycle needs it: drugs (form default), targets, interval."""
    plan = session().scalars(select(CarePlan).where(CarePlan.resident_id == resident_id,
                                                    CarePlan.disease == disease)).first()
    if plan is None:
        return None
    row = current(plan.id)
    if row is None:
        return None
    return _summary(plan, row)


def _summary(plan: CarePlan, row: CarePlanVersion) -> dict[str, Any]:
    c = row.content
    return {"care_plan_id": plan.id, "version": row.version, "targets": c.get("targets") or {},
            "drugs": c.get("drugs") or [], "follow_up_interval_days": c.get("follow_up_interval_days"),
            "education_topics": c.get("education_topics") or []}


def plan_summaries(keys: Sequence[tuple[int, str]]) -> dict[tuple[int, str], dict[str, Any]]:
    """`plan_summary` of many (resident, disease) pairs with one query per thousand residents (batch starts); a pair
    without a version in force is missing from the result."""
    wanted = set(keys)
    ids = sorted({rid for rid, _d in wanted})
    out: dict[tuple[int, str], dict[str, Any]] = {}
    for i in range(0, len(ids), 1000):
        rows = session().execute(select(CarePlan, CarePlanVersion).join(CarePlanVersion, and_(
            CarePlanVersion.care_plan_id == CarePlan.id, CarePlanVersion.version == CarePlan.current_version))
            .where(CarePlan.resident_id.in_(ids[i:i + 1000])).order_by(CarePlan.id)).all()
        for plan, row in rows:
            key = (plan.resident_id, plan.disease)
            if key in wanted and key not in out:
                out[key] = _summary(plan, row)
    return out


def plans_for_summary(resident_id: int) -> list[dict[str, Any]]:
    """The plans in force per disease, for the resident record's summary."""
    out = []
    for plan in session().scalars(select(CarePlan).where(CarePlan.resident_id == resident_id)
                                  .order_by(CarePlan.disease)):
        summary = plan_summary(resident_id, plan.disease)
        if summary:
            out.append({"disease": plan.disease, **summary})
    return out


def display_names(rows: list[CarePlanVersion], comments_: Sequence[CarePlanComment] = ()) -> dict[str, str]:
    """Display names of the people a plan's history names (drafter, approver, acknowledger, who closed a revision)."""
    names = {getattr(v, f) for v in rows for f in ("drafted_by", "approved_by", "acknowledged_by", "closed_by")}
    names |= {c.author for c in comments_}
    names.discard(None)
    found = users_by_username(names)
    out = {n: (found[n].display_name or n) for n in names if n in found}
    if "system" in names:
        out["system"] = "系统"
    return out
