"""Set-based group counts for the 分析 tab's largest figures (issue 20.6 at the scale of 20.3): the registry, the
chronic-disease enrolments and the month's follow-ups counted with GROUP BY in the database, instead of building
one Python row per resident or visit (`sources`) and grouping those — at 100,000 residents the row-built
population section took ~100 s under load.

Each function answers {group key: distinct count} with exactly the counting of the row-built figure it replaces
(`app.quality.breakdowns`, tests/api/test_quality_breakdowns.py compares both on a fixture):

- residents: every resident of the subtree (the registry keeps no move-in dates), grouped by organisation path,
  sex, or birth date (the age band at the window's end is the birth date's, mapped here: at most one group per
  birth date, not one row per resident);
- enrolments: enrolled before the end of the window's last day; `active` when their follow-up schedule is missing
  or not closed; one key per resident and disease — an enrolment row is one (unique constraint on resident and
  disease, as on schedules and risk levels), so rows are counted without DISTINCT (a sort less);
- visits: due in the window, done (status done and visited by the window's end), per responsible doctor of the
  visit's schedule.

A group's members (`member_page`) are selected here too: the same filters, one COUNT for the total and one page of
keys in the order the row-built list had (organisation path, resident name, key — compared byte-wise, as Python
compares strings: COLLATE "C" on PostgreSQL, SQLite's default BINARY), so only that page's rows are built.

Portable SQL (PostgreSQL and SQLite).
"""
from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import String, and_, cast, exists, false, func, literal, not_, or_, select
from sqlalchemy.sql import Select

from app.core import clock
from app.core.db import session
from app.follow_up.models import FollowUpSchedule, FollowUpVisit
from app.residents.models import Resident
from app.residents.record_models import DiseaseEnrolment, RiskLevel

from .sources import AGE_BANDS, Window, age_band


def _under(column, prefix: str):
    return column.startswith(prefix, autoescape=True)


def _day_start(day: date):
    return clock.start_of_day(day)


def residents_by(prefix: str, field: str, on: date) -> Counter:
    """Residents of the subtree per `org_path`, `sex` or `age_band` (at `on`)."""
    column = {"org_path": Resident.org_path, "sex": Resident.sex, "age_band": Resident.birth_date}[field]
    stmt = select(column, func.count()).where(_under(Resident.org_path, prefix)).group_by(column)
    out: Counter = Counter()
    for value, n in session().execute(stmt):
        out[age_band(clock.age(value, on)) if field == "age_band" and value is not None
            else (None if field == "age_band" else value)] += n
    return out


def _enrolments(prefix: str, w: Window):
    schedule = and_(FollowUpSchedule.resident_id == DiseaseEnrolment.resident_id,
                    FollowUpSchedule.disease == DiseaseEnrolment.disease)
    active = or_(FollowUpSchedule.id.is_(None), FollowUpSchedule.status != "closed")
    return schedule, active, (_under(Resident.org_path, prefix),
                              DiseaseEnrolment.enrolled_at < _day_start(w.end + timedelta(days=1)))


def active_by_disease_risk(prefix: str, w: Window) -> Counter:
    """Active enrolments (resident and disease) per (disease, risk level or None)."""
    schedule, active, where = _enrolments(prefix, w)
    risk = and_(RiskLevel.resident_id == DiseaseEnrolment.resident_id, RiskLevel.disease == DiseaseEnrolment.disease)
    stmt = (select(DiseaseEnrolment.disease, RiskLevel.level, func.count())
            .join(Resident, Resident.id == DiseaseEnrolment.resident_id)
            .outerjoin(FollowUpSchedule, schedule).outerjoin(RiskLevel, risk)
            .where(*where, active).group_by(DiseaseEnrolment.disease, RiskLevel.level))
    return Counter({(disease, level): n for disease, level, n in session().execute(stmt)})


def new_by_disease(prefix: str, w: Window) -> Counter:
    """Residents per disease with an enrolment in the window (active or not)."""
    _schedule, _active, where = _enrolments(prefix, w)
    stmt = (select(DiseaseEnrolment.disease, func.count())
            .join(Resident, Resident.id == DiseaseEnrolment.resident_id)
            .where(*where, DiseaseEnrolment.enrolled_at >= _day_start(w.start)).group_by(DiseaseEnrolment.disease))
    return Counter({key: n for key, n in session().execute(stmt)})


