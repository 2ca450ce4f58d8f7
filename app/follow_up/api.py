"""/api/v1/follow-ups (overdue list, device readings, referral requests) and a resident's follow-up timeline."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.db import session
from app.core.errors import NotFound
from app.org.models import Organization
from app.org.scope import row_scope_filter
from app.residents.queries import get_resident

from . import devices, queries
from .models import ReferralRequest
from .schemas import (
    FollowUpDeviceReadingSchema,
    FollowUpOverdueListSchema,
    FollowUpOverdueQueryArgsSchema,
    FollowUpTimelineSchema,
    ReferralRequestSchema,
)

blp = Blueprint("follow_up", __name__, url_prefix="/api/v1", description="随访 Follow-up")


def _resident_in_scope(resident_id: int) -> None:
    if get_resident(resident_id, current()) is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)


# the overdue worklist is staff work (the 逾期随访 menu, ui/src/lib/roles.ts canSeeFollowUps): a patient account
# or a pharmacist reads their own record, not a worklist (issue 22.5)
WORKLIST_ROLES = ("village_doctor", "township_doctor", "township_public_health", "county_specialist", "supervisor",
                  "county_admin")


@blp.route("/follow-ups/overdue")
class Overdue(MethodView):
    @phi_read("follow_up_overdue", roles=WORKLIST_ROLES)
    @blp.arguments(FollowUpOverdueQueryArgsSchema, location="query")
    @blp.response(200, FollowUpOverdueListSchema)
    def get(self, args):
        """Overdue follow-ups in scope (per doctor, village or township), high priority first, then most overdue."""
        items, total = queries.overdue(current(), **args)
        return {"items": items, "total": total}


@blp.route("/residents/<int:resident_id>/follow-ups")
class ResidentFollowUps(MethodView):
    @phi_read("follow_up_timeline")
    @blp.response(200, FollowUpTimelineSchema)
    def get(self, resident_id):
        """A resident's follow-up timeline: schedules, every visit with values and classification, and trends."""
        _resident_in_scope(resident_id)
        return queries.timeline(resident_id)


@blp.route("/follow-ups/device-readings")
class DeviceReadings(MethodView):
    @require_roles("integration", "village_doctor", "township_doctor")
    @blp.arguments(FollowUpDeviceReadingSchema)
    @blp.response(200, description="the resident's latest device values (form defaults)")
    def post(self, body):
        """Record a BP cuff / glucometer reading; it pre-fills the resident's open and next follow-up forms."""
        _resident_in_scope(body["resident_id"])
        return devices.record_device_reading(body["resident_id"], code=body["code"], value=body["value"],
                                             unit=body["unit"], effective_at=body["effective_at"])


@blp.route("/referral-requests")
class ReferralRequests(MethodView):
    @phi_read("referral_request")
    @blp.response(200, ReferralRequestSchema(many=True))
    def get(self):
        """Referral requests raised by follow-ups in scope (pending ones wait for the referral process)."""
        rows = session().scalars(
            select(ReferralRequest).outerjoin(Organization, Organization.code == ReferralRequest.org_code)
            .where(row_scope_filter(current(), org_path=Organization.path, resident_id=ReferralRequest.resident_id))
            .order_by(ReferralRequest.id.desc()).limit(500))
        return list(rows)
