"""/api/v1/training: plans and sessions, the trainee's steps (answer, sign in, exam, evaluation), materials,
item bank and papers, results, credits and the training indicators."""
from __future__ import annotations

from datetime import date, timedelta

from flask import request, stream_with_context
from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core import clock
from app.core.downloads import file_response
from app.core.errors import Invalid
from app.org.queries import find_org
from app.reports import xlsx
from app.vocabulary import ProjectLevel, TrainingCategory, TrainingMode, TrainingPhase

from . import (
    access,
    attendance,
    credits,
    exams,
    feedback,
    materials,
    queries,
    reports,
    services,
)
from .errors import SessionNotFound, UploadRefused
from .schemas import (
    AnswerSchema,
    AttendanceSchema,
    CancelSchema,
    CodeSchema,
    HeartbeatSchema,
    HelpSchema,
    ItemQuerySchema,
    ItemSchema,
    ItemWriteSchema,
    ManualSchema,
    MaterialSchema,
    MaterialUploadSchema,
    PaperSchema,
    PaperWriteSchema,
    PeriodQuerySchema,
    PlanCreateSchema,
    PlanSchema,
    PlanUpdateSchema,
    RespondSchema,
    SatisfactionSchema,
    ScanSchema,
    SessionCreateSchema,
    SessionQuerySchema,
    SessionSchema,
    SessionWriteSchema,
    StartPlanSchema,
    StartReportSchema,
    SubmitSchema,
    YearQuerySchema,
)

blp = Blueprint("training", __name__, url_prefix="/api/v1/training", description="业务培训 Staff training")
MANAGERS = access.MANAGER_ROLES
READERS = (*access.MANAGER_ROLES, *access.OVERSEER_ROLES)


def _plan_out(plan) -> dict:
    rows = queries.sessions_of_plan(plan.id)
    org = find_org(plan.org_code)
    return {**{k: getattr(plan, k) for k in ("id", "org_code", "year", "title", "note", "created_by", "created_at")},
            "org_name": org.name if org else plan.org_code, "sessions": len(rows),
            "started": sum(1 for r in rows if r.instance_id), "can_manage": access.manages(current(), plan.org_path)}


def _session_out(row) -> dict:
    org = find_org(row.org_code)
    out = {c: getattr(row, c) for c in SessionSchema().fields if hasattr(row, c) and c not in (
        "category_label", "level_label", "mode_label")}
    out["category_label"] = TrainingCategory.label_of(row.category)
    out["level_label"] = ProjectLevel.label_of(row.level)
    out["mode_label"] = TrainingMode.label_of(row.mode)
    return {**out, "org_name": org.name if org else row.org_code, "phase_label": TrainingPhase.label_of(row.phase),
            "can_manage": access.manages(current(), row.org_path)}


# -- plans ---------------------------------------------------------------------------------------------------

@blp.route("/plans")
class Plans(MethodView):
    @require_roles(*READERS)
    @blp.arguments(YearQuerySchema(only=("year",)), location="query")
    @blp.response(200, PlanSchema(many=True))
    def get(self, args):
        """List the training plans of the caller's organization subtree."""
        return [_plan_out(p) for p in queries.plans(current(), year=args.get("year"))]

    @require_roles(*MANAGERS)
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    def post(self, body):
        """Create an annual training plan for the caller's organization (or one below it)."""
        return _plan_out(services.create_plan(current(), **body))


@blp.route("/plans/<int:plan_id>")
class Plan(MethodView):
    @require_roles(*READERS)
    @blp.response(200, PlanSchema)
    def get(self, plan_id):
        """Show a plan."""
        return _plan_out(services.get_plan(current(), plan_id))

    @require_roles(*MANAGERS)
    @blp.arguments(PlanUpdateSchema)
    @blp.response(200, PlanSchema)
    def patch(self, body, plan_id):
        """Change a plan's title, note or year."""
        return _plan_out(services.update_plan(current(), plan_id, **body))


