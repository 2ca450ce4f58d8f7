"""Printable referral documents: 转诊单 (up), 回执 (the result back) and 下转单 (down), each with a stub (存根)."""
from __future__ import annotations

from datetime import timedelta

from app.auth.crypto import decrypt_field
from app.auth.principal import SYSTEM
from app.core import clock
from app.core.errors import Invalid, NotFound
from app.org.queries import find_org
from app.reports.render import render_pdf
from app.residents import queries as residents

from . import catalogue
from .models import Referral
from .queries import URGENCY_LABELS
from .services import local_time

KINDS = {"referral_form": "双向转诊（转出）单", "receipt": "双向转诊回执单", "down_form": "双向转诊（下转）单"}


def _resident(row: Referral) -> dict:
    r = residents.get_resident(row.resident_id, SYSTEM)
    if r is None:
        raise NotFound("居民不存在 (resident not found)")
    age = clock.age(r.birth_date)
    phone = decrypt_field(r.phone_encrypted) if r.phone_encrypted else ""
    return {"name": r.name, "sex": "男" if r.sex == "M" else "女", "age": age, "id_number": r.id_number_masked,
            "phone": phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else phone, "address": r.address or ""}


def render(row: Referral, kind: str) -> bytes:
    """The PDF of one document (`referral_form`, `receipt` after the result, `down_form` for a down-referral)."""
    if kind not in KINDS:
        raise NotFound("没有这种单据 (unknown document)", code="unknown_document", allowed=list(KINDS))
    if (kind == "down_form") != (row.direction == "down"):
        raise Invalid("此转诊没有这种单据 (document does not apply)", code="document_not_applicable")
    if kind == "receipt" and row.result_at is None:
        raise Invalid("诊疗结果尚未回传 (no result yet)", code="document_not_ready", status=409)
    org = lambda code: (find_org(code).name if code and find_org(code) else "")
    return render_pdf("referral.html", title=KINDS[kind], kind=kind, r=row, form=row.form or {},
                      result=row.result or {}, resident=_resident(row), from_name=org(row.from_org_code),
                      to_name=row.external_hospital or org(row.to_org_code), urgency=URGENCY_LABELS.get(row.urgency),
                      capability=catalogue.label(row.capability), requested_on=local_time(row.requested_at)[:10],
                      valid_to=local_time(row.requested_at + timedelta(days=14))[:10],
                      arrived=local_time(row.arrived_at), first_due=row.follow_up_due_on or "",
                      printed_at=local_time(clock.now()))
