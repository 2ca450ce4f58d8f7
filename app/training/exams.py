"""Exams: an item bank per organization (single/multiple choice, true/false; xlsx import), a paper per session,
attempts in a per-trainee random order with a time limit, automatic marking, one make-up, results and item analysis.

Answers are saved one by one with the server's time, so a submission that arrives after the time limit is marked
by the late rule: answers saved after the limit (plus a short network grace) do not count (`count_in_time`), or the
late attempt scores zero (`zero`); either way the attempt is flagged late.
"""
from __future__ import annotations

import io
import random
from datetime import datetime, timedelta
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid
from app.jobs.queue import enqueue_after_commit
from app.notifications.services import notify
from app.org.queries import find_org
from app.vocabulary import ExamItemKind

from . import access
from .errors import ExamClosed, ItemImportInvalid, SessionLocked, SessionNotFound
from .models import Attendance, ExamAttempt, ExamItem, ExamPaper, TrainingSession
from .services import enrolment_of, get_session, managed_session, set_phase
from .settings import settings

KINDS = ExamItemKind.codes()
KIND_BY_LABEL = {"单选": "single", "单选题": "single", "多选": "multiple", "多选题": "multiple", "判断": "true_false",
                 "判断题": "true_false"}
TRUE_FALSE_OPTIONS = [{"key": "T", "text": "正确"}, {"key": "F", "text": "错误"}]
LETTERS = "ABCDEFGH"


# -- item bank -----------------------------------------------------------------------------------------------

def _validate_item(data: dict[str, Any]) -> dict[str, Any]:
    kind = data.get("kind")
    if kind not in KINDS:
        raise Invalid("题型不正确", code="invalid_item_kind", allowed=list(KINDS))
    stem = (data.get("stem") or "").strip()
    if len(stem) < 2:
        raise Invalid("题干不能为空", code="invalid_item_stem")
    options = TRUE_FALSE_OPTIONS if kind == "true_false" else [
        {"key": o["key"].strip().upper(), "text": o["text"].strip()} for o in data.get("options") or []
        if (o.get("text") or "").strip()]
    keys = [o["key"] for o in options]
    if kind != "true_false" and (len(options) < 2 or len(set(keys)) != len(keys)):
        raise Invalid("选择题至少两个选项，选项字母不能重复", code="invalid_item_options")
    answer = sorted({str(a).strip().upper() for a in data.get("answer") or []})
    if not answer or not set(answer) <= set(keys):
        raise Invalid("答案须是已有选项", code="invalid_item_answer", options=keys)
    if kind in ("single", "true_false") and len(answer) != 1:
        raise Invalid("单选题和判断题只能有一个答案", code="invalid_item_answer")
    if kind == "multiple" and len(answer) < 2:
        raise Invalid("多选题至少两个正确答案", code="invalid_item_answer")
    return {"kind": kind, "stem": stem, "options": options, "answer": answer,
            "explanation": (data.get("explanation") or "").strip(), "category": (data.get("category") or "").strip()}


def create_item(p: Principal, data: dict[str, Any], *, org_code: str | None = None) -> ExamItem:
    org = find_org(org_code or p.org_code)
    access.require_manager(p, org.path if org else None)
    clean = _validate_item(data)
    with unit_of_work() as s:
        item = ExamItem(org_code=org.code, org_path=org.path, created_by=p.username, created_at=clock.now(),
                        active=True, **clean)
        s.add(item)
        s.flush()
        return item


def items_visible(p: Principal, *, category: str | None = None) -> list[ExamItem]:
    """The caller's bank: items of their organization and of the organizations above it (the head hospital's
    bank is shared with the sub-centres)."""
    if not p.has_role(*access.MANAGER_ROLES, *access.OVERSEER_ROLES):
        return []
    parts = [c for c in (p.org_path or "").strip("/").split("/") if c]
    ancestors = ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]
    stmt = select(ExamItem).where(ExamItem.active.is_(True), ExamItem.org_path.in_(ancestors) |
                                  ExamItem.org_path.startswith(p.org_path or "/-", autoescape=True))
    if category:
        stmt = stmt.where(ExamItem.category == category)
    return list(session().scalars(stmt.order_by(ExamItem.id)))


