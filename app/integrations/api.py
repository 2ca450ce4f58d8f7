"""/api/v1/integrations — the integration screen: clients, recent deliveries, failures, replay."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.audit.reads import phi_read
from app.audit.services import record
from app.auth.access import require_principal, require_roles
from app.core.db import unit_of_work
from app.core.paging import PageArgsSchema, per_page

from . import pushes, queries, store

blp = Blueprint("integrations", __name__, url_prefix="/api/v1/integrations",
                description="集成监控 (integration screen): deliveries per client, failures, replay")
VIEWERS = ("county_admin", "supervisor", "integration")


class DeliveryQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=50, maximum=200)
    client_id = fields.String()
    status = fields.String(validate=validate.OneOf(("received", "processed", "waiting", "rejected", "failed",
                                                    "expired", "failures")))
    channel = fields.String(validate=validate.OneOf(("webhook", "hl7v2", "fhir")))


class ItemsSchema(Schema):
    items = fields.List(fields.Dict())


class PagedItemsSchema(ItemsSchema):
    total = fields.Integer()


class ReplaySchema(Schema):
    delivery = fields.Dict()
    answer = fields.Dict()


@blp.route("/clients")
class Clients(MethodView):
    @require_roles(*VIEWERS)
    @blp.response(200, ItemsSchema)
    def get(self):
        """List integration clients with their deliveries, failures and waiting count of the last 24 hours."""
        return {"items": queries.clients(require_principal())}


@blp.route("/deliveries")
class Deliveries(MethodView):
    @phi_read("inbound_event_list", roles=VIEWERS)
    @blp.arguments(DeliveryQueryArgsSchema, location="query")
    @blp.response(200, PagedItemsSchema)
    def get(self, args):
        """List deliveries newest first (filter by client, status — `failures` for all failures — and channel)."""
        items, total = queries.deliveries(require_principal(), **args)
        return {"items": [queries.summary(e) for e in items], "total": total}


@blp.route("/deliveries/<int:delivery_id>")
class Delivery(MethodView):
    @phi_read("inbound_event", roles=VIEWERS, audit=False)      # audited as integration.delivery_read
    @blp.response(200, description="the delivery with its body, stored answer and result")
    def get(self, delivery_id):
        """Read one delivery with its body, stored answer and result (the read is audited)."""
        event = queries.get_delivery(require_principal(), delivery_id)
        with unit_of_work():
            record("integration.delivery_read", object_type="inbound_event", object_id=event.id)
        return queries.detail(event)


@blp.route("/deliveries/<int:delivery_id>/replay")
class Replay(MethodView):
    @require_roles("county_admin", "supervisor")
    @blp.response(200, ReplaySchema)
    def post(self, delivery_id):
        """Process a failed, rejected, expired or waiting delivery again (409 not_replayable otherwise)."""
        event = queries.get_delivery(require_principal(), delivery_id)
        outcome = store.replay(event.id)
        with unit_of_work():
            record("integration.delivery_replay", object_type="inbound_event", object_id=event.id,
                   details={"status": outcome.status})
        return {"delivery": queries.detail(queries.get_delivery(require_principal(), delivery_id)),
                "answer": {"status": outcome.http_status, "body": outcome.body}}


class PushQueryArgsSchema(PageArgsSchema):
    per_page = per_page(default=50, maximum=200)
    status = fields.String(validate=validate.OneOf(("sent", "failed")))
    system = fields.String(validate=validate.Length(max=40))


class PushSchema(Schema):
    id = fields.Integer()
    system = fields.String()
    system_label = fields.String()
    object_type = fields.String()
    object_label = fields.String()
    object_id = fields.String()
    status = fields.String()
    attempts = fields.Integer()
    remote_id = fields.String(allow_none=True)
    last_error = fields.String(allow_none=True)
    pushed_at = fields.String(allow_none=True)
    first_failed_at = fields.String(allow_none=True)
    next_attempt_at = fields.String(allow_none=True)
    alerted_at = fields.String(allow_none=True)


class PushPageSchema(Schema):
    items = fields.List(fields.Nested(PushSchema))
    total = fields.Integer()


@blp.route("/pushes")
class Pushes(MethodView):
    @phi_read("external_push_list", roles=("county_admin", "supervisor"))   # a remote's error may echo the record
    @blp.arguments(PushQueryArgsSchema, location="query")
    @blp.response(200, PushPageSchema)
    def get(self, args):
        """List what we pushed or owe to external systems, newest first (`status=failed`: undelivered, with the
        attempts, last error and next retry)."""
        items, total = pushes.listing(**args)
        return {"items": items, "total": total}


@blp.route("/pushes/<int:push_id>/retry")
class PushRetry(MethodView):
    @require_roles("county_admin", "supervisor")
    @blp.response(200, PushSchema)
    def post(self, push_id):
        """Retry an undelivered record at the next scheduled run (404 push_not_found when none or already sent)."""
        with unit_of_work():
            item = pushes.retry_now(push_id)
            record("integration.push_retry", object_type="external_push", object_id=push_id,
                   details={"system": item["system"], "attempts": item["attempts"]})
        return item
