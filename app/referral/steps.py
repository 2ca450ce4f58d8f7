"""The referral processes' steps (called by their service tasks; each idempotent, keyed by the referral row).

The `referrals` row is updated at every step, so lists, the patient record and the live statistics read current
process data without a batch. Timings (SLA, no-show grace, first follow-up) are wave2 §1 [P] values named here."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.care_plans import services as care_plans
from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import NotFound
from app.org.queries import find_org, township_of
from app.vocabulary import Disease

from . import catalogue, notices
from .models import Referral
from .services import (
    ROLE_OF_LEVEL,
    local_time,
    request_down_referral,
    request_referral,
)

DECISION_SLA = {"emergency": timedelta(minutes=15), "priority": timedelta(hours=4), "routine": timedelta(hours=24)}
NO_SHOW_GRACE = {"emergency": timedelta(hours=6), "priority": timedelta(days=1), "routine": timedelta(days=3)}
FOLLOW_UP_DAYS = 14                 # T04/T05: 2周内主动随访转诊情况
FIRST_FOLLOW_UP_DAYS = 14           # T19 [P]: 下转后首次随访 ≤14 d
FIRST_FOLLOW_UP_DAYS_HIGH_RISK = 7  # insulin / anticoagulant patients [P]
RESULT_SLA = timedelta(days=2)      # 结果回传: visit/discharge + 2 d [P]
REJECT_REASONS = ("超出本院能力", "不符合转诊指征", "资料不全", "床位已满", "其他")


def _row(s, referral_id: int) -> Referral:
    return s.scalars(select(Referral).where(Referral.id == int(referral_id)).with_for_update()).one()


def _end_of_day(day) -> str:
    return clock.end_of_day(day).isoformat()


def _on_time(row: Referral) -> bool:
    return row.follow_up_due_on is None or clock.today() <= row.follow_up_due_on


def _touch(row: Referral, status: str | None = None) -> None:
    if status:
        row.status = status
    row.updated_at = clock.now()


# -- referral_up ---------------------------------------------------------------------------------------------

def register(referral_id: int, *, urgency: str, reason_code: str, capability: str) -> dict[str, Any]:
    """Record R1's outcome; answer what routing (R3) and the sender's tasks need."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        row.urgency, row.reason_code = urgency, reason_code
        row.capability = row.form.get("capability") or capability
        if row.follow_up_due_on is None:
            row.follow_up_due_on = clock.today() + timedelta(days=FOLLOW_UP_DAYS)
        sender = find_org(row.from_org_code) if row.from_org_code else None
        township = township_of(row.from_org_code) if row.from_org_code else None
        targets = [{"value": o.org_code, "label": o.name} for o in catalogue.providers(row.capability)
                   if o.level in ("county", "department")]
        if row.to_org_code and not any(t["value"] == row.to_org_code for t in targets):
            row.to_org_code = None
        _touch(row, "drafting" if row.status == "requested" else None)
        return {"referral_no": row.referral_no, "sender_org": row.from_org_code,
                "sender_role": row.sender_role or "village_doctor", "sender_level": sender.level if sender else "village",
                "township_capable": catalogue.township_offers(row.capability, township.code if township else None),
                "county_capable": bool(targets), "targets": targets,
                "target_org": row.to_org_code or (targets[0]["value"] if targets else None),
                "capability_label": catalogue.label(row.capability),
                "follow_up_due_at": _end_of_day(row.follow_up_due_on),
                "external_hospitals": [o.name for o in catalogue.providers(row.capability, in_county=False)
                                       if o.insurance_designated]}


