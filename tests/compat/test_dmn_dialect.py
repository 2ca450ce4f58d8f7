"""DMN as SpiffWorkflow/SpiffArena writes it (issue 14.8): a decision id other than the file name, label-only
inputs and outputs (results stored under the label), a UNIQUE table with a gap deployed with a warning and
answering null where no rule matches. The clinical pack keeps the strict gate."""
from __future__ import annotations

import io

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException

from tests.compat.conftest import MODELS, clinical, model, upload
from tests.compat.harness import by_process, run_bare

FILES = model("shipping_rules.dmn", "price_order.bpmn")
KEYS = ["fee", "service_tier", "priced", "grand_total"]


def _run(platform, total):
    platform.start("price_order", {"order_total": total})
    [ours] = by_process(platform.outcomes())["price_order"]
    return ours


def test_the_spiffarena_table_deploys_with_a_warning_for_its_gap(platform):
    body = platform.deploy(FILES)
    assert [d["decision_id"] for d in body["decisions"]] == ["shipping_fee"]
    assert any(w.startswith("shipping_fee:") and "gap" in w for w in body["warnings"]), body


@pytest.mark.parametrize(("total", "fee", "tier"), [(50, 10, "standard"), (250, 0, "free")])
def test_outputs_are_stored_under_their_labels_as_in_spiff(platform, total, fee, tier):
    platform.deploy(FILES)
    ours = _run(platform, total)
    [bare] = by_process(run_bare(FILES, "price_order", {"order_total": total}, []))["price_order"]
    assert ours.comparable(KEYS) == bare.comparable(KEYS)
    assert (ours.status, ours.data["fee"], ours.data["service_tier"]) == ("completed", fee, tier)


def test_no_rule_matched_is_null_outputs_not_an_incident(platform):
    platform.deploy(FILES)
    ours = _run(platform, 150)
    assert ours.status == "completed", ours.extra
    assert (ours.data["fee"], ours.data["service_tier"], ours.data["grand_total"]) == (None, None, 150)
    # documented difference: bare SpiffWorkflow leaves the outputs unset, so the script reading `fee` fails there
    with pytest.raises(WorkflowTaskException, match="fee"):
        run_bare(FILES, "price_order", {"order_total": 150}, [])


def test_the_clinical_pack_keeps_the_strict_gate(platform):
    """The same table under a clinical pack id (bp_grade) is refused for its gap, as the 14.3 gate does."""
    xml = (MODELS / "shipping_rules.dmn").read_bytes().replace(b'id="shipping_fee"', b'id="bp_grade"')
    resp = platform.api.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(xml), "bp_grade.dmn")]},
                             content_type="multipart/form-data")
    assert resp.status_code == 422, resp.json
    assert resp.json["code"] == "invalid_definition"
    assert "gap" in resp.json["message"], resp.json
    resp = upload(platform.api, "shipping_fee.dmn", clinical("shipping_rules.dmn", "T99"))
    assert resp.status_code == 422, resp.json
    assert "gap" in resp.json["message"], resp.json


def test_a_new_dmn_file_with_no_rules_yet_deploys_with_a_warning(platform):
    """The stub a modeler saves for a new DMN file (an input without an expression, no rules) deploys as
    SpiffWorkflow parses it, with the gap as a warning; a table with rules still needs every input expression."""
    body = platform.deploy(model("new_decision.dmn"))
    assert [d["decision_id"] for d in body["decisions"]] == ["Decision_draft"]
    assert any(w.startswith("Decision_draft:") and "gap" in w for w in body["warnings"]), body
    with_rule = (MODELS / "new_decision.dmn").read_bytes().replace(
        b"</decisionTable>", b'<rule id="r1"><inputEntry id="r1_i1"><text>"a"</text></inputEntry>'
                             b'<outputEntry id="r1_o1"><text>"b"</text></outputEntry></rule></decisionTable>')
    resp = upload(platform.api, "new_decision.dmn", with_rule)
    assert resp.status_code == 422, resp.json
    assert resp.json["details"]["element_id"] == "Input_1"
    assert "no input expression" in resp.json["message"]
