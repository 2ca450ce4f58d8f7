"""/api/v1/prescriptions: supervised-drug prescriptions searched by drug, prescriber, organisation and state, and
one prescription with its automatic findings, its state trace (开具 → 审核中 → 通过/干预/拒绝 …) and the results owed
to the HIS (scoped, read-audited)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import PHI_READERS, require_roles
from app.auth.access import require_principal as current
from app.auth.queries import display_names
from app.core import clock
from app.core.paging import PageArgsSchema
from app.org.queries import find_org

from . import queries, services
from .schemas import (
    AutoPassArgsSchema,
    AutoPassSettingSchema,
    AutoPassUpdateSchema,
    MedicationErrorReportPageSchema,
    PrescriptionDetailSchema,
    PrescriptionOptionsSchema,
    PrescriptionPageSchema,
    PrescriptionQueryArgsSchema,
)

blp = Blueprint("pharmacy", __name__, url_prefix="/api/v1", description="前置审方 Prescription pre-review")


@blp.route("/prescriptions")
class Prescriptions(MethodView):
    @phi_read("prescription")
    @blp.arguments(PrescriptionQueryArgsSchema, location="query")
    @blp.response(200, PrescriptionPageSchema)
    @blp.alt_response(422, description="validation_error, unknown_org_code, invalid_date_range")
    def get(self, args):
        """Prescriptions in the caller's scope (the county review centre's pharmacists: the whole network) by drug,
        prescriber, organisation, current state, resident and date received, newest first."""
        items, total = queries.search(current(), args)
        return {"items": items, "total": total, "server_now": clock.now()}


@blp.route("/prescriptions/options")
class PrescriptionOptions(MethodView):
    @require_roles(*PHI_READERS)
    @blp.response(200, PrescriptionOptionsSchema)
    def get(self):
        """The search form's choices: supervised drugs, trace states, prescribers seen in the caller's scope."""
        return queries.options(current())


AUTO_PASS_EDITORS = ("county_admin", "pharmacist")
ERROR_REPORT_READERS = ("pharmacist", "supervisor", "county_admin")


@blp.route("/prescriptions/error-reports")
class ErrorReports(MethodView):
    @phi_read("medication_error_report", roles=ERROR_REPORT_READERS)
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, MedicationErrorReportPageSchema)
    def get(self, args):
        """用药差错/不良事件报告 recorded with refused prescriptions in the caller's scope, newest first
        (pharmacists, supervisors, county administrators; read-audited)."""
        items, total = queries.error_reports(current(), args)
        return {"items": items, "total": total}


def _named(rows: list[dict]) -> list[dict]:
    names = display_names({r["updated_by"] for r in rows if r["updated_by"]})
    out = []
    for r in rows:
        here, source = find_org(r["org_code"]), find_org(r["from_org_code"])
        out.append({**r, "org_name": here.name if here else "", "from_org_name": source.name if source else None,
                    "updated_by_name": names.get(r["updated_by"]) or r["updated_by"]})
    return out


@blp.route("/prescriptions/auto-pass")
class AutoPass(MethodView):
    @require_roles(*AUTO_PASS_EDITORS, "supervisor")
    @blp.arguments(AutoPassArgsSchema, location="query")
    @blp.response(200, AutoPassSettingSchema(many=True))
    @blp.alt_response(422, description="unknown_org_code")
    def get(self, args):
        """The auto-pass switch per supervised drug class as it applies at an organisation: a prescription with no
        finding above 提示 passes without a pharmacist only where it is on (default off)."""
        return _named(services.auto_pass_settings(args["org_code"]))

    @require_roles(*AUTO_PASS_EDITORS)
    @blp.arguments(AutoPassUpdateSchema)
    @blp.response(200, AutoPassSettingSchema(many=True))
    @blp.alt_response(422, description="unknown_org_code, validation_error")
    def put(self, body):
        """Switch auto-pass of one drug class at one organisation and the organisations below it (a closer
        organisation's own setting wins); county administrator or pharmacist; audited `rx.auto_pass`."""
        return _named(services.set_auto_pass(body["org_code"], body["drug_class"], body["enabled"],
                                             actor=current().username))


@blp.route("/prescriptions/<int:prescription_id>")
class PrescriptionDetail(MethodView):
    @phi_read("prescription")
    @blp.response(200, PrescriptionDetailSchema)
    def get(self, prescription_id):
        """One prescription in the caller's scope: items, findings, states and HIS results."""
        return queries.detail(queries.get(current(), prescription_id))