def route(referral_id: int, *, target_level: str, needs_approval: bool) -> dict[str, Any]:
    """Record R3's route; for a route to the township, the sender's township is the receiver."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        row.target_level, row.out_of_county = target_level, target_level == "out_of_county"
        if target_level == "township":
            township = township_of(row.from_org_code)
            row.to_org_code = township.code if township else None
        _touch(row)
        return {"target_level": target_level, "needs_approval": bool(needs_approval),
                "receiver_org": row.to_org_code}


def offer_emergency(referral_id: int) -> dict[str, Any]:
    """Emergency: no acceptance step. Offer to the nearest capable ED at once and tell everyone who must act."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if row.offered_at is None:
            providers = [o for o in catalogue.providers(row.capability or "emergency")
                         if o.level in ("county", "department")]
            providers = providers or [o for o in catalogue.providers("emergency") if o.level in ("county", "department")]
            if providers and not row.to_org_code:
                row.to_org_code = providers[0].org_code
            _set_receiver(row)
            now = clock.now()
            row.offered_at, row.accepted_at, row.decided_at = now, now, now
            row.appointment_at = now
            _touch(row, "accepted")
        body = f"{row.referral_no} {row.resident_name}：{row.reason or ''}（{catalogue.label(row.capability)}），请做好接诊准备"
        notices.tell(notices.receiver_users(row), row, "emergency", body, push=True)
        notices.tell(notices.township_leads(row.from_org_code), row, "emergency", body, push=True)
        notices.tell_patient(row, "emergency", {"hospital": _org_name(row.to_org_code)})
        return {"receiver_org": row.to_org_code, "no_show_at": (row.offered_at + NO_SHOW_GRACE["emergency"]).isoformat()}


def _set_receiver(row: Referral) -> None:
    org = find_org(row.to_org_code) if row.to_org_code else None
    row.to_org_path = org.path if org else None
    row.receiver_role = ROLE_OF_LEVEL.get(org.level, "county_specialist") if org else None


def _org_name(code: str | None) -> str:
    org = find_org(code) if code else None
    return org.name if org else ""


def record_emergency(referral_id: int, *, handling: dict[str, Any]) -> dict[str, Any]:
    """The sender's first aid and transfer record (急救处置): kept on the 转诊单."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        row.form = {**row.form, "emergency": handling}
        _touch(row)
        return {"arrived": row.arrived_at is not None,
                "no_show_at": ((row.offered_at or clock.now()) + NO_SHOW_GRACE["emergency"]).isoformat()}


def submit_form(referral_id: int, *, form: dict[str, Any]) -> dict[str, Any]:
    """The sender's 转诊单 (F1.1): the chosen receiving department must offer the capability."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        target = form.get("target_org") or row.to_org_code
        if not row.out_of_county and row.target_level != "township":
            try:
                catalogue.check(target or "", row.capability or "general_medicine")
            except catalogue.CapabilityUnavailable as exc:
                return {"ok": False, "message": exc.message}
            except Exception as exc:  # noqa: BLE001 (an unknown organisation code in the form)
                return {"ok": False, "message": getattr(exc, "message", str(exc))}
            row.to_org_code = target
        row.form = {**row.form, **form}
        if form.get("reason"):
            row.reason = form["reason"]
        _touch(row)
        return {"ok": True, "message": ""}


def request_approval(referral_id: int) -> dict[str, Any]:
    """Out of county: the 医务科 approves and files with 医保 (F1.3)."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        _touch(row, "pending_approval")
        root = find_org(row.from_org_code)
        supervisors = [u for u in notices.org_staff(_root_code(root), "supervisor")]
        notices.tell(supervisors, row, "approval", f"{row.referral_no} {row.resident_name}：县内无“"
                     f"{catalogue.label(row.capability)}”能力，申请县外转诊")
        return {"status": row.status}


def _root_code(org) -> str | None:
    if org is None:
        return None
    codes = [c for c in org.path.strip("/").split("/") if c]
    return codes[0] if codes else None


def record_approval(referral_id: int, *, approved: bool, hospital: str | None, filing_no: str | None,
                    opinion: str | None, approver: str | None = None) -> dict[str, Any]:
    """Approve (the hospital must be in the catalogue and 医保定点; filing number required) or refuse."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if approved:
            try:
                catalogue.external_hospital(hospital or "", row.capability or "")
            except catalogue.CapabilityUnavailable as exc:
                return {"approved": False, "invalid": exc.message, "status": row.status}
            if not filing_no:
                return {"approved": False, "invalid": "县外转诊须填写医保备案号", "status": row.status}
            row.external_hospital, row.insurance_filing_no = hospital, filing_no
            row.approved_at = row.offered_at = row.accepted_at = row.decided_at = clock.now()
            row.form = {**row.form, "approval": {"opinion": opinion, "approver": approver}}
            _touch(row, "transferred_out")
            notices.tell(notices.sender_users(row), row, "accepted",
                         f"{row.referral_no} 县外转诊已批准：{hospital}，医保备案号 {filing_no}")
            notices.tell_patient(row, "accepted", {"hospital": hospital})
        else:
            row.form = {**row.form, "approval": {"opinion": opinion, "approver": approver, "approved": False}}
            row.closed_at = clock.now()
            _touch(row, "cancelled")
            notices.tell(notices.sender_users(row), row, "cancelled", f"{row.referral_no} 县外转诊未获批准：{opinion or ''}")
        return {"approved": bool(approved), "invalid": "", "status": row.status}


