"""Read side of the inbox: who is offered which task, the three views, filters, sorts, counts and item shapes.

Visibility is SQL, applied to every query (a task outside it does not exist for the caller: 404):

* offered — open tasks of a role the user holds, in the user's organization subtree (county-wide roles: all tasks
  of their role); a task in no lane (no role) is offered to the user who started its instance;
* mine — tasks assigned to the user; groups — unassigned offered tasks; org — every task in the user's subtree.
"""
from __future__ import annotations

import base64
import json
from collections import namedtuple
from collections.abc import Mapping
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    false,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.sql import visitors
from sqlalchemy.sql.elements import BindParameter

from app.auth import queries as auth_queries
from app.auth.principal import (
    CLIENT_ID_PREFIX,
    COUNTY_WIDE_ROLES,
    NON_TREATING_ROLES,
    Principal,
    is_client_name,
    reads_phi,
)
from app.auth.services import find_user
from app.core import clock
from app.core.db import is_postgres, server_is_utf8, session
from app.core.errors import NotFound
from app.core.hot_reads import HotSelect
from app.org.models import Organization
from app.org.queries import find_org, org_facts
from app.org.scope import sees_organizations
from app.workflows import versions
from app.workflows.models import HumanTask, ProcessInstance, township_path_of

from .errors import BadCursor
from .models import RESIDENT_INITIAL, SavedFilter, TaskComment, TaskDelegation

VIEWS = ("mine", "groups", "org")
SORTS = ("due", "priority", "risk", "created")
LEAD_ROLES = ("county_admin", "supervisor", "township_doctor", "township_public_health")
COUNT_CAP = 10_000          # totals above this are reported as COUNT_CAP + 1 ("10000+")
HEADER_CAP = 999            # the header's counts above this are reported as HEADER_CAP + 1 ("999+")
EQUAL_FILTERS = ("process_id", "element_id", "resident_id", "org_code", "village_code", "disease", "risk_level",
                 "priority")


# -- statements built once per caller ----------------------------------------------------------------------
# A statement of the hot paths (the task a completion locks, an inbox page) is built once per caller and kind and
# reused with bound parameters: building the conditions and computing SQLAlchemy's cache key of a fresh statement
# cost more CPU than the database's answer (issue 23.2). The key holds everything the statement is built from.
STATEMENTS_MAX = 2048
_STATEMENTS: dict[Any, Any] = {}


def principal_key(p: Principal) -> tuple:
    """What the visibility conditions are built from (the same key: the same SQL and parameter values)."""
    return (p.user_id, p.username, p.roles, p.org_code, p.org_path, p.resident_id)


def _remember(key, stmt) -> None:
    if len(_STATEMENTS) >= STATEMENTS_MAX:
        _STATEMENTS.clear()
    _STATEMENTS[key] = stmt


# -- visibility as SQL --------------------------------------------------------------------------------------
# The caller's own values enter a visibility condition as parameters of these names, so one statement built for a
# stand-in caller (`_stand_in`) serves every caller of the same shape (roles, …: `_shape`) with the caller's values
# bound at execution (`_binds`). The organization path stays inlined (literal_execute: rendered into the SQL text at
# each execution), so PostgreSQL plans each organization with its own values as before; a name search's prefix is
# bound (`_name_prefix`).
USER_ID, USERNAME, RESIDENT_ID = "vis_user_id", "vis_username", "vis_resident_id"
ORG_PREFIX, ORG_PATH, ORG_PATHS = "vis_org_prefix", "vis_org_path", "vis_org_paths"


def _like_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def prefix(column, value: str, name: str | None = None, *, inline: bool = True):
    """`column LIKE 'value%'` with the prefix inlined, so PostgreSQL can use a varchar_pattern_ops index (`name`: the
    parameter's name, to bind another prefix of the same shape when the statement is reused). `inline=False`: the
    prefix bound, the statement's text the same for every prefix (a name search, `_name_prefix`)."""
    escaped = _like_escaped(value)
    pattern: BindParameter[str] = bindparam(name, escaped + "%", type_=column.type, literal_execute=inline)
    return column.like(pattern, escape="\\") if escaped != value else column.like(pattern)


def in_org_scope(p: Principal):
    """Tasks in the caller's organization subtree (the org view; county-wide roles: every task)."""
    if not sees_organizations(p):
        return false()
    if p.county_wide:
        return true()
    return prefix(HumanTask.org_path, p.org_path, ORG_PREFIX)


def _me(p: Principal):
    return bindparam(USER_ID, p.user_id)


def _my_name(p: Principal):
    return bindparam(USERNAME, p.username)


def offered_branches(p: Principal, paths: list[str] | None = None) -> list:
    """The caller's candidate rule as disjoint conditions, each served by one ordered index scan. `paths` (see
    `subtree_paths`) lists the organization paths of the caller's subtree: the role branches then also name them, so
    an index that leads with (role, org_path) is read as one short range per organization."""
    staff = set(p.roles) - {"patient"}
    parts = [and_(HumanTask.role.is_(None), HumanTask.started_by == _my_name(p))]
    parts += [and_(HumanTask.role == role, _department_queue_open_to(p)) for role in sorted(staff & COUNTY_WIDE_ROLES)]
    if p.org_path:
        parts += [and_(HumanTask.role == role, _under(p, paths)) for role in sorted(staff - COUNTY_WIDE_ROLES)]
    if p.org_path and _treating_staff(p):
        parts.append(and_(HumanTask.role.is_(None), prefix(HumanTask.started_by, CLIENT_ID_PREFIX),
                          prefix(HumanTask.org_path, p.org_path, ORG_PREFIX)))
    if "patient" in p.roles and p.resident_id is not None:
        parts.append(and_(HumanTask.role == "patient", HumanTask.resident_id == bindparam(RESIDENT_ID, p.resident_id)))
    return [and_(part, not_excluded(p)) for part in parts]


