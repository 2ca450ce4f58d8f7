"""/api/v1/appraisal: schemes per institution type (current version, history, edit → new version), runs of a
period, results with the ranking and each subject's breakdown, the report as PDF and xlsx."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.downloads import file_response
from app.core.errors import Conflict, NotFound
from app.quality.queries import resolve_org
from app.reports import background
from app.reports.schemas import ExportJobListSchema, ExportJobSchema

from . import queries, reports, rules, schemes, services
from .schemas import (
    AppraisalExportArgsSchema,
    AppraisalExportJobBodySchema,
    AppraisalPeriodSchema,
    AppraisalResultArgsSchema,
    AppraisalResultSchema,
    AppraisalRunBodySchema,
    AppraisalRunSchema,
    AppraisalSchemeBodySchema,
    AppraisalSchemeDetailSchema,
    AppraisalSchemeSchema,
)

blp = Blueprint("appraisal", __name__, url_prefix="/api/v1/appraisal", description="绩效考核 Performance appraisal")
STAFF = ("supervisor", "county_admin", "county_specialist", "township_doctor", "township_public_health",
         "village_doctor")
RUNNERS = ("county_admin", "supervisor")


def _by() -> str:
    p = current()
    return p.display_name or p.username


def _detail(kind: str) -> dict:
    row = schemes.current(kind)
    return {**schemes.describe(row), "versions": schemes.versions(kind), "indicators": schemes.applicable(kind),
            "rules": [{"code": code, "label": label, "params": {k: list(v) for k, v in rules.PARAMS[code].items()}}
                      for code, label in rules.RULES.items()]}


@blp.route("/schemes")
class Schemes(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, AppraisalSchemeSchema(many=True))
    def get(self):
        """The scheme in force of each institution type (乡镇卫生院, 村卫生室, 家庭医生团队)."""
        return [schemes.describe(schemes.current(kind)) for kind in schemes.KINDS]


@blp.route("/schemes/<string:kind>")
class Scheme(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, AppraisalSchemeDetailSchema)
    def get(self, kind):
        """One type's scheme in force, its versions, the indicators it may use and the scoring rules."""
        schemes.check_kind(kind)
        return _detail(kind)

    @require_roles("county_admin")
    @blp.arguments(AppraisalSchemeBodySchema)
    @blp.response(200, AppraisalSchemeDetailSchema)
    def put(self, body, kind):
        """Save an edited scheme as the next version (unchanged → the current version). 422 with a stable code
        (`weights_not_100`, `unknown_indicator`, `indicator_not_applicable`, `duplicate_indicator`, `invalid_weight`,
        `invalid_rule`, `invalid_params`, `no_target`, `empty_scheme`) and the JSON `path`."""
        schemes.check_kind(kind)
        schemes.save(kind, body, by=_by())
        return _detail(kind)


@blp.route("/schemes/<string:kind>/versions/<int:number>")
class SchemeVersion(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, AppraisalSchemeSchema)
    def get(self, kind, number):
        """One stored version of a type's scheme."""
        return schemes.describe(schemes.version(kind, number))


@blp.route("/runs")
class Runs(MethodView):
    @require_roles(*RUNNERS)
    @blp.arguments(AppraisalRunBodySchema)
    @blp.response(200, AppraisalRunSchema)
    def post(self, body):
        """Compute a period's results (one type or all) with the schemes in force; recomputing replaces them."""
        kinds = [body["kind"]] if body.get("kind") else list(schemes.KINDS)
        services.period_bounds(body["period"])
        rows = [services.run(kind, body["period"], by=_by()) for kind in kinds]
        return {"results": [queries.describe(current(), row) for row in rows]}


@blp.route("/periods")
class Periods(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, AppraisalPeriodSchema(many=True))
    def get(self):
        """The periods computed so far (newest first)."""
        return queries.periods(current())


@blp.route("/results")
class Results(MethodView):
    @phi_read("appraisal_results", roles=STAFF)
    @blp.arguments(AppraisalResultArgsSchema, location="query")
    @blp.response(200, AppraisalResultSchema)
    def get(self, args):
        """A type's period result: the ranking and each subject's breakdown (teams are named by their doctor, so the
        read is audited). Subjects outside the caller's subtree are left out; ranks are among all peers."""
        return queries.result(current(), **args)


