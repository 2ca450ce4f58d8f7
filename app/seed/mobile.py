"""Demo data of the offline app (issue 22): the demo village doctor's phone is registered and has pulled its packet
(leases on their assigned tasks; `GET /api/mobile/v1/devices`), and one visit entered on it offline, for a task the
doctor had meanwhile completed from the web, came back as a conflict (409 `task_completed_elsewhere`; the entered form is left as a note
on the task), which the doctor then recorded as an ad-hoc visit: a 随访 encounter from `mobile` on the resident record.

Everything goes through the mobile services, as the phone's calls would."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.auth.services import find_user, principal_for
from app.core import clock
from app.core.db import session
from app.core.errors import DomainError
from app.mobile import services as mobile
from app.mobile.models import MobileDevice
from app.residents import queries as residents
from app.tasks import services as task_services
from app.workflows.models import HumanTask

VD = "village_doctor1"
DEVICE = "demo-phone-village-doctor1"
COMPLETION = "demo-offline-visit-0001"


def seed_mobile() -> dict[str, int]:
    """{} when already there, or without the demo doctor or a completed task of theirs to show the conflict on."""
    if session().scalars(select(MobileDevice.id).limit(1)).first() is not None:
        return {}
    user = find_user(VD)
    if user is None:
        return {}
    doctor = principal_for(user)
    device = mobile.device_for(doctor, DEVICE, label="演示手机 (Android Chrome)")
    packet = mobile.pull(doctor, device, None)
    task = session().scalars(
        select(HumanTask).where(HumanTask.status == "completed", HumanTask.completed_by == VD,
                                HumanTask.resident_id.is_not(None),
                                HumanTask.resident_id.in_(residents.resident_ids_in_scope(doctor)))
        .order_by(HumanTask.completed_at.desc(), HumanTask.id.desc()).limit(1)).first()
    if task is None:
        return {"mobile_devices": 1, "mobile_leases": len(packet["leases"])}
    fields = ((task_services.form_of(task) or {}).get("schema") or {}).get("properties") or {}
    data = {k: v for k, v in (task.data or {}).items() if k in fields and isinstance(v, (str, int, float, bool))}
    body = {"completion_id": COMPLETION, "task_id": task.id, "data": data, "observations": [],
            "completed_at_device": clock.now() - timedelta(hours=20)}
    try:
        mobile.complete(doctor, device, body)
    except DomainError as conflict:                  # the 409 the phone got (stored with the form as entered)
        if conflict.code != "completion_conflict":
            raise
    mobile.resolve(doctor, device, COMPLETION, "record_visit")
    return {"mobile_devices": 1, "mobile_leases": len(packet["leases"]), "mobile_conflicts": 1}