def _under(p: Principal, paths: list[str] | None):
    """Tasks below the caller's organization: its path prefix, and, given the subtree's paths, one of them too (the
    same rows, since a task carries the path of its organization; PostgreSQL 15 has no skip scan, so only the list
    lets an index on (role, org_path, x) bound x within each organization rather than filter the whole subtree).
    An organization with none below it (`leaf_paths`) is its path alone: with the prefix beside it the planner
    multiplied the two estimates into ~1 row and read some villages' pages from (org_path, due_at) and the table."""
    if isinstance(paths, Township):
        return HumanTask.township_path == bindparam(ORG_PATH, p.org_path, literal_execute=True)
    if paths == [p.org_path]:
        return HumanTask.org_path == bindparam(ORG_PATH, p.org_path, literal_execute=True)
    under = prefix(HumanTask.org_path, p.org_path, ORG_PREFIX)
    return and_(HumanTask.org_path.in_(bindparam(ORG_PATHS, paths, expanding=True)), under) if paths else under


SUBTREE_LIST_MAX = 64       # a larger subtree (a county) is read by its path prefix alone
LEAF_LEVELS = ("village", "department")     # levels no organization may sit under (app.org.services.ALLOWED_PARENT)


def subtree_paths(p: Principal) -> list[str] | None:
    """Paths of the organizations in the caller's subtree, or None when it is the root's or larger than
    SUBTREE_LIST_MAX (then the prefix alone is the better plan)."""
    if not p.org_path or p.org_path.count("/") <= 2:
        return None
    paths = list(session().scalars(select(Organization.path).where(prefix(Organization.path, p.org_path))
                                   .order_by(Organization.path).limit(SUBTREE_LIST_MAX + 1)))
    return paths if 0 < len(paths) <= SUBTREE_LIST_MAX else None


def leaf_paths(p: Principal) -> list[str] | None:
    """[the caller's path] when its organization can have none below it (a village, a department), else None.

    The groups list then reads it as `org_path = path` (see `_under`), so its role branch is one range of
    (role, org_path, due_at): the organization's own entries, in due order. With the prefix the planner estimated a
    village's rows from the column's histogram; where it guessed thousands for a village holding none of the role's
    tasks, the branch (under the union's LIMIT, where a plan that starts at once wins) walked the role's whole
    due-ordered index filtering on the path: ≈ 280,000 entries at 1,000,000 tasks, 30–600 ms for an empty page
    (issue 23.5). The priority and risk sorts can still walk their role-wide index for such a village (no index
    leads with (role, org_path, priority)); docs/benchmarks.md, 2026-12-05."""
    facts = org_facts(p.org_code) if p.org_path else None
    return [p.org_path] if facts is not None and facts.level in LEAF_LEVELS and facts.path == p.org_path else None


class Township(list):
    """[the caller's path] when the caller's subtree is read by `township_path` (`township_paths`)."""


TOWNSHIP_SORTS = ("priority", "risk")       # the orders an index leading with (role, township_path) serves …
TOWNSHIP_FILTERS = ("disease",)             # … and the filters (disease, then risk level, in due order)


def township_paths(p: Principal) -> Township | None:
    """Township([the caller's path]) when the caller's path has two levels (a township's, `/C01/C01T03/`), else None.

    Then `org_path LIKE '/C01/C01T03/%'` and `township_path = '/C01/C01T03/'` hold for the same tasks (a task's
    `township_path` is its path's first two levels), and the groups list in priority or risk order reads the role
    branch by the latter: one range of (role, township_path, priority | risk_rank, due_at, id) in the page's order,
    or of (role, township_path, disease, risk_level, due_at, id) for a disease. By the prefix it walked the role's
    whole (role, priority, due_at, id) filtering on the path (at 1,000,000 tasks 40,245 entries for a page of 26), or
    counted a disease and risk level through every township's entries (23,334 of other townships; issue 23.5). A
    department's path has two levels too, but it is a leaf (`leaf_paths`), read by its own path."""
    return Township([p.org_path]) if p.org_path and township_path_of(p.org_path) == p.org_path else None


class TownshipSearch(list):
    """The paths of a township caller's subtree (`subtree_paths`) in a one-character name search in due order
    (`township_search`): the resident-name part reads the role branch by the township key and the first character,
    the task-name part by these paths."""


def township_search(p: Principal, paths: list[str] | None, args: dict[str, Any]) -> TownshipSearch | None:
    """TownshipSearch(paths) when a township caller (`township_paths`) searches the groups view for a one-character
    prefix in due order (the default sort), else None.

    The resident-name part's role branch then compares `township_path` and `substr(resident_name, 1, 1)`: one range
    of (role, township_path, substr(resident_name, 1, 1), due_at, id) read in the page's order up to the page's end
    (0056), where the per-organization ranges of (role, org_path, resident_name) gave every match of the township
    (3,333 for 王 at 1,000,000 tasks) to sort for a page of 26. The task-name part keeps the paths: its index,
    (role, name), carries `org_path`, not the township key. A longer prefix is a short range per organization
    already; another sort reads every match either way."""
    q = (args.get("q") or "").strip()
    if len(q) != 1 or args.get("sort", "due") != "due" or not paths or len(paths) < 2 \
            or isinstance(paths, Township) or township_paths(p) is None:
        return None
    return TownshipSearch(paths)


def _treating_staff(p: Principal) -> bool:
    return bool(set(p.roles) - NON_TREATING_ROLES - {"patient", "integration"})


