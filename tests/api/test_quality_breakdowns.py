"""Managers' breakdowns and 转诊对账 (issue 20.6) on the hand-counted county of test_quality (period 2026-06).

Residents at 2026-06-30: 石门镇 (C01T01) 甲 乙 丙 丁 己 辛 壬 = 7, 桃源镇 (C01T02) 戊 庚 = 2; ages 甲 60, 乙 70, 丙 50,
丁 55, 戊 45, 己 62, 庚 58, 辛 30, 壬 10 → <35: 2, 45-54: 2, 55-64: 4, 65-74: 1; men 甲 丙 戊 庚 辛 = 5, women 4.
Enrolled: HTN 甲 乙 丙 丁 戊 = 5, T2DM 己 庚 = 2 (one disease each). Risk: HTN HIGH 甲, LOW 丁, VERY_HIGH 戊, ungraded
乙 丙. 血压控制率 by township: 石门镇 甲 乙 丙 of 甲 乙 丙 丁 = 75.0 %, 桃源镇 0 of 戊 = 0.0 %, county 60.0 %.

Referrals (June): the network has 甲 up on 06-05 (上塘村 → 心内科) and 丙 down on 06-20 (心内科 → 下湾村); the HIS
reports 甲 up on 06-06 (matches: same person, direction, within 2 days), the insurance platform reports 戊 up to
省人民医院 on 06-10 with 12,345.67 元 total (no network referral → unmatched), so 丙's down-referral is unreported.
"""
from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core import db
from app.intervention.models import Complication, InterventionCase
from app.referral.models import Referral, ReportedReferral
from app.residents import idcard
from app.residents.models import Resident
from tests.api import test_quality, test_webhooks
from tests.api.test_quality import PEOPLE, PERIOD
from tests.api.test_webhooks import signed_post

URL = "/api/v1/quality/breakdowns"
SUMMARY = "/api/v1/quality/referral-summary"
JUNE = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)


@pytest.fixture()
def small_county(app, county):
    """The hand-counted county of test_quality (residents, enrolments, follow-ups)."""
    return test_quality.small_county.__wrapped__(app, county)


@pytest.fixture()
def integration_client(app, county):
    return test_webhooks.integration_client.__wrapped__(app, county)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    yield from test_webhooks._fresh_rate_limits.__wrapped__(app)


def _figures(api, **query):
    qs = "&".join(f"{k}={v}" for k, v in {"period": PERIOD, **query}.items())
    resp = api.get(f"{URL}?{qs}")
    assert resp.status_code == 200, resp.json
    return resp.json, {f["id"]: {g["label"]: g["count"] for g in f["groups"]} for f in resp.json["figures"]}


def test_population_and_disease_spectrum_equal_the_hand_counts(login_as, small_county):
    body, figs = _figures(login_as("supervisor"))
    assert figs["residents_by_org"] == {"石门镇卫生院": 7, "桃源镇卫生院": 2}
    assert figs["residents_by_age_band"] == {"<35": 2, "45-54": 2, "55-64": 4, "65-74": 1}
    assert figs["residents_by_sex"] == {"男": 5, "女": 4}
    assert figs["enrolled_by_disease"] == {"高血压": 5, "2型糖尿病": 2}
    assert figs["enrolled_by_disease_risk"]["高血压 · 高危"] == 1
    assert sum(figs["enrolled_by_disease_risk"].values()) == 7
    assert figs["comorbidity"] == {"1 种慢病": 7}
    assert figs["new_by_disease"] == {}
    assert _figures(login_as("supervisor"), period="2026-03")[1]["new_by_disease"] == {"高血压": 1}
    assert [s["code"] for s in body["sections"]] == ["population", "disease", "cost", "resources", "outcomes"]
    assert any("床位" in text for s in body["sections"] for text in s["not_held"])


def test_outcome_comparison_sets_each_township_against_the_county(login_as, small_county):
    body, _ = _figures(login_as("supervisor"), section="outcomes")
    (bp,) = [c for c in body["comparisons"] if c["indicator_id"] == "htn_bp_control_rate" and c["by"] == "org"]
    assert bp["reference"] == 60.0
    assert {g["label"]: (g["value"], g["versus"]) for g in bp["groups"]} == {
        "石门镇卫生院": (75.0, 15.0), "桃源镇卫生院": (0.0, -60.0)}


