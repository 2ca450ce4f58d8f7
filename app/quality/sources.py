"""The projections indicators count over: each source names its fields (the vocabulary a definition may use) and
turns one period window and one organisation subtree into plain rows.

Quality is a read side above the capabilities: it reads their tables here, in one place, and nowhere writes them.
Every row carries the dimensions (`org_path`, `disease`, `risk_level`, `doctor_id`, `sex`, `age_band`) and a
`key` that identifies the person or task behind it, so a figure can always be drilled down to its list.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import and_, or_, select

from app.anticoag import indicators as anticoag
from app.consult import queries as consults
from app.contracting.models import Contract, ContractDelivery, ContractItem
from app.core import clock
from app.core.db import session
from app.follow_up.models import FollowUpEscalation, FollowUpSchedule, FollowUpVisit
from app.liaison import queries as liaison
from app.pharmacy import queries as pharmacy
from app.recognition import queries as recognition
from app.residents.models import Resident
from app.residents.record_models import DiseaseEnrolment, RiskLevel
from app.workflows.models import HumanTask

FACE_TO_FACE = ("outpatient", "home")       # 随访方式 1门诊 2家庭 (服务规范: 面对面随访)
DAYS_PER_VISIT = 90                         # 规范: ≥4 face-to-face visits a year → one per 90 days managed
AGE_BANDS = ((0, 35, "<35"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 65, "55-64"), (65, 75, "65-74"),
             (75, 200, "≥75"))
DIMENSIONS = {"org": "机构", "doctor": "责任医生", "disease": "病种", "risk_level": "风险分层", "age_band": "年龄段",
              "sex": "性别"}


@dataclass(frozen=True)
class Window:
    """The days an indicator looks at, both ends included (`period` is the month it was asked for)."""
    start: date
    end: date
    period: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    subject: str                            # resident | task
    fields: dict[str, str]                  # name → type: str | int | float | bool | date
    dimensions: tuple[str, ...]
    rows: Callable[[Window, str], list[dict[str, Any]]]


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    return next(label for low, high, label in AGE_BANDS if low <= age < high)


_SHARED: ContextVar[dict[tuple, Any] | None] = ContextVar("quality_shared_reads", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Within it, the tables several sources and windows read alike (residents, visits up to a day, schedules, risk
    levels of a subtree) are read once (the refresh: two windows of the same month end read the same visits).
    What is shared is read-only."""
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def _memo(key: tuple, make: Callable[[], Any]) -> Any:
    memo = _SHARED.get()
    if memo is None:
        return make()
    if key not in memo:
        memo[key] = make()
    return memo[key]


def _plain(model) -> Any:
    """All columns of a model's table as plain rows (attribute access like the entity, without the ORM's cost)."""
    return select(*model.__table__.columns)


def _residents(prefix: str, ids: tuple[int, ...] | None = None) -> dict[int, Any]:
    """The residents of a subtree by id, as plain rows (only those of `ids` when given: not shared)."""
    if ids is not None:
        return {r.id: r for r in session().execute(
            _plain(Resident).where(_under(Resident.org_path, prefix), Resident.id.in_(ids)))}
    return _memo(("residents", prefix), lambda: {
        r.id: r for r in session().execute(_plain(Resident).where(_under(Resident.org_path, prefix)))})


def _start_utc(day: date):
    return clock.start_of_day(day)


def _under(column, prefix: str):
    return column.startswith(prefix, autoescape=True)


def _person(resident: Resident, on: date) -> dict[str, Any]:
    age = clock.age(resident.birth_date, on)
    return {"resident_id": resident.id, "resident_name": resident.name, "org_path": resident.org_path,
            "org_code": resident.org_code, "sex": resident.sex, "age": age, "age_band": age_band(age)}


# -- residents ------------------------------------------------------------------------------------------------------

