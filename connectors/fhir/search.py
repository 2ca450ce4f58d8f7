"""Read and search our record for a caller: every search is scoped through the resident registry (a resident
outside the caller's scope does not exist for them)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.audit.services import record as audit
from app.auth.crypto import decrypt_field
from app.auth.principal import Principal
from app.care_plans.queries import content_in_force, plans_of_resident
from app.core.db import session, unit_of_work
from app.referral.queries import referrals_of_resident
from app.residents import queries as residents
from app.residents.record_queries import health_record
from app.residents.record_queries import observations as rows
from app.tasks.queries import visible
from app.workflows.models import HumanTask

from . import codes, resources
from .outcome import FhirError


def resident_in_scope(principal: Principal, value: str | None, *, param: str = "patient") -> int:
    ref = (value or "").removeprefix("Patient/")
    if not ref:
        raise FhirError([("required", f"缺少检索参数 {param} (required search parameter)", param)], status=400)
    if not ref.isdigit() or residents.get_resident(int(ref), principal) is None:
        raise FhirError([("not-found", f"患者不存在或不在权限范围 (Patient/{ref})", param)], status=404)
    return int(ref)


def read_patient(principal: Principal, patient_id: str) -> dict[str, Any]:
    resident_id = resident_in_scope(principal, patient_id, param="id")
    r = residents.get_resident(resident_id, principal)
    with unit_of_work():
        audit("resident.read", object_type="resident", object_id=r.id, details={"via": "fhir"}, principal=principal)
    return resources.patient(r, full_id_number=decrypt_field(r.id_number_encrypted))


def search_patients(principal: Principal, identifier: str | None, _id: str | None) -> list[dict[str, Any]]:
    if _id:
        found = residents.get_resident(int(_id), principal) if _id.isdigit() else None
        return [resources.patient(found)] if found else []
    if not identifier:
        raise FhirError([("required", "须提供 identifier 或 _id (identifier or _id required)", "identifier")],
                        status=400)
    system, _, value = identifier.rpartition("|")
    if system in codes.ID_CARD or not system:
        items, _ = residents.search_residents(principal, q=value, per_page=10)
        return [resources.patient(r) for r in items if r.id_number_hash == residents.id_number_hash(value)]
    if system == codes.RESIDENT_ID and value.isdigit():
        found = residents.get_resident(int(value), principal)
        return [resources.patient(found)] if found else []
    return []


def observations(principal: Principal, patient: str | None, code: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    loinc = (code or "").rpartition("|")[2] or None
    return [resources.observation(resident_id, o) for o in rows(resident_id, code=loinc)]


def _record(resident_id: int) -> dict[str, Any]:
    return health_record(resident_id, recent=0)


def conditions(principal: Principal, patient: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    return [resources.condition(resident_id, c) for c in _record(resident_id)["conditions"]]


def medication_requests(principal: Principal, patient: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    return [resources.medication_request(resident_id, m) for m in _record(resident_id)["medications"]]


def encounters(principal: Principal, patient: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    return [resources.encounter(resident_id, e) for e in _record(resident_id)["encounters"]]


def care_plans(principal: Principal, patient: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    return [resources.care_plan(p, content_in_force(p)) for p in plans_of_resident(principal, resident_id)]


def service_requests(principal: Principal, patient: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    return [resources.service_request(r) for r in referrals_of_resident(principal, resident_id)]


def tasks(principal: Principal, patient: str | None, status: str | None) -> list[dict[str, Any]]:
    resident_id = resident_in_scope(principal, patient)
    query = select(HumanTask).where(HumanTask.resident_id == resident_id, visible(principal))
    ours = {v: k for k, v in resources.TASK_STATUS.items()}
    if status:
        query = query.where(HumanTask.status == ours.get(status, status))
    return [resources.task(t) for t in session().scalars(query.order_by(HumanTask.id.desc()).limit(200))]
