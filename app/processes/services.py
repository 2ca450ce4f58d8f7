"""Use cases on definitions and instances. Scope is checked by loading through `queries` (404 outside scope)."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from app.auth.principal import Principal
from app.core.db import unit_of_work
from app.core.errors import Invalid
from app.workflows import clock_control, runner
from app.workflows.deploy import deploy_files, validate_files

from . import policy, queries

MAX_FILES = 50


def deploy(files: Mapping[str, bytes], *, principal: Principal, source: str = "upload") -> dict[str, Any]:
    """Deploy uploaded definition files as new versions (privileged and audited)."""
    if len(files) > MAX_FILES:
        raise Invalid(f"一次最多部署 {MAX_FILES} 个文件 (too many files)", code="too_many_files")
    result = deploy_files(files, deployed_by=principal.username, source=source)
    from app.audit.services import record
    with unit_of_work():
        record("definition.deploy", object_type="deployment", object_id=str(result.deployment_id),
               details=result.to_dict())
    return result.to_dict()


def validate(files: Mapping[str, bytes]) -> dict[str, Any]:
    """Dry-run a deploy (the modeler's "check" button)."""
    if len(files) > MAX_FILES:
        raise Invalid(f"一次最多校验 {MAX_FILES} 个文件 (too many files)", code="too_many_files")
    return validate_files(files)


def start(principal: Principal, *, process_id: str, data: dict, business_key: str | None,
          resident_id: int | None, org_code: str | None, version: int | None):
    """Start an instance on behalf of the caller (org defaults to the resident's, else the caller's).

    Who may start what is checked first (`policy.authorize_start`), so a refused start writes nothing."""
    resident_id = policy.resident_of(resident_id, data)
    policy.authorize_start(principal, process_id, resident_id=resident_id, org_code=org_code or data.get("org_code"),
                           version=version)
    inst = runner.start_instance(process_id, data=data, business_key=business_key, actor=runner.Actor.of(principal),
                                 resident_id=resident_id, org_code=org_code, version=version)
    return inst


def act(principal: Principal, instance_id: int, action: str, **options):
    """Suspend, resume, terminate or retry an instance in the caller's scope."""
    queries.instance(principal, instance_id)
    actor = runner.Actor.of(principal)
    if action == "suspend":
        runner.suspend_instance(instance_id, actor)
    elif action == "resume":
        runner.resume_instance(instance_id, actor)
    elif action == "terminate":
        runner.terminate_instance(instance_id, actor, reason=options.get("reason"))
    elif action == "retry":
        runner.retry_instance(instance_id, actor, data_patch=options.get("data"))
    from app.audit.services import record
    with unit_of_work():
        record(f"instance.{action}", object_type="process_instance", object_id=str(instance_id), details=options)
    return queries.instance_detail(principal, instance_id)


def clock_state() -> dict[str, Any]:
    return clock_control.state()


def advance_clock(*, principal: Principal, days: float = 0, hours: float = 0, minutes: float = 0) -> dict[str, Any]:
    """Advance the platform clock (demo/test installs) and fire what became due; audited."""
    from app.audit.services import record
    result = clock_control.advance(timedelta(days=days, hours=hours, minutes=minutes))
    with unit_of_work():
        record("clock.advance", object_type="clock", object_id="platform",
               details={**result, "now": result["now"].isoformat()})
    return result
