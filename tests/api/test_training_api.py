"""Training through the API, one behaviour per test: who sees and plans what, the dry run's reasons, rescheduling and
cancelling a started session, online presence, item import, upload limits, and storage on an S3-compatible store."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import Workbook

from app.core import clock
from tests.test_follow_up_support import complete, one_task
from tests.training_support import (
    deploy_training,
    fire_timers,
    jpeg,
    pdf_bytes,
    session_body,
)


@pytest.fixture()
def trained(app, login_as):
    deploy_training(app)
    return {"trainer": login_as("trainer", org="C01", username="trainer_c01"),
            "sub": login_as("trainer", org="C01T02", username="trainer_t02"),
            "head": login_as("education_head", org="C01", username="kejiao_head"),
            "t1": login_as("township_doctor", org="C01T01", username="doc_li"),
            "v2": login_as("village_doctor", org="C01T02V01", username="vd_t02")}


def _plan(api, title="年度计划"):
    resp = api.post("/api/v1/training/plans", json={"year": clock.now().year, "title": title})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def _session(api, plan_id, **extra):
    start = (clock.now() + timedelta(days=5)).replace(microsecond=0)
    resp = api.post(f"/api/v1/training/plans/{plan_id}/sessions", json=session_body(start, **extra))
    assert resp.status_code == 201, resp.json
    return resp.json


def _approved(app, trained, **extra):
    trainer, head = trained["trainer"], trained["head"]
    plan = _plan(trainer)
    row = _session(trainer, plan, **extra)
    trainer.post(f"/api/v1/training/plans/{plan}/start", json={"dry_run": False})
    complete(head, one_task(head, "approve_session"), {"approved": True})
    return row["id"]


def test_a_sub_centre_plans_for_its_own_staff_and_the_head_hospital_sees_all(trained):
    sub, trainer = trained["sub"], trained["trainer"]
    plan = _plan(sub, "石门镇中心卫生院培训计划")
    outside = sub.post(f"/api/v1/training/plans/{plan}/sessions",
                       json=session_body(clock.now() + timedelta(days=5), target_org_codes=["C01T01"]))
    assert outside.status_code == 422 and outside.json["code"] == "target_outside_plan"
    _session(sub, plan, target_org_codes=["C01T02"], target_roles=["village_doctor"])
    county_plan = _plan(trainer, "县医院计划")
    assert {p["id"] for p in trainer.get("/api/v1/training/plans").json} == {plan, county_plan}
    assert {p["id"] for p in sub.get("/api/v1/training/plans").json} == {plan}
    assert sub.get(f"/api/v1/training/plans/{county_plan}").status_code == 404
    assert sub.post("/api/v1/training/plans", json={"year": 2026, "title": "越权", "org_code": "C01T01"}
                    ).status_code == 403
    assert trained["t1"].get("/api/v1/training/plans").status_code == 403


def test_the_dry_run_says_why_a_row_would_not_start(app, trained):
    trainer = trained["trainer"]
    plan = _plan(trainer)
    good = _session(trainer, plan)
    nobody = _session(trainer, plan, target_roles=["pharmacist"])
    past = trainer.post(f"/api/v1/training/plans/{plan}/sessions", json=session_body(
        clock.now() - timedelta(days=2))).json
    report = trainer.post(f"/api/v1/training/plans/{plan}/start", json={"dry_run": True}).json
    reasons = {r["session_id"]: (r["result"], r.get("reason")) for r in report["sessions"]}
    assert reasons == {good["id"]: ("would_start", None), nobody["id"]: ("skipped", "empty_roster"),
                       past["id"]: ("skipped", "in_the_past")}
    assert report["would_start"] == 1 and report["started"] == 0


def test_bad_session_rows_are_refused(trained):
    trainer = trained["trainer"]
    plan = _plan(trainer)
    start = clock.now() + timedelta(days=3)
    body = session_body(start)
    assert trainer.post(f"/api/v1/training/plans/{plan}/sessions", json={**body, "hours": 5}
                        ).json["code"] == "hours_exceed_duration"
    assert trainer.post(f"/api/v1/training/plans/{plan}/sessions", json={**body, "venue_lat": None}
                        ).json["code"] == "venue_location_required"
    assert trainer.post(f"/api/v1/training/plans/{plan}/sessions", json={**body, "mode": "live"}
                        ).json["code"] == "online_url_required"
    assert trainer.post(f"/api/v1/training/plans/{plan}/sessions", json={**body, "level": "galactic"}
                        ).status_code == 422


def test_a_venue_picked_on_a_chinese_map_is_stored_as_wgs84(trained):
    from app.training import geo
    trainer = trained["trainer"]
    g_lat, g_lon = geo.wgs84_to_gcj02(30.2741, 120.1551)
    row = _session(trainer, _plan(trainer), venue_lat=g_lat, venue_lon=g_lon, coordinate_system="gcj02")
    assert geo.distance_m(row["venue_lat"], row["venue_lon"], 30.2741, 120.1551) < 1


@pytest.mark.parametrize("answered_first", [False, True], ids=["while-collecting-answers", "waiting-for-sign-in"])
def test_rescheduling_after_approval_tells_the_roster_and_moves_sign_in(app, trained, answered_first):
    from sqlalchemy import select

    from app.core.db import session
    from app.notifications.models import Notification
    trainer = trained["trainer"]
    sid = _approved(app, trained)
    if answered_first:       # every answer is in: the process already waits for sign-in to open
        assert trained["t1"].post(f"/api/v1/training/sessions/{sid}/respond", json={"attend": True}).status_code == 200
    old = trainer.get(f"/api/v1/training/sessions/{sid}").json
    new_start = clock.now() + timedelta(days=10)
    moved = trainer.patch(f"/api/v1/training/sessions/{sid}", json={
        "starts_at": new_start.isoformat(), "ends_at": (new_start + timedelta(hours=3)).isoformat()})
    assert moved.status_code == 200, moved.json
    locked = trainer.patch(f"/api/v1/training/sessions/{sid}", json={"level": "provincial_1"})
    assert locked.status_code == 409 and locked.json["code"] == "training_session_locked"
    with app.app_context():
        kinds = [n.kind for n in session().scalars(select(Notification).where(
            Notification.user_id == trained["t1"].user.id))]
    assert "training_changed" in kinds
    fire_timers(app, minutes=(5 * 24 * 60) - 20)         # the old time passes: sign-in must not open
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "notified"
    assert old["starts_at"] != trainer.get(f"/api/v1/training/sessions/{sid}").json["starts_at"]
    fire_timers(app, minutes=5 * 24 * 60)
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "sign_in_open"


def test_cancelling_ends_the_process_and_tells_the_roster(app, trained):
    trainer = trained["trainer"]
    sid = _approved(app, trained)
    resp = trainer.post(f"/api/v1/training/sessions/{sid}/cancel", json={"reason": "讲师临时出差"})
    assert resp.status_code == 200 and resp.json["phase"] == "cancelled"
    instance = trainer.get(f"/api/v1/training/sessions/{sid}").json["instance_id"]
    with app.app_context():
        from app.core.db import session
        from app.workflows.models import ProcessInstance
        assert session().get(ProcessInstance, instance).status == "terminated"


def test_a_rejected_session_goes_back_to_its_trainer(app, trained):
    trainer, head = trained["trainer"], trained["head"]
    plan = _plan(trainer)
    sid = _session(trainer, plan)["id"]
    trainer.post(f"/api/v1/training/plans/{plan}/start", json={"dry_run": False})
    complete(head, one_task(head, "approve_session"), {"approved": False, "approval_comment": "请补充项目编号"})
    assert trainer.get(f"/api/v1/training/sessions/{sid}").json["phase"] == "revising"
    complete(trainer, one_task(trainer, "revise_session"), {"action": "resubmit", "note": "已补充"})
    assert one_task(head, "approve_session")["instructions"]


def test_online_presence_signs_in_and_counts_the_share(app, trained):
    trainer, t1 = trained["trainer"], trained["t1"]
    sid = _approved(app, trained, mode="live", online_url="https://live.example.org/room/1", venue_lat=None,
                    venue_lon=None, assessment="attendance", level="none")
    start = clock.now().replace(microsecond=0)
    start = trainer.get(f"/api/v1/training/sessions/{sid}").json["starts_at"]
    from datetime import datetime
    begin = datetime.fromisoformat(start)
    fire_timers(app, minutes=(begin - clock.now()).total_seconds() / 60)
    for _ in range(0, 150, 2):                               # 2.5 of 3 hours present: 83%
        assert t1.post(f"/api/v1/training/sessions/{sid}/presence", json={}).status_code == 200
        clock.advance(timedelta(minutes=2))
    clock.advance(begin + timedelta(hours=3, minutes=31) - clock.now())
    fire_timers(app)
    row = next(r for r in trainer.get(f"/api/v1/training/sessions/{sid}/overview").json["roster"]
               if r["user_id"] == t1.user.id)
    assert row["sign_in_method"] == "online" and row["attended_hours"] == 3 and row["presence_share"] > 0.8


def test_item_import_is_all_or_nothing(trained):
    trainer = trained["trainer"]
    wb = Workbook()
    ws = wb.active
    ws.append(["题型", "题干", "选项A", "选项B", "选项C", "答案", "分类"])
    ws.append(["单选", "血压控制满意标准", "<140/90", "<150/90", "<160/100", "A", "高血压"])
    ws.append(["多选", "糖尿病年度检查", "糖化血红蛋白", "眼底", "骨密度", "A", "糖尿病"])     # one answer only
    ws.append(["判断", "血糖≤3.9应紧急转诊", "", "", "", "对", "糖尿病"])
    out = io.BytesIO()
    wb.save(out)
    bad = trainer.post("/api/v1/training/items/import", data={"file": (io.BytesIO(out.getvalue()), "items.xlsx")},
                       content_type="multipart/form-data")
    assert bad.status_code == 422 and bad.json["details"]["errors"][0]["row"] == 3
    assert trainer.get("/api/v1/training/items").json == []
    ws.delete_rows(3)
    out = io.BytesIO()
    wb.save(out)
    good = trainer.post("/api/v1/training/items/import", data={"file": (io.BytesIO(out.getvalue()), "items.xlsx")},
                        content_type="multipart/form-data")
    assert good.status_code == 201 and good.json["imported"] == 2
    kinds = {i["kind"]: i["answer"] for i in trainer.get("/api/v1/training/items").json}
    assert kinds == {"single": ["A"], "true_false": ["T"]}
    template = trainer.get("/api/v1/training/items/template.xlsx")
    assert template.status_code == 200 and template.data[:2] == b"PK"


def test_uploads_over_the_limit_or_of_the_wrong_kind_are_refused_before_storing(app, trained, monkeypatch):
    from app.training import settings as training_settings
    trainer = trained["trainer"]
    sid = _approved(app, trained)
    data_dir = app.config["YGT"].data_dir / "training"
    stored = lambda: sorted(p for p in data_dir.rglob("*") if p.is_file()) if data_dir.exists() else []
    before = stored()
    monkeypatch.setenv("YGT_TRAINING_MAX_PHOTO_MB", "1")
    training_settings.settings.cache_clear()
    try:
        big = trainer.post(f"/api/v1/training/sessions/{sid}/materials?kind=photo",
                           data={"file": (io.BytesIO(b"\xff\xd8\xff" + b"0" * (2 * 1024 * 1024)), "big.jpg")},
                           content_type="multipart/form-data")
        assert big.status_code == 413 and big.json["code"] == "file_too_large"
    finally:
        training_settings.settings.cache_clear()
    png_as_photo = trainer.post(f"/api/v1/training/sessions/{sid}/materials?kind=photo",
                                data={"file": (io.BytesIO(pdf_bytes()), "photo.jpg")},
                                content_type="multipart/form-data")
    assert png_as_photo.json["code"] == "unsupported_file_type"
    assert stored() == before
    assert trained["t1"].post(f"/api/v1/training/sessions/{sid}/materials?kind=slides",
                              data={"file": (io.BytesIO(pdf_bytes()), "x.pdf")},
                              content_type="multipart/form-data").status_code == 404


def test_materials_can_live_in_an_s3_compatible_store(app, trained, monkeypatch):
    moto_server = pytest.importorskip("moto.server")
    import boto3
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        for key, value in {"YGT_TRAINING_STORAGE": "s3", "YGT_TRAINING_S3_ENDPOINT": endpoint,
                           "YGT_TRAINING_S3_BUCKET": "training", "YGT_TRAINING_S3_ACCESS_KEY": "test",
                           "YGT_TRAINING_S3_SECRET_KEY": "test"}.items():
            monkeypatch.setenv(key, value)
        from app.training import settings as training_settings
        training_settings.settings.cache_clear()
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                     aws_secret_access_key="test").create_bucket(Bucket="training")
        trainer = trained["trainer"]
        sid = _approved(app, trained)
        start = trainer.get(f"/api/v1/training/sessions/{sid}").json["starts_at"]
        from datetime import datetime
        photo = jpeg(datetime.fromisoformat(start) + timedelta(minutes=10))
        up = trainer.post(f"/api/v1/training/sessions/{sid}/materials?kind=photo",
                          data={"file": (io.BytesIO(photo), "现场.jpg")}, content_type="multipart/form-data")
        assert up.status_code == 201, up.json
        listed = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                              aws_secret_access_key="test").list_objects_v2(Bucket="training")
        assert [o["Key"] for o in listed["Contents"]] == [f"sessions/{sid}/" + listed["Contents"][0]["Key"].split("/")[-1]]
        assert trained["t1"].get(f"/api/v1/training/materials/{up.json['id']}").data == photo
    finally:
        server.stop()
        from app.training import settings as training_settings
        training_settings.settings.cache_clear()
