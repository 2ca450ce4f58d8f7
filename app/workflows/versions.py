"""Deployed process versions as a step needs them (cached: versions are immutable), and the callee resolver that
decides which version a call activity starts.

Callee policy (per call activity, Camunda's `calledElementBinding`):
* `latest` (default): the newest deployed version of the called process *at the moment it is called*;
* `deployment`: the version that was current (or deployed alongside) when the caller was deployed;
* `version`: the version named by `calledElementVersion`.
A callee is named in saved state by a key `<process>@<version row id>#<content hash>`, so a running call keeps
its version whatever is deployed later.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, event, select
from sqlalchemy.orm import Session as OrmSession

from app.core.db import session
from app.core.errors import NotFound
from app.core.hot_reads import HotSelect
from app.engine import runtime

from .models import ProcessVersion


@dataclass(frozen=True)
class VersionInfo:
    """The immutable parts of a deployed process version a step needs (cached per process)."""

    id: int
    process_id: str
    version: int
    content_hash: str
    spec_json: dict
    meta: dict

    @property
    def callee_key(self) -> str:
        return f"{self.process_id}@{self.id}#{self.content_hash[:16]}"


@lru_cache(maxsize=512)
def version_info(version_id: int) -> VersionInfo:
    """Deployed versions are immutable and never deleted: load each once per process."""
    row = session().get(ProcessVersion, version_id)
    if row is None:
        raise NotFound("流程版本不存在 (process version not found)", version_id=version_id)
    return VersionInfo(row.id, row.process_id, row.version, row.content_hash, row.spec_json, row.meta)


def version_id_of(callee_key: str) -> int:
    return int(callee_key.split("@", 1)[1].split("#", 1)[0])


def form_of(version_id: int, form_key: str | None) -> dict | None:
    """The form (schema + uiSchema) of a user task in a deployed version (cached with the version)."""
    return _forms_of(version_id).get(form_key or "")


@lru_cache(maxsize=512)
def _forms_of(version_id: int) -> dict:
    return session().execute(select(ProcessVersion.forms).where(ProcessVersion.id == version_id)).scalar_one() or {}


def clear_caches() -> None:
    """Forget cached versions (tests empty the tables between cases, so ids come back)."""
    version_info.cache_clear()
    _forms_of.cache_clear()
    _numbered.clear()
    _names.clear()


# -- immutable lookups of the hot path (issue 23.2): a version number's row id ------------------------------------

_numbered: dict[tuple[str, int], int] = {}
_CACHE_MAX = 100_000


def numbered_version_id(process_id: str, number: int) -> int | None:
    """The row id of version `number` of a process (immutable once deployed: cached; None when not deployed)."""
    found = _numbered.get((process_id, number))
    if found is None:
        found = version_id(process_id, number)
        if found is not None:
            _numbered[(process_id, number)] = found
    return found


def latest_version(process_id: str) -> VersionInfo | None:
    """The newest deployed version of a process (one indexed query; the version itself is cached)."""
    found = latest_version_id(process_id)
    return version_info(found) if found is not None else None


# The display name of a process (its newest version's) changes only with a deploy: kept for a moment per worker,
# forgotten at once when this process deploys (a ProcessVersion is inserted), within NAME_CACHE_S elsewhere.
NAME_CACHE_S = float(os.environ.get("YGT_PROCESS_NAME_CACHE_S", "2"))
_names: dict[str, tuple[float, str | None]] = {}


def _forget_names_on_deploy(s, _flush_context) -> None:
    if any(isinstance(o, ProcessVersion) for o in s.new):
        _names.clear()
        s.info["workflows.deployed"] = True


def _forget_names_after_commit(s) -> None:
    if s.info.pop("workflows.deployed", False):
        _names.clear()


def watch_deploys() -> None:
    """Start the process-name cache: listen for new versions (`app.wiring` calls this once at start-up). Until it
    runs, `process_names` reads the names each time."""
    for name, listener in (("after_flush", _forget_names_on_deploy), ("after_commit", _forget_names_after_commit)):
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)


# built once, of the table's columns: a start's version lookup reuses the statement and its cache key, and is run
# as Core, without the ORM's compile state (issue 23.2)
_VERSIONS = ProcessVersion.__table__.c
_LATEST_ID = (select(_VERSIONS.id).where(_VERSIONS.process_id == bindparam("process_id"))
              .order_by(_VERSIONS.version.desc()).limit(1))
_HOT_LATEST_ID = HotSelect(_LATEST_ID)      # on PostgreSQL run on the DBAPI connection (app.core.hot_reads)


def latest_version_id(process_id: str) -> int | None:
    return _HOT_LATEST_ID.scalar_one_or_none(session(), {"process_id": process_id})


def process_names(process_ids) -> dict[str, str]:
    """The display name (the BPMN process name of the newest deployed version) of each process id that has one,
    so pages show 上转 (双向转诊), never `referral_up`."""
    ids = {p for p in process_ids if p}
    if not ids:
        return {}
    now = time.monotonic()
    out: dict[str, str] = {}
    missing = set()
    for pid in ids:
        hit = _names.get(pid)
        if hit is not None and hit[0] > now:
            if hit[1]:
                out[pid] = hit[1]
        else:
            missing.add(pid)
    if missing:
        rows = session().execute(select(ProcessVersion.process_id, ProcessVersion.name)
                                 .where(ProcessVersion.process_id.in_(missing)).order_by(ProcessVersion.version))
        read = {pid: name for pid, name in rows if name}          # ascending: the newest version's name wins
        out.update(read)
        if NAME_CACHE_S > 0 and event.contains(OrmSession, "after_commit", _forget_names_after_commit):
            if len(_names) >= _CACHE_MAX:
                _names.clear()
            for pid in missing:
                _names[pid] = (now + NAME_CACHE_S, read.get(pid))
    return out


def version_id(process_id: str, number: int) -> int | None:
    return session().execute(select(ProcessVersion.id).where(
        ProcessVersion.process_id == process_id, ProcessVersion.version == number)).scalar_one_or_none()


class StoreCallees:
    """The engine's callee resolver over the store, for the instance whose own version is `own`."""

    def __init__(self, own: VersionInfo):
        self.own = own

    def resolve(self, process_id: str, *, caller: str | None, element_id: str) -> runtime.Callee:
        caller_info = self.own if caller is None else version_info(version_id_of(caller))
        ref: dict[str, Any] = next((c for c in caller_info.meta.get("calls") or []
                                    if c.get("element_id") == element_id), {})
        pinned = ref.get("version_id") if ref.get("binding") in ("deployment", "version") else None
        chosen = pinned or latest_version_id(process_id)
        if chosen is None:
            raise LookupError(f"被调用的流程 {process_id} 未部署 (called process '{process_id}' is not deployed)")
        info = version_info(chosen)
        return runtime.Callee(info.callee_key, info.process_id, info.version)

    def spec_json(self, key: str) -> dict[str, Any]:
        return version_info(version_id_of(key)).spec_json