def test_a_group_drills_down_to_its_residents_and_is_audited(app, login_as, small_county):
    api = login_as("supervisor")
    resp = api.get(f"{URL}/residents_by_age_band/members?period={PERIOD}&key=55-64")
    assert resp.status_code == 200, resp.json
    assert resp.json["total"] == 4
    assert sorted(i["resident_name"] for i in resp.json["items"]) == ["丁", "己", "庚", "甲"]
    with app.app_context():
        audited = db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "quality_breakdown"))
    assert audited == 1


def test_a_township_sees_its_own_tree_and_404_outside(login_as, small_county):
    township = login_as("township_public_health", org="C01T02")
    _, figs = _figures(township)
    assert figs["residents_by_org"] == {"东坞村卫生室": 2}
    assert township.get(f"{URL}?period={PERIOD}&org_code=C01T01").status_code == 404
    assert township.get(f"{URL}/residents_by_org/members?period={PERIOD}&org_code=C01T01&key=C01T01V01"
                        ).status_code == 404
    assert township.get(f"{SUMMARY}?period={PERIOD}&org_code=C01T01").status_code == 404


def test_bad_breakdown_input_answers_with_a_code(login_as, small_county):
    api = login_as("supervisor")
    assert api.get(f"{URL}?period={PERIOD}&section=nope").status_code == 422
    assert api.get(f"{URL}?period=2099-01").json["code"] == "period_in_future"
    missing = api.get(f"{URL}/nope/members?period={PERIOD}&key=x")
    assert (missing.status_code, missing.json["code"]) == (404, "figure_not_found")
    bad_key = api.get(f"{URL}/residents_by_sex/members?period={PERIOD}&key=X")
    assert (bad_key.status_code, bad_key.json["code"]) == (422, "invalid_key")
    assert api.get(f"{URL}/residents_by_sex/members?period={PERIOD}").status_code == 422     # key required
    assert login_as("trainer").get(f"{URL}?period={PERIOD}").status_code == 403


@pytest.fixture()
def centre_case(app, small_county):
    with app.app_context(), db.unit_of_work() as s:
        case = InterventionCase(
            case_no="JR202606001", status="closed", resident_id=small_county["甲"], resident_name="甲",
            org_code="C01D01", org_path=_path(s, "C01D01"), doctor_user_id=1, service_line="coronary",
            diagnosis="冠心病", procedure_code="36.06", procedure_name="冠脉支架置入", admitted_on=date(2026, 6, 1),
            discharged_on=date(2026, 6, 6), los_days=5, drg_code="FM19", total_charge=42000.0, case_cost=38000.5,
            margin=3999.5, readmitted_30d=True, created_at=JUNE, updated_at=JUNE)
        s.add(case)
        s.flush()
        s.add(Complication(case_id=case.id, kind="bleeding", grade="II", occurred_at=JUNE, checkpoint="48h",
                           registered_at=JUNE))


def _path(s, code):
    from app.org.models import Organization
    return s.scalars(select(Organization.path).where(Organization.code == code)).one()


def test_cost_use_and_outcomes_read_the_centres_discharged_cases(login_as, centre_case):
    body, figs = _figures(login_as("supervisor"))
    (cost,) = [f for f in body["figures"] if f["id"] == "drg_cost_by_line"]
    assert [(g["count"], g["sums"]) for g in cost["groups"]] == [
        (1, {"total_charge": 42000.0, "case_cost": 38000.5, "margin": 3999.5})]
    (use,) = [f for f in body["figures"] if f["id"] == "centre_cases"]
    assert use["groups"][0]["sums"] == {"los_days": 5.0}
    assert figs["drg_cost_by_group"] == {"FM19": 1}
    assert sum(figs["centre_complications"].values()) == 1
    assert sum(figs["centre_readmissions"].values()) == 1


# -- reported referrals --------------------------------------------------------------------------------------------

def _id_number(app, resident_id):
    """The ID number small_county registered the resident with (it is stored encrypted)."""
    with app.app_context():
        name = db.session().get(Resident, resident_id).name
    i = list(PEOPLE).index(name)
    _village, born, sex = PEOPLE[name]
    return idcard.generate(random.Random(100 + i), area_code="330127", birth_date=born, sex=sex)


def _report(**over):
    return {"source": "his", "source_id": "HIS-0001", "direction": "up", "referred_on": "2026-06-06",
            "from_org_code": "C01T01V01", "to_org_code": "C01D01", "diagnosis_code": "I10", **over}


