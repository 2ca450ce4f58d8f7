"""Use cases that start referrals: the public "referral requested" entry point every source calls (follow-up and
screening classifications, a doctor on the patient record, an external system, an inbound summary), and the job that
starts instances for requests stored while no `referral_up` model was deployed.

    request_referral(resident_id=12, source="follow_up", trigger="emergency", disease="htn",
                     source_key="follow_up_visit:77", reason="SBP 186 伴剧烈头痛")

is idempotent on `source_key`: a retried caller gets the same referral back."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.auth.principal import SYSTEM, Principal
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.org.queries import find_org
from app.residents import queries as residents
from app.vocabulary import Disease
from app.workflows import runner
from app.workflows.deploy import latest_process_versions

from . import catalogue, notices, numbering
from .models import Referral

log = logs.get("referral")
UP, DOWN = "referral_up", "referral_down"
TRIGGERS = ("emergency", "acs", "stroke", "pregnancy", "initial", "follow_up", "dm", "screening", "manual")
ROLE_OF_LEVEL = {"village": "village_doctor", "township": "township_doctor", "county": "county_specialist",
                 "department": "county_specialist"}
OPEN_STATUSES = ("requested", "drafting", "pending_approval", "offered", "accepted", "appointed", "arrived",
                 "receiving", "received")


def local_time(at: datetime | None) -> str:
    return clock.local(at).strftime("%Y-%m-%d %H:%M") if at else ""


def request_referral(*, resident_id: int, source: str, trigger: str, disease: str | None = None, reason: str = "",
                     requested_urgency: str = "routine", source_key: str | None = None,
                     source_instance_id: int | None = None, from_org_code: str | None = None,
                     from_user: str | None = None, to_org_code: str | None = None,
                     form: dict[str, Any] | None = None) -> Referral:
    """Record an up-referral request and start `referral_up` for it (or leave it `requested` until deployed)."""
    if trigger not in TRIGGERS:
        raise Invalid(f"未知转诊触发来源 {trigger}", code="invalid_trigger", allowed=list(TRIGGERS))
    disease = _disease_code(disease)
    with unit_of_work() as s:
        if source_key:
            found = s.scalars(select(Referral).where(Referral.source_key == source_key)).first()
            if found is not None:
                return found
        resident = residents.get_resident(resident_id, SYSTEM)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
        sender = find_org(from_org_code or resident.org_code)
        if from_org_code and sender is None:
            raise NotFound("转出机构不存在 (organization not found)", code="organization_not_found",
                           org_code=from_org_code)
        row = Referral(referral_no=numbering.next_number("up", clock.today()), direction="up", status="requested",
                       urgency="emergency" if trigger in ("emergency", "acs", "stroke") else requested_urgency,
                       reason=reason, disease=disease, resident_id=resident_id, resident_name=resident.name,
                       source=source, source_key=source_key, source_instance_id=source_instance_id,
                       from_org_code=sender.code if sender else None, from_org_path=sender.path if sender else None,
                       from_user=from_user, sender_role=ROLE_OF_LEVEL.get(sender.level if sender else "village"),
                       to_org_code=to_org_code, form=dict(form or {}, trigger=trigger,
                                                          requested_urgency=requested_urgency),
                       requested_at=clock.now(), updated_at=clock.now())
        s.add(row)
        s.flush()
        _start_if_deployed(s, row)
        if row.instance_id is None and row.urgency == "emergency":
            _alert_without_process(row)
        return row


def request_from_principal(principal: Principal, *, resident_id: int, disease: str | None, reason: str,
                           requested_urgency: str = "routine", to_org_code: str | None = None,
                           capability: str | None = None, trigger: str = "manual") -> Referral:
    """A doctor refers a resident from the patient record (404 outside the doctor's scope; a chosen receiving
    organisation must offer the capability)."""
    if residents.get_resident(resident_id, principal) is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
    if not reason.strip():
        raise Invalid("请填写转诊原因", code="reason_required", field="reason")
    if to_org_code:
        catalogue.check(to_org_code, capability or default_capability(disease))
    return request_referral(resident_id=resident_id, source="manual", trigger=trigger, disease=disease,
                            reason=reason, requested_urgency=requested_urgency, from_org_code=principal.org_code,
                            from_user=principal.username, to_org_code=to_org_code,
                            form={"capability": capability} if capability else None)


def _disease_code(disease: str | None) -> str | None:
    """The vocabulary code of a disease (old `dm` → `t2dm`); anything else is kept as given."""
    return str(Disease(disease)) if disease in Disease.accepted() else disease


def default_capability(disease: str | None) -> str:
    known = Disease.parse(disease) if disease in Disease.accepted() else None
    return {Disease.HTN: "cardiology", Disease.T2DM: "endocrinology"}.get(known, "general_medicine")


def _alert_without_process(row: Referral) -> None:
    """An emergency that no `referral_up` instance can take yet (the model is not deployed): nothing clinical may be
    only a row, so the township lead and the county's emergency contacts are told at once (inbox + app push; the same
    dedupe keys as the process's own notice, so nobody is told twice once `referral.start_requested` starts it)."""
    log.error("emergency referral %s stored without a referral_up instance (model not deployed)", row.referral_no)
    contacts = [uid for offer in catalogue.providers("emergency") if offer.org_code
                for uid in notices.org_staff(offer.org_code, "county_specialist")]
    body = f"{row.referral_no} {row.resident_name}：{row.reason or ''}（转诊流程未部署，请立即电话联系处置）"
    notices.tell(notices.township_leads(row.from_org_code) + contacts, row, "emergency", body, push=True)