def comorbidity(prefix: str, w: Window) -> Counter:
    """Residents per number of active enrolment rows ("1", "2", "3+")."""
    schedule, active, where = _enrolments(prefix, w)
    per = (select(DiseaseEnrolment.resident_id, func.count().label("n"))
           .join(Resident, Resident.id == DiseaseEnrolment.resident_id).outerjoin(FollowUpSchedule, schedule)
           .where(*where, active).group_by(DiseaseEnrolment.resident_id).subquery())
    out: Counter = Counter()
    for n, residents in session().execute(select(per.c.n, func.count()).group_by(per.c.n)):
        out["3+" if n >= 3 else str(n)] += residents
    return out


def done_visits_by_doctor(prefix: str, w: Window) -> Counter:
    """Visits due in the window and done by its end, per responsible doctor of their schedule (None: none)."""
    schedule = and_(FollowUpSchedule.resident_id == FollowUpVisit.resident_id,
                    FollowUpSchedule.disease == FollowUpVisit.disease)
    stmt = (select(FollowUpSchedule.responsible_user_id, func.count())
            .select_from(FollowUpVisit).join(Resident, Resident.id == FollowUpVisit.resident_id)
            .outerjoin(FollowUpSchedule, schedule)
            .where(_under(Resident.org_path, prefix), FollowUpVisit.due_on >= w.start, FollowUpVisit.due_on <= w.end,
                   FollowUpVisit.status == "done", FollowUpVisit.visited_on.is_not(None),
                   FollowUpVisit.visited_on <= w.end)
            .group_by(FollowUpSchedule.responsible_user_id))
    return Counter({key: n for key, n in session().execute(stmt)})


# -- members: one page of one group's keys ----------------------------------------------------------------------------

def _text(expr):
    """Strings compared code point by code point (Python's order), whatever the database's collation."""
    return expr.collate("C") if session().get_bind().dialect.name == "postgresql" else expr


def _is(column, value):
    return column.is_(None) if value is None else column == value


def _resident_key(prefix: str = "r"):
    return literal(prefix, String) + cast(Resident.id, String)


def _keyed(key, *where) -> Select:
    return select(key.label("key"), Resident.org_path.label("org_path"), Resident.name.label("name"),
                  Resident.id.label("resident_id")).where(*where)


def member_page(keys: Select, page: int, per_page: int) -> tuple[int, list[tuple[str, int]]]:
    """The total of a group's keys (`keys`: labelled key, org_path, name, resident_id) and one page of (key,
    resident id): one
    statement (the total a window count over the group, before the page is cut), a second only for a page past the
    end."""
    sub = keys.subquery()
    order = (_text(func.coalesce(sub.c.org_path, "")), _text(func.coalesce(sub.c.name, "")), _text(sub.c.key))
    found = session().execute(select(sub.c.key, sub.c.resident_id, func.count().over()).order_by(*order)
                              .offset(max(page - 1, 0) * per_page).limit(per_page)).all()
    if found:
        total = found[0][2]
    else:
        total = session().scalar(select(func.count()).select_from(sub)) or 0 if page > 1 else 0
    return total, [(k, resident) for k, resident, _n in found]


def residents_under(prefix: str, inside: tuple[str, ...] = (), outside: tuple[str, ...] = ()) -> Select:
    """Residents of the subtree, under one of `inside` (if given) and none of `outside` (organisation paths)."""
    where = [_under(Resident.org_path, prefix)]
    if inside:
        where.append(or_(*[_under(Resident.org_path, p) for p in inside]))
    if outside:
        where.append(not_(or_(*[_under(Resident.org_path, p) for p in outside])))
    return _keyed(_resident_key(), *where)


def residents_with_sex(prefix: str, sex: str | None) -> Select:
    return _keyed(_resident_key(), _under(Resident.org_path, prefix), _is(Resident.sex, sex))


def _latest_birth(on: date, years: int) -> date:
    """The latest birth date at least `years` old on `on` (`clock.age`: a 29 February birthday is on the 28th)."""
    try:
        return on.replace(year=on.year - years)
    except ValueError:
        return on.replace(year=on.year - years, day=28)


