"""Device readings from vendor clouds: store every reading first, then record it on the resident its device is
registered to (through `app.residents.intake.submit`, source `vendor:<vendor>:<serial>`, a home value that never
grades); a reading of an unregistered device waits as `unknown_device` and is recorded when the device is registered.
The reading also pre-fills the resident's open follow-up form (`app.follow_up.devices`), as the webhook path does.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.auth.principal import Principal
from app.core import clock, ratelimit
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, DomainError, Invalid, NotFound
from app.follow_up import devices as follow_up_devices
from app.residents import intake
from app.residents import queries as residents
from app.webhooks.signature import SignedCaller

from .adapters import KINDS, Reading, adapter_for
from .models import DeviceReading, DeviceRegistration

VENDOR = re.compile(r"^[a-z0-9][a-z0-9_-]{1,39}$")
STATUSES = ("recorded", "unknown_device", "invalid")


class DeviceAlreadyRegistered(Conflict):
    code = "device_already_registered"


def check_vendor(vendor: str) -> str:
    if not VENDOR.match(vendor or ""):
        raise Invalid("厂商标识无效 (vendor: 2-40 lower-case letters, digits, - or _)", code="invalid_vendor",
                      field="vendor")
    return vendor


# -- receiving ----------------------------------------------------------------------------------------------------

def receive(caller: SignedCaller, vendor: str, body: bytes) -> dict[str, Any]:
    """One signed delivery of readings; each reading answers for itself (recorded / duplicate / unknown_device /
    invalid). A body that is not the vendor's format at all is 422 schema_error and nothing is stored."""
    ratelimit.check(caller.client_id)
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Invalid("请求体不是 JSON (body is not JSON)", code="schema_error") from exc
    return receive_payload(caller.client_id, vendor, payload)


def receive_payload(client_id: str, vendor: str, payload: Any) -> dict[str, Any]:
    """The readings of one delivery (already authenticated as `client_id`), each stored, then recorded."""
    check_vendor(vendor)
    readings = adapter_for(vendor)(payload)
    return {"results": [_one(client_id, vendor, reading) for reading in readings]}


def _one(client_id: str, vendor: str, reading: Reading) -> dict[str, Any]:
    with unit_of_work() as s:
        known = s.scalars(select(DeviceReading).where(DeviceReading.vendor == vendor,
                                                      DeviceReading.reading_key == reading.key)).first()
        if known is not None:
            return _result(known, duplicate=True)
        row = DeviceReading(vendor=vendor, reading_key=reading.key, serial=reading.serial or "?",
                            kind=reading.kind or "?", measured_at=reading.measured_at, payload=reading.raw,
                            status="invalid", client_id=client_id, received_at=clock.now())
        try:
            with s.begin_nested():
                s.add(row)
                s.flush()
        except IntegrityError:             # the same reading in a parallel delivery
            known = s.scalars(select(DeviceReading).where(DeviceReading.vendor == vendor,
                                                          DeviceReading.reading_key == reading.key)).one()
            return _result(known, duplicate=True)
        if reading.error is not None:
            row.error_code = reading.error.code
            return _result(row, error=reading.error)
    return _record(row.id, reading)


def _record(reading_id: int, reading: Reading | None = None) -> dict[str, Any]:
    """Record a stored reading on its device's resident (or mark it unknown_device / invalid)."""
    try:
        with unit_of_work() as s:
            row = s.get(DeviceReading, reading_id)
            assert row is not None
            if reading is None:
                reading = adapter_for(row.vendor)({"readings": [row.payload]})[0]
            registration = _registration(row.vendor, row.serial)
            if registration is None:
                row.status, row.error_code = "unknown_device", "unknown_device"
                return _result(row, error=NotFound("设备未登记到居民，读数已保存待核对 (unknown device: stored for review)",
                                                   code="unknown_device"))
            assert reading.measured_at is not None
            facts = [intake.ObservationFact(code=f.code, value=f.value, unit=f.unit, effective_at=reading.measured_at,
                                            client_id=_client_id(row.vendor, row.reading_key, f.code))
                     for f in reading.facts]
            source = f"vendor:{row.vendor}:{row.serial}"[:60]
            answer = intake.submit(registration.resident_id, facts, source=source, actor=f"device:{row.vendor}")
            row.status, row.error_code, row.resident_id = "recorded", None, registration.resident_id
            row.observation_ids, row.recorded_at = [r.row.id for r in answer.items], clock.now()
            for recorded in answer.items:
                obs = recorded.row
                if obs.code in follow_up_devices.CODES and obs.value_num is not None:
                    follow_up_devices.record_device_reading(registration.resident_id, code=obs.code,
                                                            value=float(obs.value_num), unit=obs.unit,
                                                            effective_at=obs.effective_at, source=source)
            return _result(row)
    except DomainError as exc:             # a value the record refuses (out of range, …): kept as invalid
        with unit_of_work() as s:
            row = s.get(DeviceReading, reading_id)
            assert row is not None
            row.status, row.error_code = "invalid", exc.code
            return _result(row, error=exc)