def _start_if_deployed(s, row: Referral) -> None:
    process = UP if row.direction == "up" else DOWN
    if row.instance_id is not None or process not in latest_process_versions(s):
        return
    data = {"referral_id": row.id, "referral_no": row.referral_no, "resident_id": row.resident_id,
            "disease": row.disease or "", "reason": row.reason or ""}
    if row.direction == "up":
        data.update(trigger=row.form.get("trigger", "manual"),
                    requested_urgency=row.form.get("requested_urgency", "routine"))
    else:
        data.update(parent_referral_id=row.parent_id, receiver_org=row.to_org_code, receiver_role=row.receiver_role,
                    sender_org=row.from_org_code, external=bool(row.form.get("external_summary")))
    inst = runner.start_instance(process, actor=runner.Actor(row.from_user or row.source), data=data,
                                 resident_id=row.resident_id, org_code=row.from_org_code,
                                 business_key=row.referral_no, parent_instance_id=row.source_instance_id)
    row.instance_id = inst.id
    if row.status == "requested":
        row.status = "drafting"
    row.updated_at = clock.now()


def start_requested(limit: int = 100) -> int:
    """Start instances for referrals stored while their model was not deployed (the migration's converted rows)."""
    ids = list(session().scalars(select(Referral.id).where(Referral.instance_id.is_(None),
                                                           Referral.status == "requested")
                                 .order_by(Referral.id).limit(limit)))
    started = 0
    for referral_id in ids:
        with unit_of_work() as s:
            row = s.scalars(select(Referral).where(Referral.id == referral_id).with_for_update()).one()
            _start_if_deployed(s, row)
            started += row.instance_id is not None
    return started


def request_down_referral(parent_id: int | None, *, resident_id: int, from_org_code: str | None,
                          from_user: str | None, source: str = "referral", source_key: str | None = None,
                          disease: str | None = None, reason: str = "", form: dict[str, Any] | None = None,
                          external_hospital: str | None = None) -> Referral:
    """Record a down-referral (下转) to the resident's managing township/village and start `referral_down`."""
    with unit_of_work() as s:
        if source_key:
            found = s.scalars(select(Referral).where(Referral.source_key == source_key)).first()
            if found is not None:
                return found
        resident = residents.get_resident(resident_id, SYSTEM)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
        receiver = find_org(resident.org_code)
        sender = find_org(from_org_code) if from_org_code else None
        row = Referral(referral_no=numbering.next_number("down", clock.today()), direction="down",
                       status="requested", urgency="routine", reason=reason, disease=disease,
                       resident_id=resident_id, resident_name=resident.name, source=source, source_key=source_key,
                       parent_id=parent_id, from_org_code=sender.code if sender else None,
                       from_org_path=sender.path if sender else None, from_user=from_user,
                       sender_role="county_specialist", to_org_code=receiver.code if receiver else None,
                       to_org_path=receiver.path if receiver else None,
                       target_level=receiver.level if receiver else None,
                       receiver_role=ROLE_OF_LEVEL.get(receiver.level if receiver else "township"),
                       external_hospital=external_hospital, form=dict(form or {}), requested_at=clock.now(),
                       updated_at=clock.now())
        s.add(row)
        s.flush()
        _start_if_deployed(s, row)
        return row


def request_down_from_principal(principal: Principal, *, resident_id: int, disease: str | None, reason: str,
                                parent_id: int | None = None) -> Referral:
    """A county doctor starts a down-referral (ward round / discharge) from the patient record."""
    if residents.get_resident(resident_id, principal) is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
    if parent_id is not None:
        parent = session().get(Referral, parent_id)
        if parent is None or parent.resident_id != resident_id:
            raise NotFound("上转记录不存在 (referral not found)", code="referral_not_found")
        if any(r.status not in ("cancelled",) for r in children(parent_id)):
            raise Conflict("此上转已有下转记录 (already down-referred)", code="already_down_referred")
    return request_down_referral(parent_id, resident_id=resident_id, from_org_code=principal.org_code,
                                 from_user=principal.username, source="manual", disease=disease, reason=reason)


def children(parent_id: int) -> list[Referral]:
    return list(session().scalars(select(Referral).where(Referral.parent_id == parent_id)))