def offer(referral_id: int) -> dict[str, Any]:
    """Offer to the receiving organisation's queue (candidate group = the department) with the decision SLA."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        _set_receiver(row)
        if row.status not in ("offered",):
            now = clock.now()
            row.offered_at = row.offered_at or now
            row.decision_due_at = now + DECISION_SLA.get(row.urgency, DECISION_SLA["routine"])
            _touch(row, "offered")
        body = (f"{row.referral_no} {row.resident_name}（{catalogue.label(row.capability)}，"
                f"{'优先' if row.urgency == 'priority' else '常规'}）：{row.reason or ''}；请于 "
                f"{local_time(row.decision_due_at)} 前审核")
        event = "offered" if row.rejections == 0 and "redirected_from" not in row.form else "redirected"
        notices.tell(notices.receiver_users(row), row, "offered" if event == "offered" else "redirected", body)
        if event == "offered":
            notices.tell_patient(row, "offered", {"hospital": _org_name(row.to_org_code)})
        return {"receiver_org": row.to_org_code, "receiver_role": row.receiver_role or "county_specialist",
                "decision_due_at": row.decision_due_at.isoformat()}


def escalate_review(referral_id: int) -> dict[str, Any]:
    """The decision SLA passed: tell the receiving department's staff and the supervisors (once)."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        body = f"{row.referral_no} {row.resident_name}：接诊审核已超过时限 {local_time(row.decision_due_at)}"
        notices.tell(notices.receiver_users(row), row, "overdue", body)
        notices.tell(notices.org_staff(_root_code(find_org(row.to_org_code)), "supervisor"), row, "overdue", body)
        return {"escalated": True}


def decide(referral_id: int, *, decision: str, reject_reason: str | None = None, reject_note: str | None = None,
           redirect_org: str | None = None, visit_mode: str | None = None, suggested_date: str | None = None,
           decided_by: str | None = None) -> dict[str, Any]:
    """接诊审核 (F1.2): accept, reject with a reason, or redirect to another department that offers the capability."""
    if decision == "reject" and reject_reason not in REJECT_REASONS:
        return {"decision": "invalid", "message": "拒收须选择原因"}
    with unit_of_work() as s:
        row = _row(s, referral_id)
        now = clock.now()
        row.decided_at = now
        if decision == "accept":
            row.accepted_at = now
            row.result = {**row.result, "visit_mode": visit_mode, "suggested_date": suggested_date,
                          "accepted_by": decided_by}
            _touch(row, "accepted")
            notices.tell(notices.sender_users(row), row, "accepted",
                         f"{row.referral_no} {row.resident_name} 已被{_org_name(row.to_org_code)}接收")
            notices.tell_patient(row, "accepted", {"hospital": _org_name(row.to_org_code)})
        elif decision == "reject":
            row.rejected_at, row.reject_reason, row.reject_note = now, reject_reason, reject_note
            row.rejections += 1
            _touch(row, "rejected")
            notices.tell(notices.sender_users(row), row, "rejected",
                         f"{row.referral_no} {row.resident_name} 被{_org_name(row.to_org_code)}拒收：{reject_reason}"
                         f"{'，' + reject_note if reject_note else ''}；请改派或撤销")
            notices.tell_patient(row, "rejected", {"reason": reject_reason})
        elif decision == "redirect":
            try:
                catalogue.check(redirect_org or "", row.capability or "general_medicine")
            except (catalogue.CapabilityUnavailable, NotFound) as exc:
                return {"decision": "invalid", "message": exc.message}
            row.form = {**row.form, "redirected_from": row.to_org_code}
            row.to_org_code = redirect_org
            _set_receiver(row)
            _touch(row, "redirected")
        else:
            return {"decision": "invalid", "message": f"未知审核结论 {decision}"}
        return {"decision": decision, "status": row.status, "message": ""}


