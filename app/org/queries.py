"""Read side of the organization tree, used by auth, residents, tasks and reports."""
from __future__ import annotations

import os
import time
from typing import NamedTuple

from sqlalchemy import event, select
from sqlalchemy.orm import Session as OrmSession

from app.core.db import engine as db_engine
from app.core.db import session
from app.core.errors import NotFound

from .models import Organization
from .scope import org_scope_filter


def get_org(code: str) -> Organization:
    """The organization with this code, or NotFound."""
    org = session().get(Organization, code)
    if org is None:
        raise NotFound("机构不存在 (organization not found)", org_code=code)
    return org


def find_org(code: str | None) -> Organization | None:
    return session().get(Organization, code) if code else None


class OrgFacts(NamedTuple):
    code: str
    name: str
    path: str
    level: str


# The name and path of an organization, kept for a moment per worker (issue 23.2: every start and completion looked
# them up, up to three times). A change of an organization written through the ORM in this process forgets them at
# once; other workers see it within ORG_CACHE_S (the tree changes rarely: an administrator's edit).
ORG_CACHE_S = float(os.environ.get("YGT_ORG_CACHE_S", "2"))
_org_cache: dict[tuple[int, str], tuple[float, OrgFacts]] = {}


ORG_FILL_MAX = 5_000        # a tree up to this size is read whole when one of its organizations is not cached
_whole_tree_fits = True
_filled_until: dict[int, float] = {}     # per engine: the tree was read whole a moment ago


def org_facts(code: str | None) -> OrgFacts | None:
    """Code, name, path and level of an organization (None when there is none): `find_org` for the hot path, cached.

    A miss reads the whole tree (up to ORG_FILL_MAX organizations) in one statement and caches every organization:
    an inbox page names up to 25 organizations, and a per-organization read of each expired entry cost a round trip
    apiece, every ORG_CACHE_S, on every worker (issue 23.5). An organization absent from the tree read is read by
    itself as before; while an organization changed in this session is not flushed, nothing is cached."""
    if not code:
        return None
    eng = id(db_engine())
    hit = _org_cache.get((eng, code))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    # an organization changed in this session and not flushed yet is read (from the session) and not cached
    caching = ORG_CACHE_S > 0 and event.contains(OrmSession, "after_commit", _forget_after_commit) \
        and not _pending_org_change()
    if caching and _whole_tree_fits and _filled_until.get(eng, 0.0) <= time.monotonic():
        found = _fill(eng).get(code)        # a code the tree just read lacks is read by itself (below) till then
        if found is not None:
            return found
    org = session().get(Organization, code)
    if org is None:
        return None
    facts = OrgFacts(org.code, org.name, org.path, org.level)
    if caching:
        _cache(eng, [facts])
    return facts


def _pending_org_change() -> bool:
    s = session()
    return any(isinstance(o, Organization) for o in (*s.new, *s.dirty, *s.deleted))


def _fill(eng: int) -> dict[str, OrgFacts]:
    """Read the tree and cache every organization (a tree larger than ORG_FILL_MAX: none, and no more reads of it
    in this process; its organizations are read one by one)."""
    global _whole_tree_fits
    with session().no_autoflush:
        rows = session().execute(select(Organization.code, Organization.name, Organization.path, Organization.level)
                                 .limit(ORG_FILL_MAX + 1)).all()
    if len(rows) > ORG_FILL_MAX:
        _whole_tree_fits = False
        return {}
    facts = [OrgFacts(*row) for row in rows]
    _cache(eng, facts)
    _filled_until[eng] = time.monotonic() + ORG_CACHE_S
    return {f.code: f for f in facts}


def _cache(eng: int, facts: list[OrgFacts]) -> None:
    if len(_org_cache) + len(facts) > 10_000:
        _org_cache.clear()
    until = time.monotonic() + ORG_CACHE_S
    for f in facts:
        _org_cache[(eng, f.code)] = (until, f)


def forget_orgs() -> None:
    _org_cache.clear()
    _filled_until.clear()


def _forget_on_change(s, _flush_context) -> None:
    if any(isinstance(o, Organization) for o in (*s.dirty, *s.deleted)):
        forget_orgs()
        s.info["org.changed"] = True


def _forget_on_bulk_change(state) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ is Organization:
        forget_orgs()
        state.session.info["org.changed"] = True


def _forget_after_commit(s) -> None:
    if s.info.pop("org.changed", False):
        forget_orgs()


def watch_org_changes() -> None:
    """Start the organization cache: listen for changes to organizations (`app.wiring` calls this once at start-up).
    Until it runs, `org_facts` reads the organization each time."""
    for name, listener in (("after_flush", _forget_on_change), ("do_orm_execute", _forget_on_bulk_change),
                           ("after_commit", _forget_after_commit)):
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)


def root_org() -> Organization | None:
    """The root of the tree (the county organization), if any has been created."""
    return session().scalars(select(Organization).where(Organization.parent_code.is_(None))
                             .order_by(Organization.code).limit(1)).first()


def subtree(org_code: str) -> list[Organization]:
    """The organization and everything below it, in path order."""
    path = get_org(org_code).path
    return list(session().scalars(select(Organization).where(Organization.path.startswith(path, autoescape=True))
                                  .order_by(Organization.path)))


def subtree_codes(org_code: str) -> list[str]:
    """Codes of the organization and everything below it."""
    return [org.code for org in subtree(org_code)]


def ancestors(org_code: str, *, include_self: bool = False) -> list[Organization]:
    """The chain from the root down to the organization's parent (or to itself with include_self)."""
    org = get_org(org_code)
    codes = [c for c in org.path.strip("/").split("/") if c]
    if not include_self:
        codes = codes[:-1]
    found = {o.code: o for o in session().scalars(select(Organization).where(Organization.code.in_(codes)))}
    return [found[c] for c in codes if c in found]


def township_of(org_code: str) -> Organization | None:
    """The township an organization belongs to (itself for a township; None above township level)."""
    for org in reversed(ancestors(org_code, include_self=True)):
        if org.level == "township":
            return org
    return None


def village_orgs(under: str | None = None) -> list[Organization]:
    """All village clinics, optionally only those below the organization `under`."""
    query = select(Organization).where(Organization.level == "village")
    if under:
        query = query.where(Organization.path.startswith(get_org(under).path, autoescape=True))
    return list(session().scalars(query.order_by(Organization.path)))


def orgs_in_scope(principal, *, level: str | None = None, under: str | None = None) -> list[Organization]:
    """The organizations a principal may see, as a flat list in tree order; optionally one level or subtree."""
    query = select(Organization).where(org_scope_filter(Organization.path, principal))
    if level:
        query = query.where(Organization.level == level)
    if under:
        below = find_org(under)
        if below is None:
            return []
        query = query.where(Organization.path.startswith(below.path, autoescape=True))
    return list(session().scalars(query.order_by(Organization.path)))


def children(org_code: str, *, exclude_levels: tuple[str, ...] = ()) -> list[Organization]:
    """The organizations directly below one organization, by code."""
    stmt = select(Organization).where(Organization.parent_code == org_code)
    if exclude_levels:
        stmt = stmt.where(Organization.level.not_in(exclude_levels))
    return list(session().scalars(stmt.order_by(Organization.code)))
