"""Build the demo county, idempotently and deterministically (a seeded RNG: same input, same county).

Running it twice changes nothing: organizations, users and residents that exist (by code, username, ID-number
hash) are skipped. Bulk inserts and one argon2 hash for the shared demo password keep it to a few seconds.
"""
from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from app.audit.services import record
from app.auth.crypto import encrypt_field, keyed_hash
from app.auth.models import User, UserRole
from app.auth.passwords import hash_password
from app.auth.services import PRESCRIBING_ROLES
from app.core import clock
from app.core.db import session, unit_of_work
from app.org.models import Organization
from app.quality.refresh import refresh_recent
from app.quality.services import check_thresholds
from app.residents import idcard
from app.residents.models import Resident

from . import data
from .activity import (
    seed_activity,
    seed_intervention_activity,
    seed_liaison_activity,
    seed_research_activity,
    seed_training_activity,
)
from .appraisal import seed_appraisal
from .devices import seed_devices
from .mobile import seed_mobile
from .portal import seed_portal
from .quality import seed_quality_history
from .recognition import seed_recognition
from .reported_referrals import seed_reported_referrals
from .reports import seed_reports
from .supply import seed_supply

DEMO_PASSWORD = "demo12345"
DEFAULT_RESIDENTS = 2000
RNG_SEED = 20240601


@dataclass
class Staff:
    username: str
    display_name: str
    org_code: str
    roles: tuple[str, ...]


@dataclass
class Plan:
    """The demo county as plain rows, before touching the database."""
    orgs: list[dict] = field(default_factory=list)
    staff: list[Staff] = field(default_factory=list)
    village_doctor_of: dict[str, str] = field(default_factory=dict)     # village code -> username


def _person_name(rng: random.Random, sex: str) -> str:
    surname = data.SURNAMES[min(int(rng.expovariate(1 / 18)), len(data.SURNAMES) - 1)]
    pool = data.GIVEN_MALE if sex == "M" else data.GIVEN_FEMALE
    given = "".join(rng.choice(pool) for _ in range(rng.choice((1, 2, 2))))
    return surname + given


def _village_names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = rng.choice(data.VILLAGE_FIRST) + rng.choice(data.VILLAGE_SECOND) + "村"
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _org(code: str, name: str, level: str, parent_code: str | None, path: str, address: str) -> dict:
    return {"code": code, "name": name, "level": level, "parent_code": parent_code, "path": path,
            "address": address}


def plan_county(rng: random.Random) -> Plan:
    """Organizations and staff of the demo county."""
    plan, county = Plan(), data.COUNTY
    root = county["code"]
    plan.orgs.append(_org(root, county["name"], "county", None, f"/{root}/", county["address"]))
    for suffix, name, _gloss, specialist in data.DEPARTMENTS:
        code = root + suffix
        plan.orgs.append(_org(code, name, "department", root, f"/{root}/{code}/", county["address"]))
        if specialist:
            plan.staff.append(Staff(specialist, _person_name(rng, rng.choice("MF")), code, ("county_specialist",)))
    for username, role, org in (("county_admin", "county_admin", root), ("supervisor", "supervisor", root),
                                ("process_owner", "process_owner", root), ("trainer", "trainer", root),
                                ("pharmacist", "pharmacist", root + "D03")):
        plan.staff.append(Staff(username, _person_name(rng, rng.choice("MF")), org, (role,)))
    village_names = _village_names(rng, sum(data.VILLAGES_PER_TOWNSHIP))
    village_no = 0
    for t, ((place, centre), n_villages) in enumerate(zip(data.TOWNSHIPS, data.VILLAGES_PER_TOWNSHIP), start=1):
        t_code = f"{root}T{t:02d}"
        t_path = f"/{root}/{t_code}/"
        plan.orgs.append(_org(t_code, centre, "township", root, t_path, f"{county['place']}{place}"))
        for k in (1, 2):
            plan.staff.append(Staff(f"township_doctor{2 * t - 2 + k}", _person_name(rng, rng.choice("MF")),
                                    t_code, ("township_doctor",)))
        plan.staff.append(Staff(f"public_health{t}", _person_name(rng, rng.choice("MF")), t_code,
                                ("township_public_health",)))
        for v in range(1, n_villages + 1):
            village_no += 1
            v_code = f"{t_code}V{v:02d}"
            v_name = village_names[village_no - 1]
            plan.orgs.append(_org(v_code, f"{v_name}卫生室", "village", t_code, f"{t_path}{v_code}/",
                                  f"{county['place']}{place}{v_name}"))
            username = f"village_doctor{village_no}"
            plan.staff.append(Staff(username, _person_name(rng, rng.choice("MF")), v_code, ("village_doctor",)))
            plan.village_doctor_of[v_code] = username
    # added with fixed names so the seeded RNG (and every resident after it) stays as it was
    plan.staff.append(Staff("education_head", "沈慧敏", root, ("education_head",)))
    plan.staff.append(Staff("trainer_shimen", "陆建华", f"{root}T02", ("trainer",)))
    plan.staff.append(Staff("researcher", "韩雅琪", root, ("researcher",)))
    return plan


