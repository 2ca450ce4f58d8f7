"""专科共建计划: a township's specialty-building plan with the county (goals, activities, milestones each with its
measured indicators and targets), run as the process `specialty_plan` — drafted → approved by the county
administrator (or returned for revision) → a review task on each milestone's due date → the closing evaluation.

A milestone indicator that names an indicator of the quality library (`indicator_id`) is measured from it for the
township and the month of the due date; the reader is plugged in by app.wiring (`indicator_reader`), because the
quality dashboards sit above this package and read its rows."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from app.auth import queries as users
from app.auth.principal import Principal
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.org.queries import find_org
from app.workflows import runner

from . import bookings
from .labels import EDITORS
from .models import SpecialtyMilestone, SpecialtyPlan

PROCESS = "specialty_plan"
DRAFTERS = (*EDITORS, "township_doctor", "county_specialist")
MAX_MILESTONES = 12
IndicatorReader = Callable[[str, str, str], dict[str, Any] | None]     # (indicator_id, org_code, "YYYY-MM")
_reader: list[IndicatorReader] = []
_catalogue: list[Callable[[], list[dict[str, Any]]]] = []


def indicator_reader(read: IndicatorReader, catalogue: Callable[[], list[dict[str, Any]]]) -> None:
    """Plug in how a library indicator is measured for an organisation and month, and the list to choose from."""
    _reader[:] = [read]
    _catalogue[:] = [catalogue]


def indicator_catalogue() -> list[dict[str, Any]]:
    return _catalogue[0]() if _catalogue else []


def measure(indicator_id: str, org_code: str, period: str) -> dict[str, Any] | None:
    return _reader[0](indicator_id, org_code, period) if _reader else None


def _text_list(items: list[Any], field: str) -> list[str]:
    out = [str(x).strip() for x in items or [] if str(x).strip()]
    if not out:
        raise Invalid("至少填写一项", code=f"{field}_required", field=field)
    return out


def _indicators(items: list[dict[str, Any]], path: str) -> list[dict[str, Any]]:
    known = {i["id"]: i for i in indicator_catalogue()}
    out = []
    for k, ind in enumerate(items or []):
        name, iid = (ind.get("name") or "").strip(), (ind.get("indicator_id") or "").strip() or None
        if iid and iid not in known:
            raise Invalid("指标库中没有该指标", code="unknown_indicator", field=f"{path}/{k}/indicator_id")
        if iid and not name:
            name = known[iid]["name"]
        if not name:
            raise Invalid("请填写指标名称", code="indicator_name_required", field=f"{path}/{k}/name")
        target = ind.get("target")
        if not isinstance(target, int | float) or isinstance(target, bool):
            raise Invalid("请填写数值目标", code="target_required", field=f"{path}/{k}/target")
        direction = ind.get("direction") or (known[iid]["direction"] if iid else "higher")
        if direction not in ("higher", "lower"):
            raise Invalid("方向须为越高越好或越低越好", code="invalid_direction", field=f"{path}/{k}/direction")
        out.append({"name": name, "indicator_id": iid, "target": float(target), "direction": direction,
                    "unit": (ind.get("unit") or (known[iid]["unit"] if iid else "")).strip()})
    if not out:
        raise Invalid("每个里程碑至少一项考核指标", code="indicators_required", field=path)
    return out


def _milestones(items: list[dict[str, Any]], starts_on: date, ends_on: date) -> list[dict[str, Any]]:
    if not items:
        raise Invalid("至少设置一个里程碑", code="milestones_required", field="milestones")
    if len(items) > MAX_MILESTONES:
        raise Invalid(f"里程碑最多 {MAX_MILESTONES} 个", code="too_many_milestones", field="milestones")
    out = []
    for k, m in enumerate(sorted(items, key=lambda m: str(m.get("due_on")))):
        due = m.get("due_on")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due)
            except ValueError:
                due = None
        if not isinstance(due, date) or not starts_on <= due <= ends_on:
            raise Invalid("里程碑日期须在计划期内", code="milestone_outside_plan", field=f"milestones/{k}/due_on")
        title = (m.get("title") or "").strip()
        if not title:
            raise Invalid("请填写里程碑名称", code="milestone_title_required", field=f"milestones/{k}/title")
        out.append({"title": title, "due_on": due,
                    "indicators": _indicators(m.get("indicators") or [], f"milestones/{k}/indicators")})
    return out


def draft(p: Principal, *, township_code: str, specialty: str, title: str, starts_on: date, ends_on: date,
          goals: list[str], activities: list[str], milestones: list[dict[str, Any]],
          lead_expert_user_id: int | None = None) -> SpecialtyPlan:
    """Record the plan and start `specialty_plan` (the approval task goes to the county administrator)."""
    if not p.has_role(*DRAFTERS):
        raise NotFound("乡镇卫生院不存在", code="township_not_found", township_code=township_code)
    township = find_org(township_code)
    if township is None or township.level != "township" or not bookings.visible(p, township.path):
        raise NotFound("乡镇卫生院不存在", code="township_not_found", township_code=township_code)
    if not title.strip():
        raise Invalid("请填写计划名称", code="title_required", field="title")
    if ends_on <= starts_on:
        raise Invalid("结束日期须晚于开始日期", code="invalid_period", field="ends_on")
    clean_goals, clean_acts = _text_list(goals, "goals"), _text_list(activities, "activities")
    stones = _milestones(milestones, starts_on, ends_on)
    lead = users.users_by_id([lead_expert_user_id]).get(lead_expert_user_id) if lead_expert_user_id else None
    if lead_expert_user_id and lead is None:
        raise NotFound("专家不存在", code="user_not_found", user_id=lead_expert_user_id)
    with unit_of_work() as s:
        now = clock.now()
        plan = SpecialtyPlan(township_code=township.code, township_path=township.path, specialty=specialty,
                             title=title.strip(), lead_expert_user_id=lead_expert_user_id,
                             lead_expert_name=(lead.display_name or lead.username) if lead else None,
                             goals=clean_goals, activities=clean_acts, starts_on=starts_on, ends_on=ends_on,
                             status="pending_approval", created_by=p.username, created_at=now, updated_at=now)
        s.add(plan)
        s.flush()
        for seq, m in enumerate(stones, start=1):
            s.add(SpecialtyMilestone(plan_id=plan.id, seq=seq, title=m["title"], due_on=m["due_on"],
                                     indicators=m["indicators"], status="pending", review={}))
        s.flush()
        inst = runner.start_instance(PROCESS, actor=runner.Actor.of(p), data=start_data(plan),
                                     org_code=township.code, business_key=f"ZKGJ-{plan.id:04d}")
        plan.instance_id = inst.id
        return plan


def start_data(plan: SpecialtyPlan) -> dict[str, Any]:
    county, township = find_org(plan.township_path.strip("/").split("/")[0]), find_org(plan.township_code)
    return {"plan_id": plan.id, "plan_title": plan.title, "township_code": plan.township_code,
            "township_name": township.name if township else plan.township_code,
            "approver_org": county.code if county else plan.township_code, "reviewer_org": plan.township_code}


def get_plan(p: Principal, plan_id: int) -> SpecialtyPlan:
    plan = session().get(SpecialtyPlan, plan_id)
    if plan is None or not bookings.visible(p, plan.township_path):
        raise NotFound("共建计划不存在", code="plan_not_found", plan_id=plan_id)
    return plan


def milestones_of(plan_id: int) -> list[SpecialtyMilestone]:
    return list(session().scalars(select(SpecialtyMilestone).where(SpecialtyMilestone.plan_id == plan_id)
                                  .order_by(SpecialtyMilestone.seq)))


# -- steps of the process (called by the operators) -------------------------------------------------------------

def _plan(plan_id: int) -> SpecialtyPlan:
    plan = session().get(SpecialtyPlan, int(plan_id))
    if plan is None:
        raise NotFound("共建计划不存在", code="plan_not_found", plan_id=plan_id)
    return plan


def record_decision(plan_id: int, *, decision: str, comment: str, by: str | None) -> dict[str, Any]:
    """The administrator's decision: approve (plan active), return for revision, or reject (plan ends)."""
    with unit_of_work():
        plan = _plan(plan_id)
        plan.approval = {"decision": decision, "comment": comment, "by": by, "at": clock.now().isoformat()}
        plan.status = {"approve": "active", "return": "returned", "reject": "rejected"}[decision]
        if decision == "approve":
            plan.approved_at = clock.now()
        if decision == "reject":
            plan.closed_at = clock.now()
        plan.updated_at = clock.now()
        return {"status": plan.status}


