"""Demo interventional centre (介入中心): four months of cases of the county hospital's 微创介入中心 (specialist_mic,
C01D04), each run through the real `intervention_case` process with the platform clock moved to its days — pre-op
assessment (one patient on warfarin), consent, reservation, intra-operative UDI scans of implants and consumables
from lots received into the centre's 二级库 (C01-IC), the 48-hour and 31-day checkpoints (a few complications, one
unplanned return to theatre with the quality office's root-cause analysis), discharge, the DRG grouper's result
imported as the 医保结算清单 connector would, and the 30-day follow-up with satisfaction.

Discharges fall in the three previous months and in the first days of the current one (the page's default month),
so the centre dashboard shows figures on every month; the latest cases wait at their next step (an operation
today, a 31-day checkpoint or follow-up not yet due), a four-grade case was declined by the MDT. Idempotent: nothing
is added when the centre already has cases."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select

from app.core import clock
from app.core.db import session
from app.intervention import monthly
from app.intervention import services as intervention
from app.intervention.models import InterventionCase
from app.residents.models import Resident
from app.residents.records import record_medication
from app.supply import queries as supply_queries
from app.supply import services as supply
from app.supply.udi import check_digit, element_string
from app.workflows import jobs as workflow_jobs
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

from .consult import signature_png
from .supply import BALLOON_GTIN, STENT_GTIN, WIRE_GTIN

DOCTOR, QUALITY, CONNECTOR = "specialist_mic", "supervisor", "county_admin"
STORE = "C01-IC"


def _gtin(body13: str) -> str:
    return body13 + check_digit(body13)


PERIPHERAL_GTIN, COIL_GTIN, MICROCATH_GTIN = _gtin("0690123450006"), _gtin("0690123450007"), _gtin("0690123450008")
# extra products of the centre (code, name, unit, gtin, fields) — the coronary ones come from app/seed/supply.py
ITEMS = (
    ("STENT-PER", "外周血管自膨式支架 6×60mm", "个", PERIPHERAL_GTIN,
     {"high_value": True, "category": "stent", "unit_price_fen": 720000, "lead_time_days": 7,
      "insurance_code": "C0303010020000007890456"}),
    ("COIL-DET", "可解脱弹簧圈 4mm×10cm", "个", COIL_GTIN,
     {"high_value": True, "category": "coil", "unit_price_fen": 650000, "lead_time_days": 7,
      "insurance_code": "C0304010030000007890789"}),
    ("MICROCATH", "微导管 2.7F", "根", MICROCATH_GTIN,
     {"high_value": True, "category": "catheter", "unit_price_fen": 260000, "lead_time_days": 5}),
)
# lots received at the start of the demo history (item, gtin, lot, quantity)
LOTS = (("STENT-DES", STENT_GTIN, "S2405", 20), ("BALLOON-25", BALLOON_GTIN, "B2404", 12),
        ("WIRE-014", WIRE_GTIN, "G2405", 16), ("STENT-PER", PERIPHERAL_GTIN, "P2405", 6),
        ("COIL-DET", COIL_GTIN, "C2405", 8), ("MICROCATH", MICROCATH_GTIN, "M2405", 6))
LOT_OF = {gtin: lot for _i, gtin, lot, _q in LOTS}
IMPLANTS = {STENT_GTIN, PERIPHERAL_GTIN, COIL_GTIN}
NAMES = {STENT_GTIN: "药物洗脱冠脉支架", BALLOON_GTIN: "冠脉球囊扩张导管", WIRE_GTIN: "PTCA 导引导丝",
         PERIPHERAL_GTIN: "外周血管自膨式支架", COIL_GTIN: "可解脱弹簧圈", MICROCATH_GTIN: "微导管"}
PROCEDURES = {
    "coronary": ("冠状动脉粥样硬化性心脏病 不稳定型心绞痛", "36.0700", "经皮冠状动脉药物洗脱支架置入术", "FM19",
                 "经皮心血管操作及冠状动脉药物洗脱支架植入"),
    "peripheral": ("下肢动脉硬化闭塞症", "39.9000", "经皮外周动脉支架置入术", "FN19", "外周动脉经皮血管内操作"),
    "neuro": ("颅内动脉瘤（未破裂）", "39.7200", "颅内动脉瘤弹簧圈栓塞术", "BM19", "脑血管介入治疗"),
    "oncology": ("原发性肝癌", "99.2501", "经导管肝动脉化疗栓塞术（TACE）", "RE19", "恶性增生性疾病介入治疗"),
}
WEIGHTS = {"FM19": 3.6, "FN19": 2.6, "BM19": 6.2, "RE19": 1.8}


@dataclass(frozen=True)
class Case:
    """One demo case: discharged `discharge` (a date), `los` days after admission (operation the day after), with
    the devices scanned (GTINs, one unit each), what the checkpoints find and the DRG charges."""
    line: str
    discharge: date
    los: int
    devices: tuple[str, ...]
    total_charge: float
    complication: dict[str, Any] | None = None       # at the 48-hour checkpoint
    reoperation: dict[str, Any] | None = None         # an unplanned return to theatre with its RCA
    late_complication: dict[str, Any] | None = None   # at the 31-day checkpoint
    satisfaction: int = 5
    readmitted: bool = False
    grade: int = 3
    extra: dict[str, Any] = field(default_factory=dict)


def _month_day(today: date, months_back: int, day: int) -> date:
    year, month = today.year, today.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, day)


def plan(today: date) -> list[Case]:
    """The demo's cases, relative to today: three previous months and the current month so far."""
    this_month = [max(today.replace(day=1), today - timedelta(days=2)), max(today.replace(day=1), today - timedelta(days=1)),
                  today]
    m = lambda back, day: _month_day(today, back, day)
    bleed = {"kind": "bleeding", "grade": "II", "after_hours": 6, "treatment": "加压包扎，血肿吸收"}
    return [
        Case("coronary", m(3, 8), 5, (STENT_GTIN, BALLOON_GTIN, WIRE_GTIN), 41800),
        Case("oncology", m(3, 15), 6, (MICROCATH_GTIN,), 21500, satisfaction=4),
        Case("coronary", m(3, 22), 6, (STENT_GTIN, STENT_GTIN, WIRE_GTIN), 47600, complication=bleed),
        Case("peripheral", m(2, 6), 7, (PERIPHERAL_GTIN, WIRE_GTIN), 31200,
             late_complication={"kind": "infection", "grade": "II", "after_hours": 24 * 12,
                                "treatment": "口服抗生素，门诊换药"}, readmitted=True, satisfaction=3),
        Case("neuro", m(2, 13), 9, (COIL_GTIN, COIL_GTIN, MICROCATH_GTIN), 76800, grade=4,
             extra={"mdt": {"departments": "神经内科、神经外科、麻醉科", "conclusion": "瘤颈窄，适合弹簧圈栓塞", "proceed": True}}),
        Case("coronary", m(2, 20), 9, (STENT_GTIN, STENT_GTIN, BALLOON_GTIN), 58400,
             complication={"kind": "bleeding", "grade": "IIIb", "after_hours": 8, "treatment": "压迫止血无效，再次介入封堵"},
             reoperation={"after_hours": 20, "reason": "bleeding", "description": "股动脉穿刺点活动性出血",
                          "rca": {"category": "technique", "root_cause": "穿刺点偏低，压迫器放置位置不当",
                                  "actions": "超声引导穿刺；规范压迫器使用培训", "preventable": True}},
             satisfaction=3),
        Case("oncology", m(2, 25), 5, (MICROCATH_GTIN,), 19800, satisfaction=4),
        Case("coronary", m(1, 5), 5, (STENT_GTIN, WIRE_GTIN), 40200),
        Case("peripheral", m(1, 12), 8, (PERIPHERAL_GTIN, PERIPHERAL_GTIN, WIRE_GTIN), 38900),
        Case("coronary", m(1, 19), 6, (STENT_GTIN, BALLOON_GTIN, WIRE_GTIN), 43100),
        Case("oncology", m(1, 26), 6, (MICROCATH_GTIN,), 23900,
             complication={"kind": "ci_aki", "grade": "I", "after_hours": 30, "treatment": "水化，肌酐 5 天恢复"}),
        Case("coronary", this_month[0], 5, (STENT_GTIN, STENT_GTIN, WIRE_GTIN), 46200, complication=bleed),
        Case("peripheral", this_month[1], 6, (PERIPHERAL_GTIN, WIRE_GTIN), 29800),
        Case("coronary", this_month[2], 5, (STENT_GTIN, BALLOON_GTIN, WIRE_GTIN), 42600),
    ]


