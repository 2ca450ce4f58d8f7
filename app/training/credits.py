"""学时 and 学分 (R8): granted per session from the rule the process decided (`training_credit_rule`), summed per
person and year into a transcript checked against the annual minimum (`training_annual_minimum`), and exported for
the provincial CME registry. The platform records and exports; it does not issue official credits."""
from __future__ import annotations

import csv
import io
import math
from functools import lru_cache
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import NotFound
from app.decisions import services as decisions
from app.org.queries import find_org
from app.vocabulary import CreditClass, ProjectLevel, TrainingCategory
from app.workflows.decisions import registry

from . import access
from .models import Attendance, CreditRecord, TrainingSession
from .services import local
from .settings import settings

DISCLAIMER = ("本表由医共体培训平台依据所配置的学分规则汇总，仅供向省级继续医学教育管理系统申报参考；"
              "学分以省级继续医学教育管理部门审核登记为准，本平台不授予官方学分。")


def _floor_to(value: float, step: float) -> float:
    step = step or 1
    return math.floor(value / step + 1e-9) * step


def _participant_credits(rule: dict[str, Any], hours: float) -> tuple[float, str]:
    per_hours = rule.get("participant_hours_per_credit")
    if per_hours:
        return _floor_to(hours / float(per_hours), float(rule.get("credit_step") or 1)), \
            f"学时 {hours:g} ÷ {float(per_hours):g}"
    per_session = float(rule.get("participant_credits_per_session") or 0)
    return per_session, f"每次 {per_session:g} 学分"


def _lecturer_credits(rule: dict[str, Any], hours: float) -> tuple[float, str]:
    per_hour = rule.get("lecturer_credits_per_hour")
    if per_hour:
        return float(per_hour) * hours, f"授课 {hours:g} 学时 × {float(per_hour):g}"
    per_session = float(rule.get("lecturer_credits_per_session") or 0)
    return per_session, f"授课每次 {per_session:g} 学分"


def _year_total(user_id: int, year: int, credit_class: str, basis_key: str) -> float:
    rows = session().scalars(select(CreditRecord).where(
        CreditRecord.user_id == user_id, CreditRecord.year == year, CreditRecord.capacity == "participant",
        CreditRecord.credit_class == credit_class))
    return sum(r.credits for r in rows if r.rule.get("basis") == basis_key)


def grant(session_id: int, rule: dict[str, Any], passed: set[int]) -> dict[str, Any]:
    """Write one credit record per trainee with attended 学时 (and for the lecturer); idempotent per session."""
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        year = clock.date_of(row.starts_at).year
        done = {(r.user_id, r.capacity) for r in s.scalars(select(CreditRecord).where(
            CreditRecord.session_id == row.id))}
        credit_class = rule.get("credit_class") or "none"
        cap = float(rule.get("project_cap") or 0) or None
        basis = "per_hours" if rule.get("participant_hours_per_credit") else "per_session"
        granted = 0
        for a in s.scalars(select(Attendance).where(Attendance.session_id == row.id, Attendance.attended_hours > 0)):
            if (a.user_id, "participant") in done:
                continue
            hours = float(a.attended_hours)
            credits, reason = _participant_credits(rule, hours)
            if row.assessment == "exam" and rule.get("requires_pass", True) and a.user_id not in passed:
                credits, reason = 0.0, "考核未通过，只计学时"
            if credit_class == "none":
                credits, reason = 0.0, "非学分项目，只计学时"
            credits = min(credits, cap) if cap else credits
            annual = rule.get("participant_annual_cap")
            if annual and credits:
                room = max(0.0, float(annual) - _year_total(a.user_id, year, credit_class, basis))
                if credits > room:
                    credits, reason = room, f"{reason}；本年度此类学分已达上限 {float(annual):g}"
            s.add(_record(row, a.user_id, "participant", year, hours, credits, credit_class, reason, rule, basis))
            granted += 1
        if row.lecturer_user_id and (row.lecturer_user_id, "lecturer") not in done:
            credits, reason = _lecturer_credits(rule, float(row.hours))
            credits = 0.0 if credit_class == "none" else (min(credits, cap) if cap else credits)
            s.add(_record(row, row.lecturer_user_id, "lecturer", year, float(row.hours), credits, credit_class,
                          reason, rule, basis))
            granted += 1
        row.credit_rule = rule
        return {"granted": granted}


def _record(row, user_id, capacity, year, hours, credits, credit_class, reason, rule, basis) -> CreditRecord:
    user = users_by_id([user_id]).get(user_id)
    org = find_org(user.org_code) if user else None
    return CreditRecord(session_id=row.id, user_id=user_id, org_path=org.path if org else row.org_path,
                        capacity=capacity, year=year, hours=round(hours, 2), credits=round(credits, 2),
                        credit_class=credit_class, reason=reason[:255], rule={**rule, "basis": basis},
                        granted_at=clock.now())


# -- the annual minimum and the transcript ---------------------------------------------------------------------

LEVEL_OF_ROLE = {"village_doctor": "village", "township_doctor": "township", "township_public_health": "township"}


@lru_cache(maxsize=256)
def _minimum_cached(province: str, org_level: str, role: str, _version_key: str) -> dict[str, Any]:
    result = decisions.evaluate("training_annual_minimum", {"province": province, "org_level": org_level,
                                                            "role": role})
    return {**result["outputs"], "versions": result["versions"], "reason": result["reason"]}


