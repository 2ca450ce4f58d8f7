"""/api/v1/education: the content library, pushes to a resident, and reads."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.audit.reads import phi_read
from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core.errors import NotFound
from app.residents.queries import get_resident
from app.vocabulary import Disease
from app.vocabulary.fields import Code

from . import services

blp = Blueprint("education", __name__, url_prefix="/api/v1", description="健康教育 Health education")


class EducationItemSchema(Schema):
    id = fields.Int()
    code = fields.Str()
    title = fields.Str()
    summary = fields.Str()
    body = fields.Str()
    disease = fields.Str()
    topic = fields.Str()
    risk_levels = fields.List(fields.Str())
    source = fields.Str(allow_none=True)


class EducationItemQueryArgsSchema(Schema):
    disease = Code(Disease, only=(Disease.HTN, Disease.T2DM), extra=("general",))
    topic = fields.Str(validate=validate.Length(max=40))


class EducationPushSchema(Schema):
    id = fields.Int()
    item_id = fields.Int()
    code = fields.Str()
    title = fields.Str()
    topic = fields.Str()
    summary = fields.Str()
    reason = fields.Str()
    channel = fields.Str()
    pushed_at = fields.DateTime()
    pushed_by = fields.Str()
    pushed_by_name = fields.Str(allow_none=True, metadata={"description": "who pushed it, by display name"})
    read_at = fields.DateTime(allow_none=True)


class EducationPushCreateSchema(Schema):
    item_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**63 - 1))
    resident_id = fields.Int(required=True, validate=validate.Range(min=1, max=2**63 - 1))


class EducationReadSchema(Schema):
    id = fields.Int()
    read_at = fields.DateTime(allow_none=True)


def _resident_in_scope(resident_id: int) -> None:
    if get_resident(resident_id, current()) is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)


@blp.route("/education/items")
class Items(MethodView):
    @login_required
    @blp.arguments(EducationItemQueryArgsSchema, location="query")
    @blp.response(200, EducationItemSchema(many=True))
    def get(self, args):
        """The education library, filtered by disease (includes general items) and topic."""
        return services.list_items(**args)


@blp.route("/residents/<int:resident_id>/education")
class ResidentEducation(MethodView):
    @phi_read("education_push")
    @blp.response(200, EducationPushSchema(many=True))
    def get(self, resident_id):
        """What was pushed to a resident, and what they read."""
        _resident_in_scope(resident_id)
        return services.pushes_for(resident_id)


@blp.route("/education/pushes")
class Pushes(MethodView):
    @require_roles("village_doctor", "township_doctor", "county_specialist", "township_public_health")
    @blp.arguments(EducationPushCreateSchema)
    @blp.response(201, EducationReadSchema)
    def post(self, body):
        """Push one item to a resident by hand."""
        _resident_in_scope(body["resident_id"])
        push_id = services.push(body["item_id"], body["resident_id"], reason="医生推送", pushed_by=current().username,
                                dedupe_key=f"manual:{body['resident_id']}:{body['item_id']}")
        return services.get_push(push_id) if push_id else {"id": None, "read_at": None}


@blp.route("/education/pushes/<int:push_id>/read")
class PushRead(MethodView):
    @login_required
    @blp.response(200, EducationReadSchema)
    def post(self, push_id):
        """Record that the resident read a pushed item (the patient themself, or staff in scope)."""
        row = services.get_push(push_id)
        p = current()
        if not (p.has_role("patient") and p.resident_id == row.resident_id):
            _resident_in_scope(row.resident_id)
        return services.mark_read(push_id)
