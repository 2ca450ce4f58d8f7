"""/api/mobile/v1: the village doctor's offline sync (packet, facts, completion commands, leases, devices).

Every call names its installation in `X-Device-Id`; a revoked device is answered 403 `device_revoked` (wipe).
docs/mobile.md is the contract the PWA is built against."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import login_required
from app.auth.access import require_principal as current

from . import services
from .schemas import (
    CompletionInSchema,
    CompletionSchema,
    DeviceListSchema,
    DeviceSchema,
    ObservationResultsSchema,
    ObservationsInSchema,
    PacketSchema,
    PacketTaskSchema,
    PullArgsSchema,
    ResolutionSchema,
    ResolveInSchema,
    RevokeSchema,
)

blp = Blueprint("mobile", __name__, url_prefix="/api/mobile/v1",
                description="移动端离线同步 Mobile sync for village doctors (offline follow-up)")
DEVICE = {"parameters": [{"in": "header", "name": "X-Device-Id", "required": True,
                          "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
                          "description": "the installation's random id (docs/mobile.md)"}]}
CONFLICT = ("completion_conflict: details.reason = task_reassigned | task_completed_elsewhere | task_cancelled | "
            "form_version_retired (details.successor_form_version) | resident_out_of_scope | lease_expired "
            "(the facts were kept)")


def _device():
    principal = current()
    services.require_mobile_role(principal)
    return principal, services.device_for(principal, request.headers.get("X-Device-Id"),
                                          label=request.headers.get("User-Agent"))


@blp.route("/pull")
class Pull(MethodView):
    @phi_read("mobile_packet", roles=services.MOBILE_ROLES)
    @blp.arguments(PullArgsSchema, location="query")
    @blp.response(200, PacketSchema)
    @blp.alt_response(403, description="device_revoked: details.wipe = true (delete the local store)")
    @blp.doc(**DEVICE)
    def get(self, args):
        """The caller's packet: tasks, resident summaries and forms; a delta with removals after `token`, paged by
        `limit` (pull again with the new token while `has_more`)."""
        principal, device = _device()
        return services.pull(principal, device, args.get("token"), args["limit"])


@blp.route("/observations")
class Observations(MethodView):
    @login_required
    @blp.arguments(ObservationsInSchema)
    @blp.response(200, ObservationResultsSchema)
    @blp.doc(**DEVICE)
    def post(self, body):
        """Record observations by client id, each on its own (created / duplicate / invalid); facts are kept."""
        principal, device = _device()
        return {"results": services.record_observations(principal, device, body["observations"])}


@blp.route("/completions")
class Completions(MethodView):
    @login_required
    @blp.arguments(CompletionInSchema)
    @blp.response(200, CompletionSchema)
    @blp.alt_response(409, description=CONFLICT)
    @blp.alt_response(422, description="form_invalid | date_in_future | idempotency_key_reused | validation_error")
    @blp.doc(**DEVICE)
    def post(self, body):
        """Complete a task seen offline, once per completion_id; a stale command is a typed 409, facts kept."""
        principal, device = _device()
        return services.complete(principal, device, body)


@blp.route("/completions/<string:completion_id>/resolve")
class Resolve(MethodView):
    @login_required
    @blp.arguments(ResolveInSchema)
    @blp.response(200, ResolutionSchema)
    @blp.alt_response(409, description="completion_not_in_conflict | conflict_already_resolved | "
                                       "no_open_task_for_note")
    @blp.doc(**DEVICE)
    def post(self, body, completion_id):
        """Act on one's own conflicted completion: attach the form as a note to the resident's open task, record
        the visit as an ad-hoc follow-up on the resident record, or discard (idempotent per action; audited)."""
        principal, device = _device()
        return services.resolve(principal, device, completion_id, body["action"])


@blp.route("/tasks/<int:task_id>/claim")
class Claim(MethodView):
    @login_required
    @blp.response(200, PacketTaskSchema)
    @blp.alt_response(409, description="task_already_claimed | task_already_completed")
    @blp.doc(**DEVICE)
    def post(self, task_id):
        """Claim an offered task onto this phone (the task with this device's offline lease)."""
        principal, device = _device()
        return services.claim(principal, device, task_id)


@blp.route("/devices")
class Devices(MethodView):
    @login_required
    @blp.response(200, DeviceListSchema)
    def get(self):
        """The caller's registered phones (a county_admin: those of users in their organization subtree)."""
        items = services.devices(current())
        return {"items": items, "total": len(items)}


@blp.route("/devices/<int:device_id>/revoke")
class RevokeDevice(MethodView):
    @login_required
    @blp.arguments(RevokeSchema)
    @blp.response(200, DeviceSchema)
    @blp.alt_response(409, description="device_already_revoked")
    def post(self, body, device_id):
        """Revoke a lost phone: its leases end and its next sync is told to wipe (owner or county_admin)."""
        return services.revoke_device(current(), device_id, reason=body["reason"])