@blp.route("/plans/<int:plan_id>/sessions")
class PlanSessions(MethodView):
    @require_roles(*READERS)
    @blp.response(200, SessionSchema(many=True))
    def get(self, plan_id):
        """The rows (sessions) of a plan."""
        services.get_plan(current(), plan_id)
        return [_session_out(r) for r in queries.sessions_of_plan(plan_id)]

    @require_roles(*MANAGERS)
    @blp.arguments(SessionCreateSchema)
    @blp.response(201, SessionSchema)
    def post(self, body, plan_id):
        """Add a session (F5.1) to a plan."""
        return _session_out(services.add_session(current(), plan_id, body))


@blp.route("/plans/<int:plan_id>/start")
class PlanStart(MethodView):
    @require_roles(*MANAGERS)
    @blp.arguments(StartPlanSchema)
    @blp.response(200, StartReportSchema)
    def post(self, body, plan_id):
        """Start one `training_session` process per row not started yet (dry_run: report only)."""
        return services.start_plan(current(), plan_id, dry_run=body["dry_run"], session_ids=body.get("session_ids"))


# -- sessions ------------------------------------------------------------------------------------------------

@blp.route("/sessions")
class Sessions(MethodView):
    @require_roles(*READERS)
    @blp.arguments(SessionQuerySchema, location="query")
    @blp.response(200, SessionSchema(many=True))
    def get(self, args):
        """Sessions of the caller's subtree (newest first), optionally by phase and start date."""
        rows = queries.sessions(current(), phase=args.get("phase"), start=args.get("start"), end=args.get("end"))
        return [_session_out(r) for r in rows]


@blp.route("/sessions/<int:session_id>")
class Session(MethodView):
    @login_required
    @blp.response(200, SessionSchema)
    def get(self, session_id):
        """Show a session (managers, overseers, its roster and lecturer)."""
        return _session_out(services.get_session(current(), session_id))

    @require_roles(*MANAGERS)
    @blp.arguments(SessionWriteSchema)
    @blp.response(200, SessionSchema)
    def patch(self, body, session_id):
        """Change a session; after submission only time, place and lecturer, until sign-in opens."""
        return _session_out(services.update_session(current(), session_id, body))


@blp.route("/sessions/<int:session_id>/cancel")
class SessionCancel(MethodView):
    @require_roles(*MANAGERS)
    @blp.arguments(CancelSchema)
    @blp.response(200, SessionSchema)
    def post(self, body, session_id):
        """Cancel a session before sign-in opens; the roster is told."""
        return _session_out(services.cancel_session(current(), session_id, reason=body["reason"]))


@blp.route("/sessions/<int:session_id>/overview")
class SessionOverview(MethodView):
    @require_roles(*READERS)
    @blp.response(200)
    def get(self, session_id):
        """Roster with answers and attendance, statistics, refused sign-ins and help requests (trainer view)."""
        row = services.get_session(current(), session_id)
        if not access.oversees(current(), row.org_path):
            raise SessionNotFound("培训不存在")
        requests = [{"attempt_id": a.id, "user_id": a.user_id, "code": a.code,
                     "reason": attendance.REASONS.get(a.code, a.code), "at": a.at.isoformat(),
                     "distance_m": a.distance_m, "accuracy_m": a.accuracy_m, "note": a.help_note}
                    for a in attendance.open_requests(row.id)]
        paper = exams.paper_of(row.id)
        return {"session": SessionSchema().dump(_session_out(row)), "roster": AttendanceRosterOut.dump(
            attendance.roster_view(row.id)), "stats": queries.session_stats(row.id), "help_requests": requests,
            "refused": len(attendance.refused_attempts(row.id)),
            "materials": MaterialSchema(many=True).dump(materials.materials_of(row.id)),
            "materials_check": materials.completeness(row.id),
            "paper": PaperSchema().dump(paper) if paper else None}


