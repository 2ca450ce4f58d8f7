"""Referral exchange with the public-health platform (issue 16, M19): an inbound referral/discharge summary of a
resident treated outside the county (or of someone from elsewhere who lives here) becomes a down-referral receipt
at the resident's managing organisation; an out-of-county up-referral, once approved with its 医保备案号, is sent
out. The connector (`connectors/public_health/referrals.py`) moves the messages; these functions decide."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.sql.elements import ColumnElement

from app.audit.services import record as audit
from app.auth.crypto import decrypt_field
from app.core import clock
from app.core.db import session
from app.residents.models import Resident

from . import catalogue
from .models import Referral
from .services import local_time, request_down_referral

SUMMARY_FIELDS = ("discharge_diagnosis", "discharge_on", "course_summary", "discharge_medication", "long_term_plan",
                  "follow_up_requirements", "rehab_requirements", "recheck_items", "re_referral_criteria")


def receive_summary(resident_id: int, summary: dict[str, Any], *, system: str) -> Referral:
    """Start the down-referral receipt for an outside hospital's summary (idempotent on the remote id)."""
    hospital = (summary.get("hospital") or "县外医院").strip()[:120]
    form = {k: summary[k] for k in SUMMARY_FIELDS if summary.get(k) not in (None, "")}
    return request_down_referral(
        None, resident_id=resident_id, from_org_code=None, from_user=None, source=system,
        source_key=f"{system}:summary:{summary['id']}"[:120], disease=summary.get("disease"),
        reason=f"{hospital}出院/转诊小结：{summary.get('discharge_diagnosis') or ''}".strip("："),
        form={**form, "external_summary": True}, external_hospital=hospital)


PENDING_KIND = "referral_summary"


def pending_summary(summary: dict[str, Any], system: str) -> dict[str, Any]:
    """What a merge review keeps of a summary it holds: everything but the ID number (the review decides who)."""
    return {"kind": PENDING_KIND, "system": system, "summary": {k: v for k, v in summary.items() if k != "id_number"}}


def on_identity_reviewed(row, data: dict[str, Any], actor_name: str) -> None:
    """The merge review of a held summary was answered (in that transaction): 同一人 → the kept resident; a new
    record → the resident the review created. Without a resident the summary stays on the review (audited)."""
    pending = (row.data or {}).get("pending") or {}
    if pending.get("kind") != PENDING_KIND:
        return
    review = row.data or {}
    resident_id = data.get("keep_resident_id") if data.get("decision") == "same_person" \
        else review.get("new_resident_id")
    if resident_id is None:
        audit("referral.summary_unfiled", object_type="process_instance", object_id=row.instance_id,
              details={"decision": data.get("decision"), "summary_id": pending["summary"].get("id")})
        return
    receive_summary(int(resident_id), pending["summary"], system=pending["system"])


def approved_transfers(limit: int = 200, owed: Callable[[Any], ColumnElement[bool]] | None = None
                       ) -> list[Referral]:
    """Out-of-county up-referrals approved (status `transferred_out`), oldest first: what goes out. `owed(id
    column)` narrows them to those the caller still has to send (so the limit counts only those)."""
    query = select(Referral).where(
        Referral.direction == "up", Referral.out_of_county.is_(True), Referral.status == "transferred_out")
    if owed is not None:
        query = query.where(owed(Referral.id))
    return list(session().scalars(query.order_by(Referral.id).limit(limit)))


def transfer_message(row: Referral) -> dict[str, Any]:
    """The 转诊单 of an approved out-of-county referral as the public-health platform takes it."""
    resident = session().get(Resident, row.resident_id)
    form = row.form or {}
    return {"referral_no": row.referral_no, "id_number": decrypt_field(resident.id_number_encrypted) if resident else None,
            "name": row.resident_name, "sex": resident.sex if resident else None,
            "birth_date": resident.birth_date.isoformat() if resident else None, "from_org_code": row.from_org_code,
            "hospital": row.external_hospital, "insurance_filing_no": row.insurance_filing_no,
            "capability": catalogue.label(row.capability), "disease": row.disease, "reason": row.reason,
            "chief_complaint": form.get("chief_complaint"), "present_illness": form.get("present_illness"),
            "past_history": form.get("past_history"), "current_medication": form.get("current_medication"),
            "approval": form.get("approval"), "requested_on": local_time(row.requested_at)[:10],
            "sent_at": clock.now().isoformat()}