class _Clock:
    """Moves the platform clock to a local time of a day (forward or back) and puts it back at the end."""

    def __init__(self) -> None:
        self.then, self.wall = clock.now(), datetime.now(UTC)

    def go(self, day: date, at: time = time(9, 30)) -> None:
        target = datetime.combine(day, at, tzinfo=clock.local_tz()).astimezone(UTC)
        clock.advance(target - clock.now())

    def restore(self) -> None:
        clock.advance(self.then + (datetime.now(UTC) - self.wall) - clock.now())


Complete = Callable[[str, Any, dict], Any]


class _Centre:
    def __init__(self, complete: Complete, principal: Callable[[str], Any]) -> None:
        self.complete, self.principal = complete, principal
        self.serial = 0

    def task(self, c: InterventionCase, element_id: str) -> HumanTask | None:
        return session().scalars(select(HumanTask).where(HumanTask.instance_id == c.instance_id,
                                                         HumanTask.element_id == element_id,
                                                         HumanTask.status == "open")).first()

    def step(self, c: InterventionCase, element_id: str, username: str, data: dict[str, Any]) -> bool:
        t = self.task(c, element_id)
        if t is None:
            return False
        self.complete(username, t, data)
        return True

    def open(self, resident_id: int, spec: Case, admitted: date) -> InterventionCase:
        diagnosis, code, name, _drg, _drg_name = PROCEDURES[spec.line]
        c = intervention.open_case(self.principal(DOCTOR), resident_id=resident_id, service_line=spec.line,
                                   diagnosis=diagnosis, procedure_code=code, procedure_name=name, admitted_on=admitted)
        return session().get(InterventionCase, c.id) or c

    def prepare(self, c: InterventionCase, spec: Case, *, on_warfarin: bool) -> None:
        """Assessment (and MDT for a four-grade procedure), consent, reservation."""
        planned = [{"name": NAMES[g], "quantity": spec.devices.count(g), "price": 0, "self_pay": False}
                   for g in dict.fromkeys(spec.devices)]
        self.step(c, "pre_assessment", DOCTOR, {
            "procedure_grade": spec.grade, "asa": 2, "scr_umol_l": 88 + 7 * (c.id % 5), "contrast_allergy": False,
            "anticoag_plan": "术前停华法林5天，INR<1.5 后手术，低分子肝素桥接" if on_warfarin else None,
            "planned_consumables": planned})
        if spec.grade == 4:
            self.step(c, "mdt_discussion", DOCTOR, spec.extra["mdt"])
        self.step(c, "patient_consent", DOCTOR, {
            "informed": ["procedure", "risks", "alternatives", "contrast", "consumables"], "signer_type": "patient",
            "signer_name": c.resident_name or "患者", "consented": True, "signature": signature_png()})
        self.step(c, "reserve_consumables", DOCTOR, {"items": [
            {"name": NAMES[g], "di": g, "quantity": spec.devices.count(g), "implant": g in IMPLANTS}
            for g in dict.fromkeys(spec.devices)]})

    def operate(self, c: InterventionCase, spec: Case) -> datetime:
        for gtin in spec.devices:
            self.serial += 1
            udi = element_string(gtin, expiry_on=clock.today() + timedelta(days=300), lot=LOT_OF[gtin],
                                 serial=f"DM{self.serial:04d}")
            intervention.scan_device(self.principal(DOCTOR), c.id, udi=udi)
        now = clock.now()
        started = now - timedelta(minutes=50 + 10 * len(spec.devices))
        self.step(c, "operation_record", DOCTOR, {
            "started_at": started.isoformat(), "ended_at": (now - timedelta(minutes=5)).isoformat(),
            "operator": "介入中心主任", "approach": "femoral" if spec.line != "coronary" else "radial",
            "contrast_agent": "碘克沙醇", "contrast_ml": 90 + 10 * len(spec.devices), "fluoro_minutes": 12,
            "dose_mgy": 700, "implants_used": sum(1 for g in spec.devices if g in IMPLANTS), "outcome": "success"})
        return started

    def checkpoint(self, c: InterventionCase, operated: datetime, found: dict[str, Any] | None,
                   reop: dict[str, Any] | None = None) -> bool:
        answer: dict[str, Any] = {"has_complication": found is not None, "returned_to_theatre": reop is not None}
        if found is not None:
            answer["complications"] = [{"kind": found["kind"], "grade": found["grade"], "treatment": found["treatment"],
                                        "occurred_at": (operated + timedelta(hours=found["after_hours"])).isoformat()}]
        if reop is not None:
            answer["reoperation"] = {"unplanned": True, "reason": reop["reason"], "description": reop["description"],
                                     "reoperated_at": (operated + timedelta(hours=reop["after_hours"])).isoformat()}
        if not self.step(c, "complication_checkpoint", DOCTOR, answer):
            return False
        if reop is not None:
            self.step(c, "root_cause_analysis", QUALITY, reop["rca"])
        return True

    def discharge(self, c: InterventionCase, spec: Case) -> None:
        self.step(c, "discharge_patient", DOCTOR, {"discharged_on": clock.today().isoformat(),
                                                   "destination": "down_referral" if spec.line == "coronary" else "home",
                                                   "summary": "术后恢复好，穿刺点愈合", "instructions": "规律服药，1个月后复查"})
        _dx, _code, _name, drg, drg_name = PROCEDURES[spec.line]
        total = spec.total_charge
        intervention.import_drg(self.principal(CONNECTOR), {
            "case_no": c.case_no, "drg_code": drg, "drg_name": drg_name, "weight": WEIGHTS[drg], "total_charge": total,
            "patient_share": round(total * 0.2, 2), "grouper": "CHS-DRG 2.0（医保结算清单）",
            "charges": {"drugs": round(total * 0.14), "exams": round(total * 0.12),
                        "other_consumables": round(total * 0.06), "services": round(total * 0.1)},
            "settled_on": clock.today().isoformat()})

    def follow_up(self, c: InterventionCase, spec: Case) -> bool:
        s = spec.satisfaction
        return self.step(c, "follow_up_30d", DOCTOR, {
            "reached": True, "readmitted": spec.readmitted, "recovery": "good" if s >= 4 else "fair",
            "informed": 5, "waiting": max(s - 1, 1), "pain": 4, "attitude": 5, "cost": s, "overall": s,
            "comment": "医生解释清楚，恢复顺利" if s >= 4 else "等待时间较长"})


