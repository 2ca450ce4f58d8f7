"""The signed consult report as a PDF (weasyprint, CJK fonts from fontconfig) archived on both sides: one copy for
the inviting organisation and one for the invited, each with its SHA-256 so a later copy can be checked."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from app.auth import queries as users
from app.auth.principal import SYSTEM
from app.core import clock
from app.core.db import session
from app.core.errors import Invalid, NotFound
from app.org.queries import find_org
from app.reports.render import render_pdf
from app.residents import queries as residents

from .labels import ADOPTION, MODES, SIGNERS, TITLES, TYPES, URGENCIES
from .models import Consult, ConsultDocument, ConsultOpinion

SIDES = ("requester", "invited")


def _local(at) -> str:
    return clock.local(at).strftime("%Y-%m-%d %H:%M") if at else ""


def _org_name(code: str | None) -> str:
    org = find_org(code) if code else None
    return org.name if org else ""


def render_report(c: Consult) -> bytes:
    if c.report_signed_at is None:
        raise Invalid("会诊报告尚未签发 (report not signed)", code="report_not_ready", status=409)
    r = residents.get_resident(c.resident_id, SYSTEM)
    if r is None:
        raise NotFound("居民不存在 (resident not found)", code="resident_not_found")
    opinions = list(session().scalars(select(ConsultOpinion).where(ConsultOpinion.consult_id == c.id)
                                      .order_by(ConsultOpinion.role.desc(), ConsultOpinion.signed_at)))
    names = users.users_by_id([c.requester_user_id])
    requester = names.get(c.requester_user_id)
    return render_pdf(
        "consult.html", c=c, resident={"name": r.name, "sex": "男" if r.sex == "M" else "女",
                                       "age": clock.age(r.birth_date), "id_number": r.id_number_masked},
        type_label=TYPES.get(c.consult_type, ""), mode_label=MODES.get(c.mode, ""),
        urgency_label=URGENCIES.get(c.urgency, ""), requester_org=_org_name(c.requester_org_code),
        invited_org=_org_name(c.invited_org_code), requester=(requester.display_name if requester else ""),
        summary=c.summary or {}, report=c.report or {},
        opinions=[{"name": o.expert_name, "role": "牵头专家（汇总）" if o.role == "lead" else "会诊专家",
                   "title": TITLES.get(o.content.get("title", ""), ""), "content": o.content,
                   "signed_at": _local(o.signed_at), "signature": o.signature} for o in opinions],
        consent_signer=SIGNERS.get((c.consent or {}).get("signer_type", ""), ""),
        consent_at=_local(c.consent_signed_at), started=_local(c.started_at), ended=_local(c.ended_at),
        signed_at=_local(c.report_signed_at), requested=_local(c.requested_at), adoption=ADOPTION,
        printed_at=_local(clock.now()))


def archive(s, c: Consult) -> list[ConsultDocument]:
    """Render once and keep a copy per side (idempotent: an archived side keeps its first copy)."""
    have = {d.side: d for d in s.scalars(select(ConsultDocument).where(ConsultDocument.consult_id == c.id,
                                                                     ConsultDocument.kind == "report"))}
    if len(have) == len(SIDES):
        return list(have.values())
    pdf = render_report(c)
    digest = hashlib.sha256(pdf).hexdigest()
    for side, org in (("requester", c.requester_org_code), ("invited", c.invited_org_code)):
        if side not in have:
            have[side] = ConsultDocument(consult_id=c.id, side=side, org_code=org, kind="report", sha256=digest,
                                         content=pdf, archived_at=clock.now())
            s.add(have[side])
    return list(have.values())


def archived(c: Consult, side: str) -> ConsultDocument:
    doc = session().scalars(select(ConsultDocument).where(ConsultDocument.consult_id == c.id,
                                                          ConsultDocument.side == side,
                                                          ConsultDocument.kind == "report")).first()
    if doc is None:
        raise Invalid("会诊报告尚未归档 (report not archived)", code="report_not_ready", status=409)
    return doc
