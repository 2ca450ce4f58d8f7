"""REF^I12 (patient referral) onto a reported referral (issue 20.6): the HIS's referral summarised beside the
network's own on /quality (转诊对账), exactly as the `referral_reported` webhook stores it.

What a county HIS sends (HL7 v2.4–2.5 REF^I12, segments we read):

    RF1-6   originating referral identifier — the HIS's own id (`source_id`, required; idempotency key with the source)
    RF1-7   effective date — the referral date (required; not after today)
    RF1-5   referral category (table 0284): `I` inpatient → 转院 (transfer), anything else → 转诊 (referral)
    PRD     one per end, PRD-1 role `RP` referring (转出) and `RT` referred-to (转入); the organisation code in
            PRD-4.4 (PL facility) or PRD-10.10 (XON identifier, v2.7), else a hospital outside the county by name in
            PRD-10.1 or PRD-4.9
    PID-3   the resident's ID number (identifier type NNCHN/NI/CZ/RID or authority CHN); the resident must be
            registered (a referral report never creates a resident)
    DG1-3   the diagnosis (ICD-10 code ^ text), first DG1

Up or down follows the two ends' levels (village < township < county hospital < outside the county); equal levels
are refused. Validation is the webhook's (`REPORTED_REFERRAL_FROM_RECORDS` schema, then
`app.referral.reported.record_reported`), so the same source id with different content is refused
(ERR 205 `[reported_referral_conflict]`) and any problem is answered AE naming segment^sequence^field, storing
nothing."""
from __future__ import annotations

from typing import Any

from app.core.errors import Conflict, Invalid
from app.referral import reported
from app.webhooks.catalog import REPORTED_REFERRAL_FROM_RECORDS

from .mapping import id_number
from .message import DATA_TYPE, DUPLICATE_KEY, REQUIRED_MISSING, TABLE_VALUE, Hl7Error, Parsed, Problem, parse_date

SOURCE = "his"
ROLES = {"from": "RP", "to": "RT"}


def _prd(p: Parsed, role: str) -> int | None:
    return next((i for i in range(1, p.count("PRD") + 1) if p.get("PRD", i, 1).upper() == role), None)


def _end(p: Parsed, side: str) -> tuple[dict[str, str], tuple[str, int, int]]:
    seq = _prd(p, ROLES[side])
    what = "转出" if side == "from" else "转入"
    if seq is None:
        raise Hl7Error([Problem(REQUIRED_MISSING, f"缺少{what}机构 PRD (PRD-1 {ROLES[side]})", "PRD", 1, 1)])
    code = p.get("PRD", seq, 4, 4) or p.get("PRD", seq, 10, 10)
    where = ("PRD", seq, 4 if p.get("PRD", seq, 4, 4) else 10)
    if code:
        return {f"{side}_org_code": code}, where
    name = p.get("PRD", seq, 10, 1) or p.get("PRD", seq, 4, 9)
    if not name:
        raise Hl7Error([Problem(REQUIRED_MISSING, f"缺少{what}机构代码或医院名称 (PRD-4.4 / PRD-10)", "PRD", seq, 4)])
    return {f"{side}_hospital": name}, ("PRD", seq, 10)


def apply_ref(p: Parsed, client_id: str) -> dict[str, Any]:
    """Read and check the whole message, then store the report (or answer the stored one for a same repeat)."""
    number = id_number(p)
    if not number:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少身份证号 PID-3 (identifier type NNCHN)", "PID", 1, 3)])
    source_id = p.get("RF1", 1, 6)
    if not source_id:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少转诊单号 RF1-6 (originating referral identifier)",
                                "RF1", 1, 6)])
    raw_date = p.get("RF1", 1, 7)
    if not raw_date:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少转诊日期 RF1-7 (effective date)", "RF1", 1, 7)])
    on = parse_date(raw_date, Problem(DATA_TYPE, f"转诊日期格式错误 RF1-7: {raw_date!r}", "RF1", 1, 7))
    from_end, from_where = _end(p, "from")
    to_end, to_where = _end(p, "to")
    places = {"/source_id": ("RF1", 1, 6), "/referred_on": ("RF1", 1, 7), "/id_number": ("PID", 1, 3),
              "/from_org_code": from_where, "/from_hospital": from_where, "/to_org_code": to_where,
              "/to_hospital": to_where, "/diagnosis_code": ("DG1", 1, 3), "/diagnosis": ("DG1", 1, 3),
              "/kind": ("RF1", 1, 5), "/direction": ("PRD", to_where[1], to_where[2]), "/": ("RF1", 1, 6)}
    payload: dict[str, Any] = {"source": SOURCE, "source_id": source_id, "referred_on": on.isoformat(),
                               "kind": "transfer" if p.get("RF1", 1, 5).upper() == "I" else "referral",
                               **from_end, **to_end}
    if p.count("DG1"):
        payload["diagnosis_code"] = p.get("DG1", 1, 3, 1).upper()
        if p.get("DG1", 1, 3, 2):
            payload["diagnosis"] = p.get("DG1", 1, 3, 2)[:200]
    try:
        for side in ("from", "to"):          # an unknown code first, so it is not reported as an unknown direction
            reported.check_end(payload, side)
        direction = reported.infer_direction(payload.get("from_org_code"), payload.get("to_org_code"))
        if direction is None:
            raise Hl7Error([Problem(TABLE_VALUE, "转出与转入机构同级，无法判断上转或下转 (PRD levels equal)",
                                    *places["/direction"])])
        payload["direction"] = direction
        REPORTED_REFERRAL_FROM_RECORDS.validate(payload)
        resident_id = reported.resident_id_by_id_number(number)
        if resident_id is None:
            raise Invalid("居民档案中没有此身份证号 (no resident with this ID number in the registry)",
                          code="unknown_resident", path="/id_number")
        return reported.record_reported(payload, resident_id=resident_id, client_id=client_id)
    except Conflict as exc:
        raise Hl7Error([Problem(DUPLICATE_KEY, f"{exc.message} [{exc.code}]", "RF1", 1, 6)]) from None
    except Invalid as exc:
        raise Hl7Error(_problems(exc, places)) from None


def _problems(exc: Invalid, places: dict[str, tuple[str, int, int]]) -> list[Problem]:
    """Every problem of a refused report at the segment and field it came from, with its stable code."""
    errors = exc.details.get("errors") or [{"path": exc.details.get("path") or "/", "message": exc.message}]
    kind = TABLE_VALUE if exc.code in ("unknown_org", "unknown_resident", "unknown_source") else DATA_TYPE
    return [Problem(kind, f"{exc.message}: {e['path']} {e['message']} [{exc.code}]"
                    if exc.code == "schema_error" else f"{exc.message} [{exc.code}]", *places.get(e["path"], places["/"]))
            for e in errors]
