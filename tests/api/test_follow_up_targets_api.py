"""Individual targets (issue 12.6): follow-up classification uses the patient's active plan targets, falling back to
the guideline default (T04b/T05b) when the plan sets none; the follow-up form shows the target beside the value."""
from __future__ import annotations

from tests.test_follow_up_support import (
    PLAN,
    classified_visit,
    complete,
    htn_visit,
    local_today,
    one_task,
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
    tick,
)


def test_a_plan_target_of_130_80_makes_135_82_uncontrolled(app, login_as, resident):
    plan = {**PLAN, "targets": {"sbp_lt": 130, "dbp_lt": 80, "note": "合并慢性肾脏病，目标<130/80"}}
    done = plan_in_force(app, login_as, resident, content=plan)
    tick(app, 24)
    task = one_task(done["village"], "record_htn_visit_high_risk")
    hint = task["form"]["schema"]["properties"]["signs"]["properties"]["bp_readings"]["description"]
    assert "130/80" in hint and "方案目标" in hint
    complete(done["village"], task, htn_visit(local_today(app), 135, 82))
    visit = classified_visit(app)
    assert (visit.classification, visit.action, visit.next_due_days) == ("控制不满意", "调整用药_2周随访", 14)
    assert visit.decision["target"] == {"sbp_lt": 130, "dbp_lt": 80, "basis": "plan"}
    assert visit.decision["outputs"]["bp_at_target"] is True        # the public-health rule (control-rate indicator)
    timeline = done["village"].get(f"/api/v1/residents/{resident}/follow-ups")
    assert timeline.status_code == 200, timeline.json
    shown = next(v for v in timeline.json["visits"] if v["classification"])
    assert shown["decision"]["target"]["sbp_lt"] == 130


def test_the_same_visit_under_a_140_90_plan_is_controlled(app, login_as, resident):
    done = plan_in_force(app, login_as, resident)                   # PLAN: <140/90
    tick(app, 24)
    complete(done["village"], one_task(done["village"], "record_htn_visit_high_risk"),
             htn_visit(local_today(app), 135, 82))
    visit = classified_visit(app)
    assert (visit.classification, visit.action) == ("控制满意", "常规随访")
    assert visit.decision["target"]["basis"] == "plan"
