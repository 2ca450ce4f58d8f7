"""The demo county's training (业务培训), made through the real services and the `training_session` process on the
platform clock: the head hospital's annual plan with

* a **past session** two weeks ago (高血压基层规范化管理): approved by the 科教科, notice and answers, QR + geofence
  sign-in (one late, one manual sign-in after a refused GPS fix), sign-out, slides and on-site photos, the exam
  (one trainee failed and passed the make-up), evaluations, the summary and 学时/学分 on everyone's transcript;
* an **upcoming session** in ten days (糖尿病足筛查适宜技术推广): approved and announced, answers coming in
  (village_doctor1 still has to answer — it is in their inbox);
* a row not yet started, and a sub-centre plan of 石门镇中心卫生院 (trainer_shimen) with one planned row.

Idempotent: a second run finds the head hospital's plan and adds nothing.
"""
from __future__ import annotations

import io
import random
from datetime import UTC, datetime, time, timedelta

from flask import current_app
from PIL import Image, ImageDraw
from sqlalchemy import select

from app.auth.queries import users_by_id
from app.core import clock
from app.core.db import session
from app.reports.render import CJK_FONTS, html_to_pdf
from app.tasks import queries as task_queries
from app.tasks.completion import complete
from app.training import attendance, exams, feedback, materials, qr, services
from app.training.errors import SignInRefused
from app.training.exams import paper_of
from app.training.models import ExamAttempt, TrainingPlan, TrainingSession
from app.training.settings import settings
from app.workflows import jobs
from app.workflows.deploy import latest_process_versions

PLAN_TITLE = "县人民医院{year}年度基层业务培训计划"
VENUE = {"venue": "青溪县人民医院门诊楼五楼学术报告厅", "venue_lat": 29.6052, "venue_lon": 119.0428,
         "geofence_m": 200}
ITEMS = (
    ("single", "基本公共卫生服务规范中，65岁以下高血压患者血压控制满意的标准是", ["<140/90 mmHg", "<150/90 mmHg",
     "<130/80 mmHg", "<160/100 mmHg"], ["A"], "高血压"),
    ("single", "65岁及以上高血压患者随访时血压控制满意的标准是", ["<140/90 mmHg", "<150/90 mmHg", "<130/80 mmHg",
     "<120/80 mmHg"], ["B"], "高血压"),
    ("true_false", "高血压患者随访收缩压≥180 mmHg 和/或舒张压≥110 mmHg 时，应紧急处理后转诊", [], ["T"], "高血压"),
    ("multiple", "高血压患者出现下列哪些情况应在处理后紧急转诊", ["意识改变或剧烈头痛", "严重心悸、胸闷", "妊娠期血压升高",
     "血压 136/84 mmHg"], ["A", "B", "C"], "高血压"),
    ("single", "对转诊的高血压患者，基层医生应在多长时间内主动随访转诊情况", ["3天", "1周", "2周", "1个月"], ["C"], "高血压"),
    ("true_false", "血压控制满意、无药物不良反应的患者，预约下一次随访时间为3个月", [], ["T"], "高血压"),
    ("single", "2型糖尿病患者随访中，空腹血糖≥16.7 mmol/L 或 ≤3.9 mmol/L 时应", ["继续观察", "调整饮食",
     "紧急处理后转诊", "2周后复查"], ["C"], "糖尿病"),
    ("multiple", "糖尿病足筛查的基本内容包括", ["足部外观与皮肤", "足背动脉搏动", "10 g 尼龙丝感觉检查", "骨密度"],
     ["A", "B", "C"], "糖尿病"),
)


_TODAY: list = []          # the real today, fixed when seeding starts (the clock moves while it runs)


def _at(day: int, hh: int, mm: int = 0) -> datetime:
    today = _TODAY[0] if _TODAY else clock.today()
    return datetime.combine(today + timedelta(days=day), time(hh, mm), tzinfo=clock.local_tz()).astimezone(UTC)


def _go(when: datetime) -> None:
    clock.advance(when - clock.now())


def _photo(taken: datetime, label: str) -> bytes:
    """A drawn stand-in for an on-site photo, with the EXIF time a phone camera would write."""
    img = Image.new("RGB", (640, 420), (236, 240, 244))
    draw = ImageDraw.Draw(img)
    draw.rectangle((40, 40, 600, 260), fill=(42, 111, 151))
    for row in range(5):
        for seat in range(9):
            x, y = 60 + seat * 60, 290 + row * 24
            draw.ellipse((x, y, x + 16, y + 16), fill=(90, 90, 100))
    draw.text((60, 60), label.encode("ascii", "ignore").decode() or "training", fill=(255, 255, 255))
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = clock.local(taken).strftime("%Y:%m:%d %H:%M:%S")
    exif.get_ifd(0x8769)[0x9011] = "+08:00"
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, exif=exif.tobytes())
    return out.getvalue()