def revise(referral_id: int, *, action: str, target_org: str | None = None, note: str | None = None
           ) -> dict[str, Any]:
    """After a rejection the sender re-targets (the new department must offer the capability) or cancels."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if action == "cancel":
            row.closed_at = clock.now()
            row.form = {**row.form, "cancel_note": note}
            _touch(row, "cancelled")
            return {"action": "cancel", "message": ""}
        try:
            catalogue.check(target_org or "", row.capability or "general_medicine")
        except (catalogue.CapabilityUnavailable, NotFound) as exc:
            return {"action": "invalid", "message": exc.message}
        row.to_org_code = target_org
        row.form = {**row.form, "redirected_from": row.form.get("redirected_from") or "rejected"}
        _set_receiver(row)
        _touch(row)
        return {"action": "retarget", "message": ""}


def book(referral_id: int, *, appointment_at: str, place: str | None = None, note: str | None = None
         ) -> dict[str, Any]:
    """预约 (WS/T 790.15 shape): the time and place; the patient is told what to bring."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        at = datetime.fromisoformat(appointment_at)
        at = clock.assume_local(at)
        row.appointment_at = at
        row.result = {**row.result, "place": place, "appointment_note": note}
        if row.arrived_at is None:
            _touch(row, "appointed")
        when = local_time(at)
        notices.tell(notices.sender_users(row), row, "appointed", f"{row.referral_no} {row.resident_name} 已预约 {when} "
                     f"{_org_name(row.to_org_code)}{place or ''}")
        notices.tell_patient(row, "appointed", {"time": when, "place": f"{_org_name(row.to_org_code)}{place or ''}",
                                                "bring": "身份证、医保卡、转诊单"})
        grace = NO_SHOW_GRACE.get(row.urgency, NO_SHOW_GRACE["routine"])
        return {"arrived": row.arrived_at is not None, "no_show_at": (at + grace).isoformat()}


def confirm_arrival(referral_id: int, *, arrival: dict[str, Any] | None = None) -> dict[str, Any]:
    """The process saw the arrival (the message or an arrival recorded earlier): make sure the row says so."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if row.arrived_at is None:
            at = (arrival or {}).get("arrived_at")
            row.arrived_at = datetime.fromisoformat(at) if at else clock.now()
            row.result = {**row.result, "arrival": arrival or {}}
        _touch(row, "arrived")
        return {"arrived_at": row.arrived_at.isoformat()}


def record_no_show(referral_id: int, *, outcome: str, reason: str | None = None) -> dict[str, Any]:
    """未到位核实: the sender confirms whether the patient went (到位 elsewhere) or not, and why."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        row.no_show_reason = reason
        row.follow_up = {**row.follow_up, "no_show_check": {"outcome": outcome, "reason": reason}}
        row.closed_at = clock.now()
        _touch(row, "no_show" if outcome != "到位" else "arrived_elsewhere")
        return {"status": row.status}


def record_result(referral_id: int, *, result: dict[str, Any]) -> dict[str, Any]:
    """回执 (F1.4): diagnosis, treatment and advice back to the sender (and the patient)."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if row.result_at is None:
            row.result_at = clock.now()
            row.result_on_time = row.arrived_at is None or row.result_at <= row.arrived_at + RESULT_SLA
        row.result = {**row.result, **result}
        _touch(row, "completed")
        notices.tell(notices.sender_users(row), row, "result",
                     f"{row.referral_no} {row.resident_name} 诊疗结果：{result.get('diagnosis') or ''}；"
                     f"{result.get('advice') or ''}")
        notices.tell_patient(row, "result", {"diagnosis": result.get("diagnosis") or ""})
        return {"down_suggested": bool(result.get("down_referral"))}


def start_down(referral_id: int, *, reason: str | None = None) -> dict[str, Any]:
    """The county suggests a down-referral: start `referral_down` linked to this up-referral."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        down = request_down_referral(row.id, resident_id=row.resident_id, from_org_code=row.to_org_code,
                                     from_user=row.result.get("accepted_by"), source="referral",
                                     source_key=f"down_of:{row.id}", disease=row.disease,
                                     reason=reason or row.result.get("diagnosis") or "")
        return {"down_referral_id": down.id, "down_referral_no": down.referral_no}