def _department_queue_open_to(p: Principal):
    """A county-wide role is offered its tasks anywhere, except those addressed to a department (a department's
    queue, e.g. a referral to cardiology), which are offered to that department's members only."""
    departments = select(Organization.code).where(Organization.level == "department").scalar_subquery()
    mine = prefix(HumanTask.org_path, p.org_path, ORG_PREFIX) if p.org_path else false()
    return or_(HumanTask.org_code.is_(None), HumanTask.org_code.not_in(departments), mine)


def offered(p: Principal):
    """Tasks the caller is a candidate for, whoever holds them now."""
    return or_(*offered_branches(p))


def not_excluded(p: Principal):
    """Separation of duties: a task whose model excludes the caller (`excludeUser`) is never offered to them."""
    return or_(HumanTask.excluded_user.is_(None), HumanTask.excluded_user != _my_name(p))


def visible(p: Principal):
    return _no_phi_unless_reader(p, or_(HumanTask.assignee_id == _me(p), offered(p), in_org_scope(p),
                                        HumanTask.completed_by == _my_name(p)))


def _no_phi_unless_reader(p: Principal, condition):
    """Least privilege: roles that treat no patients never see a task about a resident."""
    return condition if reads_phi(p) else and_(condition, HumanTask.resident_id.is_(None))


def actionable(p: Principal):
    """Open tasks the caller may work on now: assigned to them, or unassigned and offered to them."""
    return and_(HumanTask.status == "open",
                or_(HumanTask.assignee_id == _me(p), and_(HumanTask.assignee_id.is_(None), offered(p))))


def view_branches(p: Principal, view: str, status: str = "open", paths: list[str] | None = None) -> list:
    """A view's condition as disjoint branches (their union is the view); `paths` as in `offered_branches`."""
    return [_no_phi_unless_reader(p, b) for b in _view_branches(p, view, status, paths)]


def _view_branches(p: Principal, view: str, status: str, paths: list[str] | None = None) -> list:
    if view == "mine":
        if status == "completed":
            return [and_(HumanTask.status == "completed", HumanTask.completed_by == _my_name(p))]
        return [and_(HumanTask.status == status, HumanTask.assignee_id == _me(p))]
    if view == "groups":
        base = [HumanTask.status == status] + ([HumanTask.assignee_id.is_(None)] if status == "open" else [])
        return [and_(*base, branch) for branch in offered_branches(p, paths)]
    return [and_(HumanTask.status == status, in_org_scope(p))]


def view_condition(p: Principal, view: str, status: str = "open"):
    return or_(*view_branches(p, view, status))


# -- the same rules in Python, for one loaded task ----------------------------------------------------------

def under_path(task: HumanTask, p: Principal) -> bool:
    return bool(p.org_path) and (task.org_path or "").startswith(p.org_path)


def in_scope(p: Principal, task: HumanTask) -> bool:
    return sees_organizations(p) and (p.county_wide or under_path(task, p))


def is_excluded(p: Principal, task: HumanTask) -> bool:
    return task.excluded_user is not None and task.excluded_user == p.username


def is_candidate(p: Principal, task: HumanTask) -> bool:
    if is_excluded(p, task):
        return False
    if task.role is None:
        if is_client_name(task.started_by):     # started by an integration client: offered by organization
            return _treating_staff(p) and under_path(task, p)
        return task.started_by == p.username
    if task.role == "patient":
        return p.has_role("patient") and p.resident_id is not None and p.resident_id == task.resident_id
    if task.role not in p.roles:
        return False
    if task.role in COUNTY_WIDE_ROLES:
        org = find_org(task.org_code) if task.org_code else None
        return org is None or org.level != "department" or under_path(task, p)
    return under_path(task, p)


def is_lead_for(p: Principal, task: HumanTask) -> bool:
    return p.has_role(*LEAD_ROLES) and in_scope(p, task)


# -- lists --------------------------------------------------------------------------------------------------

NOW, Q_PREFIX, Q_INITIAL, Q_LOW, Q_HIGH = "now", "q_prefix", "q_initial", "q_low", "q_high"


def _bound(column, name: str, value: Any):
    """A parameter named `name` compared with `column` (its type, as a plain value would get; `_arg_binds` binds
    another request's value under the same name)."""
    return bindparam(name, value, type_=column.type)


def _filtered(stmt, args: dict[str, Any]):
    for key in EQUAL_FILTERS:
        if args.get(key) is not None:
            column = getattr(HumanTask, key)
            stmt = stmt.where(column == _bound(column, f"f_{key}", args[key]))
    if args.get("due_before") is not None:
        stmt = stmt.where(HumanTask.due_at < _bound(HumanTask.due_at, "f_due_before", args["due_before"]))
    if args.get("overdue") is True:
        stmt = stmt.where(HumanTask.due_at < _bound(HumanTask.due_at, NOW, clock.now()))
    elif args.get("overdue") is False:
        stmt = stmt.where(or_(HumanTask.due_at.is_(None), HumanTask.due_at >= _bound(HumanTask.due_at, NOW, clock.now())))
    return stmt


def _search_parts(args: dict[str, Any], initial: bool = False) -> list:
    """`q` as disjoint conditions (resident name prefix; else task name prefix), each served by its own index,
    so a one-character prefix is a range scan of one index and not a filter over every task of the view. With
    `initial` (a one-character `q`) the resident part compares the name's first character instead: the same rows
    (`LIKE 'q%'` holds for a name exactly when its first character is q), in the expression an index keys."""
    q = (args.get("q") or "").strip()
    if not q:
        return [true()]
    by_resident = (RESIDENT_INITIAL == bindparam(Q_INITIAL, q)) if initial \
        else _name_prefix(HumanTask.resident_name, q)
    return [by_resident, and_(_name_prefix(HumanTask.name, q),
                              or_(HumanTask.resident_name.is_(None), ~prefix(HumanTask.resident_name, q, Q_PREFIX, inline=False)))]


