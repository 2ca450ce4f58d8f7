"""Deliver a message by name: correlate it into waiting instances (found by SQL) or start processes whose start
event waits for it. Callers (webhooks, connectors, other processes) never touch the engine."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from app import engine as eng
from app.core.db import session
from app.engine import runtime

from . import bindings, runner
from .deploy import latest_process_versions
from .models import MessageSubscription, ProcessInstance, ProcessVersion


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


def _correlation_hashes(message_name: str, payload: Mapping[str, Any]) -> set[str]:
    """The correlation-value hashes this payload carries, per deployed version that waits for the message."""
    s = session()
    version_ids = {row for (row,) in s.execute(
        select(ProcessInstance.process_version_id).join(
            MessageSubscription, MessageSubscription.instance_id == ProcessInstance.id)
        .where(MessageSubscription.message_name == message_name).distinct())}
    hashes = set()
    for pv in s.execute(select(ProcessVersion).where(ProcessVersion.id.in_(version_ids))).scalars():
        ctx = runtime.Context(spec_json=pv.spec_json, spec_key=f"{pv.process_id}:{pv.content_hash}",
                              helpers=bindings.SCRIPT_HELPERS)
        try:
            hashes.add(runtime.correlation_hash(runtime.message_correlation(ctx, message_name, payload)))
        except eng.MessageNotWaiting:
            continue
    return hashes


def waiting_instances(message_name: str, payload: Mapping[str, Any]) -> list[int]:
    hashes = _correlation_hashes(message_name, payload)
    if not hashes:
        return []
    return sorted({i for (i,) in session().execute(select(MessageSubscription.instance_id).where(
        MessageSubscription.message_name == message_name, MessageSubscription.correlation_hash.in_(hashes)))})


def deliver(message_name: str, payload: Mapping[str, Any], *, actor: runner.Actor, start: bool = True,
            business_key: str | None = None, org_code: str | None = None,
            resident_id: int | None = None) -> Delivery:
    """Correlate into every instance waiting for this message with these correlation values; if none waits and
    `start`, start each process whose start event listens for it."""
    result = Delivery(message_name)
    for instance_id in waiting_instances(message_name, payload):
        try:
            runner.correlate(instance_id, message_name, payload, actor)
            result.correlated.append(instance_id)
        except (eng.MessageNotWaiting, runner.InvalidState):
            continue
    if not result.correlated and start:
        for process_id in catalog().get(message_name, {}).get("starts", []):
            inst = runner.start_instance(process_id, actor=actor, message=(message_name, payload),
                                         business_key=business_key, org_code=org_code, resident_id=resident_id)
            result.started.append(inst.id)
    return result
