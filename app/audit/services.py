"""Write audit entries. `record()` joins the caller's unit of work, so the entry commits (or rolls back) with
the change it describes; it reads the principal and request (ip, user agent) when they exist."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from flask import has_app_context, has_request_context, request
from sqlalchemy import Table, bindparam, column, insert, select, text

from app.auth.principal import Principal, current_principal
from app.core import clock, logs
from app.core.db import RELAXED_COMMIT_SQL, relax_commit, unit_of_work
from app.core.hot import HotStatement, insert_together

from .models import AuditEntry


def _actor(principal: Principal | None) -> tuple[str, int | None]:
    if principal is None and has_app_context():
        principal = current_principal()
    if principal is not None:
        return principal.username, principal.user_id or None
    return ("anonymous" if has_request_context() else "system"), None


def _origin() -> dict[str, str | None]:
    if not has_request_context():
        return {"ip": None, "user_agent": None}
    agent = request.headers.get("User-Agent")
    return {"ip": request.remote_addr, "user_agent": agent[:255] if agent else None}


def entry(action: str, *, object_type: str, object_id: Any = None, details: dict[str, Any] | None = None,
          principal: Principal | None = None) -> dict[str, Any]:
    """The row of one audit entry for `action` on (object_type, object_id), to write with `record_all`."""
    actor, actor_user_id = _actor(principal)
    return {"at": clock.now(), "actor": actor, "actor_user_id": actor_user_id, "action": action,
            "object_type": object_type, "object_id": None if object_id is None else str(object_id),
            "request_id": logs.request_id.get(), "details": details or {}, **_origin()}


def record_all(entries: list[dict[str, Any]], *, relaxed: bool = False,
               along: Sequence[tuple[HotStatement, Sequence[Mapping[str, Any]]]] = ()) -> None:
    """Append audit entries (`entry`) in the current transaction now: one INSERT built once (its cache key
    memoized), without the ORM's unit of work (a hot path's entries, written together). `relaxed`: entries of a
    read, whose transaction, if it wrote nothing else, commits without waiting for the WAL flush
    (`app.core.db.relax_commit`). `along`: other hot INSERTs (statement, rows) written before them in the same
    statement (`hot.insert_together`: one round trip on PostgreSQL), e.g. a completion's receipt. On PostgreSQL the
    statement is deferred (`HotStatement.defer`): sent with the transaction's next statement or with its COMMIT, in
    one round trip (issue 23); a failure (a receipt's completion id written already) raises from there, not here."""
    if entries or along:
        with unit_of_work() as s:
            if relaxed and len(entries) == 1 and not along and s.connection().dialect.name == "postgresql":
                # a read's one entry (app.audit.reads): the relaxing and the INSERT in one statement, one round trip
                _RELAXED_INSERT.defer(s, entries[0])
                return
            if relaxed:
                relax_commit(s)
            insert_together(s, [*along, (_INSERT, entries)], defer=True)


def record(action: str, *, object_type: str, object_id: Any = None, details: dict[str, Any] | None = None,
           principal: Principal | None = None) -> AuditEntry:
    """Append one audit entry for `action` on (object_type, object_id) in the current transaction (written with the
    transaction's other changes at its next flush)."""
    entry_ = AuditEntry(**entry(action, object_type=object_type, object_id=object_id, details=details,
                                principal=principal))
    with unit_of_work() as s:
        s.add(entry_)
    return entry_


_TABLE = cast(Table, AuditEntry.__table__)
_INSERT = HotStatement(insert(_TABLE))    # run on the DBAPI (app.core.hot)
# What `app.core.db.relax_commit` runs before a read's entry (`RELAXED_COMMIT_SQL`), here inside the entry's INSERT
# (PostgreSQL; issue 23.2: a round trip less per audited read): the row is selected from a one-row subquery that
# sets the transaction's synchronous_commit, so it is set before the INSERT writes (the xid is assigned at a
# transaction's first write: 'off' only when nothing was written before, as relax_commit decides). A volatile
# function's subquery is not pulled up or skipped by the planner; the binds carry their types' casts (the psycopg
# dialect renders them).
_RELAX = text(f"{RELAXED_COMMIT_SQL} AS relaxed").columns(column("relaxed")).subquery("relax")
_ENTRY_COLUMNS = ("at", "actor", "actor_user_id", "action", "object_type", "object_id", "request_id", "details",
                  "ip", "user_agent")       # `entry`'s keys: every column but the key
_RELAXED_INSERT = HotStatement(insert(_TABLE).from_select(
    _ENTRY_COLUMNS, select(*(bindparam(name, type_=_TABLE.c[name].type) for name in _ENTRY_COLUMNS))
    .select_from(_RELAX)))
