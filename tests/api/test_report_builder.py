"""Custom reports (issue 20.5) on the hand-counted county of test_quality: a report equals the quality overview's
figures for the same organisation and month, comparisons read the right months, bad definitions answer 422 with a
stable code and path, scope is enforced, exports carry Chinese headers, and monthly delivery is idempotent."""
from __future__ import annotations

from datetime import date
from io import BytesIO

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core import db
from app.notifications.models import Notification
from app.report_builder import queries as rb_queries
from app.report_builder import services as rb_services
from app.report_builder.models import ReportDelivery
from app.seed.reports import seed_reports
from tests.api.test_quality import PERIOD, small_county  # noqa: F401  (fixture)

RUN = "/api/v1/report-builder/run"
pytestmark = pytest.mark.usefixtures("small_county")


def _definition(**over):
    d = {"measures": [{"kind": "indicator", "code": "htn_bp_control_rate"}], "dimensions": ["org"],
         "period": {"from": PERIOD, "to": PERIOD, "granularity": "month"}}
    return {**d, **over}


def _run(api, definition, status=200):
    resp = api.post(RUN, json={"definition": definition})
    assert resp.status_code == status, resp.json
    return resp.json


def _overview(api, period, org=None):
    url = f"/api/v1/quality/overview?period={period}" + (f"&org_code={org}" if org else "")
    return {i["id"]: i for i in api.get(url).json["indicators"]}


def test_report_by_township_equals_the_overview(login_as):
    api = login_as("supervisor")
    got = _run(api, _definition(measures=[{"kind": "indicator", "code": "htn_bp_control_rate"},
                                          {"kind": "indicator", "code": "follow_up_timeliness"},
                                          {"kind": "raw", "code": "enrolments"}]))
    overview = _overview(api, PERIOD)
    rows = {r["key"]: r["cells"] for r in got["rows"]}
    for i, ind in enumerate(("htn_bp_control_rate", "follow_up_timeliness")):
        for child in overview[ind]["children"]:
            cell = rows[child["key"]][i]
            assert (cell["numerator"], cell["denominator"], cell["value"]) == \
                (child["numerator"], child["denominator"], child["value"])
    # hand counts: township 1 holds 甲 乙 丙 丁 (HTN: 甲 乙 丙 controlled) and 己; township 2 holds 戊 and 庚
    assert (rows["C01T01"][0]["numerator"], rows["C01T01"][0]["denominator"]) == (3, 4)
    assert rows["C01T01"][2]["value"] == 5 and rows["C01T02"][2]["value"] == 2
    assert [c["label"] for c in got["columns"]] == ["管理人群血压控制率", "随访及时率", "慢病建档管理人数"]
    assert got["row_dimension"]["label"] == "机构"


def test_months_with_month_on_month_read_the_months_before(login_as):
    api = login_as("supervisor")
    got = _run(api, _definition(dimensions=["org", "period"], compare=["mom", "yoy"],
                                period={"from": "2026-04", "to": "2026-06", "granularity": "month"}))
    assert [c["value_label"] for c in got["columns"]] == ["2026年4月", "2026年5月", "2026年6月"]
    months = {p: _overview(api, p) for p in ("2026-03", "2026-04", "2026-05", "2026-06")}
    t1 = next(r for r in got["rows"] if r["key"] == "C01T01")
    for cell, month, before in zip(t1["cells"], ("2026-04", "2026-05", "2026-06"), ("2026-03", "2026-04", "2026-05"),
                                   strict=True):
        now = next(c for c in months[month]["htn_bp_control_rate"]["children"] if c["key"] == "C01T01")
        base = next(c for c in months[before]["htn_bp_control_rate"]["children"] if c["key"] == "C01T01")
        assert cell["value"] == now["value"]
        assert cell["mom"]["base"] == base["value"]
        if now["value"] is not None and base["value"] is not None:
            assert cell["mom"]["change"] == round(now["value"] - base["value"], 1)
        year_before = next(c for c in _overview(api, "2025" + month[4:])["htn_bp_control_rate"]["children"]
                           if c["key"] == "C01T01")
        assert cell["yoy"]["base"] == year_before["value"] == 0.0      # enrolled in 2025, no visit that year


def test_whole_range_quarter_and_filters(login_as):
    api = login_as("supervisor")
    # 2026 Q2 as one span: follow-ups due April–June: 丙 04-01, 戊 04-20, 己 05-01, 甲 05-20, 庚 06-01, 戊 06-10
    got = _run(api, {"measures": [{"kind": "raw", "code": "follow_ups_due"}, {"kind": "raw", "code": "follow_ups_done"}],
                     "dimensions": ["period"], "period": {"from": "2026-04", "to": "2026-06",
                                                          "granularity": "quarter"}})
    assert [r["label"] for r in got["rows"]] == ["2026年第2季度"]
    assert [c["value"] for c in got["rows"][0]["cells"]] == [6, 5]
    only_women = _run(api, _definition(measures=[{"kind": "raw", "code": "enrolments"}], dimensions=["sex"],
                                       filters={"disease": ["htn"]}))
    assert {r["label"]: r["cells"][0]["value"] for r in only_women["rows"]} == {"女": 2, "男": 3}


