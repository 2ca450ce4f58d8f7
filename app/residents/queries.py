"""Read side of the resident registry. Data scope is enforced here, in SQL: every read starts from
`scoped_residents(principal)`, so a resident outside the caller's scope does not exist for them (404)."""
from __future__ import annotations

from sqlalchemy import Select, false, func, or_, select

from app.auth.crypto import keyed_hash
from app.auth.principal import Principal
from app.core.db import session
from app.org.scope import org_scope_filter

from . import idcard
from .models import Resident

MAX_ID = 2**63 - 1       # a larger id names no row (and would overflow BIGINT on PostgreSQL)


def scope_condition(principal: Principal | None):
    """The SQL condition 'this resident row is visible to the principal'."""
    if principal is None:
        return false()
    by_org = org_scope_filter(Resident.org_path, principal)
    if principal.has_role("patient") and principal.resident_id is not None:
        return or_(by_org, Resident.id == principal.resident_id)
    return by_org


def scoped_residents(principal: Principal | None) -> Select[tuple[Resident]]:
    """`select(Resident)` restricted to the principal's scope; add filters and ordering to it."""
    return select(Resident).where(scope_condition(principal))


def get_resident(resident_id: int, principal: Principal | None) -> Resident | None:
    """The resident if it exists and is in scope, else None."""
    if not 0 < resident_id <= MAX_ID:
        return None
    return session().scalars(scoped_residents(principal).where(Resident.id == resident_id)).first()


def id_number_hash(id_number: str) -> str:
    return keyed_hash(idcard.normalize(id_number))


def _looks_like_id_number(q: str) -> bool:
    value = idcard.normalize(q)
    return len(value) == 18 and value[:17].isascii() and value[:17].isdigit()


def search_residents(principal: Principal | None, *, q: str | None = None, org_code: str | None = None,
                     page: int = 1, per_page: int = 20) -> tuple[list[Resident], int]:
    """Residents in scope matching `q` (exact ID number, else name prefix), one page and the total."""
    query = scoped_residents(principal)
    if q and _looks_like_id_number(q):
        query = query.where(Resident.id_number_hash == id_number_hash(q))
    elif q:
        query = query.where(Resident.name.startswith(q.strip(), autoescape=True))
    if org_code:
        query = query.where(Resident.org_code == org_code)
    total = session().scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session().scalars(query.order_by(Resident.id).offset((page - 1) * per_page).limit(per_page))
    return list(items), total


def resident_ids_in_scope(principal: Principal | None):
    """A subquery of visible resident ids, for tables keyed by resident_id (observations, plans, …)."""
    return select(Resident.id).where(scope_condition(principal)).scalar_subquery()