class _RosterOut:
    """Dates as ISO strings for the overview's roster rows."""

    @staticmethod
    def dump(rows):
        return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()} for r in rows]


AttendanceRosterOut = _RosterOut


@blp.route("/sessions/<int:session_id>/respond")
class Respond(MethodView):
    @login_required
    @blp.arguments(RespondSchema)
    @blp.response(200)
    def post(self, body, session_id):
        """A trainee confirms attendance or declines with a reason."""
        e = services.respond(current(), session_id, attend=body["attend"], decline_reason=body.get("decline_reason"))
        return {"response": e.response, "decline_reason": e.decline_reason, "responded_at": e.responded_at}


@blp.route("/sessions/<int:session_id>/sign-in-code")
class SignInCode(MethodView):
    @login_required
    @blp.response(200, CodeSchema)
    def get(self, session_id):
        """The QR code for the venue screen now (it rotates; poll every few seconds)."""
        return attendance.current_code(current(), session_id, base_url=request.host_url)


@blp.route("/sessions/<int:session_id>/sign-in")
class SignIn(MethodView):
    @login_required
    @blp.arguments(ScanSchema)
    @blp.response(200, AttendanceSchema)
    def post(self, body, session_id):
        """Sign in (or out) with the scanned token and the phone's position; refusals say why (422)."""
        pos = attendance.Position(body.get("lat"), body.get("lon"), body.get("accuracy_m"))
        return attendance.scan(current(), session_id, token=body["token"], position=pos,
                               device_id=body.get("device_id"), action=body.get("action"))


@blp.route("/sessions/<int:session_id>/help")
class Help(MethodView):
    @login_required
    @blp.arguments(HelpSchema)
    @blp.response(200)
    def post(self, body, session_id):
        """After a refused sign-in, ask the trainer to sign you in by hand."""
        return attendance.request_help(current(), session_id, body["attempt_id"], note=body["note"])


@blp.route("/sessions/<int:session_id>/manual")
class Manual(MethodView):
    @require_roles(*MANAGERS)
    @blp.arguments(ManualSchema)
    @blp.response(200, AttendanceSchema)
    def post(self, body, session_id):
        """The trainer signs a trainee in or out by hand (recorded as manual, with the reason)."""
        return attendance.manual(current(), session_id, **body)


@blp.route("/sessions/<int:session_id>/end-attendance")
class EndAttendance(MethodView):
    @require_roles(*MANAGERS)
    @blp.response(200, SessionSchema)
    def post(self, session_id):
        """End sign-in and sign-out now (otherwise they close 30 minutes after the end)."""
        return _session_out(services.end_attendance(current(), session_id))


@blp.route("/sessions/<int:session_id>/presence")
class Presence(MethodView):
    @login_required
    @blp.arguments(HeartbeatSchema)
    @blp.response(200)
    def post(self, body, session_id):
        """Online sessions: the trainee's page beats every minute while the live room is open."""
        return attendance.heartbeat(current(), session_id, leaving=body["leaving"])


@blp.route("/sessions/<int:session_id>/sign-in-sheet")
class SignInSheet(MethodView):
    @require_roles(*MANAGERS)
    @blp.arguments(YearQuerySchema(only=("format",)), location="query")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, args, session_id):
        """The sign-in sheet as xlsx (default) or PDF."""
        if args["format"] == "pdf":
            name, body = reports.sign_in_sheet_pdf(current(), session_id)
            return file_response(body, "application/pdf", name)
        name, body = reports.sign_in_sheet_xlsx(current(), session_id)
        return file_response(body, xlsx.MIME, name)


@blp.route("/sessions/<int:session_id>/summary.pdf")
class SummaryPdf(MethodView):
    @require_roles(*MANAGERS)
    @blp.response(200, content_type="application/pdf")
    def get(self, session_id):
        """The session summary (attendance, exam, satisfaction, issues, attachments) as a PDF."""
        name, body = reports.summary_pdf(current(), session_id)
        return file_response(body, "application/pdf", name)