def retire_item(p: Principal, item_id: int) -> None:
    with unit_of_work() as s:
        item = s.get(ExamItem, item_id)
        if item is None or not access.manages(p, item.org_path):
            raise SessionNotFound("试题不存在 (item not found)")
        item.active = False


def import_items(p: Principal, content: bytes, *, org_code: str | None = None) -> dict[str, Any]:
    """Import items from an xlsx sheet (columns: 题型, 题干, 选项A–H, 答案, 解析, 分类). Every row is checked
    first; any bad row refuses the whole file with the row numbers and reasons, so nothing is half-imported."""
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise ItemImportInvalid("不是有效的 xlsx 文件", code="invalid_xlsx") from exc
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        raise ItemImportInvalid("工作表为空", code="invalid_xlsx")
    header = [str(c or "").strip() for c in rows[0]]
    col = {name: i for i, name in enumerate(header)}
    missing = [c for c in ("题型", "题干", "答案") if c not in col]
    if missing:
        raise ItemImportInvalid(f"缺少列：{'、'.join(missing)}", code="invalid_xlsx", missing=missing)
    parsed, errors = [], []
    for number, values in enumerate(rows[1:], start=2):
        if not any(v not in (None, "") for v in values):
            continue
        try:
            parsed.append(_validate_item(_row_item(values, col)))
        except Invalid as exc:
            errors.append({"row": number, "code": exc.code, "message": exc.message})
    if errors:
        raise ItemImportInvalid(f"{len(errors)} 行有误，未导入任何试题", errors=errors[:200])
    if not parsed:
        raise ItemImportInvalid("没有可导入的试题", code="invalid_xlsx")
    with unit_of_work():
        created = [create_item(p, item, org_code=org_code) for item in parsed]
    return {"imported": len(created), "item_ids": [i.id for i in created]}


def _row_item(values, col) -> dict[str, Any]:
    def cell(name):
        i = col.get(name)
        return str(values[i]).strip() if i is not None and i < len(values) and values[i] is not None else ""
    label = cell("题型")
    kind = KIND_BY_LABEL.get(label, label)
    answer_text = cell("答案").upper().replace("，", "").replace(",", "").replace(" ", "")
    if kind == "true_false":
        answer = ["T" if answer_text in ("对", "正确", "T", "√", "TRUE") else "F" if answer_text in (
            "错", "错误", "F", "×", "FALSE") else answer_text]
    else:
        answer = list(answer_text)
    options = [{"key": letter, "text": cell(f"选项{letter}")} for letter in LETTERS if cell(f"选项{letter}")]
    return {"kind": kind, "stem": cell("题干"), "options": options, "answer": answer,
            "explanation": cell("解析"), "category": cell("分类")}


