"""What outside systems hold about a resident, read through their connectors: PACS studies and EMR documents
(`connectors.pacs`), DRG settlements (`connectors.insurance`). Same URLs as the integration screen's API
(`/api/v1/integrations/residents/...`), served by the connectors that own the data, in their own blueprint
(registered right after app.integrations.api).
"""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal
from app.core.errors import NotFound
from app.integrations.api import ItemsSchema
from app.residents.queries import get_resident
from connectors.insurance.sync import settlements_of
from connectors.pacs.sync import links_of

blp = Blueprint("external_records", __name__, url_prefix="/api/v1/integrations",
                description="外部系统资料 (what PACS, EMR and insurance hold about a resident)")


@blp.route("/residents/<int:resident_id>/links")
class ResidentLinks(MethodView):
    @phi_read("document_link", roles=("county_specialist", "county_admin", "township_doctor", "township_public_health",
                   "village_doctor", "supervisor"))
    @blp.response(200, ItemsSchema)
    def get(self, resident_id):
        """The resident's PACS studies and EMR documents (viewer URL, report text); 404 outside the caller's scope."""
        return {"items": links_of(_resident_in_scope(resident_id))}


@blp.route("/residents/<int:resident_id>/drg-settlements")
class ResidentDrg(MethodView):
    @phi_read("drg_settlement", roles=("county_specialist", "county_admin", "supervisor"))
    @blp.response(200, ItemsSchema)
    def get(self, resident_id):
        """The resident's inpatient cases as the insurance platform grouped and paid them (DRG)."""
        return {"items": [{"case_no": r.case_no, "drg_code": r.drg_code, "drg_name": r.drg_name,
                           "relative_weight": _num(r.relative_weight), "total_cost": _num(r.total_cost),
                           "fund_paid": _num(r.fund_paid), "admitted_on": _day(r.admitted_on),
                           "discharged_on": _day(r.discharged_on), "settled_on": _day(r.settled_on)}
                          for r in settlements_of(_resident_in_scope(resident_id))]}


def _resident_in_scope(resident_id: int) -> int:
    if get_resident(resident_id, require_principal()) is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
    return resident_id


def _num(value):
    return float(value) if value is not None else None


def _day(value):
    return value.isoformat() if value is not None else None
