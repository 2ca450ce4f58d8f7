"""Demo prescriptions for the pharmacist's pre-review (`rx_prereview`): the township 卫生院 has switched auto-pass on for
rivaroxaban and warfarin (off elsewhere, the default); the county HIS sends anticoagulant prescriptions of village
patients through the real intake — one passes its checks automatically, one (warfarin with amiodarone) waits for the
county pharmacist's review in the inbox, one (unsigned, issued two days ago) is blocked by R6a `rx_legality` — and the anticoagulant episodes under
monitoring (`anticoag_monitoring`) that fill the 抗凝管理 page."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from app.anticoag import services as anticoag
from app.anticoag.models import AnticoagResult
from app.auth.models import IntegrationClient, User, UserRole
from app.auth.services import create_client
from app.core import clock
from app.core.db import session
from app.org.queries import township_of
from app.pharmacy import services as pharmacy
from app.residents.models import Resident
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

from .democlock import DemoClock

HIS_NAME = "县人民医院 HIS"


def _his_client_id() -> str:
    found = session().scalars(select(IntegrationClient).where(IntegrationClient.name == HIS_NAME)).first()
    return found.client_id if found is not None else create_client(HIS_NAME)[0].client_id


def seed_prescriptions() -> dict[str, int]:
    if "rx_prereview" not in latest_process_versions(session()):
        return {}
    people = list(session().scalars(select(Resident).where(Resident.org_code == "C01T01V01")
                                    .order_by(Resident.id.desc()).limit(2)))
    if len(people) < 2:
        return {}
    his = _his_client_id()
    _switch_auto_pass()
    doctor = session().scalars(select(User).where(User.username == "village_doctor1")).first()
    base = {"org_code": "C01T01V01", "prescriber": doctor.display_name if doctor else "村医",
            "prescriber_code": "village_doctor1", "setting": "outpatient", "indication": "NVAF",
            "diagnosis": "心房颤动", "long_term": True}
    pharmacy.receive(resident_id=people[0].id, source_key=f"{his}:RX-DEMO-0001", payload={
        **base, "rx_id": "RX-DEMO-0001", "clinical": {"crcl_ml_min": 80}, "signature": {"cert_sn": "CA-DEMO-0001"},
        "items": [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd", "days": 28}]})
    pharmacy.receive(resident_id=people[1].id, source_key=f"{his}:RX-DEMO-0002", payload={
        **base, "rx_id": "RX-DEMO-0002", "concomitant": ["amiodarone"], "signature": {"cert_sn": "CA-DEMO-0002"},
        "clinical": {"inr": 2.4, "inr_date": clock.today().isoformat()},
        "items": [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd", "days": 28}]})
    pharmacy.receive(resident_id=people[0].id, source_key=f"{his}:RX-DEMO-0010", payload={
        **base, "rx_id": "RX-DEMO-0010", "clinical": {"crcl_ml_min": 80},
        "issued_on": (clock.today() - timedelta(days=2)).isoformat(),
        "items": [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd", "days": 7}]})
    return {"prescriptions": 3}


def _switch_auto_pass() -> None:
    """The township 卫生院 lets a clean rivaroxaban or warfarin prescription of its own or its villages pass."""
    for drug_class in ("rivaroxaban", "warfarin"):
        if not any(r["source"] == "own" and r["drug_class"] == drug_class
                   for r in pharmacy.auto_pass_settings("C01T01")):
            pharmacy.set_auto_pass("C01T01", drug_class, True, actor="county_admin")


Complete = Callable[[str, Any, dict], Any]


@dataclass(frozen=True)
class Episode:
    """One demo anticoagulant episode: its patient (the `nth` newest resident of a village), the HIS prescription and
    the results the village doctor enters on the days given (days before the seed's today)."""
    rx_id: str
    village: str
    nth: int
    drug: str
    dose_mg: float
    indication: str
    diagnosis: str
    clinical: dict[str, Any]
    start: int
    inrs: tuple[tuple[int, float], ...] = ()
    renal: tuple[tuple[int, dict[str, Any]], ...] = ()
    last_dose_change: float | None = None          # the township doctor's answer to the last dose task (a fraction)


WARFARIN_HISTORY = ((-84, 1.6), (-79, 2.2), (-72, 2.6), (-58, 3.4), (-51, 2.8), (-37, 2.4), (-23, 1.8), (-16, 2.3),
                    (-2, 2.6))      # INRs of the first demo warfarin episode (days before today): in range now
EPISODES = (
    Episode("RX-DEMO-0003", "C01T01V01", 2, "warfarin", 3, "NVAF", "心房颤动", {"weight_kg": 64}, -84,
            WARFARIN_HISTORY),
    # well controlled until the last INR (1.4): the township doctor raises the weekly dose by 25 %, which waits for
    # the county pharmacist's co-sign
    Episode("RX-DEMO-0004", "C01T01V02", 0, "warfarin", 3, "VTE_TREATMENT", "下肢深静脉血栓形成", {"weight_kg": 70},
            -63, ((-63, 1.9), (-58, 2.3), (-51, 2.5), (-37, 2.6), (-23, 2.4), (-9, 2.7), (0, 1.4)),
            last_dose_change=0.25),
    # poorly controlled, and today's INR 5.2: the urgent task and an emergency referral to the county hospital
    Episode("RX-DEMO-0005", "C01T02V01", 0, "warfarin", 2.5, "NVAF", "心房颤动", {"weight_kg": 58}, -70,
            ((-70, 1.5), (-63, 1.7), (-56, 3.3), (-49, 2.0), (-35, 1.6), (-28, 3.2), (-14, 2.2), (0, 5.2))),
    # two INRs in range, then nothing: the check is weeks overdue (the township doctor's 督办 task)
    Episode("RX-DEMO-0006", "C01T01V01", 3, "warfarin", 3, "NVAF", "心房颤动", {"weight_kg": 66}, -40,
            ((-40, 1.7), (-35, 2.2), (-30, 2.6))),
    # rivaroxaban 20 mg: creatinine 190 µmol/L today moves CrCl below 50 → the pharmacist reviews 15 mg 每日1次
    Episode("RX-DEMO-0007", "C01T01V01", 4, "rivaroxaban", 20, "NVAF", "心房颤动",
            {"crcl_ml_min": 72, "weight_kg": 62}, -150, renal=((0, {"scr_umol_l": 190, "weight_kg": 62}),)),
)


def _staff(role: str, org_code: str) -> str | None:
    return session().scalars(select(User.username).join(UserRole, UserRole.user_id == User.id).where(
        UserRole.role == role, User.org_code == org_code).order_by(User.username)).first()


def _open(instance_id: int | None, element_id: str) -> HumanTask | None:
    return session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
        HumanTask.status == "open").order_by(HumanTask.id.desc())).first()