def template_xlsx() -> bytes:
    """An empty import sheet with the expected columns and one example row of each type."""
    wb = Workbook()
    ws = wb.active
    ws.title = "试题"
    ws.append(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "分类"])
    ws.append(["单选", "高血压患者随访中，血压控制满意的标准（<65岁）是", "<140/90 mmHg", "<150/90 mmHg",
               "<130/80 mmHg", "<160/100 mmHg", "A", "基本公共卫生服务规范（第三版）", "高血压"])
    ws.append(["多选", "2型糖尿病患者每年应检查的项目有", "糖化血红蛋白", "眼底", "足背动脉", "骨密度", "ABC", "", "糖尿病"])
    ws.append(["判断", "血糖≤3.9 mmol/L 的糖尿病患者应紧急转诊", "", "", "", "", "对", "", "糖尿病"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# -- the paper -----------------------------------------------------------------------------------------------

def set_paper(p: Principal, session_id: int, *, item_ids: list[int], time_limit_min: int | None = None,
              pass_mark: int | None = None, shuffle: bool = True) -> ExamPaper:
    """Compose (or recompose, until the exam opens) the session's paper from the caller's bank."""
    with unit_of_work() as s:
        row = managed_session(p, session_id, lock=True)
        if row.assessment != "exam":
            raise SessionLocked("本次培训的考核方式不是考试", code="no_exam_for_session")
        if row.phase in ("exam_open", "makeup_open", "summary", "completed", "cancelled"):
            raise ExamClosed("考试已开始，试卷不能再修改", phase=row.phase)
        bank = {i.id for i in items_visible(p)}
        wanted = list(dict.fromkeys(int(i) for i in item_ids))
        unknown = [i for i in wanted if i not in bank]
        if unknown or not wanted:
            raise Invalid("试题不存在或不在您的题库中", code="invalid_paper_items", item_ids=unknown)
        paper = s.scalars(select(ExamPaper).where(ExamPaper.session_id == row.id)).first()
        if paper is None:
            paper = ExamPaper(session_id=row.id, created_by=p.username, created_at=clock.now(), item_ids=[],
                              pass_mark=row.pass_mark, time_limit_min=settings().exam_time_limit_min)
            s.add(paper)
        paper.item_ids = wanted
        paper.time_limit_min = time_limit_min or paper.time_limit_min
        paper.pass_mark = pass_mark if pass_mark is not None else paper.pass_mark
        paper.shuffle = shuffle
        row.pass_mark = paper.pass_mark
        s.flush()
        return paper


def paper_of(session_id: int) -> ExamPaper | None:
    return session().scalars(select(ExamPaper).where(ExamPaper.session_id == session_id)).first()


def _eligible(row: TrainingSession) -> list[int]:
    """Who sits the exam: trainees with attended 学时 (absent trainees get no credit, so no exam)."""
    return [a.user_id for a in session().scalars(select(Attendance).where(
        Attendance.session_id == row.id, Attendance.attended_hours > 0))]


def open_exam(session_id: int, *, attempt_no: int = 1) -> dict[str, Any]:
    """Freeze the paper (attempt 1) and open the exam (or the make-up) window; tell who must sit it."""
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        paper = paper_of(row.id)
        now = clock.now()
        if attempt_no == 1:
            items = {i.id: i for i in s.scalars(select(ExamItem).where(ExamItem.id.in_(paper.item_ids)))}
            paper.items_snapshot = [{"id": i.id, "kind": i.kind, "stem": i.stem, "options": i.options,
                                     "answer": i.answer, "explanation": i.explanation}
                                    for i in (items[k] for k in paper.item_ids if k in items)]
            closes = now + timedelta(days=settings().exam_window_days)
            set_phase(row.id, "exam_open", exam_opens_at=now, exam_closes_at=closes)
            sitters = _eligible(row)
        else:
            closes = now + timedelta(days=settings().makeup_window_days)
            set_phase(row.id, "makeup_open", makeup_closes_at=closes)
            sitters = makeup_candidates(row.id)
        label = "考试" if attempt_no == 1 else "补考"
        for user_id in sitters:
            notify(user_id, kind="training_exam", title=f"培训{label}已开放：{row.topic}",
                   body=f"限时 {paper.time_limit_min} 分钟，{clock.local(closes):%m-%d %H:%M} 前完成",
                   link=f"/training/my/{row.id}", dedupe_key=f"training:{row.id}:exam{attempt_no}:{user_id}")
        return {"exam_closes_at": closes.isoformat(), "sitters": len(sitters)}


def close_exam(session_id: int, *, attempt_no: int = 1) -> dict[str, Any]:
    """Close a window: in-progress attempts are marked as they stand, no-shows recorded absent."""
    with unit_of_work() as s:
        row = s.get(TrainingSession, session_id)
        sitters = _eligible(row) if attempt_no == 1 else makeup_candidates(row.id, include_started=True)
        existing = {a.user_id: a for a in s.scalars(select(ExamAttempt).where(
            ExamAttempt.session_id == row.id, ExamAttempt.attempt_no == attempt_no))}
        for user_id in sitters:
            attempt = existing.get(user_id)
            if attempt is None:
                s.add(ExamAttempt(session_id=row.id, user_id=user_id, attempt_no=attempt_no, status="absent",
                                  order=[], answers={}, passed=False, score=0, late=False))
            elif attempt.status == "in_progress":
                _mark(attempt, paper_of(row.id), clock.now())
        s.flush()
        phase = "exam_closed" if attempt_no == 1 else "makeup_closed"
        set_phase(row.id, phase)
        return {"makeup_count": len(makeup_candidates(row.id)) if attempt_no == 1 else 0}


def makeup_candidates(session_id: int, *, include_started: bool = False) -> list[int]:
    """Trainees whose first attempt failed (or who missed it) and who have no make-up yet: one make-up each."""
    attempts = list(session().scalars(select(ExamAttempt).where(ExamAttempt.session_id == session_id)))
    failed = {a.user_id for a in attempts if a.attempt_no == 1 and a.status in ("submitted", "absent")
              and not a.passed}
    done = {a.user_id for a in attempts if a.attempt_no == 2 and (include_started is False or a.status != "in_progress")}
    return sorted(failed - done) if not include_started else sorted(failed)


# -- sitting the exam ----------------------------------------------------------------------------------------

def _window_attempt_no(row: TrainingSession) -> int:
    if row.phase == "exam_open":
        return 1
    if row.phase == "makeup_open":
        return 2
    raise ExamClosed("考试未开放或已结束", phase=row.phase)


def start_attempt(p: Principal, session_id: int) -> dict[str, Any]:
    """Begin (or resume) the caller's attempt: the paper in the caller's own random order, without answers."""
    with unit_of_work() as s:
        row = get_session(p, session_id)
        attempt_no = _window_attempt_no(row)
        if enrolment_of(row.id, p.user_id) is None:
            raise SessionNotFound("您不在本次培训名单中")
        allowed = _eligible(row) if attempt_no == 1 else makeup_candidates(row.id, include_started=True)
        if p.user_id not in allowed:
            raise ExamClosed("您不需要参加本次考试（未出勤或已通过）", code="not_eligible_for_exam")
        paper = paper_of(row.id)
        attempt = s.scalars(select(ExamAttempt).where(ExamAttempt.session_id == row.id,
                                                      ExamAttempt.user_id == p.user_id,
                                                      ExamAttempt.attempt_no == attempt_no)).first()
        if attempt is None:
            now = clock.now()
            attempt = ExamAttempt(session_id=row.id, user_id=p.user_id, attempt_no=attempt_no, status="in_progress",
                                  started_at=now, deadline_at=now + timedelta(minutes=paper.time_limit_min),
                                  order=_order(paper, random.Random()), answers={}, late=False)
            s.add(attempt)
            s.flush()
        return attempt_view(attempt, paper)


def _order(paper: ExamPaper, rng: random.Random) -> list[dict[str, Any]]:
    items = list(paper.items_snapshot or [])
    if paper.shuffle:
        rng.shuffle(items)
    order = []
    for item in items:
        keys = [o["key"] for o in item["options"]]
        if paper.shuffle and item["kind"] != "true_false":
            rng.shuffle(keys)
        order.append({"item_id": item["id"], "options": keys})
    return order


def attempt_view(attempt: ExamAttempt, paper: ExamPaper, *, reveal: bool = False) -> dict[str, Any]:
    """The attempt as the trainee sees it: items in their order with options relabelled A, B, C… on screen."""
    snapshot = {i["id"]: i for i in paper.items_snapshot or []}
    questions = []
    for n, entry in enumerate(attempt.order, start=1):
        item = snapshot[entry["item_id"]]
        texts = {o["key"]: o["text"] for o in item["options"]}
        q = {"no": n, "item_id": item["id"], "kind": item["kind"], "kind_label": ExamItemKind.label_of(item["kind"]),
             "stem": item["stem"], "options": [{"key": k, "text": texts[k]} for k in entry["options"]],
             "chosen": (attempt.answers.get(str(item["id"])) or {}).get("keys", [])}
        if reveal:
            q.update(answer=item["answer"], explanation=item["explanation"],
                     correct=(attempt.correct or {}).get(str(item["id"])))
        questions.append(q)
    return {"attempt_id": attempt.id, "attempt_no": attempt.attempt_no, "status": attempt.status,
            "started_at": attempt.started_at, "deadline_at": attempt.deadline_at,
            "submitted_at": attempt.submitted_at, "time_limit_min": paper.time_limit_min,
            "pass_mark": paper.pass_mark, "score": attempt.score, "passed": attempt.passed, "late": attempt.late,
            "questions": questions}


def _own_attempt(p: Principal, session_id: int, *, lock: bool = True) -> tuple[TrainingSession, ExamAttempt]:
    row = get_session(p, session_id)
    attempt_no = _window_attempt_no(row)
    stmt = select(ExamAttempt).where(ExamAttempt.session_id == row.id, ExamAttempt.user_id == p.user_id,
                                     ExamAttempt.attempt_no == attempt_no)
    attempt = session().scalars(stmt.with_for_update() if lock else stmt).first()
    if attempt is None:
        raise ExamClosed("请先开始考试", code="exam_not_started")
    return row, attempt


def save_answer(p: Principal, session_id: int, *, item_id: int, keys: list[str]) -> dict[str, Any]:
    """Save one answer with the server's time (the phone autosaves each choice)."""
    with unit_of_work():
        _row, attempt = _own_attempt(p, session_id)
        if attempt.status != "in_progress":
            raise ExamClosed("本次考试已交卷", code="attempt_already_submitted")
        allowed = next((o["options"] for o in attempt.order if o["item_id"] == item_id), None)
        if allowed is None or not set(keys) <= set(allowed):
            raise Invalid("答案不属于该题", code="invalid_answer", item_id=item_id)
        answers = dict(attempt.answers)
        answers[str(item_id)] = {"keys": sorted(set(keys)), "at": clock.now().isoformat()}
        attempt.answers = answers
        return {"item_id": item_id, "saved_at": answers[str(item_id)]["at"],
                "late": clock.now() > attempt.deadline_at + timedelta(seconds=settings().exam_late_grace_s)}


def submit(p: Principal, session_id: int, *, answers: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Hand in: any answers sent with the submission are saved now, then the attempt is marked."""
    with unit_of_work():
        row, attempt = _own_attempt(p, session_id)
        paper = paper_of(row.id)
        if attempt.status == "submitted":
            return attempt_view(attempt, paper, reveal=True)
        now = clock.now()
        merged = dict(attempt.answers)
        for item_id, keys in (answers or {}).items():
            merged[str(item_id)] = {"keys": sorted(set(keys)), "at": now.isoformat()}
        attempt.answers = merged
        _mark(attempt, paper, now)
        view = attempt_view(attempt, paper, reveal=True)
        _maybe_all_done(row, attempt.attempt_no)
        return view


def _mark(attempt: ExamAttempt, paper: ExamPaper, now: datetime) -> None:
    """Mark by the rule: each item scores 100/n, all-or-nothing; answers saved after the limit don't count."""
    cfg = settings()
    limit = attempt.deadline_at + timedelta(seconds=cfg.exam_late_grace_s)
    attempt.late = now > limit
    key = {i["id"]: sorted(i["answer"]) for i in paper.items_snapshot or []}
    correct = {}
    for item_id, answer in key.items():
        given = attempt.answers.get(str(item_id)) or {}
        in_time = given.get("at") and datetime.fromisoformat(given["at"]) <= limit
        correct[str(item_id)] = bool(in_time) and sorted(given.get("keys") or []) == answer
    score = round(100.0 * sum(correct.values()) / len(key), 1) if key else 0.0
    if attempt.late and cfg.exam_late_policy == "zero":
        score = 0.0
    attempt.correct, attempt.score = correct, score
    attempt.passed = score >= paper.pass_mark
    attempt.status, attempt.submitted_at = "submitted", now


def _maybe_all_done(row: TrainingSession, attempt_no: int) -> None:
    """When everyone who must sit this window has submitted, the process need not wait for the window to close."""
    expected = set(_eligible(row) if attempt_no == 1 else makeup_candidates(row.id, include_started=True))
    done = {a.user_id for a in session().scalars(select(ExamAttempt).where(
        ExamAttempt.session_id == row.id, ExamAttempt.attempt_no == attempt_no, ExamAttempt.status == "submitted"))}
    if expected and expected <= done and row.instance_id is not None:
        enqueue_after_commit(session(), "app.training.jobs.signal_exam_done", row.id, attempt_no,
                             job_id=f"training-exam-done-{row.id}-{attempt_no}")


# -- results -------------------------------------------------------------------------------------------------

def results(session_id: int) -> list[dict[str, Any]]:
    attempts = list(session().scalars(select(ExamAttempt).where(ExamAttempt.session_id == session_id)
                                      .order_by(ExamAttempt.user_id, ExamAttempt.attempt_no)))
    users = users_by_id([a.user_id for a in attempts])
    by_user: dict[int, dict[str, Any]] = {}
    for a in attempts:
        entry = by_user.setdefault(a.user_id, {"user_id": a.user_id, "name": getattr(users.get(a.user_id),
                                                                                   "display_name", ""),
                                               "attempts": []})
        entry["attempts"].append({"attempt_no": a.attempt_no, "status": a.status, "score": a.score,
                                  "passed": a.passed, "late": a.late, "submitted_at": a.submitted_at})
        entry["passed"] = bool(entry.get("passed")) or bool(a.passed)
        entry["best_score"] = max(entry.get("best_score") or 0, a.score or 0)
    return list(by_user.values())


def passed_users(session_id: int) -> set[int]:
    return {a.user_id for a in session().scalars(select(ExamAttempt).where(
        ExamAttempt.session_id == session_id, ExamAttempt.passed.is_(True)))}


def item_analysis(p: Principal, session_id: int) -> dict[str, Any]:
    """Per item of the paper: difficulty (share correct), discrimination (upper 27% minus lower 27%), the
    point-biserial correlation with the total, and how often each option was chosen (first attempts)."""
    row = managed_session(p, session_id)
    paper = paper_of(row.id)
    attempts = [a for a in session().scalars(select(ExamAttempt).where(
        ExamAttempt.session_id == row.id, ExamAttempt.attempt_no == 1, ExamAttempt.status == "submitted"))]
    if paper is None or not paper.items_snapshot:
        return {"session_id": row.id, "sitters": 0, "items": []}
    ranked = sorted(attempts, key=lambda a: a.score or 0, reverse=True)
    k = max(1, round(len(ranked) * 0.27)) if ranked else 0
    upper, lower = ranked[:k], ranked[-k:] if k else []
    totals = [a.score or 0 for a in attempts]
    items = []
    for item in paper.items_snapshot:
        key = str(item["id"])
        marks = [1.0 if (a.correct or {}).get(key) else 0.0 for a in attempts]
        difficulty = sum(marks) / len(marks) if marks else None
        disc = (_share(upper, key) - _share(lower, key)) if len(ranked) >= 2 else None
        chosen = {o["key"]: 0 for o in item["options"]}
        for a in attempts:
            for c in (a.answers.get(key) or {}).get("keys", []):
                chosen[c] = chosen.get(c, 0) + 1
        items.append({"item_id": item["id"], "stem": item["stem"], "kind": item["kind"], "answer": item["answer"],
                      "difficulty": _round(difficulty), "discrimination": _round(disc),
                      "point_biserial": _round(_point_biserial(marks, totals)), "option_counts": chosen,
                      "flag": _flag(difficulty, disc)})
    return {"session_id": row.id, "sitters": len(attempts), "group_size": k, "items": items}


def _share(group, key) -> float:
    return sum(1 for a in group if (a.correct or {}).get(key)) / len(group) if group else 0.0


def _point_biserial(marks: list[float], totals: list[float]) -> float | None:
    n = len(marks)
    if n < 3:
        return None
    mean_t = sum(totals) / n
    sd = (sum((t - mean_t) ** 2 for t in totals) / n) ** 0.5
    p_ = sum(marks) / n
    if sd == 0 or p_ in (0.0, 1.0):
        return None
    mean_right = sum(t for t, m in zip(totals, marks) if m) / sum(marks)
    return (mean_right - mean_t) / sd * (p_ / (1 - p_)) ** 0.5


def _round(value):
    return None if value is None else round(value, 3)


def _flag(difficulty, disc) -> str | None:
    """Ebel's rule of thumb: D < 0.2 discriminates poorly; p above 0.9 / below 0.2 is too easy / too hard."""
    if difficulty is None:
        return None
    if disc is not None and disc < 0.2:
        return "区分度低，建议修改或淘汰"
    if difficulty > 0.9:
        return "过易"
    if difficulty < 0.2:
        return "过难"
    return None


def my_attempts(session_id: int, user_id: int) -> list[ExamAttempt]:
    return list(session().scalars(select(ExamAttempt).where(ExamAttempt.session_id == session_id,
                                                            ExamAttempt.user_id == user_id)
                                  .order_by(ExamAttempt.attempt_no)))


def my_result(p: Principal, session_id: int, attempt_no: int) -> dict[str, Any]:
    row = get_session(p, session_id)
    attempt = next((a for a in my_attempts(row.id, p.user_id) if a.attempt_no == attempt_no), None)
    if attempt is None or attempt.status != "submitted":
        raise SessionNotFound("没有已交卷的考试")
    return attempt_view(attempt, paper_of(row.id), reveal=True)
