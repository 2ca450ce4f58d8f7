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
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
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
    return list(session().scalars(select(DiseaseEnrolment.disease).where(
        DiseaseEnrolment.resident_id == resident_id).order_by(DiseaseEnrolment.disease)))


def _rank(level: str | None) -> int:
    return vocabulary.RiskLevel.rank_of(level)


def set_risk_level(resident_id: int, *, disease: str, level: str | None, decision_id: str, reason: str,
                   trace: list[dict[str, Any]], versions: dict[str, int], inputs: dict[str, Any],
                   instance_id: int | None = None, basis: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply an automatic grading's proposal. The grade may rise (new risk factors, target-organ damage, clinical
    conditions, a higher untreated BP) but is never lowered automatically: a lower (or ungraded) proposal is kept as
    `proposed_level` and the grade in force stays until a clinician re-assesses it (`reassess_risk_level`). After a
    clinician lowered a grade, only a proposal above the one they overruled raises it again. Says whether the grade
    in force changed and whether it rose to HIGH or VERY_HIGH (an upgrade)."""
    with unit_of_work() as s:
        row = s.scalars(select(RiskLevel).where(RiskLevel.resident_id == resident_id,
                                                RiskLevel.disease == disease).with_for_update()).first()
        previous = row.level if row is not None else None
        if row is None:
            row = RiskLevel(resident_id=resident_id, disease=disease, source="grading")
            s.add(row)
            apply = True
        elif row.source == "clinician":
            apply = _rank(level) > max(_rank(row.level), _rank(row.overruled_level))
        else:
            apply = _rank(level) >= _rank(row.level)
        row.proposed_level, row.inputs = level, inputs
        if apply:
            if level != previous:
                row.previous_level = previous
            row.level, row.decision_id, row.reason, row.trace, row.versions = level, decision_id, reason, trace, \
                versions
            row.instance_id, row.basis, row.assessed_at = instance_id, basis or {}, clock.now()
            row.source, row.overruled_level, row.reassessed_by, row.reassessed_reason = "grading", None, None, None
        s.flush()
        in_force = row.level
        changed = in_force != previous or previous is None and apply
        grade = vocabulary.RiskLevel
        upgraded = _rank(in_force) > _rank(previous) and in_force in (grade.HIGH, grade.VERY_HIGH)
        audit("risk_level.set" if apply else "risk_level.held", object_type="resident", object_id=resident_id,
              details={"disease": disease, "level": in_force, "previous": previous, "proposed": level,
                       "reason": reason})
        return {"level": in_force, "previous_level": previous, "proposed_level": level, "upgraded": upgraded,
                "changed": bool(changed), "held": not apply}


def reassess_risk_level(resident_id: int, *, disease: str, level: str, reason: str, actor: str) -> dict[str, Any]:
    """A clinician's explicit re-assessment of a graded disease (the only way a grade is lowered): recorded with the
    clinician and the reason, audited. 422 invalid_level / reason_required; 404 not_graded."""
    try:
        grade = vocabulary.RiskLevel.parse(level) if isinstance(level, str) else None
    except ValueError:
        grade = None
    if grade is None:
        raise Invalid("风险等级无效 (level)", code="invalid_level", field="level",
                      allowed=list(vocabulary.RiskLevel.codes()))
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("调整风险等级须填写理由 (a reason is required)", code="reason_required", field="reason")
    with unit_of_work() as s:
        row = s.scalars(select(RiskLevel).where(RiskLevel.resident_id == resident_id,
                                                RiskLevel.disease == disease).with_for_update()).first()
        if row is None:
            raise NotFound("该病种尚未分层 (not graded)", code="not_graded", disease=disease)
        previous = row.level
        overruled = max((row.level, row.proposed_level, row.overruled_level), key=_rank)
        if previous != grade.value:
            row.previous_level = previous
        row.level, row.source, row.reassessed_by, row.reassessed_reason = grade.value, "clinician", actor, reason[:1000]
        row.overruled_level = overruled if _rank(overruled) > _rank(grade.value) else None
        row.assessed_at = clock.now()          # `reason` keeps the rules that graded it; the clinician's is apart
        s.flush()
        audit("risk_level.reassess", object_type="resident", object_id=resident_id,
              details={"disease": disease, "level": grade.value, "previous": previous, "reason": reason,
                       "actor": actor})
        return {"level": grade.value, "previous_level": previous, "changed": previous != grade.value,
                "upgraded": False}