def test_bad_definitions_answer_422_with_code_and_path(login_as, monkeypatch):
    api = login_as("supervisor")
    cases = [
        (_definition(measures=[{"kind": "indicator", "code": "nope"}]), "unknown_measure", "/measures/0/code"),
        (_definition(measures=[{"kind": "sql", "code": "x"}]), "unknown_measure", "/measures/0/kind"),
        (_definition(dimensions=["org", "colour"]), "unknown_dimension", "/dimensions/1"),
        (_definition(dimensions=["org", "sex"]), "invalid_report", "/dimensions"),
        (_definition(measures=[{"kind": "raw", "code": "consults"}], dimensions=["disease"]),
         "dimension_not_supported", "/dimensions/0"),
        (_definition(filters={"disease": ["flu"]}), "invalid_filter", "/filters/disease/0"),
        (_definition(filters={"blood": ["A"]}), "unknown_dimension", "/filters/blood"),
        (_definition(period={"from": "2026-13", "to": PERIOD}), "invalid_period", "/period/from"),
        (_definition(compare=[["mom"]]), "invalid_report", "/compare/0"),
        (_definition(period={"from": "2020-01", "to": PERIOD}, dimensions=["period"]), "period_range_too_long",
         "/period"),
        (_definition(period={"from": "2030-01", "to": "2030-02"}), "period_in_future", "/period/from"),
    ]
    for definition, code, path in cases:
        body = _run(api, definition, 422)
        assert (body["code"], body["details"]["path"]) == (code, path), definition
    monkeypatch.setattr(rb_queries, "MAX_ROWS", 1)
    assert _run(api, _definition(), 422)["code"] == "too_many_rows"


def test_scope_an_org_outside_the_callers_is_404(login_as):
    township = login_as("township_public_health", org="C01T02")
    assert township.post(RUN, json={"definition": _definition(org_code="C01T01")}).status_code == 404
    own = _run(township, _definition(org_code="C01T02"))
    assert own["org"]["code"] == "C01T02"
    assert login_as("village_doctor", org="C01T01V01").post(RUN, json={"definition": _definition()}).status_code \
        == 403


def test_xlsx_and_pdf_exports(login_as):
    api = login_as("supervisor")
    body = {"definition": _definition(compare=["mom"]), "name": "血压控制率"}
    resp = api.post("/api/v1/report-builder/export?format=xlsx", json=body)
    assert resp.status_code == 200
    ws = load_workbook(BytesIO(resp.data))["报表"]
    header = [c.value for c in ws[1]]
    assert header == ["机构", "管理人群血压控制率 (%)", "管理人群血压控制率 环比基期", "管理人群血压控制率 环比变化"]
    assert [c.value for c in ws[2]][:2] == ["石门镇卫生院", 75.0]
    pdf = api.post("/api/v1/report-builder/export?format=pdf", json=body)
    assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"


def test_saved_reports_are_private_unless_shared(login_as):
    owner, other = login_as("supervisor"), login_as("supervisor")
    created = owner.post("/api/v1/report-builder/reports", json={"name": "月报", "definition": _definition()})
    assert created.status_code == 201, created.json
    rid = created.json["id"]
    assert other.get(f"/api/v1/report-builder/reports/{rid}").status_code == 404
    assert [r["id"] for r in other.get("/api/v1/report-builder/reports").json["items"]] == []
    shared = owner.put(f"/api/v1/report-builder/reports/{rid}",
                       json={"name": "月报", "definition": _definition(), "shared_role": "supervisor"})
    assert shared.json["shared_role_label"] == "监管人员"
    listed = other.get("/api/v1/report-builder/reports").json["items"]
    assert [(r["id"], r["mine"]) for r in listed] == [(rid, False)]
    assert other.put(f"/api/v1/report-builder/reports/{rid}",
                     json={"name": "x", "definition": _definition()}).status_code == 404
    assert other.delete(f"/api/v1/report-builder/reports/{rid}").status_code == 404
    bad = owner.post("/api/v1/report-builder/reports", json={"name": "坏", "definition": _definition(dimensions=["x"])})
    assert bad.status_code == 422 and bad.json["code"] == "unknown_dimension"
    assert owner.delete(f"/api/v1/report-builder/reports/{rid}").status_code == 204