def _exported(args) -> list[dict]:
    kinds = [args["kind"]] if args.get("kind") else list(schemes.KINDS)
    args = {**args, "period": args.get("period") or queries.latest_period(args.get("kind"))}
    found = []
    for kind in kinds:
        try:
            found.append(queries.result(current(), kind=kind, period=args["period"]))
        except NotFound:
            if args.get("kind"):
                raise
    if not found:
        raise NotFound("该考核期尚未计算, 请先运行考核", code="result_not_found", period=args["period"])
    return found


@blp.route("/results.pdf")
class ResultsPdf(MethodView):
    @phi_read("appraisal_report", roles=STAFF)
    @blp.arguments(AppraisalExportArgsSchema, location="query")
    @blp.response(200, description="PDF report")
    def get(self, args):
        """The report: per type, the indicators and weights, the ranking and each subject's breakdown."""
        found = _exported(args)
        data = reports.pdf(found, org_name=resolve_org(current(), None).name)
        return file_response(data, "application/pdf", f"appraisal-{found[0]['period']}.pdf")


def _job(row) -> dict:
    return background.describe(row, f"/api/v1/appraisal/exports/{row.id}/download")


@blp.route("/exports")
class Exports(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, ExportJobListSchema)
    def get(self):
        """The caller's report jobs (newest first)."""
        return {"items": [_job(r) for r in background.recent(current().user_id, kind="appraisal")]}

    @require_roles(*STAFF)
    @blp.arguments(AppraisalExportJobBodySchema)
    @blp.response(202, ExportJobSchema)
    def post(self, body):
        """Build the report of every institution type (or one) for a period in the background: the answer is the
        job; poll it and download the file when done. The file holds what the caller may see."""
        services.period_bounds(body["period"])
        p = current()
        kinds = [body["kind"]] if body.get("kind") else list(schemes.KINDS)
        if not any(services.stored(kind, body["period"]) for kind in kinds):
            raise NotFound("该考核期尚未计算, 请先运行考核", code="result_not_found", period=body["period"])
        label = schemes.KINDS[body["kind"]] if body.get("kind") else "全部类型"
        title = f"绩效考核报告 {body['period']} ({label}, {'PDF' if body['format'] == 'pdf' else 'Excel'})"
        row = background.start(p.user_id, kind="appraisal", title=title, builder="app.appraisal.jobs.build_report",
                               params={**body, "org_name": resolve_org(p, None).name})
        return _job(background.get(p.user_id, row.id, kind="appraisal"))


@blp.route("/exports/<int:job_id>")
class ExportJob(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, ExportJobSchema)
    def get(self, job_id):
        """One of the caller's report jobs: status, progress, the download link once done."""
        return _job(background.get(current().user_id, job_id, kind="appraisal"))


@blp.route("/exports/<int:job_id>/download")
class ExportDownload(MethodView):
    @phi_read("appraisal_report", roles=STAFF)
    @blp.response(200, description="PDF report or xlsx workbook")
    def get(self, job_id):
        """The file a finished job built (its requester only; 409 `export_not_ready` before)."""
        row = background.get(current().user_id, job_id, kind="appraisal")
        if row.status != "done" or row.content is None:
            raise Conflict("报告尚未生成完毕", code="export_not_ready", job_status=row.status)
        return file_response(row.content, row.mime or reports.PDF_MIME, row.filename or "appraisal.pdf")


@blp.route("/results.xlsx")
class ResultsXlsx(MethodView):
    @phi_read("appraisal_export", roles=STAFF)
    @blp.arguments(AppraisalExportArgsSchema, location="query")
    @blp.response(200, description="xlsx workbook")
    def get(self, args):
        """The ranking and the breakdown of each type as an Excel workbook (Chinese headers)."""
        found = _exported(args)
        return file_response(reports.workbook(found), reports.MIME, f"appraisal-{found[0]['period']}.xlsx")