def test_a_reported_referral_is_stored_once_per_source_id(app, client, integration_client, small_county):
    body = _report(id_number=_id_number(app, small_county["甲"]))
    first = signed_post(client, integration_client, "referral_reported", body)
    assert first.status_code == 200, first.get_json()
    again = signed_post(client, integration_client, "referral_reported", body)
    assert again.get_json()["reported_referral_id"] == first.get_json()["reported_referral_id"]
    assert (first.get_json()["first"], again.get_json()["first"]) == (True, False)
    changed = signed_post(client, integration_client, "referral_reported", {**body, "referred_on": "2026-06-07"})
    assert (changed.status_code, changed.get_json()["code"]) == (409, "reported_referral_conflict")
    with app.app_context():
        (row,) = db.session().scalars(select(ReportedReferral)).all()
        assert "id_number" not in row.payload                    # the ID number stays sealed in the registry


@pytest.mark.parametrize(("change", "code", "path"), [
    ({"source_id": None}, "schema_error", "/"),
    ({"direction": "sideways"}, "schema_error", "/direction"),
    ({"referred_on": "2026-13-01"}, "schema_error", "/referred_on"),
    ({"from_org_code": None}, "schema_error", "/"),
    ({"total_cost_fen": -1}, "schema_error", "/total_cost_fen"),
    ({"from_org_code": "NOPE"}, "unknown_org", "/from_org_code"),
    ({"id_number": "110101199003070000"}, "unknown_resident", "/id_number"),
    ({"referred_on": "2099-01-01"}, "date_in_future", "/referred_on"),
])
def test_a_bad_report_is_refused_whole_with_a_code(app, client, integration_client, small_county, change, code,
                                                   path):
    body = {k: v for k, v in {**_report(id_number=_id_number(app, small_county["甲"])), **change}.items()
            if v is not None}
    resp = signed_post(client, integration_client, "referral_reported", body)
    assert resp.status_code == 422, resp.get_json()
    answer = resp.get_json()
    assert answer["code"] == code
    details = answer["details"]
    paths = [e["path"] for e in details["errors"]] if code == "schema_error" else [details["path"]]
    assert path in paths
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(ReportedReferral)) == 0


@pytest.fixture()
def june_referrals(app, client, integration_client, small_county):
    ids = small_county
    with app.app_context(), db.unit_of_work() as s:
        for n, (who, direction, day, src, dst) in enumerate((("甲", "up", 5, "C01T01V01", "C01D01"),
                                                             ("丙", "down", 20, "C01D01", "C01T01V02"))):
            at = datetime(2026, 6, day, 2, 0, tzinfo=UTC)
            s.add(Referral(referral_no=f"SZ2026060{n}", direction=direction, status="completed", resident_id=ids[who],
                           resident_name=who, source="manual", from_org_code=src, from_org_path=_path(s, src),
                           to_org_code=dst, to_org_path=_path(s, dst), requested_at=at, updated_at=at))
    for body in (_report(id_number=_id_number(app, ids["甲"])),
                 _report(source="insurance", source_id="YB-9", id_number=_id_number(app, ids["戊"]),
                         referred_on="2026-06-10", from_org_code="C01T02V01", to_hospital="省人民医院",
                         kind="transfer", total_cost_fen=1234567, insurance_paid_fen=900000)):
        del_to = {k: v for k, v in body.items() if not (k == "to_org_code" and "to_hospital" in body)}
        resp = signed_post(client, integration_client, "referral_reported", del_to)
        assert resp.status_code == 200, resp.get_json()


def test_the_summary_matches_reports_with_the_networks_referrals(login_as, june_referrals):
    resp = login_as("supervisor").get(f"{SUMMARY}?period={PERIOD}&months=3")
    assert resp.status_code == 200, resp.json
    totals = resp.json["totals"]
    assert (totals["network_up"], totals["network_down"], totals["reported"], totals["matched"]) == (1, 1, 2, 1)
    assert (totals["unmatched_reported"], totals["unmatched_network"]) == (1, 1)
    assert totals["his"] == {"up": 1, "down": 0, "matched": 1}
    assert totals["insurance"] == {"up": 1, "down": 0, "matched": 0}
    assert [m["period"] for m in resp.json["by_month"]] == ["2026-04", "2026-05", "2026-06"]
    orgs = {o["label"]: (o["network_up"], o["network_down"], o["reported"], o["matched"]) for o in resp.json["by_org"]}
    assert orgs == {"石门镇卫生院": (1, 1, 1, 1), "桃源镇卫生院": (0, 0, 1, 0)}