# -- materials -----------------------------------------------------------------------------------------------

@blp.route("/sessions/<int:session_id>/materials")
class Materials(MethodView):
    @login_required
    @blp.response(200, MaterialSchema(many=True))
    def get(self, session_id):
        """The session's files (roster, lecturer and managers)."""
        services.get_session(current(), session_id)
        return materials.materials_of(session_id)

    @login_required
    @blp.arguments(MaterialUploadSchema, location="query")
    @blp.response(201, MaterialSchema)
    def post(self, args, session_id):
        """Upload one file (multipart `file`; `?kind=slides|document|video|photo`). Checked by size, by content
        type and (photos) by EXIF time before anything is stored."""
        limit = materials.limit_for(args["kind"])
        if (request.content_length or 0) > limit + 64 * 1024:
            raise UploadRefused(f"文件不能超过 {limit // (1024 * 1024)} MB", code="file_too_large", status=413,
                                limit_bytes=limit)
        request.max_content_length = limit + 64 * 1024
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("请选择文件 (multipart field 'file')", code="file_required")
        return materials.upload(current(), session_id, kind=args["kind"], stream=upload.stream,
                                file_name=upload.filename)


@blp.route("/materials/<int:material_id>")
class MaterialFile(MethodView):
    @login_required
    @blp.response(200, content_type="application/octet-stream")
    def get(self, material_id):
        """Download a material (roster, lecturer and managers only)."""
        material, chunks = materials.download(current(), material_id)
        inline = material.kind in ("photo", "video") or material.mime == "application/pdf"
        return file_response(stream_with_context(chunks), material.mime, material.file_name, inline=inline, headers={
            "Content-Length": str(material.size_bytes), "X-Content-Type-Options": "nosniff"})

    @login_required
    @blp.response(204)
    def delete(self, material_id):
        """Remove a material (until the summary is written)."""
        materials.remove(current(), material_id)


# -- item bank and paper -------------------------------------------------------------------------------------

@blp.route("/items")
class Items(MethodView):
    @require_roles(*READERS)
    @blp.arguments(ItemQuerySchema, location="query")
    @blp.response(200, ItemSchema(many=True))
    def get(self, args):
        """The caller's item bank (own organization and those above it)."""
        return exams.items_visible(current(), category=args.get("category"))

    @require_roles(*MANAGERS)
    @blp.arguments(ItemWriteSchema)
    @blp.response(201, ItemSchema)
    def post(self, body):
        """Add a question to the caller's organization's bank."""
        return exams.create_item(current(), body)


@blp.route("/items/<int:item_id>")
class Item(MethodView):
    @require_roles(*MANAGERS)
    @blp.response(204)
    def delete(self, item_id):
        """Retire a question (papers already given keep their copy)."""
        exams.retire_item(current(), item_id)


@blp.route("/items/import")
class ItemImport(MethodView):
    @require_roles(*MANAGERS)
    @blp.response(201)
    def post(self):
        """Import questions from an xlsx sheet (multipart `file`); a bad row refuses the whole file."""
        upload = request.files.get("file")
        if upload is None:
            raise Invalid("请选择 xlsx 文件 (multipart field 'file')", code="file_required")
        return exams.import_items(current(), upload.read())


