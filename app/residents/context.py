"""What the workflow layer needs to know about a resident when an instance starts or a task opens: the managing
organization (the default organization of the instance and its tasks) and the fields inboxes filter by."""
from __future__ import annotations

from app.core.db import session

from .models import Resident


def resident_context(resident_id: int) -> dict | None:
    resident = session().get(Resident, resident_id)
    if resident is None:
        return None
    return {"org_code": resident.org_code, "resident_name": resident.name, "village_code": resident.org_code}