def test_the_unmatched_lists_name_the_residents_and_are_audited(app, login_as, june_referrals):
    api = login_as("supervisor")
    reported = api.get(f"{SUMMARY}/unmatched?period={PERIOD}&side=reported")
    assert [(i["resident_name"], i["source_label"], i["to_name"]) for i in reported.json["items"]] == [
        ("戊", "医保平台", "省人民医院")]
    network = api.get(f"{SUMMARY}/unmatched?period={PERIOD}&side=network")
    assert [(i["resident_name"], i["direction_label"], i["referral_no"]) for i in network.json["items"]] == [
        ("丙", "下转", "SZ20260601")]
    assert api.get(f"{SUMMARY}/unmatched?period={PERIOD}&side=nope").status_code == 422
    with app.app_context():
        audited = db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "quality_referral_unmatched"))
    assert audited == 2


def test_insurance_settlements_show_under_cost(login_as, june_referrals):
    body, _ = _figures(login_as("supervisor"), section="cost")
    (fig,) = [f for f in body["figures"] if f["id"] == "insurance_referral_cost"]
    assert [(g["label"], g["count"], g["sums"]) for g in fig["groups"]] == [
        ("上转", 1, {"total_charge": 12345.67, "insurance_paid": 9000.0})]


# -- Excel exports ---------------------------------------------------------------------------------------------------

def _workbook(resp):
    from io import BytesIO

    from openpyxl import load_workbook
    assert resp.status_code == 200, resp.data[:300]
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(BytesIO(resp.data))


def test_a_breakdown_section_exports_to_excel_with_chinese_headers(login_as, small_county):
    api = login_as("supervisor")
    wb = _workbook(api.get(f"{URL}.xlsx?period={PERIOD}&section=population"))
    assert wb.sheetnames == ["分组", "未掌握"]
    rows = list(wb["分组"].iter_rows(values_only=True))
    assert rows[0][:8] == ("统计期", "机构", "分区", "图表", "分组方式", "分组", "数量", "单位")
    assert {r[5]: r[6] for r in rows[1:] if r[3] == "辖区居民"} == {"石门镇卫生院": 7, "桃源镇卫生院": 2}
    assert {r[2] for r in rows[1:]} == {"人口构成"}
    outcomes = _workbook(api.get(f"{URL}.xlsx?period={PERIOD}&section=outcomes"))
    assert "对比" in outcomes.sheetnames
    compared = list(outcomes["对比"].iter_rows(values_only=True))
    assert ("血压控制率" in (compared[1][0] or "")) and {r[2]: r[3] for r in compared[1:] if r[1] == "机构"
                                                       and "血压" in r[0]} == {"石门镇卫生院": 75.0, "桃源镇卫生院": 0.0}
    assert api.get(f"{URL}.xlsx?period={PERIOD}&section=nope").status_code == 422


def test_the_referral_summary_exports_counts_and_both_unmatched_lists_audited(app, login_as, june_referrals):
    api = login_as("supervisor")
    wb = _workbook(api.get(f"{SUMMARY}.xlsx?period={PERIOD}&months=3"))
    assert wb.sheetnames == ["按月", "按机构", "外部上报未匹配", "平台转诊未上报"]
    months = list(wb["按月"].iter_rows(values_only=True))
    head = months[0]
    assert [r[0] for r in months[1:]] == ["2026-04", "2026-05", "2026-06", "合计"]
    total = dict(zip(head, months[-1], strict=True))
    assert (total["平台上转"], total["平台下转"], total["外部上报合计"], total["已匹配合计"]) == (1, 1, 2, 1)
    assert (total["医院HIS上报上转"], total["医保平台上报上转"], total["医保平台已匹配"]) == (1, 1, 0)
    assert [(r[0], r[1], r[2], r[4], r[6]) for r in wb["外部上报未匹配"].iter_rows(min_row=2, values_only=True)] == [
        ("医保平台", "YB-9", "上转", "戊", "省人民医院")]
    assert [(r[0], r[1], r[2], r[4]) for r in wb["平台转诊未上报"].iter_rows(min_row=2, values_only=True)] == [
        ("医共体平台", "SZ20260601", "下转", "丙")]
    with app.app_context():
        audited = db.session().scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.object_type == "quality_referral_export"))
    assert audited == 1


