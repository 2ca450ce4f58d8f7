"""Write the health record: one-fact shorthands of the intake, risk factors and referral flags.

Observations, conditions, encounters and medications enter through `app.residents.intake.submit` (validation,
idempotency by `client_id`, audit, one "facts recorded" event per submission); `record_observation` and its siblings
submit one fact and answer `(row, created)`. Every function is one transaction (joins the caller's unit of work),
audited, and scope-free: callers (API views, connectors, processes) check the caller's scope first.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite

from app import vocabulary
from app.audit.services import record as audit
from app.core import clock
from app.core.db import is_postgres, unit_of_work
from app.core.errors import Invalid, NotFound

from . import intake, sources
from .models import Resident
from .record_models import Condition, Encounter, Medication, Observation, ReferralFlag, RiskFactor

ClientIdConflict = intake.ClientIdConflict


def _resident(s, resident_id: int) -> Resident:
    resident = s.get(Resident, resident_id)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
    return resident


def _one(resident_id: int, fact: intake.Fact, *, source: str, actor: str, rescreen: bool = True):
    item = intake.submit(resident_id, [fact], source=source, actor=actor, rescreen=rescreen).items[0]
    return item.row, item.created


def record_observation(resident_id: int, *, code: str, value: float | str, unit: str | None,
                       effective_at: datetime, source: str, client_id: str | None = None,
                       abnormal_flag: str | None = None, actor: str = "system",
                       rescreen: bool = True) -> tuple[Observation, bool]:
    """Record one LOINC-coded value in its canonical unit (422 unknown_code / invalid_unit / invalid_value)."""
    return _one(resident_id, intake.ObservationFact(code=code, value=value, unit=unit, effective_at=effective_at,
                                                    client_id=client_id, abnormal_flag=abnormal_flag),
                source=source, actor=actor, rescreen=rescreen)


HOME_READING_CODES = (("sbp", "8480-6", "mmHg"), ("dbp", "8462-4", "mmHg"), ("pulse", "8867-4", "/min"))
HOME_GLUCOSE_CODES = {"fasting": "1558-6", "random": "2339-0"}


def record_home_reading(resident_id: int, reading: dict[str, Any], *, actor: str) -> tuple[list[Observation], bool]:
    """One home measurement (BP with pulse and/or glucose) as observations with source `patient`, all or nothing.

    They are labelled 患者自测 on the record and never read by grading, screening or classification
    (`app.residents.sources`), so no re-screen is asked for. A re-send with the same client id answers the first rows.
    """
    measured_at = intake.aware(reading["measured_at"], "measured_at")
    if measured_at > clock.now() + timedelta(minutes=5):
        raise Invalid("测量时间不能晚于现在 (measured_at is in the future)", code="validation_error",
                      field="measured_at")
    values = [(code, reading[key], unit) for key, code, unit in HOME_READING_CODES if key in reading]
    if "glucose" in reading:
        values.append((HOME_GLUCOSE_CODES[reading["glucose_kind"]], reading["glucose"], "mmol/L"))
    client = reading.get("id")
    done = intake.submit(resident_id, [intake.ObservationFact(code=code, value=value, unit=unit,
                                                              effective_at=measured_at,
                                                              client_id=f"{client}:{code}" if client else None)
                                       for code, value, unit in values],
                         source=sources.PATIENT, actor=actor, rescreen=False)
    return done.rows, done.created


def record_condition(resident_id: int, *, icd10: str, onset_on: date | None, status: str = "confirmed",
                     source: str, client_id: str | None = None, actor: str = "system",
                     category: str = "diagnosis", rescreen: bool = True) -> tuple[Condition, bool]:
    """Record a diagnosis or complication (ICD-10) with its status and onset date."""
    return _one(resident_id, intake.ConditionFact(icd10=icd10, onset_on=onset_on, status=status, category=category,
                                                  client_id=client_id),
                source=source, actor=actor, rescreen=rescreen)


def record_encounter(resident_id: int, *, kind: str, started_at: datetime, org_code: str | None, source: str,
                     client_id: str | None = None, diagnoses: Iterable[str] = (), actor: str = "system",
                     rescreen: bool = True) -> tuple[Encounter, bool]:
    """Record a visit (outpatient, inpatient, exam, public-health visit) and its ICD-10 diagnoses."""
    return _one(resident_id, intake.EncounterFact(kind=kind, started_at=started_at, org_code=org_code,
                                                  diagnoses=tuple(diagnoses), client_id=client_id),
                source=source, actor=actor, rescreen=rescreen)


def record_medication(resident_id: int, *, drug: str, dose: str | None, frequency: str | None,
                      started_on: date | None, source: str, client_id: str | None = None, status: str = "active",
                      actor: str = "system") -> tuple[Medication, bool]:
    """Record a drug the resident takes (or stopped)."""
    return _one(resident_id, intake.MedicationFact(drug=drug, dose=dose, frequency=frequency, started_on=started_on,
                                                   status=status, client_id=client_id),
                source=source, actor=actor)


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
                             "source": intake.source_name(source), "recorded_at": clock.now()},
                ["resident_id", "factor"], ["value", "source", "recorded_at"])
        audit("risk_factor.set", object_type="resident", object_id=resident_id,
              details={"factor": factor, "source": source})


def set_referral_flag(resident_id: int, *, source: str, flagged: bool = True, reason: str | None = None) -> None:
    """Flag (or unflag) a resident as a two-way-referral patient on behalf of a source system."""
    with unit_of_work() as s:
        _resident(s, resident_id)
        _upsert(ReferralFlag, {"resident_id": resident_id, "source": intake.source_name(source), "flagged": flagged,
                               "reason": reason, "flagged_at": clock.now()},
                ["resident_id", "source"], ["flagged", "reason", "flagged_at"])
        audit("referral_flag.set", object_type="resident", object_id=resident_id,
              details={"source": source, "flagged": flagged, "reason": reason})
