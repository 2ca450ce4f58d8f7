"""/api/v1/residents — register, search and read residents within the caller's data scope."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal, require_roles
from app.core.errors import NotFound

from . import queries, record_queries, records, services
from .schemas import (
    HealthRecordSchema,
    HomeReadingCreateSchema,
    HomeReadingListSchema,
    ObservationCreateSchema,
    ObservationListSchema,
    ObservationQueryArgsSchema,
    ObservationSchema,
    ResidentCreateSchema,
    ResidentPageSchema,
    ResidentQueryArgsSchema,
    ResidentRecordSchema,
    ResidentUpdateSchema,
)

blp = Blueprint("residents", __name__, url_prefix="/api/v1/residents", description="居民档案 (resident registry)")

# who may read and who may register/change residents; scope (which residents) is decided in queries.py
READERS = ("county_specialist", "county_admin", "township_doctor", "township_public_health", "village_doctor",
           "pharmacist", "supervisor", "integration", "patient")
WRITERS = ("county_specialist", "county_admin", "township_doctor", "township_public_health", "village_doctor",
           "integration")


@blp.route("")
class Residents(MethodView):
    @phi_read("resident", audit=False, roles=READERS)
    @blp.arguments(ResidentQueryArgsSchema, location="query")
    @blp.response(200, ResidentPageSchema)
    def get(self, args):
        """Search residents in scope by name prefix or exact ID number; ID numbers are masked."""
        items, total = services.search(require_principal(), **args)
        return {"items": [services.summary(r) for r in items], "total": total}

    @require_roles(*WRITERS)
    @blp.arguments(ResidentCreateSchema)
    @blp.response(201, ResidentRecordSchema)
    @blp.alt_response(409, description="duplicate_resident")
    def post(self, data):
        """Register a resident (ID number checked by GB 11643: 422 invalid_id_number)."""
        return services.full_record(services.register_resident(data, principal=require_principal()))


@blp.route("/<int:resident_id>")
class ResidentById(MethodView):
    @phi_read("resident", audit=False, roles=READERS)
    @blp.response(200, HealthRecordSchema)
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope")
    def get(self, resident_id):
        """Read a resident's whole health record, chronic-disease summary first; audited; 404 outside scope."""
        resident = services.read_resident(resident_id, principal=require_principal())
        return services.full_record(resident) | record_queries.health_record(resident.id)

    @require_roles(*WRITERS)
    @blp.arguments(ResidentUpdateSchema)
    @blp.response(200, ResidentRecordSchema)
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope")
    def patch(self, data, resident_id):
        """Change a resident's name, phone, address, managing organization or family doctor (audited)."""
        return services.full_record(services.update_resident(resident_id, data, principal=require_principal()))


def _in_scope(resident_id: int):
    resident = queries.get_resident(resident_id, require_principal())
    if resident is None:
        raise NotFound("居民不存在 (resident not found)")
    return resident


@blp.route("/<int:resident_id>/home-readings")
class ResidentHomeReadings(MethodView):
    @require_roles(*WRITERS, "patient")
    @blp.arguments(HomeReadingCreateSchema)
    @blp.response(201, HomeReadingListSchema)
    @blp.alt_response(200, description="a replay of a known client `id`: the first rows, nothing added")
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope (a patient: not themselves)")
    @blp.alt_response(422, description="validation_error: nothing measured, half a BP pair, implausible, future time")
    def post(self, data, resident_id):
        """Record a home reading taken by the resident (source 患者自测): shown on the record, never used to grade,
        screen or classify. A patient records for themselves; staff in scope may type one in on their behalf."""
        resident = _in_scope(resident_id)
        rows, created = records.record_home_reading(resident.id, data, actor=require_principal().username)
        return {"items": [record_queries.observation_dict(r) for r in rows]}, 201 if created else 200


@blp.route("/<int:resident_id>/observations")
class ResidentObservations(MethodView):
    @phi_read("observation", roles=READERS)
    @blp.arguments(ObservationQueryArgsSchema, location="query")
    @blp.response(200, ObservationListSchema)
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope")
    def get(self, args, resident_id):
        """List a resident's observations, newest first; `?code=` gives one series for a trend chart."""
        resident = _in_scope(resident_id)
        items = record_queries.observations(resident.id, code=args.get("code"), limit=args["limit"])
        return {"items": items, "total": len(items)}

    @require_roles(*WRITERS)
    @blp.arguments(ObservationCreateSchema)
    @blp.response(201, ObservationSchema)
    @blp.alt_response(200, description="a replay of a known client `id`: the first row, nothing added")
    @blp.alt_response(422, description="unknown_code | invalid_unit | invalid_value")
    def post(self, data, resident_id):
        """Record an observation (LOINC code, value, unit, time, source); a client `id` makes it idempotent."""
        resident = _in_scope(resident_id)
        row, created = records.record_observation(
            resident.id, code=data["code"], value=data["value"], unit=data.get("unit"),
            effective_at=data["effective_at"], source=data["source"], client_id=data.get("id"),
            abnormal_flag=data.get("abnormal_flag"), actor=require_principal().username)
        return record_queries.observation_dict(row), 201 if created else 200
