"""Chronic-disease management on the record: enrolment (建档) per disease and the current risk level per disease.

Both are idempotent and audited; both join the caller's unit of work (the service tasks of `screening` and
`stratify` call them).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app import vocabulary
from app.audit.services import record as audit
from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Invalid
from app.vocabulary import Disease

from .record_models import DiseaseEnrolment, RiskLevel
from .records import record_condition


def enrol(resident_id: int, *, disease: str, icd10: str | None, diagnosed_on: date,
          managing_doctor_user_id: int | None, village_code: str | None, screening_case_id: int | None,
          source: str, actor: str) -> DiseaseEnrolment:
    """Enrol a resident for a disease (one enrolment per disease) and record the confirmed diagnosis."""
    if disease not in Disease.codes():
        raise Invalid(f"未知病种 {disease}", code="unknown_disease", field="disease")
    code = (icd10 or Disease(disease).icd10).strip().upper()
    with unit_of_work() as s:
        existing = s.scalars(select(DiseaseEnrolment).where(DiseaseEnrolment.resident_id == resident_id,
                                                            DiseaseEnrolment.disease == disease)).first()
        if existing is not None:
            return existing
        record_condition(resident_id, icd10=code, onset_on=diagnosed_on, status="confirmed", source=source,
                         client_id=f"enrol:{resident_id}:{disease}", actor=actor, rescreen=False)
        row = DiseaseEnrolment(resident_id=resident_id, disease=disease, icd10=code, diagnosed_on=diagnosed_on,
                               managing_doctor_user_id=managing_doctor_user_id, village_code=village_code,
                               screening_case_id=screening_case_id, source=source, enrolled_at=clock.now(),
                               enrolled_by=actor)
        s.add(row)
        s.flush()
        audit("disease.enrol", object_type="resident", object_id=resident_id,
              details={"disease": disease, "icd10": code, "actor": actor, "case_id": screening_case_id})
        return row


def enrolled_diseases(resident_id: int) -> list[str]:
    from app.core.db import session
    return list(session().scalars(select(DiseaseEnrolment.disease).where(
        DiseaseEnrolment.resident_id == resident_id).order_by(DiseaseEnrolment.disease)))


def set_risk_level(resident_id: int, *, disease: str, level: str | None, decision_id: str, reason: str,
                   trace: list[dict[str, Any]], versions: dict[str, int], inputs: dict[str, Any],
                   instance_id: int | None = None) -> dict[str, Any]:
    """Write the current level with its reason; say whether it rose to HIGH or VERY_HIGH (an upgrade)."""
    with unit_of_work() as s:
        row = s.scalars(select(RiskLevel).where(RiskLevel.resident_id == resident_id,
                                                RiskLevel.disease == disease)).first()
        previous = row.level if row is not None else None
        if row is None:
            row = RiskLevel(resident_id=resident_id, disease=disease)
            s.add(row)
        row.previous_level, row.level, row.decision_id, row.reason = previous, level, decision_id, reason
        row.trace, row.versions, row.inputs, row.instance_id = trace, versions, inputs, instance_id
        row.assessed_at = clock.now()
        s.flush()
        grade = vocabulary.RiskLevel
        upgraded = grade.rank_of(level) > grade.rank_of(previous) and level in (grade.HIGH, grade.VERY_HIGH)
        audit("risk_level.set", object_type="resident", object_id=resident_id,
              details={"disease": disease, "level": level, "previous": previous, "reason": reason})
        return {"level": level, "previous_level": previous, "upgraded": upgraded}