def test_monthly_delivery_once_per_period_with_a_fake_clock(app, login_as):
    owner, other = login_as("supervisor"), login_as("supervisor")
    rid = owner.post("/api/v1/report-builder/reports", json={
        "name": "血压月报", "definition": _definition(dimensions=["org", "period"], compare=["mom"],
                                                   period={"from": "2026-04", "to": "2026-06"}),
        "schedule_day": 5, "schedule_format": "xlsx"}).json["id"]
    with app.app_context():
        assert rb_services.deliver_due(today=date(2026, 7, 4)) == 0          # not the day yet
        assert rb_services.deliver_due(today=date(2026, 7, 5)) == 1
        assert rb_services.deliver_due(today=date(2026, 7, 6)) == 0          # once per period
        rows = db.session().scalars(select(ReportDelivery)).all()
        assert [(r.report_id, r.period) for r in rows] == [(rid, "2026-06")]
        notes = db.session().scalars(select(Notification).where(Notification.kind == "report_delivery")).all()
        assert [(n.user_id, n.link) for n in notes] == [
            (owner.user.id, f"/api/v1/report-builder/deliveries/{rows[0].id}/download")]
        assert rb_services.deliver_due(today=date(2026, 8, 20)) == 1         # July, the next month
    file = owner.get(f"/api/v1/report-builder/deliveries/{rows[0].id}/download")
    assert file.status_code == 200
    ws = load_workbook(BytesIO(file.data))["报表"]
    assert [c.value for c in ws[1]][1].startswith("2026年4月")             # the range moved to end with June
    assert other.get(f"/api/v1/report-builder/deliveries/{rows[0].id}/download").status_code == 404
    listed = owner.get(f"/api/v1/report-builder/reports/{rid}/deliveries").json["items"]
    assert [d["period"] for d in listed] == ["2026-07", "2026-06"]


def test_demo_report_is_seeded_once(app, login_as):
    login_as("supervisor", username="supervisor")
    with app.app_context():
        assert seed_reports() == {"saved_reports": 1}
        assert seed_reports() == {}


def _pivot(**over):
    d = {k: v for k, v in _definition().items() if k != "dimensions"}
    return {**d, **over}


def test_two_row_dimensions_and_a_column_dimension(login_as):
    api = login_as("supervisor")
    # enrolments: township 1 甲 乙 丙 丁 (HTN) + 己 (T2DM); township 2 戊 (HTN) + 庚 (T2DM)
    got = _run(api, _pivot(measures=[{"kind": "raw", "code": "enrolments"}], rows=["org", "disease"]))
    assert [(r["labels"], r["cells"][0]["value"]) for r in got["rows"]] == [
        (["石门镇卫生院", "高血压"], 4), (["石门镇卫生院", "2型糖尿病"], 1),
        (["桃源镇卫生院", "高血压"], 1), (["桃源镇卫生院", "2型糖尿病"], 1)]
    assert [d["label"] for d in got["row_dimensions"]] == ["机构", "病种"]
    assert got["rows"][0]["cells"][0]["coords"] == {"period": PERIOD, "org": "C01T01", "disease": "htn"}
    # 血压控制率 by township (rows) × sex (columns): township 1 女 1 of 2, 男 2 of 2 (together the overview's 3 of 4)
    by_sex = _run(api, _pivot(rows=["org"], columns=["sex"]))
    assert [c["label"] for c in by_sex["columns"]] == ["女 · 管理人群血压控制率", "男 · 管理人群血压控制率"]
    t1 = by_sex["rows"][0]
    assert [(c["numerator"], c["denominator"]) for c in t1["cells"]] == [(1, 2), (2, 2)]
    # period as one of two row dimensions, three months
    months = _run(api, _pivot(rows=["period", "org"], period={"from": "2026-04", "to": "2026-06",
                                                              "granularity": "month"}))
    assert [r["labels"] for r in months["rows"]][:2] == [["2026年4月", "石门镇卫生院"], ["2026年4月", "桃源镇卫生院"]]
    book = api.post("/api/v1/report-builder/export?format=xlsx",
                    json={"definition": _pivot(measures=[{"kind": "raw", "code": "enrolments"}],
                                               rows=["org", "disease"]), "name": "建档"})
    ws = load_workbook(BytesIO(book.data))["报表"]
    assert [c.value for c in ws[1]] == ["机构", "病种", "慢病建档管理人数 (人)"]
    assert [c.value for c in ws[2]] == ["石门镇卫生院", "高血压", 4]


def test_bad_layouts_answer_422_with_code_and_path(login_as):
    api = login_as("supervisor")
    cases = [
        (_pivot(rows=["org", "disease", "sex"]), "invalid_report", "/rows"),
        (_pivot(rows=["org"], columns=["sex", "period"]), "invalid_report", "/columns"),
        (_pivot(rows=["org"], columns=["org"]), "invalid_report", "/columns"),
        (_pivot(rows=[], columns=["sex"]), "invalid_report", "/rows"),
        (_pivot(rows=["org", "blood"]), "unknown_dimension", "/rows/1"),
        (_pivot(measures=[{"kind": "raw", "code": "consults"}], rows=["org"], columns=["disease"]),
         "dimension_not_supported", "/columns/0"),
        ({**_definition(), "rows": ["org"]}, "invalid_report", "/dimensions"),
    ]
    for definition, code, path in cases:
        body = _run(api, definition, 422)
        assert (body["code"], body["details"]["path"]) == (code, path), definition


