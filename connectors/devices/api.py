"""/api/v1/connectors/devices/{vendor}/readings (signed vendor webhook) and /api/v1/devices (which device belongs to
which resident; stored readings and the review queue of unknown devices)."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.audit.reads import phi_read
from app.auth.access import PHI_READERS
from app.auth.access import require_principal as current
from app.core.paging import PageArgsSchema
from app.webhooks.signature import verify

from . import services
from .adapters import KINDS

blp = Blueprint("devices", __name__, url_prefix="/api/v1",
                description="家用设备读数 Device readings (BP cuffs, glucometers) from vendor clouds")
REGISTRARS = ("village_doctor", "township_doctor", "township_public_health", "county_specialist", "county_admin")

SIGNED_DOC = {
    "parameters": [
        {"in": "header", "name": h, "required": True, "schema": {"type": "string"}, "description": d}
        for h, d in (("X-Client-Id", "integration client id (ygt create-client)"),
                     ("webhook-id", "unique delivery id"),
                     ("webhook-timestamp", "Unix seconds; refused outside ±5 minutes"),
                     ("webhook-signature", 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> under whsec_ secret'))
    ],
    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
    "responses": {
        "200": {"description": "results[]: recorded | duplicate | unknown_device (stored for review) | invalid"},
        "400": {"description": "timestamp_out_of_range"},
        "401": {"description": "unknown_client | invalid_signature"},
        "422": {"description": "schema_error | invalid_vendor (nothing stored)"},
        "429": {"description": "rate_limited"},
    },
}


class RegistrationInSchema(Schema):
    vendor = fields.Str(required=True, validate=validate.Regexp(services.VENDOR.pattern))
    serial = fields.Str(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_.:-]{1,40}$"))
    kind = fields.Str(required=True, validate=validate.OneOf(KINDS))
    resident_id = fields.Int(required=True, strict=True, validate=validate.Range(min=1, max=2**63 - 1))


class RegistrationSchema(Schema):
    id = fields.Int()
    vendor = fields.Str()
    serial = fields.Str()
    kind = fields.Str()
    resident_id = fields.Int()
    active = fields.Bool()
    registered_by = fields.Str()
    registered_at = fields.DateTime()
    recorded_waiting = fields.Int(metadata={"description": "waiting readings of this device recorded now"})


class RegistrationListSchema(Schema):
    items = fields.List(fields.Nested(RegistrationSchema))
    total = fields.Int()


class RegistrationArgsSchema(Schema):
    resident_id = fields.Int(validate=validate.Range(min=1, max=2**63 - 1))


class ReadingArgsSchema(PageArgsSchema):
    status = fields.Str(validate=validate.OneOf(services.STATUSES))
    resident_id = fields.Int(validate=validate.Range(min=1, max=2**63 - 1))


class StoredReadingSchema(Schema):
    id = fields.Int()
    vendor = fields.Str()
    reading_id = fields.Str()
    serial = fields.Str()
    kind = fields.Str()
    measured_at = fields.DateTime(allow_none=True)
    status = fields.Str()
    error_code = fields.Str(allow_none=True)
    resident_id = fields.Int(allow_none=True)
    observation_ids = fields.List(fields.Int())
    payload = fields.Dict()
    received_at = fields.DateTime()


class StoredReadingListSchema(Schema):
    items = fields.List(fields.Nested(StoredReadingSchema))
    total = fields.Int()


@blp.route("/connectors/devices/<string:vendor>/readings")
class VendorReadings(MethodView):
    @blp.doc(**SIGNED_DOC)
    def post(self, vendor):
        """Readings from a device vendor's cloud (signed): recorded on the resident each device is registered to."""
        body = request.get_data(cache=True)
        caller = verify(request.headers, body)
        return services.receive(caller, vendor, body)


@blp.route("/devices")
class Registrations(MethodView):
    @phi_read("device_registration", roles=PHI_READERS)
    @blp.arguments(RegistrationArgsSchema, location="query")
    @blp.response(200, RegistrationListSchema)
    def get(self, args):
        """Devices registered to residents in the caller's scope (optionally one resident's)."""
        items = services.registrations(current(), args.get("resident_id"))
        return {"items": items, "total": len(items)}

    @phi_read("device_registration", roles=REGISTRARS)
    @blp.arguments(RegistrationInSchema)
    @blp.response(201, RegistrationSchema)
    @blp.alt_response(409, description="device_already_registered")
    def post(self, body):
        """Register a BP cuff or glucometer to a resident; its waiting readings are recorded now."""
        return services.register(current(), **body)


@blp.route("/devices/<int:registration_id>")
class Registration(MethodView):
    @phi_read("device_registration", roles=REGISTRARS)
    @blp.response(204)
    def delete(self, registration_id):
        """Take a device back from a resident (its later readings wait as unknown_device)."""
        services.unregister(current(), registration_id)


@blp.route("/devices/readings")
class Readings(MethodView):
    @phi_read("device_reading", roles=PHI_READERS)
    @blp.arguments(ReadingArgsSchema, location="query")
    @blp.response(200, StoredReadingListSchema)
    def get(self, args):
        """Stored vendor readings, newest first: residents in scope, and the review queue of unknown devices."""
        items, total = services.readings(current(), status=args.get("status"), resident_id=args.get("resident_id"),
                                         page=args["page"], per_page=args["per_page"])
        return {"items": items, "total": total}
