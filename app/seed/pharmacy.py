"""Demo prescriptions for the pharmacist's pre-review (`rx_prereview`): the county HIS sends two anticoagulant
prescriptions of a village patient through the real intake — one passes its checks automatically, the other (warfarin
with amiodarone) waits for the county pharmacist's review in the inbox."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.anticoag import services as anticoag
from app.auth.models import IntegrationClient, User
from app.auth.services import create_client
from app.core import clock
from app.core.db import session
from app.pharmacy import services as pharmacy
from app.residents.models import Resident
from app.workflows.deploy import latest_process_versions

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
    doctor = session().scalars(select(User).where(User.username == "village_doctor1")).first()
    base = {"org_code": "C01T01V01", "prescriber": doctor.display_name if doctor else "村医", "setting": "outpatient", "indication": "NVAF",
            "diagnosis": "心房颤动"}
    pharmacy.receive(resident_id=people[0].id, source_key=f"{his}:RX-DEMO-0001", payload={
        **base, "rx_id": "RX-DEMO-0001", "clinical": {"crcl_ml_min": 80},
        "items": [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd", "days": 30}]})
    pharmacy.receive(resident_id=people[1].id, source_key=f"{his}:RX-DEMO-0002", payload={
        **base, "rx_id": "RX-DEMO-0002", "concomitant": ["amiodarone"],
        "clinical": {"inr": 2.4, "inr_date": clock.today().isoformat()},
        "items": [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd", "days": 30}]})
    return {"prescriptions": 2}


WARFARIN_HISTORY = ((-84, 1.6), (-79, 2.2), (-72, 2.6), (-58, 3.4), (-51, 2.8), (-37, 2.4), (-23, 1.8), (-16, 2.3),
                    (-2, 2.6))      # INRs of the demo warfarin episode (days before today): TTR ≈ 73 %


def seed_anticoag_episode() -> dict[str, int]:
    """A warfarin episode under monitoring for a third village patient: the HIS prescription passes pre-review (the
    released prescription starts `anticoag_monitoring`), and twelve weeks of INR results give the episode its TTR."""
    if not {"rx_prereview", "anticoag_monitoring"} <= set(latest_process_versions(session())):
        return {}
    people = list(session().scalars(select(Resident).where(Resident.org_code == "C01T01V01")
                                    .order_by(Resident.id.desc()).limit(3)))
    if len(people) < 3:
        return {}
    patient = people[2]
    pharmacy.receive(resident_id=patient.id, source_key=f"{_his_client_id()}:RX-DEMO-0003", payload={
        "org_code": "C01T01", "prescriber": "卫生院全科医生", "setting": "outpatient", "indication": "NVAF",
        "diagnosis": "心房颤动", "rx_id": "RX-DEMO-0003",
        "clinical": {"inr": 2.6, "inr_date": (clock.today() - timedelta(days=2)).isoformat(), "weight_kg": 64},
        "items": [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd", "days": 28}]})
    episode = anticoag.active_episode(patient.id, "warfarin")
    if episode is None:
        return {}
    episode.started_on = clock.today() + timedelta(days=WARFARIN_HISTORY[0][0])
    for days, inr in WARFARIN_HISTORY:
        anticoag.record_result(episode.id, kind="inr", value=inr, measured_on=clock.today() + timedelta(days=days),
                               source="form", recorded_by="village_doctor1",
                               source_key=f"seed:anticoag:{episode.id}:{days}")
    return {"anticoag_episodes": 1, "anticoag_inrs": len(WARFARIN_HISTORY)}
