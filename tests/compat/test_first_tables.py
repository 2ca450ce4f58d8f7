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


EXPRESSION_FILES = model("refill_interval.dmn", "plan_refill.bpmn")


def test_a_gap_is_found_even_with_an_expression_cell_and_only_a_certain_one(platform):
    """Rule 1's pills-left cell is an expression: it is taken to accept anything, so the negative pill counts it
    might take are no gap, while a daily dose of 0 or less, which both rules refuse, is reported (a warning)."""
    body = platform.deploy(EXPRESSION_FILES)
    warnings = [w for w in body["warnings"] if w.startswith("refill_interval:")]
    assert len(warnings) == 1, body
    assert "gap" in warnings[0] and "'daily_dose': 0" in warnings[0]
    assert not any("unprovable" in w or "无法证明" in w for w in body["warnings"])


@pytest.mark.parametrize(("left", "dose", "days"), [(3, 1, 0), (30, 1, 7), (13, 2, 0), (14, 2, 7)])
def test_a_first_table_with_an_expression_cell_answers_as_in_bare_spiff(platform, left, dose, days):
    data = {"pills_left": left, "daily_dose": dose}
    platform.deploy(EXPRESSION_FILES)
    platform.start("plan_refill", data)
    [ours] = by_process(platform.outcomes())["plan_refill"]
    [bare] = by_process(run_bare(EXPRESSION_FILES, "plan_refill", data, []))["plan_refill"]
    assert ours.comparable(["refill_in_days"]) == bare.comparable(["refill_in_days"])
    assert (ours.status, ours.data["refill_in_days"]) == ("completed", days)


def test_the_gap_is_a_warning_on_a_clinical_first_table_too(platform):
    resp = upload(platform.api, "refill_interval.dmn", clinical("refill_interval.dmn", "T97"))
    assert resp.status_code == 201, resp.json
    assert [w for w in resp.json["warnings"] if "gap" in w]