def staff_phone(username: str) -> str:
    """A deterministic (fictitious) mobile number for a demo login, so SMS notices have somewhere to go."""
    digits = "".join(str(b % 10) for b in hashlib.sha256(username.encode()).digest()[:8])
    return "139" + digits


def plan_residents(rng: random.Random, villages: list[dict], count: int) -> list[dict]:
    """`count` synthetic residents spread over the villages (resident 0 lives in village 1)."""
    people, used = [], set()
    first, last = date(1940, 1, 1), date(2005, 12, 31)
    for i in range(count):
        village = villages[i % len(villages)]
        sex = rng.choice("MF")
        born = first + timedelta(days=rng.randrange((last - first).days + 1))
        id_number = idcard.generate(rng, area_code=data.COUNTY["area_code"], birth_date=born, sex=sex)
        while id_number in used:
            id_number = idcard.generate(rng, area_code=data.COUNTY["area_code"], birth_date=born, sex=sex)
        used.add(id_number)
        phone = "1" + rng.choice("35789") + "".join(rng.choice("0123456789") for _ in range(9))
        address = f"{village['address']}{rng.randint(1, 9)}组{rng.randint(1, 120)}号"
        people.append({"name": _person_name(rng, sex), "sex": sex, "birth_date": born, "id_number": id_number,
                       "phone": phone, "address": address, "org_code": village["code"],
                       "org_path": village["path"]})
    return people


# --- applying the plan ------------------------------------------------------------------------------------------

def _insert_orgs(orgs: list[dict]) -> int:
    existing = set(session().scalars(select(Organization.code)))
    rows = [o for o in orgs if o["code"] not in existing]
    if rows:
        session().execute(insert(Organization), rows)
    return len(rows)


def _insert_staff(people: list[Staff]) -> int:
    existing = set(session().scalars(select(User.username).where(User.username.in_([p.username for p in people]))))
    new = [p for p in people if p.username not in existing]
    if not new:
        return 0
    password_hash, at = hash_password(DEMO_PASSWORD), clock.now()    # one hash, shared by every demo login
    session().execute(insert(User), [
        {"username": p.username, "display_name": p.display_name, "org_code": p.org_code,
         "password_hash": password_hash, "active": True, "failed_login_count": 0, "created_at": at,
         "prescribing_privilege": bool(set(p.roles) & set(PRESCRIBING_ROLES)),
         "phone_encrypted": None if "patient" in p.roles else encrypt_field(staff_phone(p.username))} for p in new])
    ids = dict(session().execute(select(User.username, User.id)
                                .where(User.username.in_([p.username for p in new]))).tuples().all())
    session().execute(insert(UserRole), [{"user_id": ids[p.username], "role": r} for p in new for r in p.roles])
    return len(new)