def resubmit(plan_id: int, *, changes: dict[str, Any]) -> dict[str, Any]:
    """The township's revision after a return: goals/activities as revised, back to approval."""
    with unit_of_work():
        plan = _plan(plan_id)
        if changes.get("goals"):
            plan.goals = _text_list(changes["goals"], "goals")
        if changes.get("activities"):
            plan.activities = _text_list(changes["activities"], "activities")
        plan.status, plan.updated_at = "pending_approval", clock.now()
        return {"status": plan.status}


def next_milestone(plan_id: int) -> dict[str, Any]:
    """The next milestone still to review, with its due time for the process timer (09:00 local on the due date)."""
    for m in milestones_of(int(plan_id)):
        if m.status == "pending":
            due = clock.start_of_day(m.due_on).replace(hour=9)
            return {"found": True, "milestone_id": m.id, "seq": m.seq, "title": m.title,
                    "due_at": due.isoformat(), "due_label": f"{m.due_on:%Y-%m-%d}"}
    with unit_of_work():
        plan = _plan(plan_id)
        if plan.status == "active":
            plan.status, plan.updated_at = "evaluating", clock.now()
    return {"found": False}


def measured(plan: SpecialtyPlan, m: SpecialtyMilestone) -> list[dict[str, Any]]:
    """Each indicator of the milestone with the library's value for the township in the due month (None when it
    is entered by hand or the library has no figure yet)."""
    period = f"{m.due_on:%Y-%m}"
    out = []
    for ind in m.indicators:
        fig = measure(ind["indicator_id"], plan.township_code, period) if ind.get("indicator_id") else None
        out.append({**ind, "measured": fig.get("value") if fig else None, "period": period,
                    "source": "library" if fig and fig.get("value") is not None else "manual"})
    return out