def _more_varied(ids: dict[str, int], *, more: bool = False) -> None:
    """甲 also has T2DM (enrolled in June, a visit done in June), 己 also has HTN, 乙's schedule is closed; with
    `more`: two more 甲 in 上塘村 and one registered at 石门镇 itself (ties broken by key, r10 before r9), two born on
    an age band's edge at the month's end, 己 a third disease, 庚 a visit done in June."""
    from sqlalchemy import update

    from app.auth.principal import SYSTEM
    from app.follow_up.models import FollowUpSchedule
    from app.residents.services import register_resident
    from tests.api.test_quality import _patient

    if more:
        for i, (name, org, born, sex) in enumerate((("甲", "C01T01V01", date(1991, 6, 30), "M"),
                                                      ("甲", "C01T01V01", date(1991, 7, 1), "F"),
                                                      ("癸", "C01T01", date(1961, 6, 30), "M"))):
            number = idcard.generate(random.Random(900 + i), area_code="330127", birth_date=born, sex=sex)
            ids[f"{name}{i}"] = register_resident({"id_number": number, "name": name, "org_code": org},
                                                  principal=SYSTEM).id
    with db.unit_of_work() as s:
        _patient(s, ids["甲"], "C01T01V01", "t2dm", date(2026, 6, 3), "LOW", date(2026, 9, 1),
                 [(date(2026, 6, 10), date(2026, 6, 12), "home", None, None, 6.1, None)])
        _patient(s, ids["己"], "C01T01V01", "htn", date(2025, 1, 3), None, date(2026, 9, 1), [])
        if more:
            _patient(s, ids["己"], "C01T01V01", "copd", date(2025, 2, 3), "HIGH", date(2026, 9, 1), [])
            _patient(s, ids["甲0"], "C01T01V01", "htn", date(2026, 6, 1), "HIGH", date(2026, 9, 1),
                     [(date(2026, 6, 2), date(2026, 6, 3), "clinic", 150, 95, None, None)])
            _patient(s, ids["癸2"], "C01T01", "htn", date(2026, 1, 5), None, date(2026, 9, 1), [])
        s.execute(update(FollowUpSchedule).where(FollowUpSchedule.resident_id == ids["乙"]).values(status="closed"))


def test_set_based_counts_equal_the_row_built_groups(app, small_county):
    """Every figure counted in SQL (`Figure.counts`, app.quality.counts) gives the groups, labels, order and
    distinct counts of its row-built `group` (what members lists read), on the hand county made more varied:
    甲 also has T2DM (enrolled in June, a visit done in June), 己 also has HTN,
    乙's schedule is closed (not active); four organisations, two months."""
    from app.auth.principal import SYSTEM
    from app.quality import breakdowns

    with app.app_context():
        _more_varied(small_county)
        counted = [f for f in breakdowns.FIGURES.values() if f.counts is not None]
        assert {f.id for f in counted} == {"residents_by_org", "residents_by_age_band", "residents_by_sex",
                                           "enrolled_by_disease", "enrolled_by_disease_risk", "new_by_disease",
                                           "comorbidity", "visits_by_doctor"}
        compared = 0
        for org in (None, "C01T01", "C01T01V01", "C01T02"):
            for period in ("2026-03", "2026-06"):
                ctx = breakdowns._context(SYSTEM, period, org)
                for fig in counted:
                    rows = [(k, label, len({r["key"] for r in grp})) for k, label, grp in fig.group(ctx)]
                    assert fig.counts(ctx) == rows, (fig.id, org, period)
                    compared += bool(rows)
        assert compared > 40
        june = breakdowns._context(SYSTEM, "2026-06", None)
        figures = {f.id: {label: n for _k, label, n in f.counts(june)} for f in counted}
        assert figures["enrolled_by_disease"] == {"高血压": 5, "2型糖尿病": 3}      # 乙 closed; 甲 己 庚
        assert figures["new_by_disease"] == {"2型糖尿病": 1}                         # 甲


def test_outcome_comparisons_read_from_the_materialized_figures_equal_the_live_ones(app, login_as, small_county):
    api = login_as("supervisor")
    live = _figures(api, section="outcomes")[0]["comparisons"]
    assert {(c["indicator_id"], c["by"]) for c in live} == {
        (i, by) for i in ("htn_bp_control_rate", "t2dm_glucose_control_rate") for by in ("org", "doctor")}
    from app.org import queries as org_queries
    from app.quality import queries
    from app.quality.library import library
    from app.quality.refresh import refresh
    with app.app_context():
        refresh(PERIOD)
        stored = queries.stored_groups(library()["htn_bp_control_rate"], PERIOD, org_queries.root_org(), "doctor")
        assert stored is not None and stored[0]["value"] == 60.0
    assert _figures(api, section="outcomes")[0]["comparisons"] == live


