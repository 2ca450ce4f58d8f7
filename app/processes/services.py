"""Use cases on definitions and instances. Scope is checked by loading through `queries` (404 outside scope)."""
from __future__ import annotations

import codecs
import hashlib
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from app.audit.services import record
from app.auth.principal import Principal
from app.auth.services import carry_sessions
from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Invalid
from app.decisions.analyses import replay_summary
from app.workflows import clock_control, runner
from app.workflows.deploy import FindingsOverride, deploy_files, validate_files

from . import policy, queries

MAX_FILES = 50


_XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9_.:-]+)[\"']")
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
         (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"))


def as_utf8(name: str, data: bytes) -> bytes:
    """Model files as UTF-8: BPMN/DMN written by other tools may be UTF-16 or GB18030 (declared, or marked by a BOM);
    they are re-encoded, their declaration updated. JSON forms must be UTF-8 (RFC 8259). Anything that is not
    valid text in its encoding is refused: 422 `invalid_definition` naming the file."""
    lower = name.lower()
    if not lower.endswith((".bpmn", ".dmn", ".xml", ".json")):
        return data
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    if encoding is None and lower.endswith((".bpmn", ".dmn", ".xml")):
        declared = _XML_DECLARATION.match(data)
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = data.decode(encoding or "utf-8")
    except (LookupError, UnicodeDecodeError) as exc:
        raise Invalid(f"[{name}] 文件编码无法识别，请以 UTF-8 保存 (not valid {encoding or 'UTF-8'} text)",
                      code="invalid_definition", file=name, reason=f"encoding: {type(exc).__name__}") from None
    if lower.endswith(".json") and encoding not in (None, "utf-8", "utf-8-sig"):
        raise Invalid(f"[{name}] JSON 文件须为 UTF-8 编码 (JSON must be UTF-8)", code="invalid_definition",
                      file=name, reason="encoding")
    text = re.sub(r"^(\s*<\?xml[^>]*?encoding\s*=\s*[\"'])[A-Za-z0-9_.:-]+([\"'])", r"\g<1>UTF-8\g<2>", text,
                  count=1)
    return text.encode("utf-8")


def _utf8_files(files: Mapping[str, bytes]) -> dict[str, bytes]:
    return {name: as_utf8(name, data) for name, data in files.items()}


def deploy(files: Mapping[str, bytes], *, principal: Principal, source: str = "upload",
           override: FindingsOverride | None = None, replay_analysis_id: str | None = None) -> dict[str, Any]:
    """Deploy uploaded definition files as new versions (privileged and audited; an override of ANY/FIRST findings
    lands in the deployment and its audit entry with the reason). `replay_analysis_id` names a finished replay of
    the draft (issue 14.14): its summary is kept in the audit entry, with whether the deployed file is the very
    draft that was replayed."""
    if len(files) > MAX_FILES:
        raise Invalid(f"一次最多部署 {MAX_FILES} 个文件 (too many files)", code="too_many_files")
    replay = None
    if replay_analysis_id:
        replay = replay_summary(replay_analysis_id, principal=principal)
    files = _utf8_files(files)
    with unit_of_work():                  # the deployment and its audit entry commit together (issue 15.4)
        result = deploy_files(files, deployed_by=principal.username, source=source, override=override)
        details = result.to_dict()
        if replay is not None:
            hashes = {hashlib.sha256(data).hexdigest() for name, data in files.items() if name.endswith(".dmn")}
            details["replay"] = {**replay, "draft_deployed": replay["draft_sha256"] in hashes}
        record("definition.deploy", object_type="deployment", object_id=str(result.deployment_id),
               details=details)
    return result.to_dict()


def validate(files: Mapping[str, bytes], override: FindingsOverride | None = None) -> dict[str, Any]:
    """Dry-run a deploy (the modeler's "check" button)."""
    if len(files) > MAX_FILES:
        raise Invalid(f"一次最多校验 {MAX_FILES} 个文件 (too many files)", code="too_many_files")
    return validate_files(_utf8_files(files), override)


def start(principal: Principal, *, process_id: str, data: dict, business_key: str | None,
          resident_id: int | None, org_code: str | None, version: int | None):
    """Start an instance on behalf of the caller (org defaults to the resident's, else the caller's).

    Who may start what is checked first (`policy.authorize_start`), so a refused start writes nothing."""
    resident_id = policy.resident_of(resident_id, data)
    allowed = policy.authorize_start(principal, process_id, resident_id=resident_id,
                                     org_code=org_code or data.get("org_code"), version=version)
    # the version whose policy was checked is the one started (and its row id is then a cached lookup)
    inst = runner.start_instance(process_id, data=data, business_key=business_key, actor=runner.Actor.of(principal),
                                 resident_id=resident_id, org_code=org_code, version=allowed.version)
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
    with unit_of_work():
        record(f"instance.{action}", object_type="process_instance", object_id=str(instance_id), details=options)
    return queries.instance_detail(principal, instance_id)


def clock_state() -> dict[str, Any]:
    return clock_control.state()


def advance_clock(*, principal: Principal, days: float = 0, hours: float = 0, minutes: float = 0,
                  until: datetime | None = None, until_date: date | None = None) -> dict[str, Any]:
    """Advance the platform clock (demo/test installs) by a step, to an instant or to the end of a local day, and
    fire what became due; audited."""
    step = timedelta(days=days, hours=hours, minutes=minutes)
    if until_date is not None:
        if until is not None:
            raise Invalid("请只给出一个目标时间 (give `until` or `until_date`, not both)", code="invalid_clock_step")
        until = clock.end_of_day(until_date)
    if until is not None:
        if step:
            raise Invalid("请只给出前移时长或目标时间之一 (give a step or `until`, not both)",
                          code="invalid_clock_step")
        step = clock_control.step_until(until)
    result = clock_control.advance(step)
    carry_sessions(step)
    with unit_of_work():
        record("clock.advance", object_type="clock", object_id="platform",
               details={**result, "now": result["now"].isoformat(),
                        "next_timer_at": result["next_timer_at"] and result["next_timer_at"].isoformat()})
    return result
