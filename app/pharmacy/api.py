"""/api/v1/prescriptions: one supervised-drug prescription with its automatic findings, its state trace
(开具 → 审核中 → 通过/干预/拒绝 …) and the results owed to the HIS (scoped, read-audited)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current

from . import queries
from .schemas import PrescriptionDetailSchema

blp = Blueprint("pharmacy", __name__, url_prefix="/api/v1", description="前置审方 Prescription pre-review")


@blp.route("/prescriptions/<int:prescription_id>")
class PrescriptionDetail(MethodView):
    @phi_read("prescription")
    @blp.response(200, PrescriptionDetailSchema)
    def get(self, prescription_id):
        """One prescription in the caller's scope: items, findings, states and HIS results."""
        return queries.detail(queries.get(current(), prescription_id))