@blp.route("/items/template.xlsx")
class ItemTemplate(MethodView):
    @require_roles(*READERS)
    @blp.response(200, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    def get(self):
        """The import template with one example of each question type."""
        return file_response(exams.template_xlsx(), xlsx.MIME, "试题导入模板.xlsx")


@blp.route("/sessions/<int:session_id>/paper")
class Paper(MethodView):
    @require_roles(*READERS)
    @blp.response(200, PaperSchema)
    def get(self, session_id):
        """The session's paper (items, pass mark, time limit)."""
        row = services.get_session(current(), session_id)
        paper = exams.paper_of(row.id)
        if paper is None:
            raise SessionNotFound("尚未组卷 (no paper yet)", code="no_paper")
        return paper

    @require_roles(*MANAGERS)
    @blp.arguments(PaperWriteSchema)
    @blp.response(200, PaperSchema)
    def put(self, body, session_id):
        """Compose the paper from the bank (until the exam opens)."""
        return exams.set_paper(current(), session_id, **body)


@blp.route("/sessions/<int:session_id>/results")
class Results(MethodView):
    @require_roles(*READERS)
    @blp.response(200)
    def get(self, session_id):
        """Every trainee's attempts, scores and pass/fail."""
        row = services.get_session(current(), session_id)
        if not access.oversees(current(), row.org_path):
            raise SessionNotFound("培训不存在")
        return {"items": _RosterOut.dump([{**r, "attempts": _RosterOut.dump(r["attempts"])}
                                          for r in exams.results(row.id)])}


@blp.route("/sessions/<int:session_id>/item-analysis")
class ItemAnalysis(MethodView):
    @require_roles(*MANAGERS)
    @blp.response(200)
    def get(self, session_id):
        """Difficulty, discrimination (27% groups), point-biserial and option counts per item."""
        return exams.item_analysis(current(), session_id)


# -- the trainee's exam --------------------------------------------------------------------------------------

@blp.route("/sessions/<int:session_id>/exam/start")
class ExamStart(MethodView):
    @login_required
    @blp.response(200)
    def post(self, session_id):
        """Start (or resume) the caller's attempt: items in a random order, with the deadline."""
        return _iso(exams.start_attempt(current(), session_id))


@blp.route("/sessions/<int:session_id>/exam/answer")
class ExamAnswer(MethodView):
    @login_required
    @blp.arguments(AnswerSchema)
    @blp.response(200)
    def post(self, body, session_id):
        """Save one answer (server time is what counts for the time limit)."""
        return exams.save_answer(current(), session_id, item_id=body["item_id"], keys=body["keys"])


@blp.route("/sessions/<int:session_id>/exam/submit")
class ExamSubmit(MethodView):
    @login_required
    @blp.arguments(SubmitSchema)
    @blp.response(200)
    def post(self, body, session_id):
        """Hand in; marked at once (late answers per the rule) and returned with the key."""
        return _iso(exams.submit(current(), session_id, answers=body["answers"]))


@blp.route("/sessions/<int:session_id>/exam/result/<int:attempt_no>")
class ExamResult(MethodView):
    @login_required
    @blp.response(200)
    def get(self, session_id, attempt_no):
        """The caller's marked attempt with the key and explanations."""
        return _iso(exams.my_result(current(), session_id, attempt_no))


def _iso(view: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in view.items()}


@blp.route("/sessions/<int:session_id>/satisfaction")
class Satisfaction(MethodView):
    @login_required
    @blp.arguments(SatisfactionSchema)
    @blp.response(200)
    def post(self, body, session_id):
        """Evaluate the session (1–5 on four items, and a comment)."""
        answer = feedback.answer(current(), session_id, **body)
        return {"overall": answer.overall, "submitted_at": answer.submitted_at.isoformat()}


# -- the trainee's list --------------------------------------------------------------------------------------

@blp.route("/my")
class MySessions(MethodView):
    @login_required
    @blp.response(200)
    def get(self):
        """The caller's sessions as trainee or lecturer, with what they can do now."""
        p = current()
        return {"items": [_my_entry(p, row, e) for row, e in queries.my_sessions(p)]}


@blp.route("/my/<int:session_id>")
class MySession(MethodView):
    @login_required
    @blp.response(200)
    def get(self, session_id):
        """One of the caller's sessions with their answer, attendance, exam and evaluation."""
        p = current()
        row = services.get_session(p, session_id)
        return _my_entry(p, row, services.enrolment_of(row.id, p.user_id))


def _my_entry(p, row, enrolment) -> dict:
    record = attendance.my_record(row.id, p.user_id)
    attempts = exams.my_attempts(row.id, p.user_id)
    now = clock.now()
    opens, closes = attendance.window(row)
    makeups = exams.makeup_candidates(row.id, include_started=True) if row.phase == "makeup_open" else []
    eligible_exam = record is not None and (record.attended_hours or 0) > 0
    return {
        "session": SessionSchema().dump(_session_out(row)),
        "capacity": "lecturer" if row.lecturer_user_id == p.user_id else "trainee",
        "response": enrolment.response if enrolment else None,
        "decline_reason": enrolment.decline_reason if enrolment else None,
        "attendance": AttendanceSchema().dump(attendance.record_view(record, row)) if record else None,
        "can_sign_in": row.phase == "sign_in_open" and opens <= now <= closes and enrolment is not None,
        "sign_in_opens_at": opens.isoformat(), "sign_in_closes_at": closes.isoformat(),
        "exam": {"open": (row.phase == "exam_open" and eligible_exam) or (row.phase == "makeup_open"
                                                                          and p.user_id in makeups),
                 "attempts": [{"attempt_no": a.attempt_no, "status": a.status, "score": a.score,
                               "passed": a.passed, "late": a.late} for a in attempts],
                 "closes_at": (row.makeup_closes_at if row.phase == "makeup_open" else row.exam_closes_at)},
        "satisfaction_done": feedback.mine(row.id, p.user_id) is not None,
        "can_evaluate": record is not None and row.phase in feedback.OPEN_PHASES,
    }


# -- credits and indicators ----------------------------------------------------------------------------------

@blp.route("/transcript")
class MyTranscript(MethodView):
    @login_required
    @blp.arguments(YearQuerySchema(only=("year",)), location="query")
    @blp.response(200)
    def get(self, args):
        """The caller's 学时/学分 of a year against the annual minimum."""
        return credits.transcript(current(), current().user_id, args.get("year") or clock.now().year)


@blp.route("/transcript/<int:user_id>")
class Transcript(MethodView):
    @require_roles(*READERS)
    @blp.arguments(YearQuerySchema(only=("year",)), location="query")
    @blp.response(200)
    def get(self, args, user_id):
        """A staff member's transcript (managers and overseers of their organization)."""
        return credits.transcript(current(), user_id, args.get("year") or clock.now().year)


@blp.route("/credits/export")
class CreditExport(MethodView):
    @require_roles(*READERS)
    @blp.arguments(YearQuerySchema, location="query")
    @blp.response(200, content_type="application/octet-stream")
    def get(self, args):
        """Credits of a year for the provincial CME registry (xlsx or csv); not an official certificate."""
        year = args.get("year") or clock.now().year
        if args["format"] == "csv":
            csv = credits.registry_csv(current(), year, args.get("org_code")).encode("utf-8")
            return file_response(csv, "text/csv; charset=utf-8", f"学分申报-{year}.csv")
        return file_response(credits.registry_xlsx(current(), year, args.get("org_code")), xlsx.MIME,
                             f"学分申报-{year}.xlsx")


@blp.route("/indicators")
class Indicators(MethodView):
    @require_roles(*READERS, "county_admin")
    @blp.arguments(PeriodQuerySchema, location="query")
    @blp.response(200)
    def get(self, args):
        """Sign-in rate, pass rate, coverage of staff in target roles and credit compliance, by organization."""
        today = clock.today()
        end = args.get("end") or today
        start = args.get("start") or date(end.year, 1, 1)
        if end < start or end - start > timedelta(days=3660):
            raise Invalid("统计区间不正确", code="invalid_period")
        return queries.indicators_by_child(current(), args.get("org_code"), start=start, end=end)