def _name_prefix(column, q: str):
    """A name starting with `q`, the prefix bound (issue 23, 2026-12-06). On PostgreSQL also the range the prefix
    spans in the varchar_pattern_ops indexes, `column ~>=~ :q_low AND column ~<~ :q_high` (byte order: UTF-8's is
    the code points'), which a prepared statement's generic plan can read as an index range, where it can read
    `LIKE $1` only as a filter (and with the prefix written into the SQL every search was planned anew: ≈ 4 ms for
    `q=王` at 1,000,000 tasks). The LIKE stays: the rows are exactly its rows (the range holds every one of them). A
    prefix of the highest code points has no end (`_prefix_end`): its statement has the lower bound alone."""
    like = prefix(column, q, Q_PREFIX, inline=False)
    if not is_postgres() or not server_is_utf8():     # the range is byte order: UTF-8's alone is code point order
        return like
    low = column.op("~>=~", is_comparison=True)(bindparam(Q_LOW, q, type_=column.type))
    end = _prefix_end(q)
    if end is None:
        return and_(low, like)
    return and_(low, column.op("~<~", is_comparison=True)(bindparam(Q_HIGH, end, type_=column.type)), like)


def _prefix_end(q: str) -> str | None:
    """The least string above every string starting with `q` in code point order (its last character that has a
    successor, the surrogates skipped, incremented; the characters after it dropped), or None."""
    chars = list(q)
    while chars:
        code = ord(chars[-1]) + 1
        if code == 0xD800:
            code = 0xE000
        if code <= 0x10FFFF:
            chars[-1] = chr(code)
            return "".join(chars)
        chars.pop()
    return None


Key = tuple[Any, bool, bool]          # (expression, descending, nullable)


def _sort_keys(sort: str) -> list[Key]:
    """The sort as (expression, descending, nullable) keys ending in the id, so the order is total (ties are
    broken by id). A missing due date sorts last; `created` is newest first (ids follow creation); `priority` is
    1 (highest) … 5; `risk` is 很高危/VERY_HIGH, 高危/HIGH, 中危/MODERATE, 低危/LOW, anything else (`risk_rank`,
    denormalized by the projection so each sort is one ordered scan of an index built for it)."""
    due: Key = (HumanTask.due_at, False, True)
    last: Key = (HumanTask.id, False, False)
    if sort == "created":
        return [(HumanTask.id, True, False)]
    if sort == "risk":
        return [(HumanTask.risk_rank, False, False), due, last]
    if sort == "priority":
        return [(HumanTask.priority, False, False), due, last]
    return [due, last]


def _ordered(keys) -> list:
    return [expr.desc() if desc else expr.asc().nulls_last() for expr, desc, _n in keys]


# -- keyset paging ------------------------------------------------------------------------------------------

