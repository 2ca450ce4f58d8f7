"""Master person index: match an incoming person to one resident, create one, or ask a person to decide.

By ID number (keyed hash) first; without one, by name + birth date + sex + managing village. A near match (same
demographics in another village, a one-character name difference in the same village, or a new ID number whose
holder looks like an existing resident) starts a `merge_review` process for the township's public-health staff:
records are never merged silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select

from app.auth.principal import SYSTEM
from app.core import logs
from app.core.db import session, unit_of_work
from app.core.errors import NotFound
from app.org.queries import find_org, township_of
from app.workflows.runner import Actor, start_instance

from . import queries, services
from .models import Resident

log = logs.get("residents.matching")
Outcome = Literal["matched", "created", "review"]
REVIEW_PROCESS = "merge_review"


@dataclass(frozen=True)
class MatchResult:
    resident_id: int | None
    outcome: Outcome
    review_instance_id: int | None = None


def _one_edit_apart(a: str, b: str) -> bool:
    """Names differing by one substituted, inserted or deleted character (a typo or a homophone)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return a == b
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _candidates(name: str, sex: str, birth_date: date, org_code: str | None) -> tuple[list[int], list[int]]:
    """(exact matches in the village, near matches) by demographics."""
    rows = session().execute(select(Resident.id, Resident.name, Resident.org_code).where(
        Resident.birth_date == birth_date, Resident.sex == sex)).all()
    exact = [r.id for r in rows if r.name == name and org_code and r.org_code == org_code]
    near = [r.id for r in rows if r.id not in exact and (
        r.name == name or (org_code and r.org_code == org_code and _one_edit_apart(r.name, name)))]
    return exact, near


def match_or_create(*, id_number: str | None, name: str, sex: str, birth_date: date, org_code: str | None,
                    phone: str | None = None, address: str | None = None, source: str,
                    pending: dict | None = None) -> MatchResult:
    """Find the resident an incoming record is about; create one for a new ID number; else start a review.
    `pending` (what the caller could not file yet, e.g. an inbound referral summary) is kept on the review's data so
    the caller's reaction to the review's answer can continue it."""
    name = (name or "").strip()
    with unit_of_work():
        if id_number:
            number = services._valid_id_number(id_number)
            # a record whose birth date or sex contradicts its own ID number is refused, never matched or merged
            services.check_birth_and_sex(number, birth_date, sex)
            found = session().scalars(select(Resident.id).where(
                Resident.id_number_hash == queries.id_number_hash(number))).first()
            if found is not None:
                return MatchResult(found, "matched")
            exact, near = _candidates(name, sex, birth_date, org_code)
            look_alikes = exact + near
            if org_code is None:
                return _review(None, look_alikes, name, sex, birth_date, org_code, source, "no_org", pending)
            created = services.register_resident(
                {"id_number": number, "name": name, "sex": sex, "birth_date": birth_date, "phone": phone,
                 "address": address, "org_code": org_code}, principal=SYSTEM)
            if look_alikes:
                return _review(created.id, look_alikes, name, sex, birth_date, org_code, source, "look_alike")
            return MatchResult(created.id, "created")
        exact, near = _candidates(name, sex, birth_date, org_code)
        if len(exact) == 1 and not near:
            return MatchResult(exact[0], "matched")
        return _review(None, exact + near, name, sex, birth_date, org_code, source,
                       "near_match" if exact or near else "no_id_number", pending)


def _review(resident_id: int | None, candidates: list[int], name: str, sex: str, birth_date: date,
            org_code: str | None, source: str, reason: str, pending: dict | None = None) -> MatchResult:
    """Start the merge-review process for the township of the incoming record (or of the first candidate)."""
    org = org_code or _org_of(resident_id or (candidates[0] if candidates else None))
    township = township_of(org) if org and find_org(org) else None
    data = {"incoming": {"name": name, "sex": sex, "birth_date": birth_date.isoformat(), "org_code": org_code,
                         "source": source},
            "new_resident_id": resident_id, "candidate_ids": candidates, "match_reason": reason,
            "township_code": township.code if township else org}
    if pending:
        data["pending"] = pending
    try:
        inst = start_instance(REVIEW_PROCESS, data=data, actor=Actor("empi"), resident_id=resident_id,
                              org_code=township.code if township else org,
                              business_key=f"merge_review:{source}:{name}:{birth_date.isoformat()}")
    except NotFound:
        log.warning("merge_review is not deployed; review recorded without a task",
                    extra={"status": reason})
        return MatchResult(resident_id, "review", None)
    return MatchResult(resident_id, "review", inst.id)


def _org_of(resident_id: int | None) -> str | None:
    if resident_id is None:
        return None
    resident = session().get(Resident, resident_id)
    return resident.org_code if resident else None