def annual_minimum(role: str, org_level: str) -> dict[str, Any]:
    """The annual minimum that applies to a role at an organization level (latest deployed rule)."""
    pinned = registry(session())
    version = str(pinned.versions.get("training_annual_minimum"))
    return _minimum_cached(settings().province, org_level, role, version)


def main_role(user) -> str:
    roles = user.role_codes if user else []
    for role in ("county_specialist", "township_doctor", "township_public_health", "village_doctor", "pharmacist"):
        if role in roles:
            return role
    return roles[0] if roles else ""


def transcript(p: Principal, user_id: int, year: int) -> dict[str, Any]:
    """A person's 学时/学分 of one year with the sessions behind them and the minimum that applies."""
    user = users_by_id([user_id]).get(user_id)
    org = find_org(user.org_code) if user else None
    if user is None or not (user_id == p.user_id or access.oversees(p, org.path if org else None)):
        raise NotFound("用户不存在 (user not found)")
    records = list(session().execute(select(CreditRecord, TrainingSession).join(
        TrainingSession, TrainingSession.id == CreditRecord.session_id).where(
        CreditRecord.user_id == user_id, CreditRecord.year == year).order_by(TrainingSession.starts_at)))
    totals = {"hours": 0.0, "credits": 0.0, "I": 0.0, "II": 0.0}
    lines = []
    for record, row in records:
        totals["hours"] += record.hours
        totals["credits"] += record.credits
        if record.credit_class in ("I", "II"):
            totals[record.credit_class] += record.credits
        lines.append({"session_id": row.id, "topic": row.topic, "date": local(row.starts_at)[:10],
                      "level": row.level, "level_label": ProjectLevel.label_of(row.level),
                      "category_label": TrainingCategory.label_of(row.category),
                      "project_no": row.project_no, "capacity": record.capacity, "hours": record.hours,
                      "credits": record.credits, "credit_class": record.credit_class,
                      "credit_class_label": CreditClass.label_of(record.credit_class),
                      "reason": record.reason})
    role = main_role(user)
    minimum = annual_minimum(role, LEVEL_OF_ROLE.get(role, org.level if org else "county"))
    return {"user_id": user_id, "name": user.display_name, "org_name": org.name if org else "", "year": year,
            "role": role, "lines": lines, "totals": {k: round(v, 2) for k, v in totals.items()},
            "minimum": minimum, "meets_minimum": meets(totals, minimum), "disclaimer": DISCLAIMER}


def meets(totals: dict[str, float], minimum: dict[str, Any]) -> bool:
    need_total = float(minimum.get("min_total") or 0)
    need_1, need_2 = float(minimum.get("min_class1") or 0), float(minimum.get("min_class2") or 0)
    return totals.get("credits", 0) >= need_total and totals.get("I", 0) >= need_1 and totals.get("II", 0) >= need_2


def credit_totals(user_ids: list[int], year: int) -> dict[int, dict[str, float]]:
    rows = session().execute(select(CreditRecord.user_id, CreditRecord.credit_class, func.sum(CreditRecord.credits))
                             .where(CreditRecord.year == year, CreditRecord.user_id.in_(user_ids))
                             .group_by(CreditRecord.user_id, CreditRecord.credit_class)) if user_ids else []
    out: dict[int, dict[str, float]] = {}
    for uid, cls, total in rows:
        entry = out.setdefault(uid, {"credits": 0.0, "I": 0.0, "II": 0.0})
        entry["credits"] += float(total or 0)
        if cls in ("I", "II"):
            entry[cls] += float(total or 0)
    return out


# -- export for the provincial CME registry --------------------------------------------------------------------

REGISTRY_COLUMNS = ("姓名", "账号", "单位", "项目名称", "项目编号", "项目级别", "学分类别", "身份", "学时", "学分", "培训日期")


def registry_rows(p: Principal, year: int, org_code: str | None = None) -> list[list[Any]]:
    org = find_org(org_code or p.org_code)
    if org is None or not access.oversees(p, org.path):
        raise NotFound("机构不存在 (organization not found)")
    records = list(session().execute(select(CreditRecord, TrainingSession).join(
        TrainingSession, TrainingSession.id == CreditRecord.session_id).where(
        CreditRecord.year == year, CreditRecord.org_path.startswith(org.path, autoescape=True),
        CreditRecord.credits > 0).order_by(CreditRecord.org_path, CreditRecord.user_id, TrainingSession.starts_at)))
    users = users_by_id([r.user_id for r, _ in records])
    orgs: dict[str, str] = {}
    out = []
    for record, row in records:
        user = users.get(record.user_id)
        code = user.org_code if user else ""
        if code not in orgs:
            found = find_org(code)
            orgs[code] = found.name if found else code
        out.append([user.display_name if user else "", user.username if user else "", orgs[code], row.topic,
                    row.project_no or "", ProjectLevel.label_of(row.level),
                    CreditClass.label_of(record.credit_class),
                    "授课" if record.capacity == "lecturer" else "学员", record.hours, record.credits,
                    local(row.starts_at)[:10]])
    return out


def registry_xlsx(p: Principal, year: int, org_code: str | None = None) -> bytes:
    rows = registry_rows(p, year, org_code)
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年学分"
    ws.append([DISCLAIMER])
    ws.append(list(REGISTRY_COLUMNS))
    for r in rows:
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def registry_csv(p: Principal, year: int, org_code: str | None = None) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(REGISTRY_COLUMNS)
    writer.writerows(registry_rows(p, year, org_code))
    return "\ufeff" + out.getvalue()          # BOM: Excel opens UTF-8 CSV with Chinese correctly
