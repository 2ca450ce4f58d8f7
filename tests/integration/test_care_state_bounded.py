"""Years of care do not grow any instance's state (issue 23.7): a care plan in force for five years of monthly
follow-ups is a finished `care_plan` instance plus one short `follow_up` instance per cycle, each of about the
same size; the years live in the domain tables (`follow_up_visits`, the schedule) and the history table."""
from __future__ import annotations

from sqlalchemy import select

from app.core import db
from tests.helpers import STATE_LIMIT, state_bytes
from tests.test_follow_up_support import (
    complete,
    deploy_care_models,
    htn_visit,
    local_today,
    make_resident,
    one_task,
    plan_in_force,
    tick,
)

YEARS, INTERVAL_DAYS = 5, 30


def _states(app, process_id: str) -> list[tuple[int, str, int]]:
    from app.workflows.models import ProcessInstance
    with app.app_context():
        rows = db.session().execute(select(ProcessInstance.id, ProcessInstance.status, ProcessInstance.state)
                                    .where(ProcessInstance.process_id == process_id)
                                    .order_by(ProcessInstance.id)).all()
        return [(i, status, state_bytes(state)) for i, status, state in rows]


def test_five_years_of_monthly_follow_ups_keep_every_state_small_and_flat(app, login_as):
    from app.follow_up.models import FollowUpVisit
    deploy_care_models(app)
    resident = make_resident(app)
    village = plan_in_force(app, login_as, resident)["village"]
    cycles = YEARS * 365 // INTERVAL_DAYS
    for n in range(cycles):
        tick(app, INTERVAL_DAYS - 3 if n == 0 else INTERVAL_DAYS)     # the cycle comes due (generated 7 days ahead)
        sbp = 150 if n % 7 == 3 else 132        # now and then uncontrolled: a 2-week recall, then back to monthly
        complete(village, one_task(village, "record_htn_visit_high_risk"), htn_visit(local_today(app), sbp, 84))
        if sbp >= 140:
            tick(app, 14)
            complete(village, one_task(village, "record_htn_visit_high_risk"), htn_visit(local_today(app), 132, 84))

    with app.app_context():
        done = db.session().scalars(select(FollowUpVisit).where(FollowUpVisit.resident_id == resident,
                                                                FollowUpVisit.status == "done")).all()
    assert len(done) >= cycles                                         # five years of visits, in the domain table
    plans = _states(app, "care_plan")
    follow_ups = _states(app, "follow_up")
    assert [s for _i, s, _b in plans] == ["completed"] and len(follow_ups) >= cycles
    sizes = [b for _i, _s, b in plans + follow_ups]
    assert max(sizes) <= STATE_LIMIT, max(sizes)
    finished = [b for _i, s, b in follow_ups if s == "completed"]
    first_year, last_year = finished[:12], finished[-12:]
    # flat: the fifth year's cycles are no larger than the first year's (a few bytes of ids and dates aside)
    assert max(last_year) <= max(first_year) * 1.05 + 200, (first_year, last_year)
