"""The one way clinical facts enter the health record: observations, diagnoses, visits and prescriptions.

Every channel (the record API, home readings, follow-up visits, HL7 v2, FHIR, the public-health pull, webhooks,
device readings, seeds) maps what it received onto facts (`ObservationFact`, `ConditionFact`, `EncounterFact`,
`MedicationFact`) and calls `submit`, which

1. answers a fact whose `client_id` already made a row with that row (`created=False`) before validating it again
   (a re-send after a lost answer gets the first row; the same client id for another resident: 409
   `client_id_conflict`);
2. validates every other fact (422 `unknown_code`, `invalid_unit`, `invalid_value`, `invalid_icd10`,
   `validation_error`) before anything is written, so a bad fact leaves nothing of its submission behind;
3. writes and audits the new rows in one transaction (joining the caller's unit of work);
4. emits one `hooks.RESIDENT_FACTS_RECORDED` event for the submission when it created a row (payload described
   there; reactions are wired in `app.wiring`: screening re-screens the resident once after commit, which is what
   makes one visit one re-grade).

An error of a fact carries `fact_index` (its place in `facts`), so a mapper can point at the part of its message
that was wrong (HL7's ERR segment names the OBX). `check` is the validation alone.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record as audit
from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Conflict, DomainError, Invalid, NotFound
from app.vocabulary import ConditionCategory, ConditionStatus, EncounterKind, MedicationStatus, loinc
from app.workflows import hooks

from .models import Resident
from .record_models import Condition, Encounter, Medication, Observation

ICD10 = re.compile(r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$")
CONDITION_STATUSES = ConditionStatus.codes()
ENCOUNTER_KINDS = EncounterKind.codes()
MEDICATION_STATUSES = MedicationStatus.codes()
ABNORMAL_FLAGS = ("L", "H", "LL", "HH", "N", "A")


class ClientIdConflict(Conflict):
    code = "client_id_conflict"


@dataclass(frozen=True)
class ObservationFact:
    """One LOINC-coded value; stored in its canonical unit with the value as sent beside it."""
    code: str
    value: float | str
    unit: str | None
    effective_at: datetime
    client_id: str | None = None
    abnormal_flag: str | None = None
    org_code: str | None = None          # the organisation whose lab/department produced the value (全网记录)
    record_type = "observation"
    model = Observation


@dataclass(frozen=True)
class ConditionFact:
    """A diagnosis or complication (ICD-10) with its status and onset date."""
    icd10: str
    onset_on: date | None = None
    status: str = "confirmed"
    category: str = "diagnosis"
    client_id: str | None = None
    record_type = "condition"
    model = Condition


@dataclass(frozen=True)
class EncounterFact:
    """A visit (outpatient, inpatient, exam, public-health visit) and its ICD-10 diagnoses."""
    kind: str
    started_at: datetime
    org_code: str | None = None
    diagnoses: Sequence[str] = ()
    client_id: str | None = None
    record_type = "encounter"
    model = Encounter


@dataclass(frozen=True)
class MedicationFact:
    """A drug the resident takes (or stopped)."""
    drug: str
    dose: str | None = None
    frequency: str | None = None
    started_on: date | None = None
    status: str = "active"
    client_id: str | None = None
    record_type = "medication"
    model = Medication


Fact = ObservationFact | ConditionFact | EncounterFact | MedicationFact


@dataclass(frozen=True)
class Recorded:
    """What one fact of a submission became: its row, and whether this submission created it."""
    record_type: str
    row: Any
    created: bool


@dataclass
class Submission:
    """The answer to `submit`: one `Recorded` per fact, in the order of the facts."""
    items: list[Recorded] = field(default_factory=list)

    @property
    def rows(self) -> list[Any]:
        return [item.row for item in self.items]

    @property
    def created(self) -> bool:
        return any(item.created for item in self.items)


def submit(resident_id: int, facts: Sequence[Fact], *, source: str, actor: str = "system",
           rescreen: bool = True) -> Submission:
    """Record the facts of one submission for one resident, all or nothing; one facts-recorded event."""
    with unit_of_work() as s:
        known = [_known(s, fact, resident_id) for fact in facts]
        built = [None if row is not None else _validated(i, fact, resident_id, source, actor)
                 for i, (fact, row) in enumerate(zip(facts, known, strict=True))]
        answer = Submission()
        if any(row is not None for row in built):
            _resident(s, resident_id)
        for fact, row, new in zip(facts, known, built, strict=True):
            if row is not None:
                answer.items.append(Recorded(fact.record_type, row, False))
                continue
            answer.items.append(_insert(s, fact, new, resident_id, actor))
        recorded = [item for item in answer.items if item.created]
        if recorded:
            hooks.emit(hooks.RESIDENT_FACTS_RECORDED, resident_id=resident_id, source=recorded[0].row.source,
                       actor=actor, recorded=recorded, rescreen=rescreen)
        return answer


def _validated(index: int, fact: Fact, resident_id: int, source: str, actor: str):
    try:
        return _build(fact, resident_id, source, actor)
    except DomainError as exc:
        exc.fact_index = index       # type: ignore[attr-defined]  # which fact: a mapper places its error with it
        raise


def check(fact: Fact) -> None:
    """Validate one fact without writing it (422 with the code `submit` would answer)."""
    _build(fact, 0, "check", "check")


def _known(s, fact: Fact, resident_id: int):
    """The row `fact.client_id` already created (for this resident), or None."""
    if not fact.client_id:
        return None
    model = fact.model
    row = s.scalars(select(model).where(model.client_id == fact.client_id)).first()
    if row is not None and row.resident_id != resident_id:
        raise ClientIdConflict("该 id 已用于另一位居民的记录 (client id used for another resident)",
                               field="id", client_id=fact.client_id)
    return row


def _insert(s, fact: Fact, row, resident_id: int, actor: str) -> Recorded:
    try:
        with s.begin_nested():
            s.add(row)
            s.flush()
    except IntegrityError:       # a concurrent re-send won the race: answer its row
        existing = _known(s, fact, resident_id)
        if existing is None:
            raise
        return Recorded(fact.record_type, existing, False)
    audit(f"{fact.record_type}.create", object_type="resident", object_id=resident_id,
          details={"id": row.id, "source": row.source, "client_id": fact.client_id, **_audit_details(fact, row),
                   "actor": actor})
    return Recorded(fact.record_type, row, True)


def _audit_details(fact: Fact, row) -> dict[str, Any]:
    if isinstance(fact, MedicationFact):
        return {"drug": fact.drug}          # as sent
    if isinstance(row, Observation):
        return {"code": row.code}
    if isinstance(row, Condition):
        return {"icd10": row.icd10, "status": row.status}
    return {"kind": row.kind}


def _build(fact: Fact, resident_id: int, source: str, actor: str):
    stamp = {"resident_id": resident_id, "client_id": fact.client_id, "recorded_at": clock.now(),
             "recorded_by": actor}
    if isinstance(fact, ObservationFact):
        code = (fact.code or "").strip()
        number, text, canonical_unit = loinc.normalize(code, fact.value, fact.unit)
        effective_at = aware(fact.effective_at, "effective_at")
        if fact.abnormal_flag is not None and fact.abnormal_flag not in ABNORMAL_FLAGS:
            raise Invalid("异常标志无效 (abnormal_flag)", code="invalid_value", field="abnormal_flag")
        return Observation(code=code, value_num=number, value_text=text, unit=canonical_unit,
                           original_value=str(fact.value)[:80], original_unit=fact.unit,
                           abnormal_flag=fact.abnormal_flag, effective_at=effective_at, source=source_name(source),
                           org_code=(fact.org_code or "").strip()[:40] or None, **stamp)
    if isinstance(fact, ConditionFact):
        icd = icd10(fact.icd10)
        if fact.status not in CONDITION_STATUSES:
            raise Invalid("诊断状态无效 (status)", code="invalid_value", field="status", allowed=CONDITION_STATUSES)
        if fact.category not in ConditionCategory.codes():
            raise Invalid("类别无效 (category)", code="invalid_value", field="category")
        return Condition(icd10=icd, status=fact.status, category=fact.category, onset_on=fact.onset_on,
                         source=source_name(source), **stamp)
    if isinstance(fact, EncounterFact):
        if fact.kind not in ENCOUNTER_KINDS:
            raise Invalid("就诊类型无效 (kind)", code="invalid_value", field="kind", allowed=ENCOUNTER_KINDS)
        codes = [icd10(d) for d in fact.diagnoses]
        started_at = aware(fact.started_at, "started_at")
        return Encounter(kind=fact.kind, started_at=started_at, org_code=fact.org_code, diagnoses=codes,
                         source=source_name(source), **stamp)
    if not fact.drug or not fact.drug.strip():
        raise Invalid("药品名称不能为空 (drug)", code="validation_error", field="drug")
    if fact.status not in MEDICATION_STATUSES:
        raise Invalid("用药状态无效 (status)", code="invalid_value", field="status")
    return Medication(drug=fact.drug.strip()[:120], dose=fact.dose, frequency=fact.frequency,
                      started_on=fact.started_on, status=fact.status, source=source_name(source), **stamp)


def aware(at: datetime, field: str) -> datetime:
    """`at` when it carries a time zone (422 invalid_value otherwise)."""
    if not isinstance(at, datetime) or at.tzinfo is None:
        raise Invalid("时间须带时区 (an aware datetime is required)", code="invalid_value", field=field)
    return at


def icd10(code: str) -> str:
    """The ICD-10 code normalized (upper case, trimmed); 422 invalid_icd10 when it is not one."""
    value = (code or "").strip().upper()
    if not ICD10.match(value):
        raise Invalid(f"ICD-10 编码格式不正确: {code!r}", code="invalid_icd10", field="icd10")
    return value


def source_name(source: str) -> str:
    """The source system name trimmed to its column; 422 validation_error when empty."""
    if not source or not source.strip():
        raise Invalid("来源系统不能为空 (source is required)", code="validation_error", field="source")
    return source.strip()[:60]


def _resident(s, resident_id: int) -> Resident:
    resident = s.get(Resident, resident_id)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
    return resident