def _slides(topic: str) -> bytes:
    html = (f"<html><body style='font-family:{CJK_FONTS}'><h1>{topic}</h1><p>青溪县人民医院心内科</p>"
            "<ol><li>基层血压测量与诊断</li><li>分级与危险分层</li><li>随访分类干预与转诊指征</li></ol></body></html>")
    return html_to_pdf(html)


def already_seeded(year: int) -> bool:
    return session().scalar(select(TrainingPlan.id).where(TrainingPlan.title == PLAN_TITLE.format(year=year))
                            ) is not None


def model_deployed() -> bool:
    return "training_session" in latest_process_versions(session())


def seed_training(people, rng: random.Random) -> dict[str, int]:
    """Plans, sessions and their history (see the module docstring); {} when already there."""
    year = clock.today().year
    if already_seeded(year) or not model_deployed():
        session().rollback()
        return {}
    session().rollback()
    _TODAY[:] = [clock.today()]
    p = people.principal
    trainer, lecturer = p("trainer"), p("specialist_cardio")
    _go(_at(-25, 9, 0))
    plan = services.create_plan(trainer, year=year, title=PLAN_TITLE.format(year=year),
                                note="面向第一片区（城关街道）乡镇医生与村医；国家级继续医学教育项目按规则授予学分")
    items = _item_bank(trainer)
    past = services.add_session(trainer, plan.id, _row("高血压基层规范化管理（基层指南解读与随访实操）", _at(-14, 14),
                                                       3, lecturer.user_id, project_no=f"{year}-04-01-018(国)"))
    upcoming = services.add_session(trainer, plan.id, _row("糖尿病足筛查适宜技术推广", _at(10, 14), 2.5,
                                                           lecturer.user_id, level="in_house_2",
                                                           category="appropriate_tech"))
    later = services.add_session(trainer, plan.id, _row("慢阻肺筛查与肺功能检查", _at(45, 14), 3, None,
                                                        level="provincial_1", lecturer_name="呼吸科 主治医师"))
    services.start_plan(trainer, plan.id, dry_run=False, session_ids=[past.id])
    _approve(people, past.id)
    trainees = _answer(people, past.id, rng, decline=1)
    _run_past(people, past.id, trainees, items, rng)
    _go(_at(-1, 10))
    services.start_plan(trainer, plan.id, dry_run=False, session_ids=[upcoming.id])
    _approve(people, upcoming.id)
    _answer(people, upcoming.id, rng, decline=0, share=0.6, skip={"village_doctor1"})
    sub = p("trainer_shimen")
    sub_plan = services.create_plan(sub, year=year, title=f"石门镇中心卫生院{year}年度村医培训计划")
    services.add_session(sub, sub_plan.id, {
        **_row("村卫生室常用急救技能（心肺复苏）", _at(20, 9), 3, None, level="none", category="business",
               lecturer_name="石门镇中心卫生院 急诊医师"),
        "target_org_codes": ["C01T02"], "target_roles": ["village_doctor"], "venue": "石门镇中心卫生院会议室",
        "venue_lat": 29.6611, "venue_lon": 119.1210})
    return {"training_plans": 2, "training_sessions": 3 + bool(later.id), "training_trainees": len(trainees),
            "exam_items": len(items)}


def _row(topic, start, hours, lecturer_id, **extra) -> dict:
    return {"topic": topic, "category": "cme_project", "level": "national_1", "lecturer_name": "心内科 主任医师",
            "lecturer_title": "主任医师", "lecturer_org": "青溪县人民医院", "lecturer_user_id": lecturer_id,
            "target_roles": ["township_doctor", "village_doctor"], "target_org_codes": ["C01T01"], "mode": "offline",
            "starts_at": start, "ends_at": start + timedelta(hours=hours), "hours": hours, "assessment": "exam",
            **VENUE, **extra}


def _item_bank(trainer) -> list[int]:
    ids = []
    for kind, stem, options, answer, category in ITEMS:
        opts = [{"key": "ABCD"[i], "text": t} for i, t in enumerate(options)]
        ids.append(exams.create_item(trainer, {"kind": kind, "stem": stem, "options": opts, "answer": answer,
                                               "category": category}).id)
    return ids


def _open_task(element_id: str, session_id: int, assignee_id: int | None = None):
    row = session().get(TrainingSession, session_id)
    if assignee_id is not None:
        return task_queries.open_task_of(row.instance_id, element_id, assignee_id)
    tasks = task_queries.open_tasks_of(row.instance_id, element_id)
    return tasks[0] if tasks else None


def _approve(people, session_id: int) -> None:
    task = _open_task("approve_session", session_id)
    complete(people.principal("education_head"), task.id, data={"approved": True, "approval_comment": "同意举办"})