def _resident_rows(w: Window, prefix: str, ids: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    # the registry is the population: it keeps no move-in dates, so every resident counts in every window
    return [{**_person(r, w.end), "key": f"r{r.id}", "disease": None, "risk_level": None,
             "doctor_id": r.family_doctor_user_id} for r in _residents(prefix, ids).values()]


# -- chronic-disease patients (one row per enrolment) ---------------------------------------------------------------

Visit = Any        # a `follow_up_visits` row as read here (plain row: the entity's attributes, not the entity)


def _outcome(visit: Visit) -> str:
    return ((visit.record or {}).get("visit") or {}).get("outcome") or "完成随访"


def _visits_by_patient(prefix: str, end: date,
                       ids: tuple[int, ...] | None = None) -> dict[tuple[int, str], list[Visit]]:
    def read() -> dict[tuple[int, str], list[Visit]]:
        stmt = (_plain(FollowUpVisit).join(Resident, Resident.id == FollowUpVisit.resident_id)
                .where(_under(Resident.org_path, prefix), FollowUpVisit.due_on <= end)
                .order_by(FollowUpVisit.resident_id, FollowUpVisit.due_on, FollowUpVisit.id))
        if ids is not None:
            stmt = stmt.where(FollowUpVisit.resident_id.in_(ids))
        out: dict[tuple[int, str], list[Visit]] = defaultdict(list)
        for v in session().execute(stmt):
            out[(v.resident_id, v.disease)].append(v)
        return out
    if ids is not None:
        return read()
    memo = _SHARED.get()
    if memo is not None:          # visits up to an earlier day: those of a later day read before, cut when asked
        later = [(key[2], found) for key, found in memo.items()
                 if key[0] == "visits" and key[1] == prefix and key[2] >= end]
        if later and ("visits", prefix, end) not in memo:
            memo[("visits", prefix, end)] = _Cut(min(later, key=lambda x: x[0])[1], end)
    return _memo(("visits", prefix, end), read)


class _Cut:
    """The visits of each patient due by `end`, from those read up to a later day (read with `get`, like a dict)."""

    def __init__(self, visits: Any, end: date) -> None:
        self.visits, self.end = visits, end

    def get(self, key: tuple[int, str], default: list[Visit]) -> list[Visit]:
        found = [v for v in self.visits.get(key, ()) if v.due_on <= self.end]
        return found or default


def _by_patient(model, prefix: str, ids: tuple[int, ...] | None = None) -> dict[tuple[int, str], Any]:
    def read() -> dict[tuple[int, str], Any]:
        stmt = _plain(model).join(Resident, Resident.id == model.resident_id).where(_under(Resident.org_path, prefix))
        if ids is not None:
            stmt = stmt.where(model.resident_id.in_(ids))
        return {(row.resident_id, row.disease): row for row in session().execute(stmt)}
    if ids is not None:
        return read()
    return _memo((model.__tablename__, prefix), read)


def _done_by(v: Visit, end: date) -> bool:
    return v.status == "done" and v.visited_on is not None and v.visited_on <= end


def _visit_fields(visits: list[Visit], w: Window, managed_from: date) -> dict[str, Any]:
    inside = sorted((v for v in visits if _done_by(v, w.end) and (v.visited_on or w.end) >= w.start),
                    key=lambda v: (v.visited_on or w.end, v.id))
    completed = [v for v in inside if _outcome(v) == "完成随访"]
    last = inside[-1] if inside else None
    first_day = max(w.start, managed_from)
    return {"visits": len(completed),
            "face_visits": sum(1 for v in completed if v.visit_type in FACE_TO_FACE),
            "required_visits": max(0, ((w.end - first_day).days + 1) // DAYS_PER_VISIT),
            "last_visit_on": last.visited_on if last else None,
            "last_sbp": last.sbp if last else None, "last_dbp": last.dbp if last else None,
            "last_fpg": last.fpg if last else None, "last_hba1c": last.hba1c if last else None,
            "lost_to_follow_up": last is not None and _outcome(last) == "失访"}


def _overdue_days(visits: list[Visit], schedule: Any, end: date) -> int | None:
    dues = [v.due_on for v in visits if v.due_on < end and not _done_by(v, end)]
    if schedule is not None and schedule.status == "active" and schedule.next_due_on < end:
        dues.append(schedule.next_due_on)
    return (end - min(dues)).days if dues else None


def cohort_rows(w: Window, prefix: str, enrolled_from: date, enrolled_before: date) -> list[dict[str, Any]]:
    """The `chronic_patients` rows of a window, only those enrolled from one day up to (not including) another
    (a quarterly cohort of `app.quality.cohorts`): the same rows, without building the others."""
    return _patient_rows(w, prefix, (enrolled_from, enrolled_before))


def _patient_rows(w: Window, prefix: str, enrolled: tuple[date, date] | None = None,
                  ids: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    stmt = (_plain(DiseaseEnrolment).join(Resident, Resident.id == DiseaseEnrolment.resident_id)
            .where(_under(Resident.org_path, prefix),
                   DiseaseEnrolment.enrolled_at < _start_utc(w.end + timedelta(days=1))))
    if enrolled is not None:
        stmt = stmt.where(DiseaseEnrolment.enrolled_at >= _start_utc(enrolled[0]),
                          DiseaseEnrolment.enrolled_at < _start_utc(enrolled[1]))
    if ids is not None:
        stmt = stmt.where(DiseaseEnrolment.resident_id.in_(ids))
    visits = _visits_by_patient(prefix, w.end, ids)
    schedules, risks = _by_patient(FollowUpSchedule, prefix, ids), _by_patient(RiskLevel, prefix, ids)
    residents, rows = _residents(prefix, ids), []
    for enrolment in session().execute(stmt):
        resident = residents[enrolment.resident_id]
        pk = (resident.id, enrolment.disease)
        schedule, risk = schedules.get(pk), risks.get(pk)
        enrolled_on = clock.date_of(enrolment.enrolled_at)
        overdue = _overdue_days(visits.get(pk, []), schedule, w.end)
        rows.append({**_person(resident, w.end), "key": f"r{resident.id}:{enrolment.disease}",
                     "disease": enrolment.disease, "risk_level": risk.level if risk else None,
                     "doctor_id": (schedule.responsible_user_id if schedule else None)
                     or enrolment.managing_doctor_user_id,
                     "enrolled_on": enrolled_on, "new_in_window": w.start <= enrolled_on <= w.end,
                     "active": schedule is None or schedule.status != "closed",
                     "overdue": overdue is not None, "days_overdue": overdue,
                     **_visit_fields(visits.get(pk, []), w, enrolled_on)})
    return rows


# -- follow-up visits due in the window -----------------------------------------------------------------------------

def _visit_rows(w: Window, prefix: str, ids: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    stmt = (_plain(FollowUpVisit).join(Resident, Resident.id == FollowUpVisit.resident_id)
            .where(_under(Resident.org_path, prefix), FollowUpVisit.due_on >= w.start, FollowUpVisit.due_on <= w.end))
    if ids is not None:
        stmt = stmt.where(FollowUpVisit.resident_id.in_(ids))
    schedules, residents = _by_patient(FollowUpSchedule, prefix, ids), _residents(prefix, ids)
    rows = []
    for v in session().execute(stmt):
        resident = residents[v.resident_id]
        schedule = schedules.get((v.resident_id, v.disease))
        done = _done_by(v, w.end)
        rows.append({**_person(resident, w.end), "key": f"v{v.id}", "visit_id": v.id, "disease": v.disease,
                     "risk_level": schedule.risk_level if schedule else None,
                     "doctor_id": schedule.responsible_user_id if schedule else None,
                     "due_on": v.due_on, "visited_on": v.visited_on if done else None, "done": done,
                     "days_late": ((v.visited_on if done else w.end) - v.due_on).days,
                     "visit_type": v.visit_type})
    return rows


# -- tasks of the inbox ---------------------------------------------------------------------------------------------

def _task_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    lo, hi = _start_utc(w.start), _start_utc(w.end + timedelta(days=1))
    stmt = select(HumanTask).where(_under(HumanTask.org_path, prefix),
                                   or_(and_(HumanTask.due_at >= lo, HumanTask.due_at < hi),
                                       and_(HumanTask.created_at >= lo, HumanTask.created_at < hi)))
    rows = []
    for t in session().scalars(stmt):
        finished = t.completed_at if t.status == "completed" and t.completed_at and t.completed_at < hi else None
        rows.append({"key": f"t{t.id}", "task_id": t.id, "resident_id": t.resident_id,
                     "resident_name": t.resident_name, "org_path": t.org_path, "org_code": t.org_code,
                     "disease": t.disease, "risk_level": t.risk_level, "doctor_id": t.assignee_id,
                     "sex": None, "age": None, "age_band": None, "process_id": t.process_id,
                     "element_id": t.element_id, "task_name": t.name, "status": t.status,
                     "due_on": clock.date_of(t.due_at) if t.due_at else None,
                     "due_in_window": t.due_at is not None and lo <= t.due_at < hi,
                     "created_in_window": lo <= t.created_at < hi,
                     "on_time": finished is not None and t.due_at is not None and finished <= t.due_at})
    return rows


# -- escalations of overdue follow-ups ------------------------------------------------------------------------------

def _escalation_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    lo, hi = _start_utc(w.start), _start_utc(w.end + timedelta(days=1))
    stmt = (select(FollowUpEscalation, FollowUpVisit, Resident)
            .join(FollowUpVisit, FollowUpVisit.id == FollowUpEscalation.visit_id)
            .join(Resident, Resident.id == FollowUpVisit.resident_id)
            .where(_under(Resident.org_path, prefix), FollowUpEscalation.created_at >= lo,
                   FollowUpEscalation.created_at < hi))
    return [{**_person(resident, w.end), "key": f"e{e.id}", "task_id": e.task_id, "disease": v.disease,
             "risk_level": None, "doctor_id": None, "level": e.level, "days_overdue": e.days_overdue,
             "priority": e.priority, "due_on": v.due_on} for e, v, resident in session().execute(stmt)]


# -- lab/imaging orders checked for mutual recognition (issue 17.5; rows kept by app.recognition) ---------------------

def _recognition_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return recognition.indicator_rows(w.start, w.end, prefix)


# -- family-doctor contracts (issue 21.7) ---------------------------------------------------------------------------

SIGNED = ("active", "ended", "terminated")


def _in_force(c: Contract, day: date) -> bool:
    return c.status in SIGNED and c.starts_on is not None and c.ends_on is not None and c.starts_on <= day <= c.ends_on


def _contracts_under(prefix: str) -> list[tuple[Contract, Resident]]:
    stmt = (select(Contract, Resident).join(Resident, Resident.id == Contract.resident_id)
            .where(_under(Resident.org_path, prefix), Contract.starts_on.is_not(None)))
    return list(session().execute(stmt).tuples())


def _contract_resident_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    """One row per resident: signed (a contract in force at the window's end), key group (65+, HTN or T2DM
    enrolled by then), paid package (the contract in force has a package with a personal share)."""
    in_force: dict[int, Contract] = {}
    for c, _r in _contracts_under(prefix):
        if _in_force(c, w.end):
            in_force[c.resident_id] = c
    enrolled = {rid for (rid,) in session().execute(
        select(DiseaseEnrolment.resident_id).join(Resident, Resident.id == DiseaseEnrolment.resident_id)
        .where(_under(Resident.org_path, prefix), DiseaseEnrolment.disease.in_(("htn", "t2dm")),
               DiseaseEnrolment.diagnosed_on <= w.end))}
    rows = []
    for r in _residents(prefix).values():
        person = _person(r, w.end)
        held = in_force.get(r.id)
        rows.append({**person, "key": f"r{r.id}", "disease": None, "risk_level": None,
                     "doctor_id": r.family_doctor_user_id, "signed": held is not None,
                     "key_group": person["age"] >= 65 or r.id in enrolled,
                     "paid_package": held is not None and any(p["payer_split"].get("self", 0) > 0
                                                                  for p in held.packages)})
    return rows


def _contract_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    """One row per signed contract: expiring in the window, renewed (the renewal talk said renew, or a later
    contract replaced it), rated (satisfaction recorded) and satisfied (4 or 5 of 5)."""
    pairs = _contracts_under(prefix)
    successors = {c.previous_id for c, _r in pairs if c.previous_id is not None}
    rows = []
    for c, r in pairs:
        assert c.ends_on is not None
        rows.append({**_person(r, w.end), "key": f"c{c.id}", "disease": None, "risk_level": None,
                     "doctor_id": c.doctor_user_id, "status": c.status,
                     "expiring_in_window": w.start <= c.ends_on <= w.end,
                     "renewed": c.renewal == "renew" or c.id in successors,
                     "rated": c.satisfaction is not None, "satisfied": (c.satisfaction or 0) >= 4})
    return rows


def _contract_unit_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    """One row per package unit due in the window or delivered in it: delivered (by the window's end) and on time
    (delivered by its due date)."""
    pairs = _contracts_under(prefix)
    by_id = {c.id: (c, r) for c, r in pairs}
    if not by_id:
        return []
    delivered: dict[tuple[int, int], ContractDelivery] = {
        (d.item_id, d.unit_no): d for d in session().scalars(
            select(ContractDelivery).where(ContractDelivery.contract_id.in_(list(by_id))))}
    rows = []
    for item in session().scalars(select(ContractItem).where(ContractItem.contract_id.in_(list(by_id)))):
        c, r = by_id[item.contract_id]
        for n in range(item.quantity):
            due = date.fromisoformat(item.due_dates[n]) if n < len(item.due_dates) else None
            d = delivered.get((item.id, n + 1))
            done = d is not None and d.delivered_on <= w.end
            due_in = due is not None and w.start <= due <= w.end
            if not (due_in or (done and d is not None and d.delivered_on >= w.start)):
                continue
            rows.append({**_person(r, w.end), "key": f"u{item.id}.{n + 1}", "disease": item.disease,
                         "risk_level": None, "doctor_id": c.doctor_user_id, "kind": item.kind,
                         "package_code": item.package_code, "due_on": due, "due_in_window": due_in,
                         "delivered": done, "on_time": done and d is not None and (due is None or d.delivered_on <= due)})
    return rows


def _consult_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return consults.indicator_rows(w.start, w.end, prefix)


def _liaison_duty_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return liaison.duty_rows(w.start, w.end, prefix)


def _liaison_slot_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return liaison.slot_rows(w.start, w.end, prefix)


def _liaison_milestone_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return liaison.milestone_rows(w.start, w.end, prefix)


# -- supervised anticoagulant prescriptions and monitoring (issue 18.7; rows kept by app.pharmacy / app.anticoag) ------

def _rx_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return pharmacy.indicator_rows(w.start, w.end, prefix)


def _inr_test_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return anticoag.inr_test_rows(w.start, w.end, prefix)


def _anticoag_patient_rows(w: Window, prefix: str) -> list[dict[str, Any]]:
    return anticoag.patient_rows(w.start, w.end, prefix)


PERSON_DIMS = ("org", "doctor", "disease", "risk_level", "age_band", "sex")
SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("residents", "辖区居民", "resident", {"age": "int", "sex": "str", "age_band": "str"},
           ("org", "doctor", "age_band", "sex"), _resident_rows),
    Source("chronic_patients", "慢病在管患者", "resident", {
        "disease": "str", "risk_level": "str", "sex": "str", "age": "int", "age_band": "str",
        "enrolled_on": "date", "new_in_window": "bool", "active": "bool", "overdue": "bool", "days_overdue": "int",
        "visits": "int", "face_visits": "int", "required_visits": "int", "last_visit_on": "date",
        "last_sbp": "float", "last_dbp": "float", "last_fpg": "float", "last_hba1c": "float",
        "lost_to_follow_up": "bool"}, PERSON_DIMS, _patient_rows),
    Source("follow_up_visits", "到期随访", "resident", {
        "disease": "str", "risk_level": "str", "sex": "str", "age": "int", "age_band": "str", "due_on": "date",
        "visited_on": "date", "done": "bool", "days_late": "int", "visit_type": "str"}, PERSON_DIMS, _visit_rows),
    Source("tasks", "待办任务", "task", {
        "process_id": "str", "element_id": "str", "status": "str", "disease": "str", "risk_level": "str",
        "due_on": "date", "due_in_window": "bool", "created_in_window": "bool", "on_time": "bool"},
        ("org", "doctor", "disease", "risk_level"), _task_rows),
    Source("escalations", "逾期升级", "resident", {
        "disease": "str", "level": "str", "days_overdue": "int", "priority": "int", "age": "int", "sex": "str",
        "age_band": "str"}, ("org", "disease", "age_band", "sex"), _escalation_rows),
    Source("recognition_orders", "检查检验开单互认核对", "resident", {
        "item_class": "str", "status": "str", "channel": "str", "repeat_in_window": "bool", "reason_given": "bool",
        "avoided": "bool", "awaiting_reason": "bool", "recognised_results": "int"}, ("org", "doctor"),
        _recognition_rows),
    Source("contract_residents", "辖区居民（签约）", "resident", {
        "age": "int", "sex": "str", "age_band": "str", "signed": "bool", "key_group": "bool", "paid_package": "bool"},
        ("org", "doctor", "age_band", "sex"), _contract_resident_rows),
    Source("contracts", "签约协议", "resident", {
        "status": "str", "expiring_in_window": "bool", "renewed": "bool", "rated": "bool", "satisfied": "bool",
        "age": "int", "sex": "str", "age_band": "str"}, ("org", "doctor", "age_band", "sex"), _contract_rows),
    Source("contract_units", "服务包项目（应履约）", "resident", {
        "kind": "str", "package_code": "str", "disease": "str", "due_on": "date", "due_in_window": "bool",
        "delivered": "bool", "on_time": "bool", "age": "int", "sex": "str", "age_band": "str"},
        ("org", "doctor", "disease", "age_band", "sex"), _contract_unit_rows),
    Source("consults", "远程会诊", "resident", {
        "status": "str", "mode": "str", "urgent": "bool", "invited": "bool", "accepted_on_time": "bool",
        "response_minutes": "float", "held": "bool", "report_on_time": "bool", "adopted": "bool", "evaluated": "bool",
        "avoided_transfer": "bool", "consent_before_invite": "bool", "surveyed": "bool", "satisfied": "bool"},
        ("org", "doctor"), _consult_rows),
    Source("liaison_duties", "下沉专家坐诊（应到岗）", "task", {
        "specialty": "str", "delivered": "bool", "on_date": "date"}, ("org", "doctor"), _liaison_duty_rows),
    Source("liaison_slots", "下沉专家号源", "task", {"specialty": "str", "used": "bool"}, ("org", "doctor"),
           _liaison_slot_rows),
    Source("specialty_milestones", "专科共建里程碑（到期）", "task", {
        "specialty": "str", "reviewed": "bool", "on_time": "bool", "met": "bool"}, ("org",), _liaison_milestone_rows),
    Source("rx_prescriptions", "监管抗凝药处方", "resident", {
        "status": "str", "settled": "bool", "reviewed_before_billing": "bool", "manual_review": "bool",
        "auto_passed": "bool", "intervened": "bool", "intervention_accepted": "bool", "reviewed_on_time": "bool",
        "billed": "bool"}, ("org",), _rx_rows),
    Source("anticoag_inr_tests", "到期 INR 检测", "resident", {
        "due_on": "date", "done_on": "date", "on_time": "bool", "source": "str"}, ("org",), _inr_test_rows),
    Source("anticoag_patients", "抗凝治疗患者", "resident", {
        "drug": "str", "warfarin": "bool", "has_inr_in_window": "bool", "last_inr_in_range": "bool", "ttr": "float",
        "ttr_band": "str", "bleeding_major": "bool"}, ("org",), _anticoag_patient_rows),
)}


_OF_RESIDENTS: dict[str, Callable[[Window, str, tuple[int, ...]], list[dict[str, Any]]]] = {
    "residents": _resident_rows, "chronic_patients": lambda w, prefix, ids: _patient_rows(w, prefix, None, ids),
    "follow_up_visits": _visit_rows}


def rows_for(source: str, w: Window, prefix: str, resident_ids: Iterable[int]) -> list[dict[str, Any]]:
    """The rows of `source` (residents, chronic_patients or follow_up_visits) for the given residents of the
    subtree only: the same rows a read of the whole subtree has for them (a members page builds 50, not a
    village's), read by resident id and not shared with `shared_reads`."""
    if source not in _OF_RESIDENTS:
        raise ValueError(f"no rows by resident for source {source!r}")
    return _OF_RESIDENTS[source](w, prefix, tuple(sorted(set(resident_ids))))
