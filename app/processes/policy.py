"""Who may start a process: each definition declares it, and every start through the API (or a signed message
that starts a process) is checked here **before anything is written**.

The BPMN process carries two properties (`spiffworkflow:properties` on `bpmn:process`):

* `startRoles` — role codes that may start it (absent: only `county_admin` and `process_owner`, and `integration`
  when a message start event starts it);
* `startResident` — `required` (the instance is about one resident: the caller must have that resident in their
  data scope and hold a role that treats patients), `optional` (the same check when a resident is given) or `none`
  (no resident may be given).

A `process_owner` tests models with synthetic data: they may start any process, but never for a real resident
(403 `synthetic_data_only`). A resident or organization outside the caller's scope answers 404, exactly like a
missing one. A role not declared answers 403 `start_forbidden`.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from app.auth.principal import Principal
from app.core.errors import Forbidden, Invalid, NotFound
from app.org.queries import org_facts
from app.org.scope import sees_organizations
from app.residents import queries as residents
from app.workflows import versions

DEFAULT_START_ROLES = ("county_admin", "process_owner")
# roles that treat patients and so may act on a real resident's record (see docs/security.md)
TREATING_ROLES = frozenset({"county_specialist", "county_admin", "township_doctor", "township_public_health",
                            "village_doctor", "pharmacist", "integration"})


class StartForbidden(Forbidden):
    code = "start_forbidden"


class SyntheticDataOnly(Forbidden):
    code = "synthetic_data_only"


class ResidentRequired(Invalid):
    code = "resident_required"


@dataclass(frozen=True)
class StartPolicy:
    process_id: str
    roles: tuple[str, ...]
    resident: str                     # required | optional | none
    version: int | None = None        # the deployed version the policy was read from (start_policy)

    def to_dict(self) -> dict[str, Any]:
        return {"roles": list(self.roles), "resident": self.resident}


def policy_of(meta: Mapping[str, Any] | None, process_id: str, version: int | None = None) -> StartPolicy:
    """The declared policy; undeclared: administrators, plus integration clients when a message starts it (a model
    with a message start event is made to be started by the systems that send that message)."""
    start = (meta or {}).get("start") or {}
    default = DEFAULT_START_ROLES + (("integration",) if (meta or {}).get("start_messages") else ())
    return StartPolicy(process_id, tuple(start.get("roles") or default), start.get("resident", "optional"), version)


def start_policy(process_id: str, version: int | None = None) -> StartPolicy:
    """The start policy of the latest (or the given) deployed version (404 when it is not deployed)."""
    if version is None:
        pv = versions.latest_version(process_id)       # one indexed query; the version's meta is cached
    else:
        found = versions.numbered_version_id(process_id, version)
        pv = versions.version_info(found) if found is not None else None
    if pv is None:
        raise NotFound(f"流程 {process_id} 未部署 (process not deployed)", process_id=process_id)
    return policy_of(pv.meta, process_id, pv.version)


def resident_of(resident_id: int | None, data: Mapping[str, Any] | None) -> int | None:
    """The resident a start is about: the body's `resident_id`, else `data.resident_id`."""
    value = resident_id if resident_id is not None else (data or {}).get("resident_id")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
        raise Invalid("resident_id 必须是居民编号 (resident_id must be a resident id)", code="validation_error",
                      errors=[{"field": "resident_id", "message": "not an id"}])
    return int(value)


def authorize_start(principal: Principal, process_id: str, *, resident_id: int | None = None,
                    org_code: str | None = None, version: int | None = None) -> StartPolicy:
    """Refuse (403/404/422) unless `principal` may start `process_id` for this resident and organization."""
    policy = start_policy(process_id, version)
    if not principal.has_role(*policy.roles):
        raise StartForbidden("您的角色不能发起此流程 (your role may not start this process)", process_id=process_id,
                             allowed_roles=list(policy.roles))
    if resident_id is None and policy.resident == "required":
        raise ResidentRequired("此流程须指定居民 (this process is about one resident: give resident_id)",
                               process_id=process_id)
    if resident_id is not None:
        _authorize_resident(principal, policy, resident_id)
    if org_code is not None and not _org_in_scope(principal, org_code):
        raise NotFound("机构不存在 (organization not found)", org_code=org_code)
    return policy


def _authorize_resident(principal: Principal, policy: StartPolicy, resident_id: int) -> None:
    if policy.resident == "none":
        raise Invalid("此流程不针对具体居民 (this process takes no resident)", code="resident_not_allowed",
                      process_id=policy.process_id)
    if principal.has_role("patient"):
        if principal.resident_id != resident_id:
            raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
        return
    if not principal.roles & TREATING_ROLES:
        raise SyntheticDataOnly("测试模型请使用模拟数据，不能针对真实居民发起 (use synthetic data: no real resident)",
                                process_id=policy.process_id)
    if residents.get_resident(resident_id, principal) is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)


def _org_in_scope(principal: Principal, org_code: str) -> bool:
    org = org_facts(org_code)
    if org is None or not sees_organizations(principal):
        return False
    return principal.county_wide or org.path.startswith(principal.org_path)
