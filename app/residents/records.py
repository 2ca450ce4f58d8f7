"""Write the health record: observations, conditions, encounters, medications, risk factors, referral flags.

Every function is one transaction (joins the caller's unit of work), audited, and scope-free: callers (API views,
connectors, processes) check the caller's scope first. Writes carrying a `client_id` are idempotent: the same
`client_id` answers the row it created the first time (`created=False`). A new observation, condition or encounter
announces `hooks.RESIDENT_FACTS_RECORDED` once per transaction (app/wiring.py: screening re-screens the resident).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from app import vocabulary
from app.audit.services import record as audit
from app.core import clock
from app.core.db import is_postgres, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.vocabulary import ConditionCategory, ConditionStatus, EncounterKind, MedicationStatus, loinc
from app.workflows import hooks

from . import sources
from .models import Resident
from .record_models import Condition, Encounter, Medication, Observation, ReferralFlag, RiskFactor

Row = TypeVar("Row", Observation, Condition, Encounter, Medication)
ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
CONDITION_STATUSES = ConditionStatus.codes()
ENCOUNTER_KINDS = EncounterKind.codes()
MEDICATION_STATUSES = MedicationStatus.codes()
ABNORMAL_FLAGS = ("L", "H", "LL", "HH", "N", "A")


class ClientIdConflict(Conflict):
    code = "client_id_conflict"


def _aware(at: datetime, field: str) -> datetime:
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise Invalid("时间须带时区 (an aware datetime is required)", code="invalid_value", field=field)
    return at


def _source(source: str) -> str:
    if not source or not source.strip():
        raise Invalid("来源系统不能为空 (source is required)", code="validation_error", field="source")
    return source.strip()[:60]


def _resident(s, resident_id: int) -> Resident:
    resident = s.get(Resident, resident_id)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
    return resident


def _find(s, model: type[Row], client_id: str | None, resident_id: int) -> Row | None:
    if not client_id:
        return None
    row = s.scalars(select(model).where(model.client_id == client_id)).first()
    if row is not None and row.resident_id != resident_id:
        raise ClientIdConflict("该 id 已用于另一位居民的记录 (client id used for another resident)",
                               field="id", client_id=client_id)
    return row


def _replay(model: type[Row], client_id: str | None, resident_id: int) -> Row | None:
    """The row a client id already created: a re-send is answered before the body is validated again."""
    if not client_id:
        return None
    with unit_of_work() as s:
        return _find(s, model, client_id, resident_id)


def _write(model: type[Row], resident_id: int, client_id: str | None, build: Callable[[], Row], *,
           action: str, details: dict[str, Any], rescreen: bool) -> tuple[Row, bool]:
    """Insert `build()` unless `client_id` names an existing row; audit; queue the re-screen after commit."""
    with unit_of_work() as s:
        existing = _find(s, model, client_id, resident_id)
        if existing is not None:
            return existing, False
        _resident(s, resident_id)
        row = build()
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:       # a concurrent re-send won the race: answer its row
            existing = _find(s, model, client_id, resident_id)
            if existing is None:
                raise
            return existing, False
        audit(action, object_type="resident", object_id=resident_id,
              details={"id": row.id, "source": row.source, "client_id": client_id, **details})
        if rescreen:
            request_rescreen(s, resident_id, key=f"{action}-{row.id}")
        return row, True


def request_rescreen(s, resident_id: int, *, key: str) -> bool:
    """Announce new facts of the resident once per transaction (`hooks.RESIDENT_FACTS_RECORDED`; screening queues
    one re-screen after the commit): the facts of one submission (a follow-up visit's BP, heart rate, weight and
    glucose; a lab message's results) are one unit and re-screen (and so re-grade) their resident once, seeing all
    of them. True when this call announced it."""
    pending = s.info.setdefault("after_commit", [])
    owner, queued = s.info.get("rescreen_queued", (None, set()))
    if owner is not pending:             # a new transaction (its after-commit list is a new object)
        queued = set()
        s.info["rescreen_queued"] = (pending, queued)
    if resident_id in queued:
        return False
    queued.add(resident_id)
    hooks.emit(hooks.RESIDENT_FACTS_RECORDED, session=s, resident_id=resident_id, key=key)
    return True


def record_observation(resident_id: int, *, code: str, value: float | str, unit: str | None,
                       effective_at: datetime, source: str, client_id: str | None = None,
                       abnormal_flag: str | None = None, actor: str = "system",
                       rescreen: bool = True) -> tuple[Observation, bool]:
    """Record one LOINC-coded value in its canonical unit (422 unknown_code / invalid_unit / invalid_value)."""
    if (replayed := _replay(Observation, client_id, resident_id)) is not None:
        return replayed, False
    code = (code or "").strip()
    number, text, canonical_unit = loinc.normalize(code, value, unit)
    effective_at = _aware(effective_at, "effective_at")
    if abnormal_flag is not None and abnormal_flag not in ABNORMAL_FLAGS:
        raise Invalid("异常标志无效 (abnormal_flag)", code="invalid_value", field="abnormal_flag")
    source = _source(source)

    def build() -> Observation:
        return Observation(resident_id=resident_id, code=code, value_num=number, value_text=text,
                           unit=canonical_unit, original_value=str(value)[:80], original_unit=unit,
                           abnormal_flag=abnormal_flag, effective_at=effective_at, source=source,
                           client_id=client_id, recorded_at=clock.now(), recorded_by=actor)
    return _write(Observation, resident_id, client_id, build, action="observation.create",
                  details={"code": code, "actor": actor}, rescreen=rescreen)


HOME_READING_CODES = (("sbp", "8480-6", "mmHg"), ("dbp", "8462-4", "mmHg"), ("pulse", "8867-4", "/min"))
HOME_GLUCOSE_CODES = {"fasting": "1558-6", "random": "2339-0"}


def record_home_reading(resident_id: int, reading: dict[str, Any], *, actor: str) -> tuple[list[Observation], bool]:
    """One home measurement (BP with pulse and/or glucose) as observations with source `patient`, all or nothing.

    They are labelled 患者自测 on the record and never read by grading, screening or classification
    (`app.residents.sources`), so no re-screen is queued. A re-send with the same client id answers the first rows.
    """
    measured_at = _aware(reading["measured_at"], "measured_at")
    if measured_at > clock.now() + timedelta(minutes=5):
        raise Invalid("测量时间不能晚于现在 (measured_at is in the future)", code="validation_error",
                      field="measured_at")
    values = [(code, reading[key], unit) for key, code, unit in HOME_READING_CODES if key in reading]
    if "glucose" in reading:
        values.append((HOME_GLUCOSE_CODES[reading["glucose_kind"]], reading["glucose"], "mmol/L"))
    client = reading.get("id")
    with unit_of_work():
        rows = [record_observation(resident_id, code=code, value=value, unit=unit, effective_at=measured_at,
                                   source=sources.PATIENT, client_id=f"{client}:{code}" if client else None,
                                   actor=actor, rescreen=False) for code, value, unit in values]
    return [row for row, _ in rows], any(created for _, created in rows)


def _icd10(code: str) -> str:
    value = (code or "").strip().upper()
    if not ICD10.match(value):
        raise Invalid(f"ICD-10 编码格式不正确: {code!r}", code="invalid_icd10", field="icd10")
    return value


def record_condition(resident_id: int, *, icd10: str, onset_on: date | None, status: str = "confirmed",
                     source: str, client_id: str | None = None, actor: str = "system",
                     category: str = "diagnosis", rescreen: bool = True) -> tuple[Condition, bool]:
    """Record a diagnosis or complication (ICD-10) with its status and onset date."""
    if (replayed := _replay(Condition, client_id, resident_id)) is not None:
        return replayed, False
    icd = _icd10(icd10)
    if status not in CONDITION_STATUSES:
        raise Invalid("诊断状态无效 (status)", code="invalid_value", field="status", allowed=CONDITION_STATUSES)
    if category not in ConditionCategory.codes():
        raise Invalid("类别无效 (category)", code="invalid_value", field="category")
    source = _source(source)

    def build() -> Condition:
        return Condition(resident_id=resident_id, icd10=icd, status=status, category=category, onset_on=onset_on,
                         source=source, client_id=client_id, recorded_at=clock.now(), recorded_by=actor)
    return _write(Condition, resident_id, client_id, build, action="condition.create",
                  details={"icd10": icd, "status": status, "actor": actor}, rescreen=rescreen)


def record_encounter(resident_id: int, *, kind: str, started_at: datetime, org_code: str | None, source: str,
                     client_id: str | None = None, diagnoses: Iterable[str] = (), actor: str = "system",
                     rescreen: bool = True) -> tuple[Encounter, bool]:
    """Record a visit (outpatient, inpatient, exam, public-health visit) and its ICD-10 diagnoses."""
    if (replayed := _replay(Encounter, client_id, resident_id)) is not None:
        return replayed, False
    if kind not in ENCOUNTER_KINDS:
        raise Invalid("就诊类型无效 (kind)", code="invalid_value", field="kind", allowed=ENCOUNTER_KINDS)
    codes = [_icd10(d) for d in diagnoses]
    started_at, source = _aware(started_at, "started_at"), _source(source)

    def build() -> Encounter:
        return Encounter(resident_id=resident_id, kind=kind, started_at=started_at, org_code=org_code,
                         diagnoses=codes, source=source, client_id=client_id, recorded_at=clock.now(),
                         recorded_by=actor)
    return _write(Encounter, resident_id, client_id, build, action="encounter.create",
                  details={"kind": kind, "actor": actor}, rescreen=rescreen)


def record_medication(resident_id: int, *, drug: str, dose: str | None, frequency: str | None,
                      started_on: date | None, source: str, client_id: str | None = None, status: str = "active",
                      actor: str = "system") -> tuple[Medication, bool]:
    """Record a drug the resident takes (or stopped)."""
    if (replayed := _replay(Medication, client_id, resident_id)) is not None:
        return replayed, False
    if not drug or not drug.strip():
        raise Invalid("药品名称不能为空 (drug)", code="validation_error", field="drug")
    if status not in MEDICATION_STATUSES:
        raise Invalid("用药状态无效 (status)", code="invalid_value", field="status")
    source = _source(source)

    def build() -> Medication:
        return Medication(resident_id=resident_id, drug=drug.strip()[:120], dose=dose, frequency=frequency,
                          started_on=started_on, status=status, source=source, client_id=client_id,
                          recorded_at=clock.now(), recorded_by=actor)
    return _write(Medication, resident_id, client_id, build, action="medication.create",
                  details={"drug": drug, "actor": actor}, rescreen=False)


def _upsert(model, values: dict[str, Any], keys: list[str], update: list[str]) -> None:
    dialect = postgresql if is_postgres() else sqlite
    stmt = dialect.insert(model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=keys, set_={k: stmt.excluded[k] for k in update})
    with unit_of_work() as s:
        s.execute(stmt)


RISK_FACTORS = {f.value: (f.label, f.kind) for f in vocabulary.RiskFactor}   # factor: (label, type of the answer)


def record_risk_factor(resident_id: int, *, factor: str, value: Any, source: str) -> None:
    """Set the current answer to one risk-factor question (smoking, drinking, family history, …)."""
    if factor not in RISK_FACTORS:
        raise Invalid(f"未知的危险因素 {factor}", code="unknown_factor", field="factor", supported=sorted(RISK_FACTORS))
    kind = RISK_FACTORS[factor][1]
    if kind is bool and not isinstance(value, bool) or kind is float and (
            isinstance(value, bool) or not isinstance(value, (int, float))) or kind is str and not isinstance(
            value, str):
        raise Invalid(f"{factor} 的取值类型不正确", code="invalid_value", field="value")
    with unit_of_work() as s:
        _resident(s, resident_id)
        _upsert(RiskFactor, {"resident_id": resident_id, "factor": factor, "value": value,
                             "source": _source(source), "recorded_at": clock.now()},
                ["resident_id", "factor"], ["value", "source", "recorded_at"])
        audit("risk_factor.set", object_type="resident", object_id=resident_id,
              details={"factor": factor, "source": source})


def set_referral_flag(resident_id: int, *, source: str, flagged: bool = True, reason: str | None = None) -> None:
    """Flag (or unflag) a resident as a two-way-referral patient on behalf of a source system."""
    with unit_of_work() as s:
        _resident(s, resident_id)
        _upsert(ReferralFlag, {"resident_id": resident_id, "source": _source(source), "flagged": flagged,
                               "reason": reason, "flagged_at": clock.now()},
                ["resident_id", "source"], ["flagged", "reason", "flagged_at"])
        audit("referral_flag.set", object_type="resident", object_id=resident_id,
              details={"source": source, "flagged": flagged, "reason": reason})
