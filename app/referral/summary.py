"""Sharing across the referral: the sender's record summary for the receiving doctor (only while the referral is
active, every read audited), and arrivals from the hospital (HIS ADT) recorded against the referral number."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.audit.services import record as audit
from app.auth.principal import SYSTEM, Principal
from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Forbidden, NotFound
from app.integrations import queries as inbound
from app.residents import queries as residents
from app.residents.record_queries import chronic_summary
from app.workflows import messages, runner

from . import queries
from .models import Referral

ARRIVAL_MESSAGE = "referral_arrived"


def for_receiver(p: Principal, referral_id: int) -> dict[str, Any]:
    """What the receiving department (or the sender) may read of the patient's record for this referral."""
    row = queries.get(p, referral_id)
    # the receiving department itself (a county-wide role elsewhere in the hospital is not the receiver)
    receiving = bool(row.to_org_path) and bool(p.org_path) and row.to_org_path.startswith(p.org_path)
    sending = bool(row.from_org_path) and bool(p.org_path) and row.from_org_path.startswith(p.org_path)
    if not (receiving or sending):
        raise NotFound("转诊记录不存在 (referral not found)", code="referral_not_found")
    if not queries.is_active(row) and not sending:
        raise Forbidden("转诊已结束，不能再查看转出方档案 (referral no longer active)", code="referral_closed")
    resident = residents.get_resident(row.resident_id, SYSTEM)
    with unit_of_work():
        audit("referral.summary_read", object_type="resident", object_id=row.resident_id,
              details={"referral_id": row.id, "referral_no": row.referral_no}, principal=p)
    return {"referral_no": row.referral_no,
            "resident": {"name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date.isoformat(),
                         "id_number": resident.id_number_masked},
            "form": {k: v for k, v in (row.form or {}).items() if k not in ("trigger", "requested_urgency")},
            "record": chronic_summary(row.resident_id),
            "valid_until": None if not queries.is_active(row) else "转诊结束时"}


def record_arrival(payload: dict[str, Any], *, source: str) -> dict[str, Any]:
    """The hospital says the patient arrived: mark the referral once, then wake its waiting instance.

    An unknown referral number is refused (404 `unknown_referral_no`): the webhook store keeps the delivery and
    `unmatched_arrivals` reports it. A second arrival for the same referral changes nothing and answers the same."""
    number = str(payload.get("referral_no") or "").strip()
    with unit_of_work() as s:
        row = s.scalars(select(Referral).where(Referral.referral_no == number).with_for_update()).first()
        if row is None:
            raise NotFound(f"未知转诊单号 {number} (unknown referral number)", code="unknown_referral_no",
                           referral_no=number)
        first = row.arrived_at is None
        if first:
            at = payload.get("arrived_at")
            row.arrived_at = datetime.fromisoformat(at) if at else clock.now()
            row.result = {**row.result, "arrival": {"source": source, "visit_no": payload.get("visit_no"),
                                                    "department": payload.get("department")}}
            if row.status in ("accepted", "appointed", "offered"):
                row.status = "arrived"
            row.updated_at = clock.now()
        referral_id, instance_id, arrived_at = row.id, row.instance_id, row.arrived_at
    delivered: list[int] = []
    if first and instance_id is not None:
        body = {"referral_no": number, "arrived_at": arrived_at.isoformat(), "visit_no": payload.get("visit_no")}
        delivered = messages.deliver(ARRIVAL_MESSAGE, body, actor=runner.Actor(source), start=False).correlated
    return {"referral_id": referral_id, "referral_no": number, "arrived_at": arrived_at.isoformat(),
            "first": first, "correlated_instances": delivered}


def unmatched_arrivals(limit: int = 200) -> list[dict[str, Any]]:
    out = []
    for ev in inbound.rejected_deliveries(ARRIVAL_MESSAGE, error_code="unknown_referral_no", limit=limit):
        try:
            number = json.loads(ev.body).get("referral_no")
        except (ValueError, AttributeError):
            number = None
        out.append({"delivery_id": ev.id, "received_at": ev.received_at, "client_id": ev.client_id,
                    "referral_no": number, "error": ev.last_error})
    return out