def _tick() -> None:
    workflow_jobs.enqueue_due_timers()


def _patients(n: int) -> list[tuple[int, bool]]:
    """`n` residents aged 50–80 from the townships the other demo stories leave alone (T03 onwards), by id."""
    today = clock.today()
    born_after, born_before = today.replace(year=today.year - 80), today.replace(year=today.year - 50)
    rows = session().scalars(select(Resident.id).where(
        Resident.org_code >= "C01T03", Resident.birth_date > born_after, Resident.birth_date < born_before)
        .order_by(Resident.id).limit(n)).all()
    return [(rid, k == 2) for k, rid in enumerate(rows)]          # the third patient is on warfarin


def _stock() -> None:
    start = clock.now() - timedelta(days=130)
    for code, name, unit, gtin, fields in ITEMS:
        if supply.item_by_gtin(gtin) is None:
            supply.create_item(code, name, kind="consumable", unit=unit, gtin=gtin, **fields)
    for item, _gtin, lot, qty in LOTS:
        supply.receive(STORE, item, quantity=qty, lot_no=lot, expiry_on=clock.today() + timedelta(days=480),
                       consignment=True, supplier="某医疗器械有限公司", actor="SPD:demo", at=start,
                       source_key=f"seed:intervention:{lot}")


def _run(centre: _Centre, spec: Case, resident_id: int, on_warfarin: bool, clk: _Clock) -> None:
    admitted = spec.discharge - timedelta(days=spec.los)
    clk.go(admitted, time(10, 0))
    if on_warfarin:
        record_medication(resident_id, drug="warfarin", dose="2.5mg", frequency="qd",
                          started_on=admitted - timedelta(days=400), source="seed")
    c = centre.open(resident_id, spec, admitted)
    centre.prepare(c, spec, on_warfarin=on_warfarin)
    clk.go(admitted + timedelta(days=1), time(11, 0))
    operated = centre.operate(c, spec)
    # the 48-hour checkpoint (timer), then discharge and the DRG result, then the 31-day checkpoint and follow-up
    events: list[tuple[datetime, str]] = [(operated + timedelta(hours=49), "48h"),
                                          (datetime.combine(spec.discharge, time(15, 0), tzinfo=clock.local_tz()),
                                           "discharge"),
                                          (operated + timedelta(days=31, hours=1), "31d"),
                                          (datetime.combine(spec.discharge + timedelta(days=30), time(10, 0),
                                                            tzinfo=clock.local_tz()), "follow_up")]
    limit = max(clk.then - timedelta(minutes=5), clock.start_of_day(clock.date_of(clk.then)))   # today stays today
    events = [(min(at, limit), what) if what == "discharge" else (at, what) for at, what in events]
    for at, what in sorted(events):
        if at > limit:
            continue
        clock.advance(at - clock.now())
        _tick()
        c = session().get(InterventionCase, c.id) or c
        if what == "48h":
            centre.checkpoint(c, operated, spec.complication, spec.reoperation)
        elif what == "discharge":
            centre.discharge(c, spec)
        elif what == "31d":
            centre.checkpoint(c, operated, spec.late_complication)
        else:
            centre.follow_up(c, spec)


