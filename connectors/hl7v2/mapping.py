"""Map ADT and ORU messages onto the record: identify the patient (PID → EMPI), then encounters or observations.

Every write goes through `app.residents.records` / `app.residents.matching` inside the caller's transaction; a
domain error from them is turned into an ERR naming the segment and field it came from.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.errors import Invalid, NotFound
from app.org.queries import find_org
from app.residents import intake
from app.residents.matching import match_or_create

from . import codes
from .message import (
    DATA_TYPE,
    REQUIRED_MISSING,
    TABLE_VALUE,
    UNKNOWN_KEY,
    Hl7Error,
    Parsed,
    Problem,
    parse_date,
    parse_dtm,
)

ID_TYPES = frozenset({"NNCHN", "NI", "CZ", "RID"})      # PID-3.5 identifier types holding the resident ID number
ID_AUTHORITIES = frozenset({"CHN", "NNCHN", "2.16.156.10011.1.3"})


@dataclass
class Applied:
    resident_id: int | None = None
    match: str = ""
    review_instance_id: int | None = None
    encounter_ids: list[int] = field(default_factory=list)
    observation_ids: list[int] = field(default_factory=list)
    skipped: int = 0
    lab_results: list[dict[str, Any]] = field(default_factory=list)


def record_key(client_id: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join((client_id, *parts)).encode()).hexdigest()[:40]
    return f"hl7:{digest}"


@contextmanager
def located(segment: str, seq: int, field_map: dict[str, int]):
    """Turn a record error (422 unknown_code, invalid_unit, …) into an ERR at the field it names."""
    try:
        yield
    except (Invalid, NotFound) as exc:
        fld = field_map.get(exc.code) or field_map.get(str(exc.details.get("field", "")))
        raise Hl7Error([Problem(TABLE_VALUE if exc.code in ("unknown_code", "invalid_unit", "invalid_icd10")
                                else DATA_TYPE, f"{exc.message} [{exc.code}]", segment, seq, fld)]) from None


def source_of(p: Parsed) -> str:
    return f"hl7:{p.sending_app or 'unknown'}"[:60]


def org_code(code: str) -> str | None:
    return code if code and find_org(code) else None


def managing_org(code: str) -> str | None:
    """A village clinic or township centre may manage residents; a hospital code is not a managing org."""
    org = find_org(code) if code else None
    return code if org is not None and org.level in ("village", "township") else None


# -- patient ---------------------------------------------------------------------------------------------------

def id_number(p: Parsed) -> str:
    for rep in range(1, p.repetitions("PID", 1, 3) + 1):
        value, authority, kind = (p.get("PID", 1, 3, c, rep) for c in (1, 4, 5))
        if kind.upper() in ID_TYPES or authority.upper() in ID_AUTHORITIES:
            return value
    return ""


def identify(p: Parsed, applied: Applied) -> int | None:
    """The resident of the PID segment (matched, created, or None while a review decides)."""
    name = (p.get("PID", 1, 5, 1) + p.get("PID", 1, 5, 2)).strip()
    if not name:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少患者姓名 PID-5", "PID", 1, 5)])
    birth = parse_date(p.get("PID", 1, 7), Problem(DATA_TYPE, f"出生日期格式错误 PID-7: {p.get('PID', 1, 7)!r}",
                                                   "PID", 1, 7))
    sex = p.get("PID", 1, 8).upper()
    if sex not in ("M", "F"):
        raise Hl7Error([Problem(TABLE_VALUE, f"性别须为 M 或 F (PID-8 {sex!r})", "PID", 1, 8)])
    managing = (managing_org(p.get("PD1", 1, 3, 10)) or managing_org(p.get("PD1", 1, 3, 1))
                or managing_org(p.sending_facility))
    with located("PID", 1, {"invalid_id_number": 3, "id_number": 3, "name": 5, "birth_date": 7, "sex": 8}):
        result = match_or_create(id_number=id_number(p) or None, name=name, sex=sex, birth_date=birth,
                                 org_code=managing, phone=p.get("PID", 1, 13) or None,
                                 address=_address(p) or None, source=source_of(p))
    applied.resident_id, applied.match, applied.review_instance_id = (result.resident_id, result.outcome,
                                                                      result.review_instance_id)
    return result.resident_id


def _address(p: Parsed) -> str:
    parts = [p.get("PID", 1, 11, c) for c in (4, 3, 1, 2)]        # province/state, city, street, other
    return "".join(x for x in parts if x)[:255]


def identity_pending(applied: Applied) -> Hl7Error:
    return Hl7Error([Problem(UNKNOWN_KEY, f"患者身份待人工核对 (identity under review, instance "
                                          f"{applied.review_instance_id}); 结果未保存，核对后请重发",
                             "PID", 1, 3)])


# -- ADT -------------------------------------------------------------------------------------------------------

def apply_adt(p: Parsed, client_id: str) -> Applied:
    applied = Applied()
    kind = codes.PATIENT_CLASSES.get(p.get("PV1", 1, 2).upper()) or (
        "inpatient" if p.event in ("A01", "A03") else "outpatient")
    started_at = _when(p, [("PV1", 1, 44), ("EVN", 1, 6), ("EVN", 1, 2), ("MSH", 1, 7)])
    diagnoses = [_diagnosis(p, i) for i in range(1, p.count("DG1") + 1)]
    facility = org_code(p.get("PV1", 1, 3, 4)) or org_code(p.sending_facility)
    visit = p.get("PV1", 1, 19)
    key = record_key(client_id, "visit", visit) if visit else record_key(client_id, p.control_id, "encounter")
    resident_id = identify(p, applied)           # after every field was read and checked
    if resident_id is None:
        return applied
    fact = intake.EncounterFact(kind=kind, started_at=started_at, org_code=facility,
                                diagnoses=tuple(d for d in diagnoses if d), client_id=key)
    with located("DG1", 1, {"invalid_icd10": 3, "started_at": 44, "kind": 2}):
        encounter = intake.submit(resident_id, [fact], source=source_of(p), actor=source_of(p)).rows[0]
    applied.encounter_ids.append(encounter.id)
    return applied


def _diagnosis(p: Parsed, seq: int) -> str:
    code, system = p.get("DG1", seq, 3, 1), p.get("DG1", seq, 3, 3)
    if not code:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少诊断编码 DG1-3", "DG1", seq, 3)])
    if system and system.upper() not in codes.ICD10_SYSTEMS:
        raise Hl7Error([Problem(TABLE_VALUE, f"诊断编码体系须为 ICD-10 (DG1-3.3 {system!r})", "DG1", seq, 3, 3)])
    value = code.strip().upper()
    if not intake.ICD10.match(value):
        raise Hl7Error([Problem(TABLE_VALUE, f"ICD-10 编码格式不正确 {code!r}", "DG1", seq, 3)])
    return value


def _when(p: Parsed, places: list[tuple[str, int, int]]) -> datetime:
    for seg, seq, fld in places:
        value = p.get(seg, seq, fld)
        if value:
            return parse_dtm(value, Problem(DATA_TYPE, f"时间格式错误 {seg}-{fld}: {value!r}", seg, seq, fld))
    seg, seq, fld = places[0]
    raise Hl7Error([Problem(REQUIRED_MISSING, f"缺少时间 {seg}-{fld}", seg, seq, fld)])


# -- ORU -------------------------------------------------------------------------------------------------------

def apply_oru(p: Parsed, client_id: str) -> Applied:
    """Every final or corrected OBX under its OBR becomes an observation (canonical unit, abnormal flag)."""
    applied = Applied()
    results = _read_results(p)              # read and check everything before writing anything
    resident_id = identify(p, applied)
    if resident_id is None:
        return applied
    source = source_of(p)
    taken = [r for r in results if r is not None]
    applied.skipped += len(results) - len(taken)
    facts = [intake.ObservationFact(code=r["code"], value=r["value"], unit=r["unit"] or None,
                                    effective_at=r["effective_at"], abnormal_flag=r["flag"], org_code=r["org_code"],
                                    client_id=record_key(client_id, r["order"], r["local_code"], r["sub_id"]))
             for r in taken]
    try:
        rows = intake.submit(resident_id, facts, source=source, actor=source).rows
    except (Invalid, NotFound) as exc:
        where = taken[getattr(exc, "fact_index", 0)] if taken else {"seq": 1}
        with located("OBX", where["seq"], OBX_FIELDS):
            raise
    for r, obs in zip(taken, rows, strict=True):
        applied.observation_ids.append(obs.id)
        applied.lab_results.append({"resident_id": resident_id, "observation_id": obs.id, "code": r["code"],
                                    "value": obs.value_num if obs.value_num is not None else obs.value_text,
                                    "unit": obs.unit, "effective_at": r["effective_at"].isoformat(),
                                    "abnormal_flag": r["flag"]})
    return applied


OBX_FIELDS = {"unknown_code": 3, "invalid_unit": 6, "invalid_value": 5, "abnormal_flag": 8, "effective_at": 14}


def _read_results(p: Parsed) -> list[dict[str, Any] | None]:
    out: list[dict[str, Any] | None] = []
    obr_seq = 0
    for i, seg in enumerate(p.ids):
        if seg == "OBR":
            obr_seq += 1
        elif seg == "OBX":
            out.append(_result(p, p.ids[: i + 1].count("OBX"), obr_seq))
    return out


def _result(p: Parsed, seq: int, obr: int) -> dict[str, Any] | None:
    status = p.get("OBX", seq, 11).upper()
    if status not in codes.STORED_RESULT_STATUSES:
        return None                                    # preliminary, cancelled, pending: not a result yet
    local, system = p.get("OBX", seq, 3, 1), p.get("OBX", seq, 3, 3)
    if not local:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少检验项目编码 OBX-3", "OBX", seq, 3)])
    loinc = codes.loinc_for(local, system)
    if loinc is None:
        raise Hl7Error([Problem(TABLE_VALUE, f"未知的检验项目编码 {local}^{system} (no LOINC mapping)", "OBX", seq, 3)])
    raw = p.get("OBX", seq, 5)
    if not raw:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少结果值 OBX-5", "OBX", seq, 5)])
    value: float | str = raw
    if p.get("OBX", seq, 2).upper() in ("NM", "SN"):
        try:
            value = float(raw.lstrip("<>="))
        except ValueError:
            raise Hl7Error([Problem(DATA_TYPE, f"数值型结果不是数字 OBX-5 {raw!r}", "OBX", seq, 5)]) from None
    flag_raw = p.get("OBX", seq, 8).upper()
    if flag_raw and flag_raw not in codes.ABNORMAL_FLAGS:
        raise Hl7Error([Problem(TABLE_VALUE, f"未知的异常标志 OBX-8 {flag_raw!r} (HL7 table 0078)", "OBX", seq, 8)])
    when = p.get("OBX", seq, 14) or p.get("OBR", max(obr, 1), 7)
    where = ("OBX", seq, 14) if p.get("OBX", seq, 14) else ("OBR", max(obr, 1), 7)
    if not when:
        raise Hl7Error([Problem(REQUIRED_MISSING, "缺少观察时间 OBX-14 / OBR-7", "OBR", max(obr, 1), 7)])
    effective_at = parse_dtm(when, Problem(DATA_TYPE, f"时间格式错误 {where[0]}-{where[2]}: {when!r}", *where))
    order = p.get("OBR", max(obr, 1), 3) or p.get("OBR", max(obr, 1), 2) or p.control_id
    return {"seq": seq, "code": loinc, "local_code": local, "sub_id": p.get("OBX", seq, 4), "value": value,
            "unit": p.get("OBX", seq, 6, 1), "flag": codes.ABNORMAL_FLAGS.get(flag_raw) if flag_raw else None,
            "effective_at": effective_at, "order": order,
            # OBX-23 performing organisation (XON-10 its identifier): the result's source in the 全网记录 (互认)
            "org_code": p.get("OBX", seq, 23, 10)[:40] or None}
