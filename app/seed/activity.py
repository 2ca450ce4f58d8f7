"""The demo county at work: a few months of clinical data and process activity, made through the real services.

`seed_activity()` runs after the people step of `ygt seed-demo`. It moves the platform clock (`app.core.clock`)
back about four months and forward again day by day — nothing sleeps — so everything carries plausible dates:

1. **History cohort** (`STORIES`: a dozen residents, four of them in village_doctor1's village C01T01V01): a
   HIS diagnosis (I10 / E11) and raised values are recorded (`rescreen=False`), the population batch (`ygt screen`)
   flags them, township doctors confirm and enrol them through the task service, `stratify` grades them, the
   `care_plan` process gets a plan drafted, approved (a second specialist) and acknowledged by the village doctor,
   and the follow-up scheduler (`generate_due_cycles`) brings cycles due, which the village doctor completes with
   the visit's values — until the last cycle of each story stays open (some overdue).
2. **Population data** (about a quarter of the other residents): a public-health exam and HIS results of the past
   year — BP (LOINC 8480-6/8462-4), BMI, waist, glucose, HbA1c, lipids, creatinine, smoking and family history,
   some I10/E11 diagnoses and two-way-referral flags — then a second batch run opens fresh verification tasks.
3. **Yesterday in township 1**: a few cases confirmed (one enrolled → its care plan waits for the county), one
   rejected, one test ordered (waits for `lab_result`), one claimed by township_doctor1 and left open; a test
   order that met an LIS outage is an incident (status `error`, retryable); the supervisor suspended one instance.

Idempotent (a second run finds the marker rows and adds nothing) and deterministic (a seeded RNG; dates are
relative to today). Jobs run inline while it works.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from app.auth.models import User, UserRole
from app.auth.services import find_user, principal_for
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.follow_up import jobs as follow_up_jobs
from app.jobs import queue
from app.processes.services import act
from app.residents.models import Resident
from app.residents.record_models import Observation
from app.residents.records import (
    record_condition,
    record_medication,
    record_observation,
    record_risk_factor,
    set_referral_flag,
)
from app.screening import batch
from app.screening import queries as screening_queries
from app.tasks.completion import complete
from app.tasks.services import claim, task_detail
from app.workflows import bindings
from app.workflows import jobs as workflow_jobs
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

from .consult import seed_consults
from .contracting import seed_contracts
from .democlock import DemoClock
from .intervention import seed_intervention
from .liaison import seed_liaison
from .live import seed_live_room
from .pharmacy import seed_anticoag_episodes, seed_prescriptions
from .referrals import seed_referrals
from .research import seed_research
from .training import seed_training

log = logs.get("seed")
MARK = "demo:"                       # client_id prefix of every record row the demo writes
PROCESSES = ("screening", "stratify", "care_plan", "follow_up")
PLAN_INTERVAL = 30                   # days between follow-ups in the demo's plans
POPULATION_SHARE = 0.25


@dataclass(frozen=True)
class Story:
    """One resident of the history cohort: the `nth` resident (by id, aged 45 or more) of `village`, enrolled for `disease`, with
    the values of the follow-ups already done (BP pairs for htn, fasting glucose for t2dm) and the day the open
    cycle is due (relative to today; negative = overdue)."""
    village: str
    nth: int
    disease: str
    visits: tuple
    due_in: int


STORIES = (
    Story("C01T01V01", 0, "htn", ((138, 86), (132, 82)), 3),
    Story("C01T01V01", 1, "htn", ((156, 96), (134, 84)), -6),       # overdue
    Story("C01T01V01", 2, "t2dm", (6.6,), 5),
    Story("C01T01V01", 3, "htn", (), 6),
    Story("C01T01V02", 0, "htn", ((130, 80),), -3),
    Story("C01T01V03", 0, "t2dm", (), 2),
    Story("C01T01V04", 0, "htn", ((128, 78), (152, 94)), 1),
    Story("C01T02V01", 0, "htn", ((136, 84),), -12),
    Story("C01T02V02", 0, "htn", (), 4),
    Story("C01T03V01", 0, "t2dm", (6.4,), 2),
    Story("C01T05V01", 0, "htn", ((130, 82), (128, 80)), -20),
    Story("C01T08V02", 0, "htn", ((134, 82),), 7),
)


def _controlled(disease: str, value) -> bool:
    return value[0] < 140 and value[1] < 90 if disease == "htn" else value < 7.0


def _interval(disease: str, value) -> int:
    return PLAN_INTERVAL if _controlled(disease, value) else 14


def _inline_jobs():
    """Run jobs in this thread while seeding (the CLI's default is a background thread that would outlive it)."""
    return queue.inline()


def _outage(operator_name: str, message: str):
    """A connector outage for the demo's incident: the operator raises (retried, then an incident)."""

    def down(**_kw):
        raise ConnectionError(message)
    return bindings.replaced_operator(operator_name, down)


# -- people and tasks ----------------------------------------------------------------------------------------

class People:
    def __init__(self) -> None:
        rows = session().execute(select(User.username, User.id, User.org_code, UserRole.role)
                                 .join(UserRole, UserRole.user_id == User.id)).all()
        self.by_name = {r.username: r for r in rows}
        self.village_doctor = {r.org_code: r.username for r in rows if r.role == "village_doctor"}
        self._principals: dict[str, Any] = {}

    def principal(self, username: str):
        if username not in self._principals:
            user = find_user(username)
            if user is None:
                raise RuntimeError(f"seed user {username} is missing (run the seed's users first)")
            self._principals[username] = principal_for(user)
        return self._principals[username]

    @staticmethod
    def township_doctor(org_code: str, k: int = 1) -> str:
        t = int(org_code[4:6])
        return f"township_doctor{2 * t - 2 + k}"


def _open_tasks(*, element_id: str | tuple[str, ...] | None = None, process_id: str | None = None,
                resident_id: int | None = None, org_prefix: str | None = None) -> list:
    stmt = select(HumanTask).where(HumanTask.status == "open")
    if element_id is not None:
        ids = (element_id,) if isinstance(element_id, str) else element_id
        stmt = stmt.where(HumanTask.element_id.in_(ids))
    if process_id is not None:
        stmt = stmt.where(HumanTask.process_id == process_id)
    if resident_id is not None:
        stmt = stmt.where(HumanTask.resident_id == resident_id)
    if org_prefix is not None:
        stmt = stmt.where(HumanTask.org_path.like(f"{org_prefix}%"))
    with unit_of_work() as s:
        return list(s.scalars(stmt.order_by(HumanTask.id)))


def _complete(people: People, username: str, task, data: dict[str, Any]) -> dict:
    return complete(people.principal(username), task.id, data=data)


def _form_data(people: People, username: str, task) -> dict[str, Any]:
    return task_detail(people.principal(username), task.id)["form"]


# -- the history cohort --------------------------------------------------------------------------------------

def _residents_by_village() -> dict[str, list[tuple[int, date, str]]]:
    out: dict[str, list] = {}
    for rid, org, born, sex in session().execute(select(Resident.id, Resident.org_code, Resident.birth_date,
                                                        Resident.sex).order_by(Resident.id)):
        out.setdefault(org, []).append((rid, born, sex))
    return out


def _obs(rid: int, code: str, value, unit: str, at: datetime, source: str, key: str) -> None:
    record_observation(rid, code=code, value=value, unit=unit, effective_at=at, source=source,
                       client_id=f"{MARK}{rid}:{key}", rescreen=False)


def _story_residents(villages: dict[str, list], today: date) -> list[tuple[Story, int]]:
    """Each story's resident: the `nth` resident aged 45 or more of its village (a story without one is left out)."""
    out = []
    for story in STORIES:
        adults = [rid for rid, born, _sex in villages.get(story.village, []) if (today - born).days >= 45 * 365]
        if len(adults) > story.nth:
            out.append((story, adults[story.nth]))
    return out


def _story_history(rid: int, story: Story, clk: DemoClock, start: int, rng: random.Random) -> None:
    """What the HIS and the public-health exam knew before the story's case was flagged."""
    for n, back in enumerate((60, 35, 12)):
        at = clk.day(start - back)
        sbp, dbp = (rng.randint(148, 162), rng.randint(92, 100)) if story.disease == "htn" else \
            (rng.randint(128, 138), rng.randint(78, 86))
        _obs(rid, "8480-6", sbp, "mmHg", at, "public_health", f"sbp:{n}")
        _obs(rid, "8462-4", dbp, "mmHg", at, "public_health", f"dbp:{n}")
    at = clk.day(start - 12)
    _obs(rid, "39156-5", round(rng.uniform(24.5, 28.5), 1), "kg/m2", at, "public_health", "bmi")
    _obs(rid, "8280-0", rng.randint(86, 98), "cm", at, "public_health", "waist")
    _obs(rid, "2093-3", round(rng.uniform(4.8, 6.2), 2), "mmol/L", at, "his", "tc")
    _obs(rid, "13457-7", round(rng.uniform(2.8, 3.9), 2), "mmol/L", at, "his", "ldl")
    _obs(rid, "2085-9", round(rng.uniform(0.9, 1.3), 2), "mmol/L", at, "his", "hdl")
    _obs(rid, "2160-0", rng.randint(62, 98), "umol/L", at, "his", "creatinine")
    if story.disease == "t2dm":
        _obs(rid, "1558-6", round(rng.uniform(7.6, 9.2), 1), "mmol/L", at, "his", "fpg")
        _obs(rid, "4548-4", round(rng.uniform(7.2, 8.4), 1), "%", at, "his", "hba1c")
    else:
        _obs(rid, "1558-6", round(rng.uniform(4.8, 5.9), 1), "mmol/L", at, "his", "fpg")
    icd10 = "I10" if story.disease == "htn" else "E11.9"
    record_condition(rid, icd10=icd10, onset_on=(clk.today + timedelta(days=start - 20)), source="his",
                     client_id=f"{MARK}{rid}:dx", rescreen=False)
    drug = ("amlodipine", "5mg", "qd") if story.disease == "htn" else ("metformin", "500mg", "bid")
    record_medication(rid, drug=drug[0], dose=drug[1], frequency=drug[2], started_on=clk.today + timedelta(days=start - 20),
                      source="his", client_id=f"{MARK}{rid}:med")
    record_risk_factor(rid, factor="smoking", value=rng.random() < 0.4, source="public_health")
    record_risk_factor(rid, factor="famhx_htn", value=rng.random() < 0.5, source="public_health")


def _confirm_and_enrol(people: People, rid: int, disease: str, village: str) -> None:
    doctor = people.township_doctor(village)
    for task in _open_tasks(element_id="verify_case", resident_id=rid):
        if task.disease in (disease, None):
            _complete(people, doctor, task, {"verification": "confirm", "note": "核实：医院诊断明确"})
        else:               # the same batch's other suspicions (stroke/CKD risk from the same values)
            _complete(people, doctor, task, {"verification": "reject",
                                             "reject_reason": "已核实：暂不另行建档，随慢病随访观察"})
    for task in _open_tasks(element_id="enrol_case", resident_id=rid):
        form = _form_data(people, doctor, task)["data"]
        _complete(people, doctor, task, {**{k: v for k, v in form.items() if v is not None},
                                         "diagnosed_on": clock.today().isoformat()})


def _review_high_risk(people: People, rid: int, village: str) -> None:
    for task in _open_tasks(element_id="review_high_risk", resident_id=rid):
        _complete(people, people.township_doctor(village), task,
                  {"confirmed_level": task.risk_level or "HIGH", "plan": "加强随访", "note": "已电话通知村医加强随访"})


def _run_care_plan(people: People, rid: int, disease: str, village: str) -> None:
    """Draft (county, or township for low risk and revisions), approve (a second specialist), acknowledge (the
    village doctor)."""
    county = {"htn": ("specialist_cardio", "specialist_endo"), "t2dm": ("specialist_endo", "specialist_cardio")}
    drafter, approver = county[disease]
    drafts = ("draft_plan_county", "draft_plan_township", "propose_revision")
    for task in _open_tasks(element_id=drafts, resident_id=rid):
        who = drafter if task.element_id == "draft_plan_county" else people.township_doctor(village)
        form = _form_data(people, who, task)
        content = dict(form["data"].get("content") or form["schema"]["properties"]["content"].get("default") or {})
        content["follow_up_interval_days"] = PLAN_INTERVAL
        reason = "首次制订" if task.element_id != "propose_revision" else "随访血压变化，风险分层调整，方案复核"
        _complete(people, who, task, {"content": content, "change_reason": reason})
    for task in _open_tasks(element_id="approve_plan", resident_id=rid):
        _complete(people, approver, task, {"approved": True, "approval_comment": "同意，按方案执行"})
    for task in _open_tasks(element_id="acknowledge_plan", resident_id=rid):
        _complete(people, people.village_doctor[village], task,
                  {"acknowledged": True, "acknowledgement_note": "已向患者及家属说明方案"})


def _visit_data(task_form: dict[str, Any], disease: str, value, high_risk: bool) -> dict[str, Any]:
    today = clock.today().isoformat()
    drugs = (task_form.get("data") or {}).get("medication", {}).get("drugs") or \
        task_form["schema"]["properties"]["medication"]["properties"]["drugs"].get("default") or []
    sbp, dbp = value if disease == "htn" else (132, 80)
    signs: dict[str, Any] = {"bp_readings": [{"sbp": sbp, "dbp": dbp}, {"sbp": sbp - 2, "dbp": dbp - 1}],
                             "bp_source": "诊室", "heart_rate": 74, "weight_kg": 66.5}
    data: dict[str, Any] = {
        "visit": {"visit_date": today, "visit_type": "outpatient", "outcome": "完成随访"},
        "symptoms": {"items": ["无症状"]},
        "signs": signs,
        "lifestyle": {"smoking_per_day": 0, "compliance": "良好"},
        "labs": {},
        "medication": {"adherence": "规律", "adr": "无", "drugs": drugs},
        "assessment": {"new_complication": False, "request_plan_revision": False},
        "referral": {}}
    if disease == "t2dm":
        signs["dorsalis_pedis"] = "触及正常"
        data["labs"] = {"fpg": value}
        data["medication"]["hypoglycemia"] = "无"
        data["lifestyle"] = {"smoking_per_day": 0, "staple_food_g": 300}
    return data


def _complete_due_visits(people: People, stories: dict[int, tuple[Story, str]], done: dict[int, int]) -> None:
    """Each story resident whose follow-up is due today is seen today (until the story's visits are done)."""
    today = clock.today()
    for task in _open_tasks(process_id="follow_up"):
        if task.resident_id not in stories:
            continue
        story, village = stories[task.resident_id]
        n = done.get(task.resident_id, 0)
        if n >= len(story.visits) or task.due_at is None or clock.date_of(task.due_at) > today:
            continue
        doctor = people.village_doctor[village]
        form = _form_data(people, doctor, task)
        _complete(people, doctor, task, _visit_data(form, story.disease, story.visits[n], bool(
            (task.data or {}).get("high_risk"))))
        done[task.resident_id] = n + 1


def _tick() -> None:
    """The scheduler's follow-up and timer work, once (what `run_once` does for these entries)."""
    workflow_jobs.enqueue_due_timers()
    follow_up_jobs.generate_due_cycles()


def _screen(started_by: str) -> dict[str, Any]:
    """A population run as the workers do it, chunk by chunk (here in this process), so 筛查批次 shows its chunks."""
    run_id = batch.create_chunked_run(started_by=started_by, chunk_size=1000, enqueue=False).id
    for seq in batch.pending_chunks(run_id):
        batch.screen_chunk(run_id, seq)
    session().expire_all()                              # the chunks committed their counts in their own units
    run = screening_queries.stored_run(run_id)
    return {"processed": run.processed, "cases": run.cases_created}


def _history(people: People, clk: DemoClock, villages: dict[str, list], rng: random.Random) -> dict[str, int]:
    stories: dict[int, tuple[Story, str]] = {}
    plan_day: dict[int, int] = {}
    for story, rid in _story_residents(villages, clk.today):
        stories[rid] = (story, story.village)
        plan_day[rid] = story.due_in - PLAN_INTERVAL - sum(_interval(story.disease, v) for v in story.visits)
    first = min(plan_day.values()) - 3
    clk.go(first - 2)
    with unit_of_work():
        for rid, (story, _v) in stories.items():
            _story_history(rid, story, clk, first - 2, rng)
    clk.go(first - 1)
    _screen("seed-demo")
    done: dict[int, int] = {}
    for day in range(first, 0):
        clk.go(day)
        for rid, (story, village) in stories.items():
            if plan_day[rid] < day:       # yesterday's follow-up changed the risk level: review, revise the plan
                _confirm_and_enrol(people, rid, story.disease, village)     # (and new stroke/CKD suspicions)
                _review_high_risk(people, rid, village)
                _run_care_plan(people, rid, story.disease, village)
            if plan_day[rid] - 2 == day:
                _confirm_and_enrol(people, rid, story.disease, village)
            if plan_day[rid] - 1 == day:
                _review_high_risk(people, rid, village)
            if plan_day[rid] == day:
                _run_care_plan(people, rid, story.disease, village)
        _tick()
        _complete_due_visits(people, stories, done)
    return {"story_residents": len(stories), "follow_up_visits_done": sum(done.values())}


# -- population data -----------------------------------------------------------------------------------------

def _population(clk: DemoClock, villages: dict[str, list], skip: set[int], rng: random.Random) -> int:
    """A public-health exam (and some HIS results) in the past year for a share of the residents."""
    people = [p for org in sorted(villages) for p in villages[org] if p[0] not in skip]
    chosen = [p for p in people if rng.random() < POPULATION_SHARE]
    today = clock.today()
    with unit_of_work():
        for rid, born, sex in chosen:
            age = (today - born).days // 365
            exam = clk.day(-rng.randint(8, 330), time(rng.randint(8, 11), rng.choice((0, 15, 30, 45))))
            base_sbp = 108 + 0.65 * max(age - 25, 0) + rng.gauss(0, 13)
            base_dbp = 68 + 0.22 * max(age - 25, 0) + rng.gauss(0, 8)
            days = [exam] + ([exam + timedelta(days=rng.randint(3, 20))] if base_sbp >= 135 else [])
            for n, at in enumerate(days):
                _obs(rid, "8480-6", int(min(max(base_sbp + rng.gauss(0, 5), 90), 210)), "mmHg", at, "public_health",
                     f"sbp:{n}")
                _obs(rid, "8462-4", int(min(max(base_dbp + rng.gauss(0, 4), 55), 125)), "mmHg", at, "public_health",
                     f"dbp:{n}")
            height = rng.gauss(168 if sex == "M" else 157, 6)
            bmi = round(min(max(rng.gauss(23.8, 3.2), 16.5), 38), 1)
            _obs(rid, "8302-2", round(height), "cm", exam, "public_health", "height")
            _obs(rid, "29463-7", round(bmi * (height / 100) ** 2, 1), "kg", exam, "public_health", "weight")
            _obs(rid, "39156-5", bmi, "kg/m2", exam, "public_health", "bmi")
            _obs(rid, "8280-0", round(bmi * 3.4 + rng.gauss(0, 4)), "cm", exam, "public_health", "waist")
            if rng.random() < 0.7:
                fpg = round(min(max(rng.lognormvariate(1.68, 0.14) + (0.02 * max(age - 40, 0)), 3.6), 16), 1)
                _obs(rid, "1558-6", fpg, "mmol/L", exam, "public_health", "fpg")
                if fpg >= 6.1 and rng.random() < 0.7:
                    _obs(rid, "4548-4", round(4.4 + fpg * 0.3 + rng.gauss(0, 0.3), 1), "%", exam, "his", "hba1c")
            if rng.random() < 0.5:
                _obs(rid, "2093-3", round(rng.gauss(4.9, 0.8), 2), "mmol/L", exam, "his", "tc")
                _obs(rid, "13457-7", round(rng.gauss(2.9, 0.7), 2), "mmol/L", exam, "his", "ldl")
                _obs(rid, "2085-9", round(min(max(rng.gauss(1.3, 0.25), 0.6), 2.4), 2), "mmol/L", exam, "his", "hdl")
                _obs(rid, "2571-8", round(min(max(rng.lognormvariate(0.35, 0.4), 0.4), 8), 2), "mmol/L", exam,
                     "his", "tg")
            if rng.random() < 0.4:
                _obs(rid, "2160-0", int(min(max(rng.gauss(78 if sex == "M" else 62, 16), 35), 400)), "umol/L", exam,
                     "his", "creatinine")
            smoker = rng.random() < (0.45 if sex == "M" else 0.03)
            record_risk_factor(rid, factor="smoking", value=smoker, source="public_health")
            record_risk_factor(rid, factor="famhx_htn", value=rng.random() < 0.25, source="public_health")
            if age >= 50 and base_sbp >= 150 and rng.random() < 0.45:
                record_condition(rid, icd10="I10", onset_on=today - timedelta(days=rng.randint(200, 3000)),
                                 source="his", client_id=f"{MARK}{rid}:dx-htn", rescreen=False)
                record_medication(rid, drug="amlodipine", dose="5mg", frequency="qd", started_on=None, source="his",
                                  client_id=f"{MARK}{rid}:med-htn")
            if age >= 45 and rng.random() < 0.04:
                record_condition(rid, icd10="E11.9", onset_on=today - timedelta(days=rng.randint(200, 3000)),
                                 source="his", client_id=f"{MARK}{rid}:dx-dm", rescreen=False)
            if rng.random() < 0.012:
                set_referral_flag(rid, source=rng.choice(("his", "insurance")),
                                  reason=rng.choice(("县医院出院转回基层管理", "医保慢病门诊登记")))
    return len(chosen)


# -- yesterday in township 1 ---------------------------------------------------------------------------------

def _yesterday(people: People) -> dict[str, int]:
    out = {"confirmed": 0, "rejected": 0, "tests_ordered": 0}
    verify = _open_tasks(element_id="verify_case", org_prefix="/C01/C01T01/")
    htn = [t for t in verify if t.disease == "htn"]
    other = [t for t in verify if t.disease != "htn"]
    d1, d2 = "township_doctor1", "township_doctor2"
    for task in htn[:2]:
        _complete(people, d1, task, {"verification": "confirm", "note": "门诊复测血压仍高，确认"})
        out["confirmed"] += 1
    enrol = _open_tasks(element_id="enrol_case", org_prefix="/C01/C01T01/")
    if enrol:
        form = _form_data(people, d1, enrol[0])["data"]
        _complete(people, d1, enrol[0], {**{k: v for k, v in form.items() if v is not None},
                                         "diagnosed_on": clock.today().isoformat()})
    rest = htn[2:] + other
    if rest:
        _complete(people, d2, rest[0], {"verification": "reject", "reject_reason": "白大衣高血压，家庭自测血压正常"})
        out["rejected"] += 1
    if len(rest) > 1:
        _complete(people, d2, rest[1], {"verification": "needs_test", "test": "非同日复测血压"})
        out["tests_ordered"] += 1
    if len(rest) > 2:
        with _outage("screening/order_test", "LIS 接口连接超时 (lis.qingxi.local:2575 timed out)"):
            _complete(people, d1, rest[2], {"verification": "needs_test", "test": "空腹血糖复查"})
        out["tests_ordered"] += 1
    if len(rest) > 3:
        claim(people.principal(d1), rest[3].id)
    # village_doctor1 has taken the two most urgent follow-ups (我的待办); the others wait in 组内待领
    visits = sorted(_open_tasks(process_id="follow_up", org_prefix="/C01/C01T01/C01T01V01/"),
                    key=lambda t: t.due_at)
    for task in visits[:2]:
        claim(people.principal(people.village_doctor["C01T01V01"]), task.id)
    # the supervisor holds one case elsewhere (the family reports the resident moved away)
    elsewhere = _open_tasks(element_id="verify_case", org_prefix="/C01/C01T12/")
    if elsewhere:
        act(people.principal("supervisor"), elsewhere[0].instance_id, "suspend")
    return out


# -- entry point ---------------------------------------------------------------------------------------------

def already_seeded() -> bool:
    return (session().scalar(select(func.count()).select_from(Observation)
                             .where(Observation.client_id.like(f"{MARK}%"))) or 0) > 0


def models_deployed() -> bool:
    deployed = latest_process_versions(session())
    return all(p in deployed for p in PROCESSES)


def seed_activity(*, rng_seed: int) -> dict[str, int]:
    """Add the demo's clinical data and process activity once; {} when already there or models are missing."""
    if already_seeded() or not models_deployed():
        session().rollback()
        return {}
    session().rollback()
    rng = random.Random(rng_seed)
    people = People()
    villages = _residents_by_village()
    clk = DemoClock()
    out: dict[str, int] = {}
    try:
        with _inline_jobs():
            out.update(_history(people, clk, villages, rng))
            skip = {rid for _s, rid in _story_residents(villages, clk.today)}
            clk.go(-3)
            out["residents_with_data"] = _population(clk, villages, skip, rng) + len(skip)
            clk.go(-2)
            out["screening_cases"] = _screen("public_health1")["cases"]
            clk.go(-1, time(15, 10))
            out.update(_yesterday(people))
            out.update(seed_referrals(lambda username, task, data: _complete(people, username, task, data)))
            out.update(seed_prescriptions())
            out.update(seed_anticoag_episodes(lambda username, task, data: _complete(people, username, task, data)))
            out.update(seed_contracts(lambda username, task, data: _complete(people, username, task, data)))
            clk.restore()
            out.update(seed_live_room())       # now: its vitals fill the last ten minutes' trend
            out.update(seed_consults(lambda username, task, data: _complete(people, username, task, data),
                                     people.principal))
            _tick()
    finally:
        clk.restore()
    return out


def seed_liaison_activity() -> dict[str, int]:
    """The expert rota, a booking and the specialty-building plans (`app/seed/liaison.py`), once."""
    people = People()
    with _inline_jobs():
        return seed_liaison(lambda username, task, data: _complete(people, username, task, data), people.principal)


def seed_research_activity() -> dict[str, int]:
    """One approved and released research project (`app/seed/research.py`), once."""
    people = People()
    with _inline_jobs():
        return seed_research(lambda username, task, data: _complete(people, username, task, data), people.principal)


def seed_intervention_activity() -> dict[str, int]:
    """Four months of the interventional centre's cases (`app/seed/intervention.py`), once; it moves the clock and
    puts it back."""
    people = People()
    with _inline_jobs():
        return seed_intervention(lambda username, task, data: _complete(people, username, task, data),
                                 people.principal)


def seed_training_activity(*, rng_seed: int) -> dict[str, int]:
    """The training plans and sessions of the demo (`app/seed/training.py`), once; the clock is put back after."""
    platform_then, wall_then = clock.now(), datetime.now(UTC)
    try:
        with _inline_jobs():
            return seed_training(People(), random.Random(rng_seed))
    finally:
        clock.advance(platform_then + (datetime.now(UTC) - wall_then) - clock.now())
