"""ADT^A03 (discharge) to another organisation onto a reported transfer (issue 20.6), beside the encounter the ADT
mapping already records. The discharge is summarised with the network's own referrals on /quality (转诊对账) through
the same validation and service as `REF^I12` (`app.referral.reported.record_reported`), kind `transfer`.

    PV1-36  discharge disposition: a transfer when it is one of TRANSFER_DISPOSITIONS (WS 364 离院方式 2 医嘱转院 /
            3 医嘱转社区卫生服务机构/乡镇卫生院, or the UB-04 codes HL7 table 0112 suggests for a transfer to another
            facility); empty with a PV1-37 destination is a transfer too; any other value (home, died, left against
            advice) is not, and the message records its encounter only
    PV1-37  discharged-to location (DLD-1): an organisation code of the network (letters/digits; must be known), or a
            hospital outside the county by name (any other text, e.g. 省人民医院)
    PV1-3.4 / MSH-4  the discharging organisation (must be a known code for a transfer)
    PV1-19  visit number: the report's id is `visit:<PV1-19>` (else `msg:<MSH-10>`): a resent discharge, or the same visit sent as a FHIR Encounter, is one row
    PV1-45  discharge date (else EVN-6, EVN-2); not after today
    DG1-3   the first diagnosis

The ADT message is one transaction (docs/integration.md): a transfer part that is refused refuses the whole message
(AE), so neither the encounter nor the transfer is stored."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.core import clock
from app.core.errors import Conflict, Invalid
from app.referral import reported
from app.webhooks.catalog import REPORTED_REFERRAL_FROM_RECORDS

from .message import DATA_TYPE, DUPLICATE_KEY, REQUIRED_MISSING, TABLE_VALUE, Hl7Error, Parsed, Problem, parse_dtm
from .referral import SOURCE, _problems

TRANSFER_DISPOSITIONS = frozenset({"2", "3", "02", "03", "04", "05", "43", "61", "62", "63", "65", "66", "70"})
ORG_CODE = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


@dataclass(frozen=True)
class Transfer:
    payload: dict[str, Any]
    places: dict[str, tuple[str, int, int]]


def read(p: Parsed) -> Transfer | None:
    """The transfer an ADT^A03 reports (checked before anything is written), or None (not a discharge elsewhere)."""
    if p.event != "A03":
        return None
    disposition, destination = p.get("PV1", 1, 36).upper(), p.get("PV1", 1, 37, 1)
    if disposition and disposition not in TRANSFER_DISPOSITIONS:
        return None
    if not disposition and not destination:
        return None
    if not destination:
        raise Hl7Error([Problem(REQUIRED_MISSING, "转院出院须有转往机构 PV1-37 (discharged to location)", "PV1", 1, 37)])
    source_id = f"visit:{p.get('PV1', 1, 19)}" if p.get("PV1", 1, 19) else f"msg:{p.control_id}"
    id_place = ("PV1", 1, 19) if p.get("PV1", 1, 19) else ("MSH", 1, 10)
    raw, date_place = next(((p.get(*w), w) for w in (("PV1", 1, 45), ("EVN", 1, 6), ("EVN", 1, 2)) if p.get(*w)),
                           ("", ("PV1", 1, 45)))
    if not raw:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少出院时间 PV1-45 (discharge date/time)", *date_place)])
    on = parse_dtm(raw, Problem(DATA_TYPE, f"出院时间格式错误 {date_place[0]}-{date_place[2]}: {raw!r}", *date_place))
    facility = p.get("PV1", 1, 3, 4) or p.sending_facility
    from_place = ("PV1", 1, 3) if p.get("PV1", 1, 3, 4) else ("MSH", 1, 4)
    to = {"to_org_code": destination} if ORG_CODE.match(destination) else {"to_hospital": destination[:100]}
    payload: dict[str, Any] = {"source": SOURCE, "source_id": source_id, "kind": "transfer",
                               "referred_on": clock.date_of(on).isoformat(), "from_org_code": facility, **to}
    if p.count("DG1") and p.get("DG1", 1, 3, 1):
        payload["diagnosis_code"] = p.get("DG1", 1, 3, 1).upper()
        if p.get("DG1", 1, 3, 2):
            payload["diagnosis"] = p.get("DG1", 1, 3, 2)[:200]
    to_place = ("PV1", 1, 37)
    places = {"/source_id": id_place, "/referred_on": date_place, "/id_number": ("PID", 1, 3),
              "/from_org_code": from_place, "/from_hospital": from_place, "/to_org_code": to_place,
              "/to_hospital": to_place, "/diagnosis_code": ("DG1", 1, 3), "/diagnosis": ("DG1", 1, 3),
              "/kind": ("PV1", 1, 36), "/direction": to_place, "/": id_place}
    try:
        for side in ("from", "to"):
            reported.check_end(payload, side)
    except Invalid as exc:
        raise Hl7Error(_problems(exc, places)) from None
    direction = reported.infer_direction(payload.get("from_org_code"), payload.get("to_org_code"))
    if direction is None:
        raise Hl7Error([Problem(TABLE_VALUE, "出院机构与转往机构同级，无法判断上转或下转 (PV1-3 and PV1-37 levels equal)",
                                *to_place)])
    payload["direction"] = direction
    try:
        REPORTED_REFERRAL_FROM_RECORDS.validate(payload)
    except Invalid as exc:
        raise Hl7Error(_problems(exc, places)) from None
    return Transfer(payload, places)


def record(transfer: Transfer, *, resident_id: int, client_id: str) -> dict[str, Any]:
    """Store the transfer for the resident the ADT identified (a same repeat answers the stored row)."""
    try:
        return reported.record_reported(transfer.payload, resident_id=resident_id, client_id=client_id)
    except Conflict as exc:
        raise Hl7Error([Problem(DUPLICATE_KEY, f"{exc.message} [{exc.code}]", *transfer.places["/source_id"])]) \
            from None
    except Invalid as exc:
        raise Hl7Error(_problems(exc, transfer.places)) from None
