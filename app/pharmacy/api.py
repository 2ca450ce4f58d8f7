"""/api/v1/prescriptions: supervised-drug prescriptions searched by drug, prescriber, organisation and state, and
one prescription with its automatic findings, its state trace (开具 → 审核中 → 通过/干预/拒绝 …) and the results owed
to the HIS (scoped, read-audited)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import PHI_READERS, require_roles
from app.auth.access import require_principal as current
from app.core import clock

from . import queries
from .schemas import (
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


@blp.route("/prescriptions/<int:prescription_id>")
class PrescriptionDetail(MethodView):
    @phi_read("prescription")
    @blp.response(200, PrescriptionDetailSchema)
    def get(self, prescription_id):
        """One prescription in the caller's scope: items, findings, states and HIS results."""
        return queries.detail(queries.get(current(), prescription_id))
