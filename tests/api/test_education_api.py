"""Education: a seeded library tagged by disease, risk and topic; a plan pushes its topics once; reads recorded."""
from __future__ import annotations

from tests.test_follow_up_support import (
    plan_in_force,
    resident_fixture,  # noqa: F401  (the `resident` fixture)
)


def test_the_library_holds_a_dozen_items_tagged_by_disease_and_topic(app, login_as, county):
    items = login_as("village_doctor", org="C01T01V01").get("/api/v1/education/items?disease=t2dm").json
    assert len(items) >= 6 and {i["disease"] for i in items} == {"t2dm", "general"}
    # `dm`, the code these items had before the vocabulary was unified, still finds them
    assert login_as("village_doctor", org="C01T01V01").get("/api/v1/education/items?disease=dm").json == items
    everything = login_as("village_doctor", org="C01T01V01").get("/api/v1/education/items").json
    assert len(everything) >= 12 and all(i["title"] and i["topic"] for i in everything)


def test_an_approved_plan_pushes_its_topics_once_and_reads_are_recorded(app, login_as, resident):
    from app.education import services
    done = plan_in_force(app, login_as, resident, risk="HIGH")
    village = done["village"]
    pushes = village.get(f"/api/v1/residents/{resident}/education").json
    assert {p["code"] for p in pushes} == {"htn_salt", "htn_medication", "htn_danger"}
    with app.app_context():
        assert services.push_for_plan(resident, care_plan_id=done["plan"]["id"], disease="htn", risk_level="HIGH",
                                      topics=["diet_salt", "medication", "danger_signs"], pushed_by="retry") == []
    read = village.post(f"/api/v1/education/pushes/{pushes[0]['id']}/read")
    assert read.status_code == 200 and read.json["read_at"]
    again = village.post(f"/api/v1/education/pushes/{pushes[0]['id']}/read").json
    assert again["read_at"] == read.json["read_at"]


def test_risk_tagged_items_reach_only_their_risk_levels(app, login_as, resident):
    plan_in_force(app, login_as, resident, risk="LOW")
    village = login_as("village_doctor", org="C01T01V01")
    codes = {p["code"] for p in village.get(f"/api/v1/residents/{resident}/education").json}
    assert "htn_danger" not in codes and "htn_salt" in codes