def _insert_residents(people: list[dict], doctor_of: dict[str, str]) -> int:
    for person in people:
        person["id_number_hash"] = keyed_hash(person["id_number"])
    existing = set(session().scalars(select(Resident.id_number_hash)))
    new = [p for p in people if p["id_number_hash"] not in existing]
    if not new:
        return 0
    doctor_ids = dict(session().execute(select(User.username, User.id)
                                        .where(User.username.in_(list(doctor_of.values())))).tuples().all())
    at = clock.now()
    session().execute(insert(Resident), [{
        "name": p["name"], "sex": p["sex"], "birth_date": p["birth_date"], "address": p["address"],
        "phone_encrypted": encrypt_field(p["phone"]), "id_number_encrypted": encrypt_field(p["id_number"]),
        "id_number_hash": p["id_number_hash"], "id_number_hint": p["id_number"][:1] + p["id_number"][-1:],
        "org_code": p["org_code"], "org_path": p["org_path"], "created_at": at, "updated_at": at,
        "family_doctor_user_id": doctor_ids.get(doctor_of.get(p["org_code"], ""))} for p in new])
    return len(new)


def _patient_staff(first_resident: dict) -> Staff:
    return Staff("patient1", first_resident["name"], first_resident["org_code"], ("patient",))


def _link_patient(first_resident: dict) -> None:
    resident_id = session().scalar(select(Resident.id).where(Resident.id_number_hash
                                                             == first_resident["id_number_hash"]))
    user = session().scalars(select(User).where(User.username == "patient1")).first()
    if user is not None and user.resident_id is None:
        user.resident_id = resident_id


def seed_demo(*, residents: int = DEFAULT_RESIDENTS, rng_seed: int = RNG_SEED) -> dict[str, int]:
    """Create what is missing of the demo county, then its activity (`activity.py`: clinical data, processes,
    tasks); return how many rows of each kind were added."""
    rng = random.Random(rng_seed)
    plan = plan_county(rng)
    villages = [o for o in plan.orgs if o["level"] == "village"]
    people = plan_residents(rng, villages, max(residents, 1))
    with unit_of_work():
        added = {"organizations": _insert_orgs(plan.orgs)}
        added["users"] = _insert_staff(plan.staff)
        added["residents"] = _insert_residents(people, plan.village_doctor_of)
        added["users"] += _insert_staff([_patient_staff(people[0])])
        _link_patient(people[0])
        if any(added.values()):
            record("seed.demo", object_type="seed", object_id="demo", details=dict(added))
    activity = seed_activity(rng_seed=rng_seed)
    activity.update(seed_training_activity(rng_seed=rng_seed))
    activity.update(seed_recognition())
    activity.update(seed_portal())
    activity.update(seed_devices())
    activity.update(seed_liaison_activity())
    activity.update(seed_research_activity())
    activity.update(seed_mobile())
    activity.update(seed_supply())
    activity.update(seed_appraisal())
    activity.update(seed_intervention_activity())     # after the stores: its scans use the centre's 二级库
    activity.update(seed_quality_history())
    activity.update(seed_reported_referrals())      # after the referral seed: some reports match its referrals
    activity.update(seed_reports())
    if activity:
        activity["quality_alerts"] = check_thresholds()      # this month's 质控 alerts, as the schedule would raise
        activity["quality_aggregate_months"] = refresh_recent()      # the figures the dashboards read
        with unit_of_work():
            record("seed.activity", object_type="seed", object_id="demo", details=dict(activity))
        added.update(activity)
    return added


def counts() -> dict[str, int]:
    """How many organizations, users and residents exist (for the CLI report and tests)."""
    return {name: session().scalar(select(func.count()).select_from(model)) or 0
            for name, model in (("organizations", Organization), ("users", User), ("residents", Resident))}