def encode_cursor(sort: str, row: HumanTask) -> str:
    """An opaque cursor after `row` in `sort` order: the row's sort-key values (the next page starts after it)."""
    values: list[Any] = []
    for expr, _desc, _nullable in _sort_keys(sort):
        value = getattr(row, expr.key)
        values.append(value.isoformat() if isinstance(value, datetime) else value)
    raw = json.dumps({"s": sort, "k": values}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> list[Any]:
    """The sort-key values a cursor carries, checked against the sort's keys (BadCursor when they do not fit)."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        values = doc["k"]
        keys = _sort_keys(sort)
        if doc["s"] != sort or not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("cursor of another sort")
        return [_cursor_value(expr, nullable, value) for (expr, _d, nullable), value in zip(keys, values, strict=True)]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BadCursor("分页游标无效，请从第一页重新加载 (invalid cursor)", sort=sort) from exc


def _cursor_value(expr, nullable: bool, value: Any) -> Any:
    if value is None:
        if not nullable:
            raise ValueError("null key")
        return None
    if expr.key == "due_at":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive date-time")
        return parsed
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("integer key expected")
    if not -(2 ** 63) <= value < 2 ** 63:          # beyond BIGINT: the database would fail, not answer "none"
        raise ValueError("integer key out of range")
    return value


def _after(keys: list[Key], values: list[Any]):
    """Rows after the cursor's row in the order of `keys` (lexicographic; NULLs last in ascending keys). Key i's
    value is the parameter `after_<i>` (which keys are NULL shapes the condition; `_arg_binds` binds the values)."""
    bound = [None if v is None else _bound(expr, f"after_{i}", v) for i, ((expr, _d, _n), v)
             in enumerate(zip(keys, values, strict=True))]
    alternatives = []
    for i, (expr, desc, nullable) in enumerate(keys):
        value = bound[i]
        if desc:
            beyond = expr < value
        elif value is None:
            beyond = None                       # nothing sorts after NULL in this key
        else:
            beyond = or_(expr > value, expr.is_(None)) if nullable else expr > value
        if beyond is not None:
            same = [(k.is_(None) if v is None else k == v) for (k, _d, _n), v in zip(keys[:i], bound[:i], strict=True)]
            alternatives.append(and_(*same, beyond))
    condition = or_(*alternatives) if alternatives else false()
    lead, lead_desc, lead_nullable = keys[0]
    if bound[0] is not None and not lead_nullable:     # where the scan starts in the index built for the sort
        condition = and_(lead <= bound[0] if lead_desc else lead >= bound[0], condition)
    return condition


# -- lists --------------------------------------------------------------------------------------------------

def list_tasks(p: Principal, args: dict[str, Any]) -> tuple[list[dict], int, str | None]:
    """One page of a view with filters and a sort, the total number of matching tasks (capped), and the cursor of
    the next page (None on the last page).

    `cursor` (from the previous page's `next_cursor`) pages by keyset: the page starts after the cursor's row, so
    rows that appear or go away meanwhile neither repeat nor skip a row; without it, `page` counts from the top.
    A view made of several branches (two roles, the laneless tasks I started, …) or searched by name is read as a
    UNION ALL of one ordered, limited scan per part, so each uses an index instead of sorting every match.
    """
    per_page = args.get("per_page", 25)
    sort = args.get("sort", "due")
    cursor = args.get("cursor")
    page = 1 if cursor else args.get("page", 1)
    view, searched = args.get("view", "mine"), bool((args.get("q") or "").strip())
    # a name search of the groups view reads (role, org_path, name) ranges per organization of the subtree; an
    # organization with none below it is its own path (the page is one bounded, ordered range of its entries)
    paths = (subtree_paths(p) if searched else leaf_paths(p)) if view == "groups" else None
    if view == "groups" and not searched and paths is None and (
            sort in TOWNSHIP_SORTS or any(args.get(f) is not None for f in TOWNSHIP_FILTERS)):
        paths = township_paths(p)
    if view == "groups" and searched:
        paths = township_search(p, paths, args) or paths
    after = decode_cursor(sort, cursor) if cursor else None
    key = _list_key(p, args, paths, after)
    built = _STATEMENTS.get(key) if key is not None else None
    if built is None:
        stand_in, stand_in_paths = _stand_in(p, paths)
        built = _list_statements(stand_in, args, page, per_page, stand_in_paths, after)
        if key is not None:
            _remember(key, built)
    params = {**_binds(p, paths), **_arg_binds(args, after)}
    rows: list[Any] = _page_of(built, params) if key is not None else list(session().execute(built.page, params))
    more = len(rows) > per_page
    rows = rows[:per_page]
    next_cursor = encode_cursor(sort, rows[-1]) if more and rows else None
    if page == 1 and not cursor and not more:
        total = len(rows)           # the whole result is on the first page: it is its own count
    elif rows:                      # each row carries the count of each part (the same for every row)
        total = sum(value or 0 for value in rows[0][len(_PAGE_COLUMNS):])
    else:                           # a later page past the end: counted on its own
        if built.count is None:
            built.count = _counts_statement(built.counted)
        total = sum(value or 0 for value in session().execute(built.count, params).one())
    return items(rows), total, next_cursor


def _page_of(built: SimpleNamespace, params: dict[str, Any]) -> list[Any]:
    """A list's page rows. On PostgreSQL read as a hot read (app.core.hot_reads: straight on the DBAPI connection, no
    ORM execution, issue 23.2), its rows as named tuples with the same names as the session's rows; the organization
    values the statement renders inline (its path, prefix, paths: literal_execute, expanding) rendered from the
    caller's values into a plan kept per organization (the hot read's `inline`); a name search's prefix is bound
    (`_name_prefix`). Any other backend: the session."""
    if not is_postgres():
        return list(session().execute(built.page, params))
    hot = getattr(built, "hot", None)
    if hot is None:
        # the named binds (a value the statement holds itself, a constant, is rendered from the statement)
        binds = {b.key: b for b in visitors.iterate(built.page) if isinstance(b, BindParameter) and b.key in params}
        inline = frozenset(k for k, b in binds.items() if b.literal_execute or b.expanding)
        hot = built.hot = SimpleNamespace(
            reader=HotSelect(built.page, inline=inline), names=tuple(binds), session=not inline <= _INLINE_ORG,
            row=namedtuple("PageRow", list(built.page.selected_columns.keys())))
    if hot.session:
        return list(session().execute(built.page, params))
    row = hot.row
    return [row(*r) for r in hot.reader.all(session(), {k: params[k] for k in hot.names})]


_INLINE_ORG = frozenset((ORG_PREFIX, ORG_PATH, ORG_PATHS))


# -- statements built once per shape -----------------------------------------------------------------------
# A list's or the header's statements are built for a stand-in of the caller (same roles, made-up identity) and
# kept under the caller's *shape*: everything their SQL is built from except the values bound by name at each
# execution (the caller's id, name, resident, organization path(s); the filters' values, the cursor's keys, the
# name prefix, the time). So one statement serves every user of a role: building the conditions and computing
# SQLAlchemy's cache key of a fresh statement cost ≈ 30 % of a list request's CPU (issue 23.5). A value the build
# read from the caller without naming it would be the stand-in's, which matches no task: a mistake lists nothing,
# never another caller's tasks.

def _needs_escape(value: str) -> bool:
    return _like_escaped(value) != value


def _paths_kind(p: Principal, paths: list[str] | None) -> str | None:
    """How `_under` reads a subtree: its prefix (None), its township key ("township"), the organization's own path
    ("self"), or a list of paths (and, in a township's one-character name search, the township key too)."""
    if isinstance(paths, Township):
        return "township"
    if isinstance(paths, TownshipSearch):
        return "township_search"
    return None if not paths else "self" if paths == [p.org_path] else "list"


def _shape(p: Principal, paths: list[str] | None) -> tuple:
    """What a visibility condition's SQL depends on besides the caller's values bound by name (`_binds`)."""
    return (p.roles, bool(p.org_path), _needs_escape(p.org_path), p.resident_id is None, _paths_kind(p, paths))


def _stand_in(p: Principal, paths: list[str] | None) -> tuple[Principal, list[str] | None]:
    """A principal of the caller's shape whose own values match no task, and its paths of the same kind."""
    path = ("/-_/" if _needs_escape(p.org_path) else "/-/") if p.org_path else ""
    stand_in = Principal(user_id=-1, username="-", roles=p.roles, org_code="-", org_path=path,
                         resident_id=None if p.resident_id is None else -1)
    kind = _paths_kind(p, paths)
    if kind == "township":
        return stand_in, Township([path])
    if kind == "township_search":
        return stand_in, TownshipSearch([path, path + "-/"])
    return stand_in, None if kind is None else [path] if kind == "self" else [path, path + "-/"]


def _binds(p: Principal, paths: list[str] | None) -> dict[str, Any]:
    """The caller's values of the named parameters (a statement ignores those it does not hold)."""
    return {USER_ID: p.user_id, USERNAME: p.username, RESIDENT_ID: p.resident_id,
            ORG_PREFIX: _like_escaped(p.org_path) + "%", ORG_PATH: p.org_path, ORG_PATHS: list(paths or ())}


def _arg_binds(args: dict[str, Any], after: list[Any] | None) -> dict[str, Any]:
    """A request's values of the named parameters of its filters, name search and cursor."""
    values = {f"f_{key}": args[key] for key in (*EQUAL_FILTERS, "due_before") if args.get(key) is not None}
    if args.get("overdue") is not None:
        values[NOW] = clock.now()
    q = (args.get("q") or "").strip()
    if q:
        values[Q_PREFIX] = _like_escaped(q) + "%"
        values[Q_INITIAL] = q[0]
        values[Q_LOW] = q
        end = _prefix_end(q)
        if end is not None:
            values[Q_HIGH] = end
    values.update({f"after_{i}": v for i, v in enumerate(after or ()) if v is not None})
    return values


def _list_key(p: Principal, args: dict[str, Any], paths: list[str] | None, after: list[Any] | None) -> tuple | None:
    """The key of a list's statements: the caller's shape and the request's (which filters, not their values; the
    sort, view and page), or None when an argument is unhashable (not reused then). `paths` comes from the
    per-worker org facts (a village or department reads its own path, `leaf_paths`), which an organization change
    drops: its kind belongs in the key, so a changed level is listed anew."""
    shape: list[tuple] = []
    for name, value in args.items():
        if name in EQUAL_FILTERS or name == "due_before":
            shape.append((name, value is not None))
        elif name == "q":
            q = (value or "").strip()
            shape.append((name, bool(q), _needs_escape(q), bool(q) and _prefix_end(q) is None))
        elif name == "cursor":
            shape.append((name, None if after is None else tuple(v is None for v in after)))
        else:                       # view, status, sort, page, per_page, overdue: the statement's structure
            shape.append((name, value))
    try:
        return ("list", _shape(p, paths), is_postgres(), frozenset(shape))
    except TypeError:               # an unhashable argument value
        return None


def _list_statements(p: Principal, args: dict[str, Any], page: int, per_page: int, paths: list[str] | None,
                     after_values: list[Any] | None) -> SimpleNamespace:
    """A list's page statement — the page's rows, each with the total of each part (capped), in one round trip — and
    the count statement of a page past the end (built when first needed)."""
    branches = view_branches(p, args.get("view", "mine"), args.get("status", "open"), paths)
    keys = _sort_keys(args.get("sort", "due"))
    after = _after(keys, after_values) if after_values is not None else None
    if isinstance(paths, TownshipSearch):   # the resident part by the township key and the first character
        by_initial = view_branches(p, args.get("view", "mine"), args.get("status", "open"), Township([p.org_path]))
        by_resident, by_name = _search_parts(args, initial=True)
        parts = [and_(b, by_resident) for b in by_initial] + [and_(b, by_name) for b in branches]
    else:
        parts = [and_(b, q) for b in branches for q in _search_parts(args)]
    counted = [_filtered(select(HumanTask.id).where(part), args) for part in parts]
    # a leaf organization (its own path, `leaf_paths`) in an order other than due: no index leads with (role,
    # org_path, priority | risk_rank), so an ordered, limited branch may walk the role's whole index for a leaf the
    # statistics guess busy but that holds none of the role's tasks; read whole, each branch is the leaf's own range
    whole = _paths_kind(p, paths) == "self" and args.get("sort", "due") != "due"
    ids = _page_ids(parts, args, keys, page, per_page + 1, after, whole=whole)
    return SimpleNamespace(page=_page_rows(ids, keys, counted),
                           counted=counted, count=None)


def _page_ids(parts, args, keys, page: int, limit: int, after=None, whole: bool = False):
    """The ids of a page with their sort keys (task_id, k0, k1, …; index-only where the indexes cover the filters):
    `limit` rows from row (page - 1) * (limit - 1) on (one more than the page, to tell whether another page
    follows). Several parts are a UNION ALL of one ordered, limited scan each, or with `whole` of each part read
    whole (then sorted once: no plan can walk a long index for a few rows)."""
    skip = (page - 1) * (limit - 1)
    extra = [after] if after is not None else []
    columns = [HumanTask.id.label("task_id")] + [expr.label(f"k{i}") for i, (expr, _d, _n) in enumerate(keys)]
    if len(parts) == 1:
        return (_filtered(select(*columns).where(parts[0], *extra), args)
                .order_by(*_ordered(keys)).offset(skip).limit(limit))
    selects = []
    for condition in parts:
        inner = _filtered(select(*columns).where(condition, *extra), args)
        selects.append(inner if whole else select(inner.order_by(*_ordered(keys)).limit(skip + limit).subquery()))
    union = union_all(*selects).subquery()
    order = _ordered([(union.c[f"k{i}"], desc, n) for i, (_e, desc, n) in enumerate(keys)])
    return select(union.c.task_id, *[union.c[f"k{i}"] for i in range(len(keys))]).order_by(*order) \
        .offset(skip).limit(limit)


# a page item's columns: every column but the task's documents (data, draft, instructions), which a list never shows,
# and its township key (a query's, never shown)
_PAGE_COLUMNS = [c for c in HumanTask.__table__.columns
                 if c.key not in ("data", "draft", "instructions", "township_path")]


def _page_rows(ids, keys: list[Key], counted: list):
    """The page's task rows in page order, each with the total of each counted part (scalar subqueries: computed
    once per statement), in one statement: plain rows with the page's columns as attributes (a read-only page needs
    no HumanTask entities in the session, nor the tasks' JSON documents decoded). One round trip instead of three
    (ids, rows by id, count): each costs more in the driver and SQLAlchemy than the database's answer."""
    page = ids.subquery("page")
    totals = [select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery()).scalar_subquery()
              .label(f"total_{i}") for i, stmt in enumerate(counted)]
    order = _ordered([(page.c[f"k{i}"], desc, n) for i, (_e, desc, n) in enumerate(keys)])
    return (select(*_PAGE_COLUMNS, *totals)
            .select_from(page.join(HumanTask.__table__, HumanTask.id == page.c.task_id)).order_by(*order))