def _client_id(vendor: str, key: str, code: str) -> str:
    return "device:" + hashlib.sha256(f"{vendor}\x00{key}\x00{code}".encode()).hexdigest()[:40]


def _registration(vendor: str, serial: str) -> DeviceRegistration | None:
    return session().scalars(select(DeviceRegistration).where(
        DeviceRegistration.vendor == vendor, DeviceRegistration.serial == serial,
        DeviceRegistration.active.is_(True))).first()


def _result(row: DeviceReading, *, duplicate: bool = False, error: DomainError | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"reading_id": row.reading_key, "serial": row.serial,
                           "status": "duplicate" if duplicate else row.status,
                           "observation_ids": list(row.observation_ids or [])}
    if error is not None:
        out["error"] = {"code": error.code, "message": error.message,
                        "details": {k: v for k, v in error.details.items() if k in ("errors", "field")}}
    elif row.error_code and not duplicate:
        out["error"] = {"code": row.error_code, "message": row.error_code, "details": {}}
    return out


# -- registry -----------------------------------------------------------------------------------------------------

def register(p: Principal, *, vendor: str, serial: str, kind: str, resident_id: int) -> dict[str, Any]:
    """Hand a device to a resident in the caller's scope; waiting readings of it are recorded now."""
    check_vendor(vendor)
    if kind not in KINDS:
        raise Invalid("设备类型无效 (kind)", code="invalid_value", field="kind", allowed=list(KINDS))
    with unit_of_work() as s:
        if residents.get_resident(resident_id, p) is None:
            raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
        row = s.scalars(select(DeviceRegistration).where(DeviceRegistration.vendor == vendor,
                                                         DeviceRegistration.serial == serial)
                        .with_for_update()).first()
        if row is not None and row.active and row.resident_id != resident_id:
            raise DeviceAlreadyRegistered("该设备已登记给另一位居民，请先解除 (device registered to another resident)",
                                          vendor=vendor, serial=serial)
        if row is None:
            row = DeviceRegistration(vendor=vendor, serial=serial)
            s.add(row)
        row.kind, row.resident_id, row.active = kind, resident_id, True
        row.registered_by, row.registered_at = p.username, clock.now()
        s.flush()
        record("device.register", object_type="resident", object_id=resident_id, principal=p,
               details={"vendor": vendor, "serial": serial, "kind": kind})
        waiting = list(s.scalars(select(DeviceReading.id).where(
            DeviceReading.vendor == vendor, DeviceReading.serial == serial,
            DeviceReading.status == "unknown_device").order_by(DeviceReading.id)))
        answer = registration_dict(row)
    # each waiting reading in its own transaction, after the registration is committed
    recorded = sum(1 for reading_id in waiting if _record(reading_id)["status"] == "recorded")
    return {**answer, "recorded_waiting": recorded}


def unregister(p: Principal, registration_id: int) -> None:
    with unit_of_work() as s:
        row = s.get(DeviceRegistration, registration_id)
        if row is None or residents.get_resident(row.resident_id, p) is None:
            raise NotFound("设备登记不存在 (registration not found)", registration_id=registration_id)
        row.active = False
        record("device.unregister", object_type="resident", object_id=row.resident_id, principal=p,
               details={"vendor": row.vendor, "serial": row.serial})


def registrations(p: Principal, resident_id: int | None) -> list[dict[str, Any]]:
    stmt = (select(DeviceRegistration).where(DeviceRegistration.active.is_(True),
                                             DeviceRegistration.resident_id.in_(residents.resident_ids_in_scope(p)))
            .order_by(DeviceRegistration.id))
    if resident_id is not None:
        stmt = stmt.where(DeviceRegistration.resident_id == resident_id)
    return [registration_dict(r) for r in session().scalars(stmt)]


def registration_dict(row: DeviceRegistration) -> dict[str, Any]:
    return {"id": row.id, "vendor": row.vendor, "serial": row.serial, "kind": row.kind,
            "resident_id": row.resident_id, "active": row.active, "registered_by": row.registered_by,
            "registered_at": row.registered_at}


def readings(p: Principal, *, status: str | None, resident_id: int | None, page: int,
             per_page: int) -> tuple[list[dict[str, Any]], int]:
    """Stored readings, newest first: those of residents in scope, and the review queue (no resident yet)."""
    in_scope = DeviceReading.resident_id.in_(residents.resident_ids_in_scope(p))
    stmt = select(DeviceReading).where(in_scope | DeviceReading.resident_id.is_(None))
    if status is not None:
        stmt = stmt.where(DeviceReading.status == status)
    if resident_id is not None:
        stmt = stmt.where(DeviceReading.resident_id == resident_id)
    total = session().scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session().scalars(stmt.order_by(DeviceReading.id.desc()).offset((page - 1) * per_page).limit(per_page))
    return [{"id": r.id, "vendor": r.vendor, "reading_id": r.reading_key, "serial": r.serial, "kind": r.kind,
             "measured_at": r.measured_at, "status": r.status, "error_code": r.error_code,
             "resident_id": r.resident_id, "observation_ids": r.observation_ids, "payload": r.payload,
             "received_at": r.received_at} for r in rows], total
