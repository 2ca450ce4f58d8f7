"""Use cases of the resident registry: register, read (audited), update. Scope comes from `queries`."""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.auth.crypto import decrypt_field, encrypt_field
from app.auth.models import User
from app.auth.principal import Principal
from app.auth.queries import user_exists
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
from app.org.models import Organization
from app.org.scope import org_scope_filter

from . import idcard, queries
from .errors import DuplicateResident, InvalidIdNumber, InvalidManagingOrg
from .models import Resident

MANAGING_LEVELS = ("village", "township")
ID_REASONS = {"length": "身份证号码应为 18 位", "characters": "身份证号码含非法字符",
              "birth_date": "身份证号码中的出生日期不合法", "checksum": "身份证号码校验位错误"}


def _valid_id_number(id_number: str) -> str:
    try:
        return idcard.validate(id_number)
    except idcard.InvalidIdNumber as exc:
        raise InvalidIdNumber(ID_REASONS[exc.reason], reason=exc.reason, field="id_number") from None


def _managing_org(org_code: str | None, principal: Principal) -> Organization:
    """The managing organization: a village or township in the principal's scope (default: their own)."""
    code = org_code or principal.org_code
    org = session().scalars(select(Organization).where(Organization.code == code,
                                                       org_scope_filter(Organization.path, principal))).first()
    if org is None or org.level not in MANAGING_LEVELS:
        raise InvalidManagingOrg("管理机构须为本人权限范围内的村卫生室或乡镇卫生院", field="org_code", org_code=code)
    return org


def check_birth_and_sex(id_number: str, birth_date: date | None, sex: str | None) -> tuple[date, str]:
    """The birth date and sex embedded in a valid number; 422 `birth_date_mismatch`/`sex_mismatch` when the given
    ones contradict it."""
    embedded_birth, embedded_sex = idcard.birth_date_of(id_number), idcard.sex_of(id_number)
    if birth_date and birth_date != embedded_birth:
        raise Invalid("出生日期与身份证号码不符", code="birth_date_mismatch", field="birth_date")
    if sex and sex != embedded_sex:
        raise Invalid("性别与身份证号码不符", code="sex_mismatch", field="sex")
    return embedded_birth, embedded_sex


def _name(name: str) -> str:
    if not name.strip():
        raise Invalid("姓名不能为空", code="validation_error", field="name")
    return name.strip()


def _check_family_doctor(user_id: int | None) -> None:
    if user_id is not None and not user_exists(user_id):
        raise Invalid("家庭医生不存在", code="invalid_family_doctor", field="family_doctor_user_id")


def register_resident(data: dict[str, Any], *, principal: Principal) -> Resident:
    """Register a resident under a managing organization in the caller's scope; one row per ID number."""
    id_number = _valid_id_number(data["id_number"])
    name = _name(data["name"])
    birth_date, sex = check_birth_and_sex(id_number, data.get("birth_date"), data.get("sex"))
    id_hash = queries.id_number_hash(id_number)
    _check_family_doctor(data.get("family_doctor_user_id"))
    with unit_of_work() as s:
        org = _managing_org(data.get("org_code"), principal)
        _reject_duplicate(id_hash, principal)
        at = clock.now()
        resident = Resident(
            name=name, sex=sex, birth_date=birth_date, address=data.get("address"),
            phone_encrypted=encrypt_field(data["phone"]) if data.get("phone") else None,
            id_number_encrypted=encrypt_field(id_number), id_number_hash=id_hash,
            id_number_hint=idcard.hint(id_number), org_code=org.code, org_path=org.path,
            family_doctor_user_id=data.get("family_doctor_user_id"), created_at=at, updated_at=at)
        s.add(resident)
        try:
            s.flush()
        except IntegrityError:
            raise DuplicateResident("该身份证号码已登记 (resident already registered)") from None
        record("resident.create", object_type="resident", object_id=resident.id, principal=principal,
               details={"org_code": org.code})
        return resident


