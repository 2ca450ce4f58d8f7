"""Demo data of device readings (issue 22.4): the demo village's first resident has a BP cuff and a glucometer whose
vendor cloud sent a week of morning readings (home values on the record, 家用设备), and one reading of a cuff nobody
registered waits in the review queue (`GET /api/v1/devices/readings?status=unknown_device`).

Readings go through the real connector (`connectors.devices.services`: stored, then recorded through the intake)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.principal import SYSTEM
from app.core import clock
from app.core.db import session
from connectors.devices import services as devices
from connectors.devices.models import DeviceRegistration

from .recognition import demo_resident

CLIENT = "demo-vendor-cloud"
CUFF, METER, STRAY = ("demo-bp", "BP-DEMO-0001"), ("demo-glucose", "GL-DEMO-0001"), ("demo-bp", "BP-DEMO-0999")


def seed_devices() -> dict[str, int]:
    """Register the demo devices and deliver their readings once; {} when already there or no resident."""
    if session().scalars(select(DeviceRegistration).limit(1)).first() is not None:
        return {}
    resident = demo_resident()
    if resident is None:
        return {}
    devices.register(SYSTEM, vendor=CUFF[0], serial=CUFF[1], kind="bp", resident_id=resident.id)
    devices.register(SYSTEM, vendor=METER[0], serial=METER[1], kind="glucose", resident_id=resident.id)
    morning = clock.now().replace(hour=23, minute=30, second=0, microsecond=0) - timedelta(days=8)  # 07:30 Beijing
    readings, recorded = [], 0
    for day in range(7):
        at = (morning + timedelta(days=day)).isoformat()
        readings.append({"reading_id": f"demo-bp-{day}", "serial": CUFF[1], "kind": "bp", "measured_at": at,
                         "systolic": 138 + (day * 7) % 13, "diastolic": 86 + (day * 5) % 9, "pulse": 72 + day % 5})
    answer = devices.receive_payload(CLIENT, CUFF[0], {"readings": readings + [
        {"reading_id": "demo-stray-1", "serial": STRAY[1], "kind": "bp", "measured_at": morning.isoformat(),
         "systolic": 150, "diastolic": 95}]})
    recorded += sum(1 for r in answer["results"] if r["status"] == "recorded")
    glucose = [{"reading_id": f"demo-gl-{day}", "serial": METER[1], "kind": "glucose", "meal": "fasting",
                "measured_at": (morning + timedelta(days=day, minutes=-20)).isoformat(),
                "glucose_mmol_l": round(6.4 + (day * 3) % 7 / 10, 1)} for day in range(0, 7, 2)]
    answer = devices.receive_payload(CLIENT, METER[0], {"readings": glucose})
    recorded += sum(1 for r in answer["results"] if r["status"] == "recorded")
    return {"devices": 2, "device_readings": recorded, "device_readings_unknown": 1}