def residents_in_band(prefix: str, band: str | None, on: date) -> Select:
    """Residents whose age band at `on` is `band` (None: no birth date)."""
    where = [_under(Resident.org_path, prefix)]
    if band is None:
        where.append(Resident.birth_date.is_(None))
    else:
        low, high = next((lo, hi) for lo, hi, label in AGE_BANDS if label == band)
        where += [Resident.birth_date <= _latest_birth(on, low), Resident.birth_date > _latest_birth(on, high)]
    return _keyed(_resident_key(), *where)


def _not_closed():
    """Active, for the members selections: no closed schedule (a schedule is unique per resident and disease and its
    status is never NULL, so this is `_enrolments`' "no schedule or not closed"). As NOT EXISTS PostgreSQL plans an
    anti join after the sort instead of one schedule look-up per enrolment (county 高血压 at 1M: 5.0 s -> 1.3 s,
    load 8)."""
    return not_(exists().where(FollowUpSchedule.resident_id == DiseaseEnrolment.resident_id,
                               FollowUpSchedule.disease == DiseaseEnrolment.disease,
                               FollowUpSchedule.status == "closed"))


def _enrolment_key():
    return _resident_key() + literal(":", String) + DiseaseEnrolment.disease


def active_with(prefix: str, w: Window, disease: str | None, level: str | None = None, *,
                any_level: bool = True) -> Select:
    """Active enrolments of one disease (and one risk level, None: ungraded, unless `any_level`)."""
    _schedule, _active, where = _enrolments(prefix, w)
    stmt = (_keyed(_enrolment_key(), *where, _not_closed(), _is(DiseaseEnrolment.disease, disease))
            .select_from(DiseaseEnrolment).join(Resident, Resident.id == DiseaseEnrolment.resident_id))
    if any_level:
        return stmt
    risk = and_(RiskLevel.resident_id == DiseaseEnrolment.resident_id, RiskLevel.disease == DiseaseEnrolment.disease)
    return stmt.outerjoin(RiskLevel, risk).where(_is(RiskLevel.level, level))


def new_with(prefix: str, w: Window, disease: str | None) -> Select:
    _schedule, _active, where = _enrolments(prefix, w)
    return (_keyed(_enrolment_key(), *where, DiseaseEnrolment.enrolled_at >= _day_start(w.start),
                   _is(DiseaseEnrolment.disease, disease))
            .select_from(DiseaseEnrolment).join(Resident, Resident.id == DiseaseEnrolment.resident_id))


def comorbid_with(prefix: str, w: Window, group: str) -> Select:
    """Residents with 1, 2 or 3+ active enrolments."""
    _schedule, _active, where = _enrolments(prefix, w)
    per = (select(DiseaseEnrolment.resident_id, func.count().label("n"))
           .join(Resident, Resident.id == DiseaseEnrolment.resident_id)
           .where(*where, _not_closed()).group_by(DiseaseEnrolment.resident_id).subquery())
    wanted = {"1": per.c.n == 1, "2": per.c.n == 2, "3+": per.c.n >= 3}.get(group, false())
    return _keyed(_resident_key(), wanted).select_from(per).join(Resident, Resident.id == per.c.resident_id)


def done_visits_of(prefix: str, w: Window, doctor_id: int | None) -> Select:
    """Visits due in the window and done by its end whose schedule's responsible doctor is `doctor_id`."""
    schedule = and_(FollowUpSchedule.resident_id == FollowUpVisit.resident_id,
                    FollowUpSchedule.disease == FollowUpVisit.disease)
    key = literal("v", String) + cast(FollowUpVisit.id, String)
    return (_keyed(key, _under(Resident.org_path, prefix), FollowUpVisit.due_on >= w.start,
                   FollowUpVisit.due_on <= w.end, FollowUpVisit.status == "done", FollowUpVisit.visited_on.is_not(None),
                   FollowUpVisit.visited_on <= w.end, _is(FollowUpSchedule.responsible_user_id, doctor_id))
            .select_from(FollowUpVisit).join(Resident, Resident.id == FollowUpVisit.resident_id)
            .outerjoin(FollowUpSchedule, schedule))
