"""POST /api/v1/residents/{id}/risk-levels/{disease}/reassessment — a clinician re-assesses a graded disease.

The URL sits under the resident, the work belongs to screening's grading (`app.screening.stratify`), so the route is
screening's: its own blueprint under the residents prefix (registered right after the residents blueprint).
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import require_principal, require_roles
from app.core.errors import NotFound
from app.residents.queries import get_resident
from app.residents.schemas import RiskReassessmentSchema

from . import stratify

blp = Blueprint("risk_reassessment", __name__, url_prefix="/api/v1/residents",
                description="风险复评 (risk re-assessment)")

CLINICIANS = ("county_specialist", "township_doctor")


@blp.route("/<int:resident_id>/risk-levels/<string:disease>/reassessment")
class RiskReassessment(MethodView):
    @require_roles(*CLINICIANS)
    @blp.arguments(RiskReassessmentSchema)
    @blp.response(200, RiskReassessmentSchema)
    @blp.alt_response(404, description="not_found | not_graded")
    @blp.alt_response(422, description="invalid_level | reason_required")
    def post(self, data, resident_id, disease):
        """A clinician re-assesses a graded disease (the only way a grade is lowered): level and reason, audited."""
        resident = get_resident(resident_id, require_principal())
        if resident is None:
            raise NotFound("居民不存在 (resident not found)")
        result = stratify.reassess(resident.id, disease, level=data["level"], reason=data.get("reason") or "",
                                   actor=require_principal().username)
        return {**data, **result}
