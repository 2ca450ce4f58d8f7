"""/api/v1/report-builder (自定义报表): the builder's choices, running a definition as a pivot, exporting it
(xlsx / PDF), saved reports (own, or shared with a role) with monthly delivery, and the delivered files."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.downloads import file_response
from app.core.errors import Conflict
from app.quality.queries import resolve_org
from app.quality.schemas import QualityDrilldownSchema
from app.reports import background
from app.reports.schemas import ExportJobListSchema, ExportJobSchema
from app.vocabulary import Role

from . import measures, queries, services
from .exports import MIME, PDF_MIME
from .models import ReportDelivery, SavedReport
from .schemas import (
    ReportDeliveryListSchema,
    ReportDrilldownBodySchema,
    ReportExportArgsSchema,
    ReportExportBodySchema,
    ReportJobBodySchema,
    ReportOptionsSchema,
    ReportResultSchema,
    ReportRunSchema,
    SavedReportBodySchema,
    SavedReportListSchema,
    SavedReportSchema,
)

blp = Blueprint("report_builder", __name__, url_prefix="/api/v1/report-builder",
                description="自定义报表 Custom reports")
ROLES = services.BUILDER_ROLES


def _file(data: bytes, fmt: str, name: str) -> Response:
    return file_response(data, PDF_MIME if fmt == "pdf" else MIME, name)


def _item(report: SavedReport) -> dict:
    return {"id": report.id, "name": report.name, "definition": report.definition,
            "mine": report.owner_id == current().user_id, "shared_role": report.shared_role,
            "shared_role_label": Role.label_of(report.shared_role) if report.shared_role else None,
            "schedule_day": report.schedule_day, "schedule_format": report.schedule_format,
            "updated_at": report.updated_at}


def _delivery(row: ReportDelivery) -> dict:
    return {"id": row.id, "period": row.period, "format": row.format, "filename": row.filename,
            "created_at": row.created_at, "download": f"/api/v1/report-builder/deliveries/{row.id}/download"}


@blp.route("/options")
class Options(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, ReportOptionsSchema)
    def get(self):
        """Measures (indicators and raw counts) with the dimensions each offers, granularities, comparisons and
        the roles a report can be shared with."""
        return {**measures.catalogue(), "roles": [{"code": r, "label": Role.label_of(r)} for r in ROLES],
                "orgs": queries.org_choices(current())}


@blp.route("/run")
class Run(MethodView):
    @require_roles(*ROLES)
    @blp.arguments(ReportRunSchema)
    @blp.response(200, ReportResultSchema)
    def post(self, body):
        """Run a definition: the pivot (rows × columns) with 环比 / 同比 (422 with `code` and `path` when invalid,
        `too_many_rows` over the limit — `details.job`: run it with POST /jobs instead; 404 for an organisation
        outside the caller's scope)."""
        return queries.run(current(), body["definition"])


@blp.route("/drilldown")
class Drilldown(MethodView):
    @phi_read("report_drilldown", roles=ROLES)
    @blp.arguments(ReportDrilldownBodySchema)
    @blp.response(200, QualityDrilldownSchema)
    def post(self, body):
        """The de-duplicated residents or tasks behind one cell (its `coords` from /run): numerator, denominator or
        gap, under the report's organisation (the caller's scope) and filters; audited. 422 `invalid_coords`."""
        return queries.drilldown(current(), body["definition"], measure=body["measure"], coords=body["coords"],
                                 part=body["part"], page=body["page"], per_page=body["per_page"])


def _job(row) -> dict:
    return background.describe(row, f"/api/v1/report-builder/jobs/{row.id}/download")


@blp.route("/jobs")
class Jobs(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, ExportJobListSchema)
    def get(self):
        """The caller's report jobs (newest first)."""
        return {"items": [_job(r) for r in background.recent(current().user_id, kind="report_builder")]}

    @require_roles(*ROLES)
    @blp.arguments(ReportJobBodySchema)
    @blp.response(202, ExportJobSchema)
    def post(self, body):
        """Run a report too big for /run (up to 20,000 rows) in the background and keep it as xlsx (Chinese
        headers): the answer is the job; poll it, download when done. The definition and organisation are checked
        first (422 / 404 as for /run)."""
        p = current()
        definition = queries.check(body["definition"])
        resolve_org(p, definition.org_code)
        row = background.start(p.user_id, kind="report_builder", title=body["name"],
                               builder="app.report_builder.jobs.build_report",
                               params={"definition": body["definition"], "name": body["name"]})
        return _job(background.get(p.user_id, row.id, kind="report_builder"))


@blp.route("/jobs/<int:report_job_id>")
class Job(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, ExportJobSchema)
    def get(self, report_job_id):
        """One of the caller's report jobs: status, progress, the download link once done."""
        return _job(background.get(current().user_id, report_job_id, kind="report_builder"))


@blp.route("/jobs/<int:report_job_id>/download")
class JobDownload(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, description="xlsx workbook")
    def get(self, report_job_id):
        """The workbook a finished job built (its requester only; 409 `export_not_ready` before)."""
        row = background.get(current().user_id, report_job_id, kind="report_builder")
        if row.status != "done" or row.content is None:
            raise Conflict("报表尚未生成完毕", code="export_not_ready", job_status=row.status)
        return file_response(row.content, row.mime or MIME, row.filename or "report.xlsx")


@blp.route("/export")
class Export(MethodView):
    @require_roles(*ROLES)
    @blp.arguments(ReportExportArgsSchema, location="query")
    @blp.arguments(ReportExportBodySchema)
    @blp.response(200, description="xlsx workbook or PDF")
    def post(self, args, body):
        """The pivot as an Excel workbook (Chinese headers) or a PDF."""
        result = queries.run(current(), body["definition"])
        return _file(services.render(result, body["name"], args["format"]), args["format"],
                     f"report.{args['format']}")


@blp.route("/reports")
class Reports(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, SavedReportListSchema)
    def get(self):
        """The caller's saved reports and those shared with one of their roles."""
        return {"items": [_item(r) for r in services.list_reports(current())]}

    @require_roles(*ROLES)
    @blp.arguments(SavedReportBodySchema)
    @blp.response(201, SavedReportSchema)
    def post(self, body):
        """Save a report (optionally shared with a role, optionally delivered monthly on a day 1 … 28)."""
        return _item(services.save_report(current(), body))


@blp.route("/reports/<int:report_id>")
class Report(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, SavedReportSchema)
    def get(self, report_id):
        return _item(services.get_report(current(), report_id))

    @require_roles(*ROLES)
    @blp.arguments(SavedReportBodySchema)
    @blp.response(200, SavedReportSchema)
    def put(self, body, report_id):
        """Replace one of the caller's own reports (a shared one cannot be changed by others: 404)."""
        return _item(services.save_report(current(), body, report_id))

    @require_roles(*ROLES)
    @blp.response(204)
    def delete(self, report_id):
        services.delete_report(current(), report_id)


@blp.route("/reports/<int:report_id>/deliveries")
class Deliveries(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, ReportDeliveryListSchema)
    def get(self, report_id):
        """The files delivered for one of the caller's reports (newest month first)."""
        return {"items": [_delivery(d) for d in services.deliveries(current(), report_id)]}


@blp.route("/deliveries/<int:delivery_id>/download")
class Download(MethodView):
    @require_roles(*ROLES)
    @blp.response(200, description="xlsx workbook or PDF")
    def get(self, delivery_id):
        """A delivered file (its owner only)."""
        row = services.get_delivery(current(), delivery_id)
        return _file(row.content, row.format, row.filename)