def _reject_duplicate(id_hash: str, principal: Principal) -> None:
    existing = session().scalars(select(Resident.id).where(Resident.id_number_hash == id_hash)).first()
    if existing is not None:
        message = "该身份证号码已登记 (resident already registered)"
        if queries.get_resident(existing, principal) is not None:
            raise DuplicateResident(message, resident_id=existing)
        raise DuplicateResident(message)


def read_resident(resident_id: int, *, principal: Principal) -> Resident:
    """The resident's record for a principal in scope (else NotFound); the read is audited."""
    with unit_of_work():
        resident = queries.get_resident(resident_id, principal)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)")
        record("resident.read", object_type="resident", object_id=resident.id, principal=principal)
        return resident


UPDATABLE = ("name", "phone", "address", "org_code", "family_doctor_user_id")


def update_resident(resident_id: int, changes: dict[str, Any], *, principal: Principal) -> Resident:
    """Change contact details, managing organization or family doctor of a resident in scope (audited)."""
    with unit_of_work():
        resident = queries.get_resident(resident_id, principal)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)")
        changed = [k for k in UPDATABLE if k in changes]
        _check_family_doctor(changes.get("family_doctor_user_id"))
        if "org_code" in changes:
            org = _managing_org(changes["org_code"], principal)
            resident.org_code, resident.org_path = org.code, org.path
        if "phone" in changes:
            resident.phone_encrypted = encrypt_field(changes["phone"]) if changes["phone"] else None
        if "name" in changes:
            changes = changes | {"name": _name(changes["name"])}
        for key in ("name", "address", "family_doctor_user_id"):
            if key in changes:
                setattr(resident, key, changes[key])
        resident.updated_at = clock.now()
        record("resident.update", object_type="resident", object_id=resident.id, principal=principal,
               details={"fields": changed})
        return resident


def search(principal: Principal, **criteria) -> tuple[list[Resident], int]:
    """Search residents in scope; the search (not each row) is audited."""
    with unit_of_work():
        items, total = queries.search_residents(principal, **criteria)
        record("resident.search", object_type="resident", principal=principal,
               details={k: v for k, v in criteria.items() if k in ("org_code", "page") and v}
               | {"q_kind": _q_kind(criteria.get("q")), "total": total})
        return items, total


def _q_kind(q: str | None) -> str | None:
    if not q:
        return None
    return "id_number" if queries._looks_like_id_number(q) else "name"


# --- presentation helpers (plain dicts; no Flask) --------------------------------------------------------------

def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    return phone[:3] + "*" * max(len(phone) - 7, 0) + phone[-4:] if len(phone) > 7 else "*" * len(phone)


def summary(resident: Resident) -> dict[str, Any]:
    """A list row: ID number and phone masked."""
    phone = decrypt_field(resident.phone_encrypted) if resident.phone_encrypted else None
    return {"id": resident.id, "name": resident.name, "sex": resident.sex, "birth_date": resident.birth_date,
            "age": clock.age(resident.birth_date), "id_number": resident.id_number_masked, "phone": mask_phone(phone),
            "address": resident.address, "org_code": resident.org_code,
            "family_doctor_user_id": resident.family_doctor_user_id}


def full_record(resident: Resident) -> dict[str, Any]:
    """The record page: full ID number and phone (only for principals in scope, who got it via read_resident)."""
    org = session().get(Organization, resident.org_code) if resident.org_code else None
    doctor = session().get(User, resident.family_doctor_user_id) if resident.family_doctor_user_id else None
    return summary(resident) | {
        "id_number": decrypt_field(resident.id_number_encrypted),
        "phone": decrypt_field(resident.phone_encrypted) if resident.phone_encrypted else None,
        "org_name": org.name if org else None,
        "family_doctor_name": (doctor.display_name or None) if doctor else None,
        "created_at": resident.created_at, "updated_at": resident.updated_at}
