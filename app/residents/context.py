"""What the workflow layer needs to know about a resident when an instance starts or a task opens: the managing
organization (the default organization of the instance and its tasks) and the fields inboxes filter by."""
from __future__ import annotations

from sqlalchemy import select

from app.core.db import session

from .models import Resident


def resident_context(resident_id: int) -> dict | None:
    resident = session().get(Resident, resident_id)
    if resident is None:
        return None
    return {"org_code": resident.org_code, "resident_name": resident.name, "village_code": resident.org_code}


def resident_contexts(resident_ids: list[int]) -> dict[int, dict]:
    """`resident_context` of many residents with one query per thousand (batch starts)."""
    found: dict[int, dict] = {}
    ids = list(resident_ids)
    for i in range(0, len(ids), 1000):
        for rid, org_code, name in session().execute(select(Resident.id, Resident.org_code, Resident.name)
                                                     .where(Resident.id.in_(ids[i:i + 1000]))):
            found[rid] = {"org_code": org_code, "resident_name": name, "village_code": org_code}
    return found
