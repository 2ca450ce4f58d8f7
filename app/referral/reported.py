"""Referrals and transfers reported by other systems (the HIS, the public-health platform, the insurance platform),
kept beside the network's own so a manager can compare the two (issue 20.6).

A report names the resident by ID number and the two ends by organisation code (inside the county) or hospital
name (outside). It is stored once per (source, source_id): a repeat with the same content answers the first row; a
repeat whose content differs is refused (409 `reported_referral_conflict`) — the source must send a new id. Bad
input is refused whole before anything is written (422 with a stable code and the JSON path)."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid
from app.org.queries import find_org
from app.residents.models import Resident
from app.residents.queries import id_number_hash

from .models import Referral, ReportedReferral

SOURCES = {"his": "医院HIS", "public_health": "公卫系统", "insurance": "医保平台"}
KINDS = {"referral": "转诊", "transfer": "转院"}
COMPARED = ("source_id", "direction", "kind", "resident_id", "from_org_code", "from_hospital", "to_org_code",
            "to_hospital", "referred_on", "diagnosis_code", "total_cost_fen", "insurance_paid_fen")


# how far up the network an end sits: a referral towards a higher rank is an up-referral (上转)
LEVEL_RANK = {"village": 0, "township": 1, "department": 2, "county": 2}
OUTSIDE_RANK = 3                                   # a hospital outside the county (by name, no org code)


def infer_direction(from_org_code: str | None, to_org_code: str | None) -> str | None:
    """`up` or `down` from the two ends' levels (an end without a code is a hospital outside the county); None
    when the levels are equal or a code is unknown (the caller refuses the message)."""
    ranks = []
    for code in (from_org_code, to_org_code):
        if not code:
            ranks.append(OUTSIDE_RANK)
            continue
        org = find_org(code)
        if org is None:
            return None
        ranks.append(LEVEL_RANK.get(org.level, 2))
    if ranks[0] == ranks[1]:
        return None
    return "up" if ranks[0] < ranks[1] else "down"


def resident_id_by_id_number(id_number: str) -> int | None:
    """The resident registered with this ID number (unscoped: for integration channels that carry no user)."""
    return session().scalar(select(Resident.id).where(Resident.id_number_hash == id_number_hash(id_number)))


def _end(payload: dict[str, Any], side: str) -> tuple[str | None, str | None, str | None]:
    """(org code, org path, hospital name) of one end; an unknown code is refused."""
    code = (payload.get(f"{side}_org_code") or "").strip() or None
    hospital = (payload.get(f"{side}_hospital") or "").strip() or None
    if code is None:
        if hospital is None:
            raise Invalid(f"缺少{'转出' if side == 'from' else '转入'}机构", code="missing_org", path=f"/{side}_org_code")
        return None, None, hospital
    org = find_org(code)
    if org is None:
        raise Invalid(f"未知机构代码 {code}", code="unknown_org", path=f"/{side}_org_code", value=code)
    return org.code, org.path, hospital


def check_end(payload: dict[str, Any], side: str) -> None:
    """Refuse an end (`from`/`to`) that names an unknown organisation code or nothing at all."""
    _end(payload, side)


def _fields(payload: dict[str, Any], resident: Resident) -> dict[str, Any]:
    from_code, from_path, from_hospital = _end(payload, "from")
    to_code, to_path, to_hospital = _end(payload, "to")
    referred_on = date.fromisoformat(payload["referred_on"])
    if referred_on > clock.today():
        raise Invalid("转诊日期晚于今天", code="date_in_future", path="/referred_on", value=payload["referred_on"])
    return {"source_id": payload["source_id"], "direction": payload["direction"],
            "kind": payload.get("kind", "referral"), "resident_id": resident.id, "resident_name": resident.name,
            "resident_org_path": resident.org_path or "", "from_org_code": from_code, "from_org_path": from_path,
            "from_hospital": from_hospital, "to_org_code": to_code, "to_org_path": to_path,
            "to_hospital": to_hospital, "referred_on": referred_on, "diagnosis_code": payload.get("diagnosis_code"),
            "diagnosis": payload.get("diagnosis"), "total_cost_fen": payload.get("total_cost_fen"),
            "insurance_paid_fen": payload.get("insurance_paid_fen")}


def record_reported(payload: dict[str, Any], *, resident_id: int, client_id: str | None) -> dict[str, Any]:
    """Store one report (validated against the message schema by the caller); idempotent on (source, source_id)."""
    source = payload["source"]
    if source not in SOURCES:
        raise Invalid(f"未知来源 {source}", code="unknown_source", path="/source", value=source)
    resident = session().get(Resident, resident_id)
    if resident is None:
        raise Invalid("居民档案中没有此居民", code="unknown_resident", path="/id_number")
    fields = _fields(payload, resident)
    with unit_of_work() as s:
        row = s.scalars(select(ReportedReferral).where(ReportedReferral.source == source,
                                                       ReportedReferral.source_id == fields["source_id"])).first()
        if row is not None:
            if any(getattr(row, k) != fields[k] for k in COMPARED):
                raise Conflict("同一来源编号已报告过不同内容", code="reported_referral_conflict",
                               source=source, source_id=fields["source_id"])
            return answer(row, first=False)
        kept = {k: v for k, v in payload.items() if k != "id_number"}      # the ID number stays sealed in residents
        row = ReportedReferral(source=source, client_id=client_id, payload=kept, received_at=clock.now(), **fields)
        s.add(row)
        s.flush()
        return answer(row, first=True)


def answer(row: ReportedReferral, *, first: bool) -> dict[str, Any]:
    return {"reported_referral_id": row.id, "source": row.source, "source_id": row.source_id, "first": first}


# -- read side: both kinds of referral as plain rows under an organisation ------------------------------------------

def _under(column, prefix: str) -> ColumnElement[bool]:
    return column.startswith(prefix, autoescape=True)


def reported_rows(prefix: str, start: date, end: date) -> list[dict[str, Any]]:
    """Reported referrals dated in [start, end] whose resident or either end is under the organisation path."""
    R = ReportedReferral
    stmt = (select(R).where(R.referred_on >= start, R.referred_on <= end,
                            or_(_under(R.resident_org_path, prefix), _under(R.from_org_path, prefix),
                                _under(R.to_org_path, prefix)))
            .order_by(R.referred_on, R.id))
    return [{"key": f"x{r.id}", "id": r.id, "source": r.source, "source_id": r.source_id,
             "direction": r.direction, "kind": r.kind, "resident_id": r.resident_id,
             "resident_name": r.resident_name, "org_path": r.from_org_path if r.direction == "up" and r.from_org_path
             else r.to_org_path if r.direction == "down" and r.to_org_path else r.resident_org_path,
             "from_org_code": r.from_org_code, "from_hospital": r.from_hospital, "to_org_code": r.to_org_code,
             "to_hospital": r.to_hospital, "on": r.referred_on, "diagnosis": r.diagnosis,
             "total_cost_fen": r.total_cost_fen, "insurance_paid_fen": r.insurance_paid_fen}
            for r in session().scalars(stmt)]


def network_rows(prefix: str, start: date, end: date) -> list[dict[str, Any]]:
    """The network's own referrals requested in [start, end] sent from or to the organisation's subtree; each row's
    `org_path` is the sending end of an up-referral and the receiving end of a down-referral (the grass roots)."""
    lo, hi = clock.start_of_day(start), clock.start_of_day(date.fromordinal(end.toordinal() + 1))
    stmt = (select(Referral).where(Referral.requested_at >= lo, Referral.requested_at < hi,
                                   or_(_under(Referral.from_org_path, prefix), _under(Referral.to_org_path, prefix)))
            .order_by(Referral.requested_at, Referral.id))
    return [{"key": f"n{r.id}", "id": r.id, "referral_no": r.referral_no, "direction": r.direction,
             "status": r.status, "resident_id": r.resident_id, "resident_name": r.resident_name,
             "org_path": (r.from_org_path if r.direction == "up" else r.to_org_path) or "",
             "from_org_code": r.from_org_code, "to_org_code": r.to_org_code,
             "to_hospital": r.external_hospital, "out_of_county": r.out_of_county, "disease": r.disease,
             "on": clock.date_of(r.requested_at)} for r in session().scalars(stmt)]