def counts_of(stmts: list, cap: int = COUNT_CAP) -> list[int]:
    """Rows of each statement, each counted up to cap + 1 (a larger inbox shows "10000+"), in one round trip (one
    scalar subquery each)."""
    if not stmts:
        return []
    return [value or 0 for value in session().execute(_counts_statement(stmts, cap)).one()]


def _counts_statement(stmts: list, cap: int = COUNT_CAP):
    return select(*[select(func.count()).select_from(stmt.limit(cap + 1).subquery()).scalar_subquery()
                    for stmt in stmts])


def counts(p: Principal) -> dict[str, int]:
    """Open tasks per view, and the overdue ones among those the caller may work on (for the header; each capped
    at HEADER_CAP + 1, "999+": a badge needs no more, and each count reads at most that many index entries)."""
    leaf, subtree = leaf_paths(p), subtree_paths(p)
    key = ("counts", _shape(p, leaf), _paths_kind(p, subtree), is_postgres(), HEADER_CAP)
    built = _STATEMENTS.get(key)
    if built is None:
        stand_in, stand_in_leaf = _stand_in(p, leaf)
        built = _counts_statements(stand_in, stand_in_leaf, _stand_in(p, subtree)[1])
        _remember(key, built)
    stmt, layout = built
    # the subtree's list (if any) is the only list bound: a leaf's own path is ORG_PATH
    found = iter(session().execute(stmt, {**_binds(p, subtree if _paths_kind(p, subtree) == "list" else None),
                                          NOW: clock.now()}).one())
    return {name: min(HEADER_CAP + 1, sum(next(found) or 0 for _ in range(n))) for name, n in layout}


