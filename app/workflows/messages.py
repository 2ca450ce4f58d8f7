"""Deliver a message by name: correlate it into waiting instances (found by SQL) or start processes whose start
event waits for it. Callers (webhooks, connectors, other processes) never touch the engine.

Which waiting instances a message reaches:
* correlated waits (the instance knows its correlation values): every instance whose known values equal the values
  the message carries (computed with the retrieval expressions the subscription recorded);
* a wait whose values are not known yet (no processVariableCorrelation, or its variable not set when the wait
  began) is *uncorrelated*: the message that reaches it sets the values, as in SpiffWorkflow. An uncorrelated message
  reaches exactly one waiting instance; when several wait, it is refused as ambiguous (409 `ambiguous_message`)
  instead of reaching all of them.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app import engine as eng
from app.core import logs
from app.core.db import session
from app.core.errors import Conflict
from app.engine import runtime

from . import bindings, runner
from .deploy import latest_process_versions
from .models import MessageSubscription

log = logs.get("workflows.messages")


class AmbiguousMessage(Conflict):
    code = "ambiguous_message"


@dataclass
class Delivery:
    message_name: str
    correlated: list[int] = field(default_factory=list)
    started: list[int] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return bool(self.correlated or self.started)

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message_name, "correlated_instances": self.correlated,
                "started_instances": self.started}


def catalog() -> dict[str, dict[str, Any]]:
    """Messages the deployed models use: which processes they start, which wait for them (and on what keys)."""
    out: dict[str, dict[str, Any]] = {}
    for pv in latest_process_versions(session()).values():
        for name in pv.meta.get("start_messages", []):
            out.setdefault(name, {"starts": [], "correlates": []})["starts"].append(pv.process_id)
        for name, keys in (pv.meta.get("catch_messages") or {}).items():
            out.setdefault(name, {"starts": [], "correlates": []})["correlates"].append(
                {"process_id": pv.process_id, "correlation_keys": keys})
    return out


@dataclass
class Waiting:
    correlated: list[int] = field(default_factory=list)     # known correlation values equal the message's
    uncorrelated: list[int] = field(default_factory=list)   # no value known yet: the message would set them


def waiting(message_name: str, payload: Mapping[str, Any]) -> Waiting:
    """The instances a message could reach, found by SQL on (message, known keys, hash of their values)."""
    s = session()
    shapes = s.execute(select(MessageSubscription.retrieval, MessageSubscription.correlation_keys)
                       .where(MessageSubscription.message_name == message_name).distinct()).all()
    found = Waiting()
    for retrieval, keys in shapes:
        known = [k for k in keys.split(",") if k]
        try:
            values = runtime.payload_correlation({k: (retrieval or {})[k] for k in known}, payload,
                                                 helpers=bindings.SCRIPT_HELPERS, message_name=message_name)
        except (eng.MessageNotWaiting, KeyError):
            continue
        ids = s.execute(select(MessageSubscription.instance_id).where(
            MessageSubscription.message_name == message_name, MessageSubscription.correlation_keys == keys,
            MessageSubscription.correlation_hash == runtime.correlation_hash(values))).scalars()
        (found.correlated if known else found.uncorrelated).extend(ids)
    found.correlated = sorted(set(found.correlated))
    found.uncorrelated = sorted(set(found.uncorrelated) - set(found.correlated))
    return found


def waiting_instances(message_name: str, payload: Mapping[str, Any]) -> list[int]:
    found = waiting(message_name, payload)
    return found.correlated or found.uncorrelated


def deliver(message_name: str, payload: Mapping[str, Any], *, actor: runner.Actor, start: bool = True,
            business_key: str | None = None, org_code: str | None = None,
            resident_id: int | None = None, may_correlate: Callable[[int], bool] | None = None,
            authorize_start: Callable[[str], None] | None = None, started_by: str | None = None) -> Delivery:
    """Correlate into the instances waiting for this message with these correlation values (an uncorrelated message
    into the one instance waiting for it); if none waits and `start`, start each process whose start event
    listens for it.

    `may_correlate(instance_id)` hides instances the sender may not reach (outside its scope); `authorize_start(
    process_id)` raises when the sender may not start that process — both before anything is written.
    `started_by` names the user a started instance works for when the actor is not a person (a message another
    instance threw: its starter)."""
    result = Delivery(message_name)
    found = waiting(message_name, payload)
    if may_correlate is not None:
        found.correlated = [i for i in found.correlated if may_correlate(i)]
        found.uncorrelated = [i for i in found.uncorrelated if may_correlate(i)]
    targets = found.correlated
    if not targets and len(found.uncorrelated) > 1:
        raise AmbiguousMessage(f"有 {len(found.uncorrelated)} 个流程实例在等待消息 {message_name}，且消息没有可区分它们"
                               f"的关联值 (message '{message_name}' carries no correlation values that tell apart the "
                               f"{len(found.uncorrelated)} instances waiting for it)",
                               message_name=message_name, instances=found.uncorrelated)
    for instance_id in targets or found.uncorrelated:
        try:
            runner.correlate(instance_id, message_name, payload, actor)
            result.correlated.append(instance_id)
        except (eng.MessageNotWaiting, runner.InvalidState):
            continue
    if not result.correlated and start:
        starts = catalog().get(message_name, {}).get("starts", [])
        if authorize_start is not None:
            for process_id in starts:
                authorize_start(process_id)
        for process_id in starts:
            inst = runner.start_instance(process_id, actor=actor, message=(message_name, payload),
                                         business_key=business_key, org_code=org_code, resident_id=resident_id,
                                         started_by=started_by)
            result.started.append(inst.id)
    return result
