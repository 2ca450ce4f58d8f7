"""Issue 18.3 `anticoag_monitoring` through the API: a supervised prescription released by pre-review starts the
patient's episode; the village doctor enters INRs (an implausible INR is refused, never graded), the LIS sends them
by HL7 ORU through the one intake; warfarin results are graded by `warfarin_inr` (INR 5.2 → emergency referral and
an urgent township task; 3.6 → dose adjustment); a falling CrCl that moves the rivaroxaban dose band asks a
pharmacist; a new interacting medicine asks a pharmacist to intervene; the episode shows its TTR (Rosendaal)."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from app.core import clock, ratelimit
from tests.helpers import REPO
from tests.pharmacy_support import allow_auto_pass, id_number_of, rx
from tests.referral_support import arrival, complete, make_resident, one, open_tasks

MODELS = [REPO / "bpmn" / "rx_prereview.bpmn", REPO / "forms" / "rx_prereview", REPO / "bpmn" / "anticoag_monitoring.bpmn",
          REPO / "forms" / "anticoag_monitoring", REPO / "bpmn" / "referral_up.bpmn", REPO / "forms" / "referral_up",
          REPO / "dmn"]
WARFARIN_3 = [{"drug": "warfarin", "dose_mg": 3, "frequency": "qd", "days": 14}]
RIVA_20 = [{"drug": "rivaroxaban", "dose_mg": 20, "frequency": "qd", "days": 28}]


@pytest.fixture()
def world(app, county, login_as):
    from app.auth.services import create_client, create_token
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, MODELS), deployed_by="test", source="folder")
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=50, burst=500).reset()
        his, secret = create_client("县人民医院 HIS")
        lis_client, _ = create_client("县医院 LIS")
        _, raw = create_token(lis_client.user_id, name="lis")
    lis = app.test_client()
    lis.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    allow_auto_pass(app, "C01", "warfarin", "rivaroxaban", "lmwh")   # clean prescriptions release here
    return {"resident": make_resident(app), "id_number": id_number_of(), "lis": lis,
            "his": {"client_id": his.client_id, "secret": secret},
            "pharmacist": login_as("pharmacist", org="C01", username="pharm_a"),
            "village": login_as("village_doctor", org="C01T01V01", username="vd_wang"),
            "township": login_as("township_doctor", org="C01T01", username="td_li")}


def release(client, w, rx_id: str, items, **extra) -> int:
    extra.setdefault("long_term", True)        # a chronic anticoagulant prescription (more than 7 days)
    extra.setdefault("prescriber_code", "vd_wang")     # the village doctor, holding 处方权 at the clinic
    resp = arrival(client, w["his"], rx(w["id_number"], rx_id, items, **extra), f"d-{rx_id}", message="rx_created")
    assert resp.status_code == 200 and resp.json["grade"] == "none", resp.json
    return resp.json["prescription_id"]


def episodes(api, resident_id: int) -> list[dict]:
    resp = api.get(f"/api/v1/anticoag/episodes?resident_id={resident_id}")
    assert resp.status_code == 200, resp.json
    return resp.json["items"]


def episode(api, episode_id: int) -> dict:
    resp = api.get(f"/api/v1/anticoag/episodes/{episode_id}")
    assert resp.status_code == 200, resp.json
    return resp.json


def enter(api, entry: dict, status: int = 200, instance_id: int | None = None):
    if instance_id is None:
        task = one(api, "monitoring_entry")
    else:
        [task] = [t for t in open_tasks(api, "monitoring_entry") if t["instance_id"] == instance_id]
    resp = api.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"entry": entry}})
    assert resp.status_code == status, resp.json
    return resp


def oru(id_number: str, control: str, code: str, value: str, unit: str, when: str) -> bytes:
    segs = [f"MSH|^~\\&|LIS|C01|YGT|C01|{when}+0800||ORU^R01^ORU_R01|{control}|P|2.5.1|||||CHN|UNICODE UTF-8",
            f"PID|1||{id_number}^^^CHN^NNCHN||王^建国||19560314|M",
            "PV1|1|O|C01^^^C01", f"OBR|1|ORD{control}|LAB{control}|{code}^{code}^L|||{when}+0800",
            f"OBX|1|NM|{code}^{code}^L||{value}|{unit}|||||F|||{when}+0800"]
    return "\r".join(segs).encode()


def send_oru(w, body: bytes) -> None:
    resp = w["lis"].post("/api/v1/connectors/hl7v2", data=body, headers={"Content-Type": "x-application/hl7-v2+er7"})
    assert resp.status_code == 200 and "|AA|" in resp.get_data(as_text=True), resp.get_data(as_text=True)


def warfarin_episode(client, w) -> dict:
    release(client, w, "RX-W1", WARFARIN_3, clinical={"inr": 2.1, "inr_date": clock.today().isoformat(),
                                                      "weight_kg": 68})
    [ep] = episodes(w["pharmacist"], w["resident"])
    return ep


def test_a_released_warfarin_prescription_starts_an_episode_whose_inr_entry_is_the_village_doctors_task(
        app, client, world):
    w = world
    ep = warfarin_episode(client, w)
    assert (ep["drug"], ep["status"], ep["phase"], ep["target_lo"], ep["target_hi"]) == (
        "warfarin", "active", "initiation", 2.0, 3.0)
    assert ep["next_inr_due"] == clock.today().isoformat() and ep["weekly_dose_mg"] == 21
    task = one(w["village"], "monitoring_entry")
    assert task["org_code"] == "C01T01V01" and "华法林" in task["instructions"] and "INR" in task["instructions"]
    # the same drug released again continues the episode, never a second one
    release(client, w, "RX-W2", WARFARIN_3, clinical={"inr": 2.1, "inr_date": clock.today().isoformat()})
    assert len(episodes(w["pharmacist"], w["resident"])) == 1


def test_an_implausible_inr_is_refused_with_its_code_and_nothing_is_graded(app, client, world):
    w = world
    ep = warfarin_episode(client, w)
    for bad in (0, 30):
        resp = enter(w["village"], {"test_date": clock.today().isoformat(), "inr": bad, "bleeding": "none"}, 422)
        assert resp.json["code"] == "implausible_inr"
    assert episode(w["village"], ep["id"])["results"] == []
    enter(w["village"], {"test_date": clock.today().isoformat(), "inr": 2.5, "bleeding": "none",
                         "weekly_dose_mg": 21})
    got = episode(w["village"], ep["id"])
    assert [(r["value"], r["in_range"], r["action"], r["source"]) for r in got["results"]] == [
        (2.5, True, "MAINTAIN", "form")]
    assert got["next_inr_due"] == (clock.today() + timedelta(days=5)).isoformat()      # R7 #3 initiation
    assert len(open_tasks(w["village"], "monitoring_entry")) == 1                      # the next round


def test_inr_5_2_raises_an_emergency_referral_and_an_urgent_township_task(app, client, world):
    from sqlalchemy import select

    from app.core.db import session
    from app.referral.models import Referral
    w = world
    ep = warfarin_episode(client, w)
    enter(w["village"], {"test_date": clock.today().isoformat(), "inr": 5.2, "bleeding": "none"})
    got = episode(w["township"], ep["id"])
    assert got["results"][-1]["action"] == "STOP_VITK_LOW" and got["results"][-1]["path"] == "urgent"
    with app.app_context():
        ref = session().scalars(select(Referral).where(Referral.resident_id == w["resident"])).one()
        assert (ref.urgency, ref.source) == ("emergency", "anticoag_monitoring") and "INR 5.2" in ref.reason
    urgent = one(w["township"], "urgent_care")
    assert urgent["org_code"] == "C01T01" and "INR 5.2" in urgent["instructions"] and urgent["priority"] == 1
    assert "urgent" in [e["kind"] for e in got["events"]]
    complete(w["township"], urgent, {"urgent": {"measures": ["stop_drug", "vitamin_k"], "note": "停药，口服维生素K1"}})
    assert "urgent_handled" in [e["kind"] for e in episode(w["township"], ep["id"])["events"]]
    assert len(open_tasks(w["village"], "monitoring_entry")) == 1


def test_an_inr_from_the_lis_closes_the_entry_task_and_36_asks_for_a_dose_adjustment(app, client, world):
    w = world
    ep = warfarin_episode(client, w)
    when = clock.local(clock.now()).strftime("%Y%m%d%H%M%S")
    send_oru(w, oru(w["id_number"], "L1", "INR", "3.6", "", when))
    assert not open_tasks(w["village"], "monitoring_entry")
    got = episode(w["township"], ep["id"])
    assert [(r["value"], r["source"], r["path"]) for r in got["results"]] == [(3.6, "lis", "dose")]
    dose = one(w["township"], "dose_adjustment")
    assert "INR 3.6" in dose["instructions"]
    complete(w["township"], dose, {"dose": {"weekly_dose_mg": 18.75, "note": "每周减量约10%"}})
    got = episode(w["township"], ep["id"])
    assert (got["weekly_dose_mg"], got["phase"]) == (18.75, "dose_changed")
    assert got["next_inr_due"] == (clock.today() + timedelta(days=7)).isoformat()   # R7 #1: above range → ≤ 7 d


def test_a_falling_crcl_moves_the_rivaroxaban_band_and_a_pharmacist_adjusts_the_dose(app, client, world):
    w = world
    release(client, w, "RX-R1", RIVA_20, clinical={"crcl_ml_min": 80, "weight_kg": 70})
    [ep] = episodes(w["pharmacist"], w["resident"])
    assert ep["dose_band"] == "20mg_qd" and ep["next_renal_due"] == (clock.today() + timedelta(days=365)).isoformat()
    # Scr 180 µmol/L, 70 y (born 1956), 70 kg, male: CG (140−70)×70 / (72 × 180/88.4) ≈ 33 mL/min → 15 mg qd
    when = clock.local(clock.now()).strftime("%Y%m%d%H%M%S")
    send_oru(w, oru(w["id_number"], "L2", "CREA", "180", "umol/L", when))
    got = episode(w["pharmacist"], ep["id"])
    assert got["results"][-1]["kind"] == "crcl" and got["results"][-1]["path"] == "renal_review"
    assert got["dose_band"] == "15mg_qd"
    review = one(w["pharmacist"], "pharmacist_dose_review")
    # the new dose is the dose table's (rivaroxaban_dose, NVAF, CrCl 15–50 → 15 mg qd), in words for the pharmacist
    assert review["org_code"] == "C01" and "由 20 mg 每日1次 变为 15 mg 每日1次" in review["instructions"]
    assert got["dose_band_label"] == "15 mg 每日1次"
    complete(w["pharmacist"], review, {"review": {"decision": "adjust", "dose_mg": 15, "frequency": "qd",
                                                  "opinion": "CrCl 约33，减为 15 mg 每日1次"}})
    got = episode(w["pharmacist"], ep["id"])
    assert (got["dose_mg"], got["frequency"]) == (15, "qd")
    assert got["next_renal_due"] == (clock.today() + timedelta(days=180)).isoformat()    # CrCl 30–60
    assert [(d["label"], d["dose_text"]) for d in got["doses"]] == [
        ("开始监测", "20 mg 每日1次（每周 140 mg）"), ("药师复核剂量", "15 mg 每日1次")]
    assert got["doses"][-1]["decision"] == "调整剂量" and "CrCl" in got["doses"][-1]["note"]


def test_a_new_interacting_medicine_asks_the_pharmacist_to_intervene(app, client, world):
    from app.residents import intake
    w = world
    ep = warfarin_episode(client, w)
    with app.app_context():
        intake.submit(w["resident"], [intake.MedicationFact(drug="amiodarone", dose="200mg", frequency="qd",
                                                            started_on=clock.today(), client_id="his-med-1")],
                      source="县人民医院 HIS", actor="his")
    task = one(w["pharmacist"], "pharmacist_intervention")
    assert "胺碘酮" in task["instructions"] and task["org_code"] == "C01"
    assert len(open_tasks(w["village"], "monitoring_entry")) == 1          # monitoring continues meanwhile
    complete(w["pharmacist"], task, {"intervention": {"decision": "monitor", "opinion": "华法林减量，1周内复查INR"}})
    kinds = [e["kind"] for e in episode(w["pharmacist"], ep["id"])["events"]]
    assert kinds.count("interaction") == 2                              # raised, then answered


def test_the_episode_shows_its_rosendaal_ttr(app, client, world):
    w = world
    ep = warfarin_episode(client, w)
    start = clock.today()
    # 1.5 (day 0), 2.5 (day 10), 3.5 (day 24), 2.5 (day 31): TTR 15.5 / 31 = 50 % (tests/unit/test_anticoag_ttr.py)
    for offset, inr in ((0, 1.5), (10, 2.5), (24, 3.5), (31, 2.5)):
        if offset:
            clock.advance(timedelta(days=offset) - (clock.today() - start))
        enter(w["village"], {"test_date": (start + timedelta(days=offset)).isoformat(), "inr": inr,
                             "bleeding": "none"})
        for element, data in (("dose_adjustment", {"dose": {"weekly_dose_mg": 21}}),):
            for t in open_tasks(w["township"], element):
                complete(w["township"], w["township"].get(f"/api/v1/tasks/{t['id']}").json, data)
    got = episode(w["village"], ep["id"])
    assert got["ttr"] == pytest.approx(50.0)
    assert got["ttr_detail"]["days_total"] == pytest.approx(31) and got["ttr_detail"]["tests"] == 4


def test_a_patient_outside_the_callers_scope_is_not_found(app, client, world, login_as):
    ep = warfarin_episode(client, world)
    other = login_as("village_doctor", org="C01T02V01", username="vd_other")
    resp = other.get(f"/api/v1/anticoag/episodes/{ep['id']}")
    assert resp.status_code == 404 and resp.json["code"] == "episode_not_found"
    assert date.fromisoformat(ep["started_on"]) == clock.today()


def test_two_days_before_a_check_the_village_doctor_and_a_consenting_patient_are_reminded(app, client, world):
    from sqlalchemy import select

    from app.core.db import session
    from app.notifications.models import Notification
    from app.portal import consent
    from connectors.sms.models import DevSmsMessage
    from tests.test_follow_up_support import tick
    w = world
    with app.app_context():
        consent.decide(w["resident"], purpose="reminder", channel="sms", granted=True, decided_by="staff")
    warfarin_episode(client, w)
    enter(w["village"], {"test_date": clock.today().isoformat(), "inr": 2.5, "bleeding": "none"})   # next in 5 d
    tick(app, days=3.5)                                                       # 2 days before the due date
    with app.app_context():
        notes = list(session().scalars(select(Notification).where(Notification.kind == "anticoag_due")))
        assert len(notes) == 1 and "INR" in notes[0].title
        sms = list(session().scalars(select(DevSmsMessage).where(DevSmsMessage.purpose == "anticoag_reminder")))
        assert len(sms) == 1 and "华法林" in sms[0].text and sms[0].phone == "13800001234"
    tick(app, days=0.1)
    with app.app_context():                                                   # once, not at every scheduler run
        assert session().scalar(select(Notification.id).where(Notification.kind == "anticoag_due")
                                .order_by(Notification.id.desc())) == notes[0].id


def test_the_programme_indicators_count_prereview_coverage_interventions_inr_timeliness_ttr_and_bleeding(
        app, client, world, login_as):
    from tests.pharmacy_support import rx as rx_body
    w = world
    # RX-A auto-passes and is billed after review; RX-B is billed by the HIS before review: coverage 1 of 2
    rx_a_id = release(client, w, "RX-A", WARFARIN_3, clinical={"inr": 2.1, "inr_date": clock.today().isoformat()})
    for state in ("charged", "dispensing", "checked", "dispensed", "administered"):
        resp = arrival(client, w["his"], {"rx_id": "RX-A", "state": state, "actor": "收费处"}, f"s-A-{state}",
                       message="rx_state")
        assert resp.status_code == 200, resp.json
    again = arrival(client, w["his"], {"rx_id": "RX-A", "state": "charged"}, "s-A-charged-2", message="rx_state")
    assert again.status_code == 200
    body = rx_body(w["id_number"], "RX-B", RIVA_20, clinical={"crcl_ml_min": 40},           # a dose warning
                   prescriber_code="vd_wang")
    rx_b = arrival(client, w["his"], body, "d-RX-B", message="rx_created").json["prescription_id"]
    arrival(client, w["his"], {"rx_id": "RX-B", "state": "charged"}, "s-B-charged", message="rx_state")
    unknown = arrival(client, w["his"], {"rx_id": "RX-X", "state": "charged"}, "s-X", message="rx_state")
    assert unknown.status_code == 404 and unknown.json["code"] == "unknown_rx_id"
    complete(w["pharmacist"], one(w["pharmacist"], "pharmacist_review"),
             {"decision": "intervene", "problems": ["dose"], "opinion": "CrCl 40，建议 15 mg qd"})
    complete(w["village"], one(w["village"], "prescriber_reply"),
             {"action": "modify", "items": [{"drug": "rivaroxaban", "dose_mg": 15, "frequency": "qd"}]})
    trace = w["pharmacist"].get(f"/api/v1/prescriptions/{rx_b}").json["states"]
    assert [s["label"] for s in trace][:3] == ["开具", "审核中", "收费"] and trace[2]["detail"]["before_review"]
    rx_a = [s["label"] for s in w["pharmacist"].get(f"/api/v1/prescriptions/{rx_a_id}").json["states"]]
    assert rx_a == ["开具", "审核中", "通过", "收费", "调配", "核对", "发药", "用药"]
    [warfarin] = [e for e in episodes(w["village"], w["resident"]) if e["drug"] == "warfarin"]
    enter(w["village"], {"test_date": clock.today().isoformat(), "inr": 5.2, "bleeding": "major",
                         "bleeding_site": "消化道"}, instance_id=warfarin["instance_id"])
    api = login_as("supervisor")
    period = clock.today().strftime("%Y-%m")

    resp = api.get(f"/api/v1/quality/overview?period={period}&org_code=C01&group=anticoag")
    assert resp.status_code == 200, resp.json
    figures = {i["id"]: i for i in resp.json["indicators"]}

    def value(indicator: str):
        return figures[indicator]["value"]
    assert value("rx_prereview_coverage") == pytest.approx(50.0)
    assert value("rx_intervention_rate") == pytest.approx(50.0)
    assert value("rx_intervention_acceptance") == pytest.approx(100.0)
    assert value("anticoag_inr_on_time") == pytest.approx(100.0)
    assert value("anticoag_inr_in_range") == pytest.approx(0.0)
    assert value("anticoag_bleeding_events") == 1


def test_the_list_shows_name_last_inr_next_check_and_filters_by_drug_organisation_and_overdue(
        app, client, world, login_as):
    w = world
    ep = warfarin_episode(client, w)
    release(client, w, "RX-R9", RIVA_20, clinical={"crcl_ml_min": 80, "weight_kg": 70})
    enter(w["village"], {"test_date": clock.today().isoformat(), "inr": 2.4, "bleeding": "none"},
          instance_id=ep["instance_id"])
    [row] = [e for e in episodes(w["pharmacist"], w["resident"]) if e["drug"] == "warfarin"]
    assert (row["resident_name"], row["org_code"], row["last_inr"], row["last_inr_in_range"]) == (
        "王建国", "C01T01V01", 2.4, True)
    assert row["next_due"] == (clock.today() + timedelta(days=5)).isoformat() and row["overdue"] is False
    assert row["org_name"] and row["org_name"] != "C01T01V01"
    api = w["pharmacist"]
    assert [e["drug"] for e in api.get("/api/v1/anticoag/episodes?drug=rivaroxaban").json["items"]] == [
        "rivaroxaban"]
    assert len(api.get("/api/v1/anticoag/episodes?org_code=C01T01").json["items"]) == 2
    assert api.get("/api/v1/anticoag/episodes?org_code=C01T02").json["items"] == []
    assert api.get("/api/v1/anticoag/episodes?overdue=true").json["items"] == []
    clock.advance(timedelta(days=6))                          # the INR was due in 5 days: now one day late
    items = api.get("/api/v1/anticoag/episodes?overdue=true").json["items"]
    assert [(e["drug"], e["overdue"]) for e in items] == [("warfarin", True)]
    assert [e["drug"] for e in api.get("/api/v1/anticoag/episodes?overdue=false").json["items"]] == ["rivaroxaban"]
    detail = episode(api, ep["id"])
    assert [(c["label"], c["overdue"]) for c in detail["schedule"]] == [("INR", True)]
    bad = api.get("/api/v1/anticoag/episodes?drug=aspirin")
    assert bad.status_code == 422 and bad.json["code"] == "validation_error"
    unknown = api.get("/api/v1/anticoag/episodes?org_code=NOPE")
    assert unknown.status_code == 404 and unknown.json["code"] == "org_not_found"


def test_the_organisations_ttr_distribution_bins_the_patients_and_only_supervising_roles_see_it(
        app, client, world, login_as):
    w = world
    ep = warfarin_episode(client, w)
    start = clock.today()
    # the worked example again (TTR 15.5 / 31 d = 50 %): one patient in the 50–60 % bin, band 50-65
    for offset, inr in ((0, 1.5), (10, 2.5), (24, 3.5), (31, 2.5)):
        if offset:
            clock.advance(timedelta(days=offset) - (clock.today() - start))
        enter(w["village"], {"test_date": (start + timedelta(days=offset)).isoformat(), "inr": inr,
                             "bleeding": "none"}, instance_id=ep["instance_id"])
        for t in open_tasks(w["township"], "dose_adjustment"):
            complete(w["township"], w["township"].get(f"/api/v1/tasks/{t['id']}").json,
                     {"dose": {"weekly_dose_mg": 21}})
    got = w["pharmacist"].get("/api/v1/anticoag/ttr-distribution")
    assert got.status_code == 200, got.json
    d = got.json
    assert (d["episodes"], d["patients"], d["without_ttr"]) == (1, 1, 0)
    assert d["pooled_ttr"] == pytest.approx(50.0) and d["bands"] == {"<50": 0, "50-65": 1, ">=65": 0}
    assert [b["patients"] for b in d["histogram"]] == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert d["histogram"][5]["label"] == "50–60%"
    assert [(o["org_code"], o["patients"]) for o in d["by_org"]] == [("C01T01", 1)]
    assert w["pharmacist"].get("/api/v1/anticoag/ttr-distribution?org_code=C01T02").json["patients"] == 0
    assert login_as("supervisor").get("/api/v1/anticoag/ttr-distribution").status_code == 200
    assert w["village"].get("/api/v1/anticoag/ttr-distribution").status_code == 403


# -- a weekly warfarin dose change above 20 % needs a pharmacist's co-sign (wave2 §3.2 step 3) -----------------------

def dose_task_after_inr_36(client, w) -> dict:
    ep = warfarin_episode(client, w)                                       # 3 mg qd: 21 mg a week
    when = clock.local(clock.now()).strftime("%Y%m%d%H%M%S")
    send_oru(w, oru(w["id_number"], "L9", "INR", "3.6", "", when))
    return ep


def test_a_dose_change_above_20_percent_takes_effect_only_after_the_pharmacists_cosign(app, client, world):
    w = world
    ep = dose_task_after_inr_36(client, w)
    complete(w["township"], one(w["township"], "dose_adjustment"), {"dose": {"weekly_dose_mg": 15, "note": "减量"}})
    got = episode(w["township"], ep["id"])
    assert got["weekly_dose_mg"] == 21                                      # not yet applied
    cosign = one(w["pharmacist"], "dose_cosign")
    assert cosign["org_code"] == "C01" and cosign["priority"] == 1
    assert "每周剂量由 21 mg 调整为 15 mg（减少28.6%）" in cosign["instructions"] and "减量" in cosign["instructions"]
    complete(w["pharmacist"], cosign, {"cosign": {"decision": "approve", "opinion": "INR 3.6，同意减量"}})
    got = episode(w["pharmacist"], ep["id"])
    assert (got["weekly_dose_mg"], got["phase"]) == (15, "dose_changed")
    kinds = [e["kind"] for e in got["events"]]
    assert kinds.index("dose_cosigned") < len(kinds) and "dose_adjusted" in kinds
    assert len(open_tasks(w["village"], "monitoring_entry")) == 1          # the next round


def test_a_change_of_20_percent_or_less_needs_no_cosign(app, client, world):
    w = world
    ep = dose_task_after_inr_36(client, w)
    complete(w["township"], one(w["township"], "dose_adjustment"), {"dose": {"weekly_dose_mg": 16.8}})   # −20 %
    assert open_tasks(w["pharmacist"], "dose_cosign") == []
    assert episode(w["township"], ep["id"])["weekly_dose_mg"] == 16.8


def test_a_refused_cosign_leaves_the_dose_unchanged_and_tells_the_prescriber(app, client, world):
    from sqlalchemy import select

    from app.core.db import session
    from app.notifications.models import Notification
    w = world
    ep = dose_task_after_inr_36(client, w)
    complete(w["township"], one(w["township"], "dose_adjustment"), {"dose": {"weekly_dose_mg": 10.5}})
    cosign = one(w["pharmacist"], "dose_cosign")
    # refusing without an opinion is bad input: refused by the form, nothing happens
    bad = w["pharmacist"].post(f"/api/v1/tasks/{cosign['id']}/complete", json={"data": {"cosign": {"decision": "refuse"}}})
    assert bad.status_code == 422, bad.json
    assert one(w["pharmacist"], "dose_cosign")["id"] == cosign["id"]
    complete(w["pharmacist"], cosign, {"cosign": {"decision": "refuse", "opinion": "减半过多，建议每周减10–15%"}})
    got = episode(w["township"], ep["id"])
    assert got["weekly_dose_mg"] == 21 and got["phase"] != "dose_changed"
    assert "dose_cosign_refused" in [e["kind"] for e in got["events"]]
    with app.app_context():
        told = list(session().scalars(select(Notification).where(Notification.kind == "anticoag_cosign_refused")))
        assert len(told) == 1 and "减半过多" in told[0].body and "21 mg 调整为 10.5 mg" in told[0].title
    again = one(w["township"], "dose_adjustment")                           # the prescriber decides again
    assert "药师未同意上次调整" in again["instructions"] and "减半过多" in again["instructions"]
    complete(w["township"], again, {"dose": {"weekly_dose_mg": 18.5}})
    assert open_tasks(w["pharmacist"], "dose_cosign") == []
    assert episode(w["township"], ep["id"])["weekly_dose_mg"] == 18.5


# -- an overdue check: reminded at due + 3 d, passed to the township doctor at due + 7 d (BPMN timers) -----------------

def overdue_round(app, client, w) -> tuple[dict, date]:
    from tests.test_follow_up_support import tick
    ep = warfarin_episode(client, w)
    enter(w["village"], {"test_date": clock.today().isoformat(), "inr": 2.5, "bleeding": "none"})
    due = clock.today() + timedelta(days=5)                                   # R7 initiation: next INR in 5 days
    assert episode(w["village"], ep["id"])["next_inr_due"] == due.isoformat()
    tick(app, days=3.5)                                                       # the reminder, 2 days before
    tick(app, days=5)                                                         # past due + 3 d (09:00 local)
    return ep, due


def test_an_overdue_check_reminds_the_village_doctor_then_passes_to_the_township_doctor(app, client, world):
    from sqlalchemy import select

    from app.core.db import session
    from app.notifications.models import Notification
    from tests.test_follow_up_support import tick
    w = world
    ep, due = overdue_round(app, client, w)
    with app.app_context():
        notes = list(session().scalars(select(Notification).where(Notification.kind == "anticoag_overdue")))
        assert len(notes) == 1 and "逾期" in notes[0].title and "INR" in notes[0].title
    assert len(open_tasks(w["village"], "monitoring_entry")) == 1 and open_tasks(w["township"], "overdue_escalation") == []
    # one hour after the escalation (09:00 local, due + 7 d), whatever the time of day the test started at: the text
    # counts the days overdue on the day the round passes to the township (a jump of whole days from an afternoon
    # start would land on due + 8)
    escalates = clock.assume_local(datetime.combine(due + timedelta(days=7), time(10, 0)))
    tick(app, days=(escalates - clock.now()) / timedelta(days=1))
    assert open_tasks(w["village"], "monitoring_entry") == []
    task = one(w["township"], "overdue_escalation")
    assert task["org_code"] == "C01T01" and task["priority"] == 1
    assert "已逾期7天" in task["instructions"] and "INR" in task["instructions"]
    assert [e["kind"] for e in episode(w["township"], ep["id"])["events"]][-2:] == ["overdue", "escalated"]
    # a date in the past (or far ahead) is refused with its code; nothing changes
    for bad in (clock.today() - timedelta(days=1), clock.today() + timedelta(days=40)):
        resp = w["township"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"escalation": {
            "outcome": "contacted", "agreed_date": bad.isoformat(), "note": "已联系"}}})
        assert resp.status_code == 422 and resp.json["code"] == "agreed_date_out_of_range", resp.json
    no_date = w["township"].post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {"escalation": {
        "outcome": "contacted", "note": "已联系"}}})
    assert no_date.status_code == 422
    agreed = clock.today() + timedelta(days=2)
    complete(w["township"], task, {"escalation": {"outcome": "contacted", "agreed_date": agreed.isoformat(),
                                                  "note": "患者外出务工，约定周末回村检测"}})
    got = episode(w["village"], ep["id"])
    assert got["next_inr_due"] == agreed.isoformat() and got["status"] == "active"
    entry = one(w["village"], "monitoring_entry")                             # the village doctor's round again
    assert entry["due_at"].startswith(agreed.isoformat())
    assert "overdue_handled" in [e["kind"] for e in got["events"]]


def test_a_township_doctor_records_a_lost_patient_and_the_episode_ends(app, client, world):
    from tests.test_follow_up_support import tick
    w = world
    ep, _ = overdue_round(app, client, w)
    tick(app, days=4)
    complete(w["township"], one(w["township"], "overdue_escalation"),
             {"escalation": {"outcome": "stopped", "note": "患者已自行停药并转往外地"}})
    got = episode(w["township"], ep["id"])
    assert got["status"] == "stopped" and open_tasks(w["village"], "monitoring_entry") == []


def test_an_inr_from_the_lis_closes_the_escalation_task(app, client, world):
    from tests.test_follow_up_support import tick
    w = world
    ep, _ = overdue_round(app, client, w)
    tick(app, days=4)
    assert len(open_tasks(w["township"], "overdue_escalation")) == 1
    when = clock.local(clock.now()).strftime("%Y%m%d%H%M%S")
    send_oru(w, oru(w["id_number"], "L7", "INR", "2.4", "", when))
    assert open_tasks(w["township"], "overdue_escalation") == []
    assert len(open_tasks(w["village"], "monitoring_entry")) == 1
    assert episode(w["village"], ep["id"])["results"][-1]["source"] == "lis"