def _patient(spec: Episode) -> Resident | None:
    return session().scalars(select(Resident).where(Resident.org_code == spec.village)
                             .order_by(Resident.id.desc()).offset(spec.nth).limit(1)).first()


def _answer_dose(complete: Complete, episode: Any, township_doctor: str, change: float | None) -> None:
    """The township doctor's answer to a dose task: ±10 % (no co-sign) in the history; `change` on the last one."""
    task = _open(episode.instance_id, "dose_adjustment")
    if task is None:
        return
    last = session().scalars(select(AnticoagResult).where(AnticoagResult.episode_id == episode.id, AnticoagResult.kind == "inr")
                             .order_by(AnticoagResult.measured_on.desc(), AnticoagResult.id.desc())).first()
    up = last is not None and "INCREASE" in (last.action or "")
    factor = 1 + change if change is not None else (1.1 if up else 0.9)
    weekly = round((episode.weekly_dose_mg or 21) * factor * 4) / 4
    complete(township_doctor, task, {"dose": {"weekly_dose_mg": weekly,
                                              "note": f"每周剂量{'增加' if factor > 1 else '减少'}约{abs(factor - 1):.0%}"}})


def _run(spec: Episode, complete: Complete, clk: DemoClock) -> tuple[int, int]:
    patient = _patient(spec)
    if patient is None:
        return 0, 0
    clk.go(spec.start)
    _switch_auto_pass()
    pharmacy.receive(resident_id=patient.id, source_key=f"{_his_client_id()}:{spec.rx_id}", payload={
        "org_code": "C01T01", "prescriber": "卫生院全科医生", "prescriber_code": "township_doctor1",
        "signature": {"cert_sn": f"CA-{spec.rx_id}"}, "long_term": True, "setting": "outpatient",
        "indication": spec.indication,
        "diagnosis": spec.diagnosis, "rx_id": spec.rx_id, "clinical": {
            **spec.clinical, **({"inr": spec.inrs[0][1], "inr_date": clock.today().isoformat()} if spec.inrs else {})},
        "items": [{"drug": spec.drug, "dose_mg": spec.dose_mg, "frequency": "qd", "days": 28}]})
    episode = anticoag.active_episode(patient.id, spec.drug)
    if episode is None or episode.instance_id is None:
        return 0, 0
    township = township_of(spec.village)
    doctor = _staff("village_doctor", spec.village) or "village_doctor1"
    township_doctor = _staff("township_doctor", township.code if township else "C01T01") or "township_doctor1"
    steps: list[tuple[int, dict[str, Any]]] = [(d, {"inr": v, "inr_method": "poct"}) for d, v in spec.inrs]
    steps += list(spec.renal)
    n = 0
    for k, (day, values) in enumerate(sorted(steps, key=lambda s: s[0])):
        clk.go(day)
        task = _open(episode.instance_id, "monitoring_entry")
        if task is None:
            break
        complete(doctor, task, {"entry": {"test_date": clock.today().isoformat(), "bleeding": "none", **values}})
        n += 1
        last = k == len(steps) - 1
        _answer_dose(complete, episode, township_doctor, spec.last_dose_change if last else None)
        if not last and (urgent := _open(episode.instance_id, "urgent_care")) is not None:
            complete(township_doctor, urgent, {"urgent": {"measures": ["stop_drug", "vitamin_k"], "note": "停药一次，复查"}})
    return 1, n


def seed_anticoag_episodes(complete: Complete) -> dict[str, int]:
    """Anticoagulant episodes under monitoring, through the real intake and process: the HIS prescriptions pass
    pre-review (each released prescription starts `anticoag_monitoring`), the village doctors enter INRs on their
    days (the platform clock moves there and back), township doctors answer the dose tasks. Four warfarin patients
    (in range; a 25 % dose increase waiting for the pharmacist's co-sign; INR 5.2 today → urgent task and emergency
    referral; weeks overdue → the township doctor's 督办 once the scheduler runs) and a rivaroxaban patient whose
    creatinine moves the dose band (the pharmacist's dose review) give the 抗凝管理 page and its TTR histogram."""
    if not {"rx_prereview", "anticoag_monitoring"} <= set(latest_process_versions(session())):
        return {}
    clk = DemoClock()
    episodes = results = 0
    try:
        for spec in EPISODES:
            e, r = _run(spec, complete, clk)
            episodes, results = episodes + e, results + r
    finally:
        clk.restore()
    return {"anticoag_episodes": episodes, "anticoag_results": results}
