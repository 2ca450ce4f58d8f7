"""One vocabulary: codes with Chinese labels, old aliases accepted, and the API the UI reads them from."""
from __future__ import annotations

import pytest

from app.vocabulary import Disease, OrgLevel, RiskLevel, Role, catalog


def test_a_disease_has_one_code_and_its_old_alias_still_parses():
    assert Disease("dm") is Disease.T2DM and Disease.T2DM == "t2dm" and Disease.T2DM.label == "2型糖尿病"
    assert Disease.of_icd10("E11.2") is Disease.T2DM and Disease.T2DM.icd10 == "E11"


def test_risk_levels_are_ordered_and_medium_means_moderate():
    assert RiskLevel("MEDIUM") is RiskLevel.MODERATE
    assert [RiskLevel.rank_of(c) for c in (None, "LOW", "MODERATE", "HIGH", "VERY_HIGH")] == [0, 1, 2, 3, 4]
    assert RiskLevel.label_of(None, "未分层") == "未分层" and RiskLevel.label_of("XX") == "XX"


def test_unknown_codes_are_refused_when_parsed():
    with pytest.raises(ValueError):
        Disease.parse("diabetes_type_9")


def test_the_contract_role_and_level_codes_are_the_vocabulary():
    from app.auth.principal import ROLES
    from app.org.models import LEVELS
    assert ROLES == Role.codes() and LEVELS == OrgLevel.codes() == ("county", "department", "township", "village")


def test_the_api_lists_every_vocabulary_with_labels_without_login(client):
    body = client.get("/api/v1/vocabulary").get_json()
    assert body == catalog()
    assert {"code": "t2dm", "label": "2型糖尿病", "aliases": ["dm", "diabetes"]} in body["disease"]
    assert {"code": "HIGH", "label": "高危"} in body["risk_level"]
    assert {"code": "village_doctor", "label": "村医"} in body["role"]
    assert {"code": "8480-6", "label": "收缩压", "unit": "mm[Hg]"} in body["observation_code"]
    for name in ("org_level", "visit_type", "sex", "frequency", "education_topic", "case_status", "risk_factor"):
        assert body[name] and all(t["code"] and t["label"] for t in body[name]), name


def test_an_old_disease_code_in_a_query_is_read_as_the_new_one(app, login_as):
    doctor = login_as("village_doctor", org="C01T01V01")
    assert doctor.get("/api/v1/follow-ups/overdue?disease=dm").status_code == 200
    refused = doctor.get("/api/v1/follow-ups/overdue?disease=flu")
    assert refused.status_code == 422 and refused.json["code"] == "validation_error"


def test_the_ui_test_snapshot_of_the_vocabulary_is_current():
    import json

    from tests.helpers import REPO
    snapshot = json.loads((REPO / "ui" / "src" / "test" / "vocabulary.json").read_text())
    assert snapshot == catalog(), "refresh it: .venv/bin/python -m app.vocabulary > ui/src/test/vocabulary.json"


def test_the_api_carries_the_display_time_zone_of_the_one_clock(app, client):
    from app.core import clock
    assert client.get("/api/v1/vocabulary").get_json()["display_time_zone"] == [
        {"code": "Asia/Shanghai", "label": "北京时间"}]
    clock.configure("Europe/Berlin")
    try:
        assert client.get("/api/v1/vocabulary").get_json()["display_time_zone"] == [
            {"code": "Europe/Berlin", "label": "Europe/Berlin"}]
    finally:
        clock.configure(app.config["YGT"].display_tz)
