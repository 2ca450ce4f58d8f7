"""Write side of mutual recognition: check an order against the network's recognised results, and record the
orderer's answer when one was still valid (a reason to repeat it, or the order withdrawn — a repeat avoided).

An order comes from the HIS (webhook `order_created`, idempotent on the HIS's order id) or from a clinician on the
platform (the record page's 开单前核对, idempotent on the request id the page sends). The answer comes back the same
way (`order_answered`, or the clinician's API call). Every step is audited."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.audit.services import record as audit
from app.core import clock
from app.core.db import is_postgres, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.org.queries import find_org
from app.vocabulary import loinc

from . import queries, rules
from .models import ITEM_CLASSES, Accreditation, RecognitionOrder

MODALITY = re.compile(r"^[A-Z]{2,3}$")
ACTIONS = ("keep", "withdraw")


def _item(item_class: str, item_code: str) -> str:
    """The canonical item code (422 `unknown_item` for a class or code the platform does not know)."""
    if item_class not in ITEM_CLASSES:
        raise Invalid("项目类别无效 (item_class)", code="unknown_item", field="item_class", allowed=list(ITEM_CLASSES))
    code = (item_code or "").strip().upper() if item_class == "imaging" else (item_code or "").strip()
    if item_class == "lab":
        code = loinc.canonical_code(code)
        if code not in loinc.SUPPORTED or code in queries.NOT_LAB:
            raise Invalid(f"未知检验项目 {item_code!r} (unknown lab item)", code="unknown_item", field="item_code")
    elif not MODALITY.match(code):
        raise Invalid(f"未知检查类型 {item_code!r} (unknown imaging modality)", code="unknown_item",
                      field="item_code")
    return code


def _reason(reason_code: str | None, note: str | None) -> tuple[str, str | None]:
    if not reason_code:
        raise Invalid("请选择重复检查的理由 (reason_code required)", code="reason_required", field="reason_code",
                      allowed=list(rules.REPEAT_REASONS))
    if reason_code not in rules.REPEAT_REASONS:
        raise Invalid(f"未知理由 {reason_code!r} (unknown reason)", code="invalid_reason", field="reason_code",
                      allowed=list(rules.REPEAT_REASONS))
    note = (note or "").strip() or None
    if reason_code in rules.NOTE_REQUIRED and not note:
        raise Invalid("此理由须填写说明 (reason_note required)", code="reason_note_required", field="reason_note")
    return reason_code, note


def check_order(*, resident_id: int, order_key: str, order_no: str, channel: str, org_code: str, orderer: str,
                item_class: str, item_code: str, ordered_at: datetime | None = None,
                orderer_user_id: int | None = None, reason_code: str | None = None,
                reason_note: str | None = None, actor: str = "system") -> tuple[RecognitionOrder, bool]:
    """Record an order and what it would repeat: (row, created). The same order key answers the first row."""
    code = _item(item_class, item_code)
    at = ordered_at or clock.now()
    if at.tzinfo is None:
        raise Invalid("开单时间须带时区 (ordered_at needs an offset)", code="invalid_value", field="ordered_at")
    org = find_org(org_code)
    if org is None:
        raise Invalid(f"开单机构不存在 {org_code!r} (unknown organisation)", code="unknown_org", field="org_code")
    with unit_of_work() as s:
        found = s.scalars(select(RecognitionOrder).where(RecognitionOrder.order_key == order_key[:140])).first()
        if found is not None:
            if found.resident_id != resident_id:
                raise Conflict("该单号已用于另一位居民 (order id used for another resident)", code="order_conflict",
                               order_no=order_no)
            return found, False
        matched = queries.recognised_for(resident_id, item_class, code, clock.date_of(at))
        row = RecognitionOrder(order_key=order_key[:140], order_no=order_no[:60], channel=channel,
                               resident_id=resident_id, org_code=org.code, org_path=org.path,
                               orderer=(orderer or "").strip()[:120] or "未署名", orderer_user_id=orderer_user_id,
                               item_class=item_class, item_code=code, ordered_at=at, matched=matched,
                               status="clear" if not matched else "awaiting_reason", created_at=clock.now())
        if matched and reason_code:
            row.reason_code, row.reason_note = _reason(reason_code, reason_note)
            row.status, row.answered_by, row.answered_at = "kept", row.orderer, clock.now()
        s.add(row)
        s.flush()
        audit("recognition.order_checked", object_type="resident", object_id=resident_id,
              details={"order_id": row.id, "order_no": row.order_no, "channel": channel, "item": f"{item_class}:{code}",
                       "status": row.status, "matched": [m["key"] for m in matched], "actor": actor})
        return row, True


def answer_order(order_id: int, *, action: str, reason_code: str | None, reason_note: str | None, by: str,
                 order_key: str | None = None) -> RecognitionOrder:
    """The orderer's answer to a repeat inside the window: `keep` with a reason, or `withdraw` (the recognised result
    is used; the repeat is avoided). 409 `order_not_awaiting_reason` when nothing is asked or it was answered."""
    if action not in ACTIONS:
        raise Invalid("处理方式无效 (action)", code="invalid_action", field="action", allowed=list(ACTIONS))
    with unit_of_work() as s:
        stmt = select(RecognitionOrder).where(
            RecognitionOrder.order_key == order_key if order_key else RecognitionOrder.id == order_id)
        if is_postgres():
            stmt = stmt.with_for_update()
        row = s.scalars(stmt).first()
        if row is None:
            raise NotFound("开单记录不存在 (order not found)", code="unknown_order_id", order_id=order_id)
        if row.status != "awaiting_reason":
            raise Conflict("此医嘱无需或已说明理由 (order is not awaiting a reason)", code="order_not_awaiting_reason",
                           order_status=row.status)
        if action == "keep":
            row.reason_code, row.reason_note = _reason(reason_code, reason_note)
            row.status = "kept"
        else:
            row.reason_note = (reason_note or "").strip() or None
            row.status = "withdrawn"
        row.answered_by, row.answered_at = (by or "").strip()[:120] or "未署名", clock.now()
        audit("recognition.order_answered", object_type="resident", object_id=row.resident_id,
              details={"order_id": row.id, "action": action, "reason_code": row.reason_code, "by": row.answered_by})
        return row


def answer_for(row: RecognitionOrder) -> dict[str, Any]:
    """What the orderer (HIS or page) is told: the status, the recognised results, and the reasons to pick from."""
    item = queries.order_item(row)
    item["reason_required"] = row.status == "awaiting_reason"
    item["reasons"] = queries.reason_options() if row.status == "awaiting_reason" else []
    return item


def save_accreditation(*, org_code: str, item_class: str, item_code: str, programme: str, valid_from: date,
                       valid_to: date | None, actor: str) -> Accreditation:
    """Record (or change) that an organisation passed the quality control for an item (`*` = every item of the
    class) from `valid_from` to `valid_to`; ending an accreditation is setting `valid_to`. Audited."""
    org = find_org(org_code)
    if org is None:
        raise Invalid(f"机构不存在 {org_code!r} (unknown organisation)", code="unknown_org", field="org_code")
    code = "*" if item_code == "*" else _item(item_class, item_code)
    if valid_to is not None and valid_to < valid_from:
        raise Invalid("截止日期早于起始日期 (valid_to before valid_from)", code="invalid_period", field="valid_to")
    with unit_of_work() as s:
        row = s.scalars(select(Accreditation).where(Accreditation.org_code == org.code,
                                                    Accreditation.item_class == item_class,
                                                    Accreditation.item_code == code)).first()
        if row is None:
            row = Accreditation(org_code=org.code, item_class=item_class, item_code=code)
            s.add(row)
        row.programme, row.valid_from, row.valid_to, row.updated_at = programme.strip(), valid_from, valid_to, clock.now()
        s.flush()
        audit("recognition.accreditation_saved", object_type="organization", object_id=org.code,
              details={"item": f"{item_class}:{code}", "valid_from": valid_from.isoformat(),
                       "valid_to": valid_to.isoformat() if valid_to else None, "actor": actor})
        return row
