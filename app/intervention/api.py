"""/api/v1/interventions: the interventional centre's cases in the caller's scope (list = the specialty database's
search, one case with devices, complications, re-operations, DRG result, cost and open steps), opening a case,
intra-operative UDI scans, the DRG grouper's result import (connector/API; the platform stores, never groups) and
a resident's cases."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.downloads import file_response
from app.core.errors import NotFound
from app.residents.queries import get_resident
from app.tasks import queries as task_queries

from . import indicators, monthly, queries, reports, services
from .schemas import (
    CentreIndicatorsSchema,
    CentreMonthArgsSchema,
    CentreMonthlyReportListSchema,
    CentrePeriodArgsSchema,
    InterventionCancelSchema,
    InterventionCaseCreateSchema,
    InterventionCaseDetailSchema,
    InterventionCaseFilterSchema,
    InterventionCaseListSchema,
    InterventionCaseQueryArgsSchema,
    InterventionCaseSchema,
    InterventionDeviceSchema,
    InterventionDrgImportResultSchema,
    InterventionDrgImportSchema,
    InterventionScanSchema,
)

blp = Blueprint("intervention", __name__, url_prefix="/api/v1", description="介入中心 Interventional centre")
DOCTORS = ("county_specialist",)
STAFF = ("county_specialist", "county_admin", "supervisor")


def _detail(case_id: int) -> dict:
    p = current()
    row = queries.get(p, case_id)
    out = queries.detail(row)
    out["tasks"] = task_queries.next_tasks(p, row.instance_id) if row.instance_id else []
    out["scanning_open"] = any(t.get("element_id") == "operation_record" for t in out["tasks"])
    return out


@blp.route("/interventions")
class Cases(MethodView):
    @phi_read("intervention_list", roles=STAFF)
    @blp.arguments(InterventionCaseQueryArgsSchema, location="query")
    @blp.response(200, InterventionCaseListSchema)
    def get(self, args):
        """Cases of the caller's departments, newest first; the filters are the specialty database's search."""
        items, total = queries.list_cases(current(), args)
        return {"items": items, "total": total}

    @require_roles(*DOCTORS)
    @blp.arguments(InterventionCaseCreateSchema)
    @blp.response(201, InterventionCaseSchema)
    def post(self, body):
        """Open an interventional case and start `intervention_case` (pre-operative assessment first)."""
        return queries.item(services.open_case(current(), **body))


@blp.route("/interventions/<int:case_id>")
class Case(MethodView):
    @phi_read("intervention", roles=STAFF)
    @blp.response(200, InterventionCaseDetailSchema)
    def get(self, case_id):
        """One case with its devices, complications, re-operations, DRG result, cost, timeline and open steps."""
        return _detail(case_id)


@blp.route("/interventions/<int:case_id>/devices")
class Devices(MethodView):
    @require_roles(*DOCTORS)
    @blp.arguments(InterventionScanSchema)
    @blp.response(201, InterventionDeviceSchema)
    def post(self, body, case_id):
        """术中扫码: consume the scanned item from the centre's store and bind it to the case (only while the
        operation record is open). Refusals keep their supply-chain code: a wrong check digit, an expired item,
        a serial already used, no stock."""
        row = services.scan_device(current(), case_id, **body)
        return next(d for d in queries.devices(row.case_id) if d["id"] == row.id)


@blp.route("/interventions/<int:case_id>/cancel")
class Cancel(MethodView):
    @require_roles(*DOCTORS)
    @blp.arguments(InterventionCancelSchema)
    @blp.response(200, InterventionCaseSchema)
    def post(self, body, case_id):
        """Cancel a case before its operation is recorded (the process ends, consumables reserved for it are
        released). 409 `case_not_cancellable` once a device is scanned or the operation is recorded."""
        return queries.item(services.cancel_case(current(), case_id, reason=body["reason"]))


@blp.route("/interventions/drg-results")
class DrgResults(MethodView):
    @require_roles("integration", "county_admin")
    @blp.arguments(InterventionDrgImportSchema)
    @blp.response(200, InterventionDrgImportResultSchema)
    def post(self, body):
        """Import the DRG grouper's output of a discharged case (医保结算清单): DRG code, weight (RW), total charge and
        its parts. Idempotent per case; a different result for a grouped case is refused (409)."""
        if body.get("settled_on"):
            body["settled_on"] = body["settled_on"].isoformat()
        row, created = services.import_drg(current(), body)
        return {"case_no": row.case_no, "created": created, "status": row.status}


@blp.route("/residents/<int:resident_id>/interventions")
class ResidentCases(MethodView):
    @phi_read("intervention_list", roles=STAFF)
    @blp.response(200, InterventionCaseListSchema)
    def get(self, resident_id):
        """A resident's interventional cases (the record's timeline)."""
        if get_resident(resident_id, current()) is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
        items = queries.for_resident(resident_id)
        return {"items": items, "total": len(items)}


@blp.route("/interventions/export.xlsx")
class Export(MethodView):
    @phi_read("intervention_export", roles=STAFF)
    @blp.arguments(InterventionCaseFilterSchema, location="query")
    @blp.response(200, description="xlsx")
    def get(self, args):
        """The specialty database's cases matching the search, de-identified for the departments' own studies
        (no name, id number, phone or address; age in 10-year bands; dates to the month; a study pseudonym)."""
        body = reports.deidentified_xlsx(current(), args)
        return file_response(body, reports.XLSX, "intervention_database.xlsx")


@blp.route("/intervention-centre/indicators")
class CentreIndicators(MethodView):
    @phi_read("intervention_indicators", roles=STAFF)
    @blp.arguments(CentrePeriodArgsSchema, location="query")
    @blp.response(200, CentreIndicatorsSchema)
    def get(self, args):
        """Quality and DRG cost-benefit indicators per service line and for the centre, by discharge month; each
        indicator carries the case ids behind its numerator (drill-down) and its target from configuration."""
        return indicators.centre(current(), args["month"], args.get("to_month"))


@blp.route("/intervention-centre/indicators.xlsx")
class CentreIndicatorsXlsx(MethodView):
    @phi_read("intervention_indicators", roles=STAFF)
    @blp.arguments(CentrePeriodArgsSchema, location="query")
    @blp.response(200, description="xlsx")
    def get(self, args):
        """The indicators and their cases as a workbook."""
        body = reports.indicators_xlsx(current(), args["month"], args.get("to_month"))
        return file_response(body, reports.XLSX, f"intervention_{args['month']}.xlsx")


@blp.route("/intervention-centre/report.pdf")
class CentreReport(MethodView):
    @phi_read("intervention_report", roles=STAFF)
    @blp.arguments(CentreMonthArgsSchema, location="query")
    @blp.response(200, description="PDF")
    def get(self, args):
        """The monthly analysis: indicators against targets with a six-month trend, the cases behind each alarm,
        DRG outliers and loss-making cases."""
        body = reports.monthly_pdf(current(), args["month"])
        return file_response(body, "application/pdf", f"intervention_{args['month']}.pdf", inline=True)


@blp.route("/intervention-centre/monthly-reports")
class MonthlyReports(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, CentreMonthlyReportListSchema)
    def get(self):
        """The monthly analysis reports built by the scheduler on the 1st (delivered or failed, with the error)."""
        return {"items": monthly.listed(current())}


@blp.route("/intervention-centre/monthly-reports/<int:monthly_report_id>/report.<fmt>")
class MonthlyReportFile(MethodView):
    @phi_read("intervention_report", roles=STAFF)
    @blp.response(200, description="PDF or xlsx")
    def get(self, monthly_report_id, fmt):
        """One stored monthly report: `report.pdf` (the analysis) or `report.xlsx` (the indicator workbook)."""
        row = monthly.get(current(), monthly_report_id)
        if fmt == "pdf" and row.pdf is not None:
            return file_response(row.pdf, "application/pdf", f"intervention_{row.period}.pdf", inline=True)
        if fmt == "xlsx" and row.xlsx is not None:
            return file_response(row.xlsx, reports.XLSX, f"intervention_{row.period}.xlsx")
        raise NotFound("月度报告不存在 (report not found)", code="monthly_report_not_found",
                       report_id=monthly_report_id)