def record_review(plan_id: int, milestone_id: int, *, values: list[Any], note: str, by: str | None) -> dict[str, Any]:
    """Record a milestone review: each indicator's value (library figure, or the reviewer's where none), met when
    every indicator reaches its target in its direction."""
    with unit_of_work():
        plan, m = _plan(plan_id), session().get(SpecialtyMilestone, int(milestone_id))
        if m is None or m.plan_id != plan.id:
            raise NotFound("里程碑不存在", code="milestone_not_found", milestone_id=milestone_id)
        if m.status != "pending":
            return {"status": m.status, "already": True}
        rows = measured(plan, m)
        for k, row in enumerate(rows):
            given = values[k] if k < len(values or []) else None
            value = row["measured"] if row["measured"] is not None else given
            row["value"] = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            row["met"] = row["value"] is not None and (row["value"] >= row["target"] if row["direction"] == "higher"
                                                       else row["value"] <= row["target"])
        m.review = {"indicators": rows, "note": note, "by": by}
        m.status = "met" if rows and all(r["met"] for r in rows) else "missed"
        m.reviewed_at, m.reviewed_by = clock.now(), by
        return {"status": m.status, "met": sum(1 for r in rows if r["met"]), "total": len(rows)}


def close(plan_id: int, *, rating: str, summary: str, by: str | None) -> dict[str, Any]:
    """The closing evaluation: rating and summary; the plan is closed."""
    with unit_of_work():
        plan = _plan(plan_id)
        stones = milestones_of(plan.id)
        plan.evaluation = {"rating": rating, "summary": summary, "by": by,
                           "milestones_met": sum(1 for m in stones if m.status == "met"), "milestones": len(stones)}
        plan.status, plan.closed_at, plan.updated_at = "closed", clock.now(), clock.now()
        return {"status": plan.status}


def load_review(plan_id: int, milestone_id: int) -> dict[str, Any]:
    """What the review task shows when it opens: each indicator with its target and the library's figure."""
    plan, m = _plan(plan_id), session().get(SpecialtyMilestone, int(milestone_id))
    if m is None:
        raise Conflict("里程碑不存在", code="milestone_not_found", status=409)
    rows = measured(plan, m)
    lines = []
    for k, r in enumerate(rows, start=1):
        got = f"指标库 {r['measured']:g}{r['unit']}" if r["measured"] is not None else "请在下方按顺序填写实测值"
        lines.append(f"{k}. {r['name']}：目标{'≥' if r['direction'] == 'higher' else '≤'}{r['target']:g}{r['unit']}，{got}")
    return {"indicator_rows": rows, "indicators_label": "；".join(lines), "manual_count":
            sum(1 for r in rows if r["measured"] is None)}
