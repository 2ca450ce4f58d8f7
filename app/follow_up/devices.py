"""Readings from devices (BP cuffs, glucometers) pre-fill the follow-up form: `x-default-from: "device.…"`.

The webhook connector (`device_reading`: id_number, code, value, unit, effective_at) resolves the resident and
calls `record_device_reading`. The reading is kept on the resident's schedules (a cycle started later starts with
it) and copied into the data of an open follow-up task, so the form the doctor opens shows it as the default.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Invalid
from app.tasks import projection as inbox

from .models import FollowUpSchedule

CODES = {"8480-6": "sbp", "8462-4": "dbp", "8867-4": "heart_rate", "1558-6": "fpg", "15074-8": "random_glucose",
         "4548-4": "hba1c", "29463-7": "weight_kg"}
INTEGER_FIELDS = ("sbp", "dbp", "heart_rate")


def record_device_reading(resident_id: int, *, code: str, value: float, unit: str | None,
                          effective_at: datetime, source: str = "device") -> dict[str, Any]:
    """Keep one reading as the latest device value of the resident's follow-ups; returns the device values."""
    field = CODES.get(code)
    if field is None:
        raise Invalid(f"不支持的设备读数代码 {code} (unsupported LOINC code)", field="code")
    value = round(value) if field in INTEGER_FIELDS else float(value)
    with unit_of_work() as s:
        schedules = list(s.scalars(select(FollowUpSchedule).where(FollowUpSchedule.resident_id == resident_id)
                                   .with_for_update()))
        device: dict[str, Any] = {}
        for schedule in schedules:
            device = _merge(schedule.latest_device or {}, field, value, effective_at, source)
            schedule.latest_device, schedule.updated_at = device, clock.now()
        # the open task's projection is what its form resolves against (the inbox writes it)
        inbox.put_open_task_data(resident_id=resident_id, process_id="follow_up", key="device",
                                 value=device or _merge({}, field, value, effective_at, source))
        return device


def _merge(device: dict[str, Any], field: str, value, at: datetime, source: str) -> dict[str, Any]:
    out = {**device, field: value, f"{field}_at": at.isoformat(), "source": source}
    if out.get("sbp") is not None and out.get("dbp") is not None:
        out["bp_readings"] = [{"sbp": out["sbp"], "dbp": out["dbp"]}]
    return out
