"""/api/v1/webhooks — signed inbound messages (Standard Webhooks) and the message catalog."""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.auth.access import login_required
from app.integrations.store import Outcome, json_body

from . import services
from .signature import verify

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1/webhooks",
                description="签名回调 (signed webhooks): start or correlate processes by message")

SIGNED_DOC = {
    "parameters": [
        {"in": "header", "name": h, "required": True, "schema": {"type": "string"}, "description": d}
        for h, d in (("X-Client-Id", "integration client id (ygt create-client)"),
                     ("webhook-id", "unique delivery id; also the durable idempotency key"),
                     ("webhook-timestamp", "Unix seconds; refused outside ±5 minutes"),
                     ("webhook-signature", 'v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}"> under whsec_ secret'))
    ] + [{"in": "query", "name": "wait", "required": False, "schema": {"type": "boolean", "default": True},
          "description": "false: answer 404 no_waiting_instance instead of keeping an unmatched delivery"}],
    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
    "responses": {
        "200": {"description": "processed: correlated into or started instances"},
        "202": {"description": "waiting: no instance waits yet; kept for 24 h and delivered when one does"},
        "400": {"description": "timestamp_out_of_range"},
        "401": {"description": "unknown_client | invalid_signature"},
        "404": {"description": "unknown_message | no_waiting_instance (with ?wait=false)"},
        "409": {"description": "delivery_in_progress (the same webhook-id is being processed)"},
        "422": {"description": "schema_error (details.errors: [{path, message}]) | unknown_resident | unknown_code"},
        "429": {"description": "rate_limited"},
    },
}


def outcome_response(outcome: Outcome) -> Response:
    response = Response(json_body(outcome), status=outcome.http_status, content_type=outcome.content_type)
    for key, value in outcome.headers.items():
        response.headers[key] = value
    return response


class CatalogSchema(Schema):
    items = fields.List(fields.Dict())


@blp.route("/messages")
class Messages(MethodView):
    @login_required
    @blp.response(200, CatalogSchema)
    def get(self):
        """List the messages external systems may send: name, JSON Schema, what each starts or correlates."""
        return {"items": services.message_catalog()}


@blp.route("/messages/<string:message_name>")
class Message(MethodView):
    @blp.doc(**SIGNED_DOC)
    def post(self, message_name):
        """Deliver a signed message: start processes by message or correlate into a waiting instance."""
        body = request.get_data(cache=True)
        caller = verify(request.headers, body)
        wait = request.args.get("wait", "true").lower() not in ("0", "false", "no")
        return outcome_response(services.receive(caller, message_name, body, wait=wait))
