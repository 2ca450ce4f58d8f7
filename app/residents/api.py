"""/api/v1/residents — register, search and read residents within the caller's data scope."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import require_principal, require_roles

from . import services
from .schemas import (
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
    @require_roles(*READERS)
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
    @require_roles(*READERS)
    @blp.response(200, ResidentRecordSchema)
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope")
    def get(self, resident_id):
        """Read a resident's record (full ID number); the read is audited. 404 outside the caller's scope."""
        return services.full_record(services.read_resident(resident_id, principal=require_principal()))

    @require_roles(*WRITERS)
    @blp.arguments(ResidentUpdateSchema)
    @blp.response(200, ResidentRecordSchema)
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope")
    def patch(self, data, resident_id):
        """Change a resident's name, phone, address, managing organization or family doctor (audited)."""
        return services.full_record(services.update_resident(resident_id, data, principal=require_principal()))
