"""Satisfaction answers of trainees (F5.5 满意度), one per trainee and session; a second answer replaces the first
until the summary is written."""
from __future__ import annotations

from sqlalchemy import select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid

from .attendance import my_record
from .errors import SessionLocked
from .models import SatisfactionResponse
from .services import get_session

OPEN_PHASES = ("sign_in_open", "attendance_closed", "materials_done", "exam_open", "exam_closed", "makeup_open",
               "makeup_closed")


def answer(p: Principal, session_id: int, *, overall: int, content: int, lecturer: int, organisation: int,
           comment: str = "") -> SatisfactionResponse:
    with unit_of_work() as s:
        row = get_session(p, session_id)
        if row.phase not in OPEN_PHASES:
            raise SessionLocked("当前不能评价本次培训", phase=row.phase)
        if my_record(row.id, p.user_id) is None:
            raise Invalid("签到后才能评价", code="not_attended")
        found = s.scalars(select(SatisfactionResponse).where(SatisfactionResponse.session_id == row.id,
                                                             SatisfactionResponse.user_id == p.user_id)).first()
        if found is None:
            found = SatisfactionResponse(session_id=row.id, user_id=p.user_id, overall=overall, content=content,
                                         lecturer=lecturer, organisation=organisation, submitted_at=clock.now())
            s.add(found)
        found.overall, found.content, found.lecturer, found.organisation = overall, content, lecturer, organisation
        found.comment, found.submitted_at = comment[:1000], clock.now()
        s.flush()
        return found


def mine(session_id: int, user_id: int) -> SatisfactionResponse | None:
    return session().scalars(select(SatisfactionResponse).where(SatisfactionResponse.session_id == session_id,
                                                                SatisfactionResponse.user_id == user_id)).first()
