"""FIRST tables (the hit policy SpiffWorkflow applies to every table): rules are read top-down, so overlaps are
intended and are not findings; a rule earlier rules always pre-empt and the inputs no rule covers are reported as
warnings, and never refuse the deploy, not even for a clinical decision. Evaluation is first-match as in bare
SpiffWorkflow."""
from __future__ import annotations

import pytest

from tests.compat.conftest import clinical, model, upload
from tests.compat.harness import by_process, run_bare

FILES = model("visit_interval.dmn", "plan_visit.bpmn")


def _warnings(body):
    return [w for w in body["warnings"] if w.startswith("visit_interval:")]


def test_a_shadowed_rule_and_a_gap_are_warnings_and_the_overlap_is_not_reported(platform):
    body = platform.deploy(FILES)
    warnings = _warnings(body)
    assert len(warnings) == 2, body
    assert "rule 3 never fires: earlier rules 1, 2 cover every input it accepts" in warnings[0]
    assert "gap" in warnings[1] and "'risk_score': -1" in warnings[1]
    assert not any("overlap" in w for w in warnings)


@pytest.mark.parametrize(("score", "days"), [(25, 14), (12, 14), (3, 90)])
def test_the_first_matching_rule_answers_as_in_bare_spiff(platform, score, days):
    platform.deploy(FILES)
    platform.start("plan_visit", {"risk_score": score})
    [ours] = by_process(platform.outcomes())["plan_visit"]
    [bare] = by_process(run_bare(FILES, "plan_visit", {"risk_score": score}, []))["plan_visit"]
    assert ours.comparable(["interval_days", "weeks"]) == bare.comparable(["interval_days", "weeks"])
    assert (ours.status, ours.data["interval_days"]) == ("completed", days)


def test_a_clinical_first_table_also_deploys_with_its_findings_as_warnings(platform):
    resp = upload(platform.api, "visit_interval.dmn", clinical("visit_interval.dmn", "T98"))
    assert resp.status_code == 201, resp.json
    assert len(_warnings(resp.json)) == 2