def _answer(people, session_id: int, rng: random.Random, *, decline: int, share: float = 1.0,
            skip: set[str] = frozenset()) -> list:
    roster = services.enrolments_of(session_id)
    users = users_by_id([e.user_id for e in roster])
    answered = []
    for n, e in enumerate(roster):
        user = users[e.user_id]
        if user.username in skip or rng.random() > share:
            continue
        attend = n >= decline
        services.respond(people.principal(user.username), session_id, attend=attend,
                         decline_reason=None if attend else "当天门诊值班")
        if attend:
            answered.append(user)
    return answered


def _run_past(people, session_id: int, trainees: list, items: list[int], rng: random.Random) -> None:
    trainer = people.principal("trainer")
    row = session().get(TrainingSession, session_id)
    start, end = row.starts_at, row.ends_at
    _go(start - timedelta(minutes=25))
    jobs.enqueue_due_timers()
    secret, period = current_app.config["YGT"].secret_key, settings().qr_period_s

    def scan(user, when, *, metres=25.0, action=None):
        _go(when)
        token, _ = qr.make_token(secret, session_id, clock.now(), period)
        pos = attendance.Position(VENUE["venue_lat"] + metres / 111_195, VENUE["venue_lon"], 12.0 + rng.random() * 20)
        return attendance.scan(people.principal(user.username), session_id, token=token, position=pos,
                               device_id=f"demo-{user.id}", action=action)

    late_one, manual_one = trainees[-1], trainees[-2]
    for k, user in enumerate(trainees[:-2]):
        scan(user, start - timedelta(minutes=20) + timedelta(minutes=k % 15))
    scan(late_one, start + timedelta(minutes=22))
    try:
        scan(manual_one, start + timedelta(minutes=3), metres=650)
    except SignInRefused as refused:  # the demo's refused GPS fix: ask for help, the trainer signs them in
        attempt_id = refused.details["attempt_id"]
        attendance.request_help(people.principal(manual_one.username), session_id, attempt_id,
                                note="室内定位漂移，人在报告厅")
        attendance.manual(trainer, session_id, user_id=manual_one.id, action="in", reason="本人在场，定位漂移",
                          attempt_id=attempt_id)
    for k, user in enumerate(trainees[:-2] + [late_one]):
        scan(user, end - timedelta(minutes=12) + timedelta(minutes=k % 10), action="out")
    _go(end + timedelta(minutes=2))
    services.end_attendance(trainer, session_id)
    for n, minute in ((1, 35), (2, 95)):
        taken = start + timedelta(minutes=minute)
        materials.upload(trainer, session_id, kind="photo", stream=io.BytesIO(_photo(taken, f"photo {n}")),
                         file_name=f"现场照片{n}.jpg")
    materials.upload(people.principal("specialist_cardio"), session_id, kind="slides",
                     stream=io.BytesIO(_slides(row.topic)), file_name="高血压基层规范化管理.pdf")
    exams.set_paper(trainer, session_id, item_ids=items[:6], time_limit_min=20, pass_mark=60)
    _go(end + timedelta(hours=2))
    complete(trainer, _open_task("upload_materials", session_id).id, data={"materials_uploaded": True})
    _exam(people, session_id, trainees, rng, failer=trainees[1])
    for user in trainees[::2]:
        feedback.answer(people.principal(user.username), session_id, overall=rng.choice((4, 5, 5)), content=5,
                        lecturer=5, organisation=rng.choice((3, 4, 5)), comment=rng.choice(
                            ("病例讨论很实用", "希望增加血压计校准实操", "", "时间安排合理")))
    _go(start + timedelta(days=4, hours=1))
    complete(trainer, _open_task("write_summary", session_id).id, data={
        "issues": "两名村医迟到；一名学员室内定位漂移，人工补签；首考一人未通过。",
        "improvements": "提前一天短信提醒；签到屏增加定位说明；补考前组织答疑。"})


def _exam(people, session_id: int, trainees: list, rng: random.Random, *, failer) -> None:
    day = clock.now()
    for k, user in enumerate(trainees):
        p = people.principal(user.username)
        _go(day + timedelta(hours=k))
        attempt = exams.start_attempt(p, session_id)
        right = user is not failer and rng.random() > 0.15
        exams.submit(p, session_id, answers=_answers(attempt, right=right, rng=rng))
    _go(day + timedelta(days=1))
    p = people.principal(failer.username)
    if exams.makeup_candidates(session_id):
        attempt = exams.start_attempt(p, session_id)
        exams.submit(p, session_id, answers=_answers(attempt, right=True, rng=rng))


def _answers(attempt: dict, *, right: bool, rng: random.Random) -> dict[str, list[str]]:
    row = session().get(ExamAttempt, attempt["attempt_id"])
    key = {i["id"]: i["answer"] for i in paper_of(row.session_id).items_snapshot}
    out = {}
    for q in attempt["questions"]:
        good = key[q["item_id"]]
        wrong = [o["key"] for o in q["options"] if o["key"] not in good][:1] or good
        out[str(q["item_id"])] = good if (right or rng.random() < 0.3) else wrong
    return out