def _waiting(centre: _Centre, patients: list[tuple[int, bool]], clk: _Clock, today: date) -> int:
    """Today's work: a coronary case waiting in theatre (reserved, nothing scanned yet), one opened this morning
    waiting for its assessment, and yesterday's four-grade case the MDT advised against."""
    if len(patients) < 3:
        return 0
    clk.go(today - timedelta(days=1), time(9, 0))
    declined = Case("neuro", today, 0, (COIL_GTIN,), 0, grade=4, extra={"mdt": {
        "departments": "神经内科、神经外科、麻醉科", "conclusion": "宽颈动脉瘤，建议转上级医院开颅夹闭", "proceed": False}})
    c = centre.open(patients[0][0], declined, today - timedelta(days=1))
    centre.prepare(c, declined, on_warfarin=False)
    # half an hour ago, but never before today's midnight: today's cases must not be admitted "tomorrow"
    clock.advance(max(clk.then - timedelta(minutes=30), clock.start_of_day(today)) - clock.now())
    theatre = Case("coronary", today, 0, (STENT_GTIN, STENT_GTIN), 0)
    c = centre.open(patients[1][0], theatre, today)
    centre.prepare(c, theatre, on_warfarin=False)
    centre.open(patients[2][0], Case("oncology", today, 0, (MICROCATH_GTIN,), 0), today)
    return 3