def _counts_statements(p: Principal, leaf: list[str] | None, subtree: list[str] | None) -> tuple[Any, list]:
    """The header's statement (every figure in one statement: one round trip) and its layout (figure, branches)."""
    overdue = HumanTask.due_at < _bound(HumanTask.due_at, NOW, clock.now())
    # overdue groups tasks: (role, org_path, due_at) read as one due range per organization of the subtree, not
    # the whole subtree filtered by due date; a village's groups figure reads its path alone, as its list does (with
    # the prefix, 46 of 150 villages' counts read their 6,667 open tasks from the table at 1,000,000 tasks)
    figures = {"mine": view_branches(p, "mine"), "groups": view_branches(p, "groups", paths=leaf),
               "org": view_branches(p, "org"),
               "overdue": [and_(b, overdue) for b in view_branches(p, "mine")
                           + view_branches(p, "groups", paths=subtree)]}
    stmts = [select(HumanTask.id).where(b) for branches in figures.values() for b in branches]
    return _counts_statement(stmts, HEADER_CAP), [(name, len(branches)) for name, branches in figures.items()]


def may_act_now(p: Principal, task: HumanTask) -> bool:
    """`actionable` in Python, for a loaded row: open, and the caller's, or unassigned and offered to them."""
    return task.status == "open" and (task.assignee_id == p.user_id or
                                      (task.assignee_id is None and is_candidate(p, task)))


def next_tasks(p: Principal, instance_id: int) -> list[dict]:
    """Open tasks of an instance the caller may work on now (so the UI can chain to the next step)."""
    rows = session().scalars(select(HumanTask).where(HumanTask.instance_id == instance_id, actionable(p))
                             .order_by(HumanTask.id)).all()
    return items(rows)


# -- one task -----------------------------------------------------------------------------------------------

def get_task(p: Principal, task_id: int, *, lock: bool = False) -> HumanTask:
    """The task if the caller may see it (else NotFound); `lock` takes its row lock for a change."""
    stmt = select(HumanTask).where(HumanTask.id == task_id, visible(p))
    if lock:
        stmt = stmt.execution_options(populate_existing=True)
        if is_postgres():
            stmt = stmt.with_for_update(of=HumanTask)
    row = session().scalars(stmt).first()
    if row is None:
        raise NotFound("任务不存在 (task not found)", task_id=task_id)
    return row


def task_to_complete(p: Principal, task_id: int) -> tuple[HumanTask, int]:
    """`get_task(p, task_id, lock=True)` with its instance's version id read in the same statement (the form a
    completion validates against, without a second round trip)."""
    key = ("to_complete", principal_key(p), is_postgres())
    hot = _STATEMENTS.get(key)
    if hot is None:
        stmt = (select(HumanTask, ProcessInstance.process_version_id)
                .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(HumanTask.id == bindparam("task_id"), visible(p)).execution_options(populate_existing=True))
        if key[2]:
            stmt = stmt.with_for_update(of=HumanTask)
        hot = HotSelect(stmt)       # run on the DBAPI connection, the task held as the ORM loads it (app.core.hot_reads)
        _remember(key, hot)
    row = hot.first(session(), {"task_id": task_id})
    if row is None:
        raise NotFound("任务不存在 (task not found)", task_id=task_id)
    return row[0], row[1]