def test_a_cell_drills_down_to_its_residents_scoped_and_audited(app, login_as):
    api = login_as("supervisor")
    definition = _pivot(rows=["org", "disease"])
    cell = next(r for r in _run(api, definition)["rows"] if r["key"] == "C01T01|htn")["cells"][0]
    assert (cell["numerator"], cell["denominator"]) == (3, 4)

    def drill(who, part, coords=None, **over):
        return who.post("/api/v1/report-builder/drilldown", json={
            "definition": {**definition, **over}, "measure": "indicator:htn_bp_control_rate",
            "coords": coords or cell["coords"], "part": part})
    with app.app_context():
        before = db.session().scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.object_type == "report_drilldown"))
    den, gap = drill(api, "denominator"), drill(api, "gap")
    assert den.status_code == 200, den.json
    assert den.json["total"] == 4 and len({i["key"] for i in den.json["items"]}) == 4
    assert gap.json["total"] == 1 and gap.json["items"][0]["org_name"].endswith("村卫生室")
    assert {i["disease"] for i in den.json["items"]} == {"htn"}
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(AuditEntry)
                                   .where(AuditEntry.object_type == "report_drilldown")) == before + 2
    # the cell must be one of the report's: other periods, dimensions or an organisation elsewhere are refused
    bad = drill(api, "gap", {"period": "2020-01"})
    assert (bad.status_code, bad.json["code"], bad.json["details"]["path"]) == (422, "invalid_coords",
                                                                                "/coords/period")
    assert drill(api, "gap", {**cell["coords"], "sex": "F"}).json["details"]["path"] == "/coords/sex"
    assert drill(api, "gap", {**cell["coords"], "org": "C01T01V01"}).json["code"] == "invalid_coords"
    assert drill(api, "gap", {**cell["coords"], "org": {"x": 1}}).json["details"]["path"] == "/coords/org"
    township = login_as("township_public_health", org="C01T02")
    assert drill(township, "gap", org_code="C01T01").status_code == 404
    assert drill(login_as("village_doctor", org="C01T01V01"), "gap").status_code == 403


def test_the_org_picker_lists_the_callers_scope(login_as):
    county = login_as("supervisor").get("/api/v1/report-builder/options").json["orgs"]
    assert [(o["code"], o["depth"]) for o in county][:3] == [("C01", 0), ("C01T01", 1), ("C01T01V01", 2)]
    township = login_as("township_public_health", org="C01T02").get("/api/v1/report-builder/options").json["orgs"]
    assert [o["code"] for o in township] == ["C01T02", "C01T02V01"]


def test_a_report_over_the_limit_runs_as_a_job_and_is_kept_as_xlsx(login_as, monkeypatch):
    api = login_as("supervisor")
    monkeypatch.setattr(rb_queries, "MAX_ROWS", 1)
    definition = _pivot(measures=[{"kind": "raw", "code": "enrolments"}], rows=["org", "disease"])
    refused = _run(api, definition, 422)
    assert (refused["code"], refused["details"]["job"]) == ("too_many_rows", True)
    started = api.post("/api/v1/report-builder/jobs", json={"definition": definition, "name": "各乡镇分病种建档"})
    assert started.status_code == 202, started.json
    job = api.get(f"/api/v1/report-builder/jobs/{started.json['id']}").json     # eager jobs: done already
    assert (job["status"], job["percent"], job["title"]) == ("done", 100.0, "各乡镇分病种建档")
    ws = load_workbook(BytesIO(api.get(job["download"]).data))["报表"]
    assert [c.value for c in ws[1]] == ["机构", "病种", "慢病建档管理人数 (人)"]
    assert ws.max_row == 5
    assert [j["id"] for j in api.get("/api/v1/report-builder/jobs").json["items"]] == [job["id"]]
    other = login_as("supervisor")
    assert other.get(job["download"]).status_code == 404
    assert other.get(f"/api/v1/report-builder/jobs/{job['id']}").status_code == 404
    bad = api.post("/api/v1/report-builder/jobs", json={"definition": _pivot(rows=["blood"])})
    assert (bad.status_code, bad.json["code"]) == (422, "unknown_dimension")
    outside = login_as("township_public_health", org="C01T02").post(
        "/api/v1/report-builder/jobs", json={"definition": _pivot(org_code="C01T01")})
    assert outside.status_code == 404