def seed_intervention(complete: Complete, principal: Callable[[str], Any]) -> dict[str, int]:
    """`complete(username, task, data)` completes a task as that demo user; `principal(username)` is their Principal.
    {} when the model or the centre's store is missing, or the centre already has cases."""
    if intervention.PROCESS not in latest_process_versions(session()) or not supply_queries.store_exists(STORE):
        return {}
    if (session().scalar(select(func.count()).select_from(InterventionCase)) or 0) > 0:
        return {}
    today = clock.today()
    cases = plan(today)
    patients = _patients(len(cases) + 3)
    if len(patients) < len(cases) + 3:
        return {}
    clk = _Clock()
    centre = _Centre(complete, principal)
    try:
        clk.go(today - timedelta(days=130))
        _stock()
        for spec, (rid, on_warfarin) in zip(cases, patients, strict=False):
            _run(centre, spec, rid, on_warfarin, clk)
        waiting = _waiting(centre, patients[len(cases):], clk, today)
    finally:
        clk.restore()
    _tick()
    reports = _monthly_report(today)
    return {"intervention_cases": len(cases) + waiting, "intervention_devices": centre.serial,
            "intervention_monthly_reports": reports}


def _monthly_report(today: date) -> int:
    """Last month's analysis report as the scheduler delivers it on the 1st (06:00), in the quality office's inbox."""
    clk = _Clock()
    try:
        first = datetime.combine(today.replace(day=1), time(6, 0), tzinfo=clock.local_tz())
        if first < clock.now():
            clock.advance(first - clock.now())
        return monthly.deliver_due(today=today)
    finally:
        clk.restore()