def active_delegation(task_id: int) -> TaskDelegation | None:
    return session().scalars(select(TaskDelegation).where(TaskDelegation.task_id == task_id,
                                                          TaskDelegation.returned_at.is_(None))
                             .order_by(TaskDelegation.id.desc()).limit(1)).first()


def candidates(task: HumanTask, limit: int = 50) -> list[dict]:
    """Users who may be given the task (role holders serving its organization; the starter for laneless ones, or
    the treating staff serving its organization when an integration client started the instance)."""
    if task.role is None and is_client_name(task.started_by):
        users = auth_queries.staff_serving(task.org_code, NON_TREATING_ROLES | {"patient", "integration"}) \
            if task.org_code else []
        return [_user_ref(u) for u in users if u.username != task.excluded_user][:limit]
    if task.role is None:
        user = _user_by_name(task.started_by)
        return [_user_ref(user)] if user else []
    if not task.org_code and task.role not in COUNTY_WIDE_ROLES:
        return []
    users = [u for u in auth_queries.candidate_users(task.role, task.org_code or "") if u.username != task.excluded_user]
    return [_user_ref(u) for u in users[:limit]]


def _user_by_name(username: str | None):
    return find_user(username) if username else None


def comments(task_id: int) -> list[TaskComment]:
    return list(session().scalars(select(TaskComment).where(TaskComment.task_id == task_id)
                                  .order_by(TaskComment.id)))


def saved_filters(p: Principal) -> list[SavedFilter]:
    """The caller's own saved filters and those shared with their organization."""
    shared = and_(SavedFilter.shared_with_org.is_(True), SavedFilter.org_code == p.org_code)
    return list(session().scalars(select(SavedFilter).where(or_(SavedFilter.owner_id == p.user_id, shared))
                                  .order_by(SavedFilter.name, SavedFilter.id)))


# -- shapes -------------------------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _user_ref(user) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name or user.username}


def items(rows, *, me: Principal | None = None) -> list[dict]:
    """Inbox rows as JSON-ready dicts (users and organization names looked up once per page; `me`, the caller, is
    not looked up again when it holds a task)."""
    values = [_item_values(r) for r in rows]
    users: dict[int, Any] = auth_queries.user_refs([v["assignee_id"] for v in values if v["assignee_id"] is not None
                                                     and (me is None or v["assignee_id"] != me.user_id)])
    if me is not None:
        users[me.user_id] = SimpleNamespace(id=me.user_id, username=me.username, display_name=me.display_name)
    org_names: dict[str | None, str | None] = {}
    process_names = versions.process_names(v["process_id"] for v in values)
    now = clock.now()
    out = []
    for v in values:
        org_code = v["org_code"]
        if org_code not in org_names:
            org = org_facts(org_code)
            org_names[org_code] = org.name if org else None
        out.append(_item(v, now=now, assignee=users.get(v["assignee_id"]), org_name=org_names[org_code],
                         process_name=process_names.get(v["process_id"])))
    return out


def _item(v: Mapping[str, Any], *, now: datetime, assignee, org_name: str | None, process_name: str | None) -> dict:
    """One inbox row from its values (`_item_values`)."""
    resident = None
    if v["resident_id"] is not None or v["resident_name"]:
        resident = {"id": v["resident_id"], "name": v["resident_name"], "village_code": v["village_code"]}
    status, due_at = v["status"], v["due_at"]
    return {"id": v["id"], "name": v["name"], "process_id": v["process_id"], "process_name": process_name,
            "instance_id": v["instance_id"],
            "element_id": v["element_id"], "status": status, "lane": v["lane"], "role": v["role"],
            "org_code": v["org_code"], "org_name": org_name,
            "assignee": _user_ref(assignee) if assignee is not None else None,
            "due_at": _iso(due_at), "priority": v["priority"],
            "overdue": bool(status == "open" and due_at is not None and due_at < now),
            "resident": resident, "disease": v["disease"], "risk_level": v["risk_level"],
            "created_at": _iso(v["created_at"]), "completed_at": _iso(v["completed_at"]),
            "completed_by": v["completed_by"], "etag": f'"{v["id"]}-{v["etag_version"]}"'}   # HumanTask.etag


_ITEM_FIELDS = frozenset(("id", "name", "process_id", "instance_id", "element_id", "status", "lane", "role",
                          "org_code", "assignee_id", "due_at", "priority", "resident_id", "resident_name",
                          "village_code", "disease", "risk_level", "created_at", "completed_at", "completed_by",
                          "etag_version"))


def _item_values(r) -> Mapping[str, Any]:
    """What an inbox row is made of: a loaded entity's own values (what its attributes answer, without a call of
    SQLAlchemy's attribute descriptor for each), a list's plain row as a dict; an entity with one of them not loaded
    (expired), through its attributes, which load it."""
    values = getattr(r, "__dict__", None)
    if values is not None and _ITEM_FIELDS <= values.keys():
        return values
    if values is None:                  # a list's page row: a named tuple, or the session's Row (SQLite)
        return r._asdict()
    return {key: getattr(r, key) for key in _ITEM_FIELDS}


def one_item(r: HumanTask) -> dict:
    return items([r])[0]


def open_task_of(instance_id: int, element_id: str, assignee_id: int) -> HumanTask | None:
    """The open task of `element_id` in an instance that is assigned to one user (e.g. one of a multi-instance)."""
    return session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
        HumanTask.assignee_id == assignee_id, HumanTask.status == "open")).first()


def open_tasks_of(instance_id: int, element_id: str) -> list[HumanTask]:
    """Open tasks of one element of an instance (the trainer's view of who has not answered yet)."""
    return list(session().scalars(select(HumanTask).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id, HumanTask.status == "open")))