def record_follow_up(referral_id: int, *, follow_up: dict[str, Any]) -> dict[str, Any]:
    """2周内随访转诊情况 (F1.5): 到位/不到位, diagnosis confirmed, new plan carried out."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if row.follow_up_done_at is None:
            row.follow_up_done_at = clock.now()
            row.follow_up_on_time = _on_time(row)
        row.follow_up = {**row.follow_up, **follow_up}
        _touch(row)
        return {"done_at": row.follow_up_done_at.isoformat()}


# -- referral_down ---------------------------------------------------------------------------------------------

def down_inputs(referral_id: int, *, form: dict[str, Any]) -> dict[str, Any]:
    """System checks for R2: can the receiving township manage insulin/anticoagulation, is a critical lab pending."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        row.form = {**row.form, **form}
        township = township_of(row.to_org_code) if row.to_org_code else None
        needs = [c for c, flag in (("insulin_management", form.get("insulin_titration")),
                                   ("anticoagulation", form.get("inr_unstable"))) if flag]
        capable = bool(needs) and all(catalogue.township_offers(c, township.code if township else None)
                                      for c in needs)
        _touch(row, "drafting")
        return {"high_risk_drug_unstable": bool(needs), "receiver_capable": capable,
                "pending_critical_lab": bool(form.get("pending_critical_lab"))}


def offer_down(referral_id: int, *, eligibility: dict[str, Any], override_reason: str | None = None
               ) -> dict[str, Any]:
    """下转单 issued: to the township/village doctor of the resident's managing organisation."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        row.form = {**row.form, "eligibility": eligibility, "override_reason": override_reason}
        if row.offered_at is None:
            row.offered_at = clock.now()
            row.decision_due_at = row.offered_at + timedelta(days=2)
        _touch(row, "offered")
        notices.tell(notices.receiver_users(row) or notices.township_leads(row.to_org_code), row, "down_offered",
                     f"{row.referral_no} {row.resident_name} 由{row.external_hospital or _org_name(row.from_org_code)}"
                     "下转，请接收并安排首次随访")
        notices.tell_patient(row, "down_offered", {"org": _org_name(row.to_org_code)})
        return {"receiver_org": row.to_org_code, "receiver_role": row.receiver_role or "township_doctor"}


def receive_down(referral_id: int, *, receipt: dict[str, Any], received_by: str | None = None) -> dict[str, Any]:
    """接收确认: refresh the chronic-care plan with the county's plan and set the first follow-up (≤14 d)."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if row.accepted_at is None:
            row.accepted_at = row.decided_at = clock.now()
        high_risk = bool(row.form.get("insulin_titration") or row.form.get("inr_unstable"))
        days = FIRST_FOLLOW_UP_DAYS_HIGH_RISK if high_risk else FIRST_FOLLOW_UP_DAYS
        discharge = row.form.get("discharge_on")
        base = datetime.fromisoformat(discharge).date() if discharge else clock.today()
        row.follow_up_due_on = max(base + timedelta(days=days), clock.today())
        plan = None
        if row.disease in Disease.accepted() and Disease.parse(row.disease) in (Disease.HTN, Disease.T2DM):
            plan = care_plans.request_revision(row.resident_id, row.disease, requested_by=received_by or "referral",
                                               reason=f"县级医院下转 {row.referral_no}：{row.form.get('long_term_plan') or row.reason or ''}")
        row.follow_up = {**row.follow_up, "receipt": receipt, "care_plan": plan}
        _touch(row, "received")
        return {"first_follow_up_due_at": _end_of_day(row.follow_up_due_on), "care_plan": plan}


def record_first_follow_up(referral_id: int, *, visit: dict[str, Any]) -> dict[str, Any]:
    """下转后首次随访: the loop closes; deterioration sends the patient up again."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        if row.follow_up_done_at is None:
            row.follow_up_done_at = clock.now()
            row.follow_up_on_time = _on_time(row)
        row.follow_up = {**row.follow_up, "first_visit": visit}
        row.closed_at = clock.now()
        _touch(row, "completed")
        return {"deteriorated": visit.get("condition") == "恶化"}


def request_again(referral_id: int) -> dict[str, Any]:
    """Deterioration at the first follow-up after a down-referral: a new up-referral (back to `referral_up`)."""
    with unit_of_work() as s:
        row = _row(s, referral_id)
        up = request_referral(resident_id=row.resident_id, source="referral", trigger="follow_up",
                              disease=row.disease, source_key=f"again_of:{row.id}", from_org_code=row.to_org_code,
                              reason=f"下转后首次随访病情恶化 ({row.referral_no})")
        return {"referral_id": up.id, "referral_no": up.referral_no}