def test_members_selected_in_sql_equal_the_row_built_lists(app, small_county):
    """A counted figure's members page (keys selected in SQL, rows built for that page only) is the row-built
    list's page: every key of every counted figure, four organisations, two months, pages of 1, 2 and 50 up to
    one past the end, the same total; a key that is no group is refused alike."""
    from app.auth.principal import SYSTEM
    from app.core.errors import Invalid
    from app.quality import breakdowns

    with app.app_context():
        _more_varied(small_county, more=True)
        compared = 0
        for org in (None, "C01T01", "C01T01V01", "C01T02"):
            for period in ("2026-03", "2026-06"):
                ctx = breakdowns._context(SYSTEM, period, org)
                for fig in (f for f in breakdowns.FIGURES.values() if f.counts is not None):
                    assert fig.members is not None, fig.id
                    for k, _label, n in fig.counts(ctx):
                        key = "" if k is None else str(k)
                        for per_page in (1, 2, 50):
                            for page in range(1, n // per_page + 3):
                                new = breakdowns._members_counted(ctx, fig, key, page, per_page)
                                assert new == breakdowns._members_of_rows(ctx, fig, key, page, per_page), \
                                    (fig.id, org, period, key, page, per_page)
                                assert new["total"] == n
                                compared += len(new["items"])
                    for wrong in ("X", "htn|X|Y", "999999", "C01T09"):
                        with pytest.raises(Invalid):
                            breakdowns._members_counted(ctx, fig, wrong, 1, 50)
        assert compared > 500
        june = breakdowns._context(SYSTEM, "2026-06", "C01T01")
        names = [i["resident_name"] for i in breakdowns._members_counted(
            june, breakdowns.FIGURES["residents_by_org"], "C01T01V01", 1, 50)["items"]]
        assert names == sorted(names) and names.count("甲") == 3
        band = breakdowns._members_counted(june, breakdowns.FIGURES["residents_by_age_band"], "35-44", 1, 50)
        assert [i["age"] for i in band["items"]] == [35]                 # born 1991-06-30; 1991-07-01 is 34
        selfs = breakdowns._members_counted(june, breakdowns.FIGURES["residents_by_org"], "_self", 1, 50)
        assert [i["resident_name"] for i in selfs["items"]] == ["癸"]


def test_rows_for_residents_are_the_subtrees_rows_of_those_residents(app, small_county):
    """`sources.rows_for` builds, for some residents, exactly the rows a read of the whole subtree has for them
    (residents, chronic-disease patients with their visits, schedules and risk levels, visits due)."""
    from app.org import queries as org_queries
    from app.quality import sources
    from app.quality.sources import Window

    with app.app_context():
        _more_varied(small_county, more=True)
        ids = sorted(db.session().scalars(select(Resident.id)))
        for prefix in (org_queries.root_org().path, org_queries.find_org("C01T01").path):
            for w in (Window(date(2026, 3, 1), date(2026, 3, 31), "2026-03"),
                      Window(date(2026, 6, 1), date(2026, 6, 30), "2026-06")):
                for source in ("residents", "chronic_patients", "follow_up_visits"):
                    whole = sources.SOURCES[source].rows(w, prefix)
                    for some in (ids[::2], ids[1::3], ids[:1], []):
                        by_key = sorted((r for r in whole if r["resident_id"] in set(some)), key=lambda r: r["key"])
                        assert sorted(sources.rows_for(source, w, prefix, some), key=lambda r: r["key"]) == by_key, \
                            (source, prefix, w, some)
                    assert whole, (source, prefix, w)
        with pytest.raises(ValueError):
            sources.rows_for("tasks", w, org_queries.root_org().path, ids)


def test_a_comorbid_residents_row_does_not_depend_on_the_order_rows_were_read_in():
    from app.quality.breakdowns import _comorbid

    rows = [{"resident_id": 1, "active": True, "disease": d, "risk_level": level, "enrolled_on": on, "key": f"r1:{d}"}
            for d, level, on in (("htn", "HIGH", date(2025, 2, 3)), ("dm", None, date(2025, 1, 1)),
                                 ("copd", "LOW", date(2025, 1, 1)))]
    assert _comorbid(rows) == _comorbid(rows[::-1]) == _comorbid(rows[1:] + rows[:1])
    assert _comorbid(rows)[0]["risk_level"] == "LOW" and _comorbid(rows)[0]["diseases"] == 3
