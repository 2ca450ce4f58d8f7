"""/api/v1/recognition: a resident's network record (全网记录) with the 互认 verdicts, a clinician's check before
ordering a lab test or imaging study, the answer to a repeat inside the window, and the orderable items.

Scope: the resident in the caller's data scope, or an open referral (or, once plugged in, a remote consult) linking
the caller's organisation to the resident (`access.grant_for`); otherwise 404. Every read of the record is audited."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core.db import session
from app.core.errors import NotFound

from . import access, queries, services
from .models import RecognitionOrder
from .schemas import (
    AccreditationListSchema,
    AccreditationSchema,
    NetworkRecordSchema,
    OrderableItemsSchema,
    OrderAnswerSchema,
    OrderCheckSchema,
    OrderReplySchema,
)

blp = Blueprint("recognition", __name__, url_prefix="/api/v1/recognition",
                description="全网记录与检查检验结果互认 (cross-institution record, mutual recognition)")
CLINICIANS = ("village_doctor", "township_doctor", "county_specialist")
READERS = CLINICIANS + ("township_public_health", "county_admin", "supervisor")


@blp.route("/residents/<int:resident_id>/network-record")
class NetworkRecord(MethodView):
    @phi_read("network_record", roles=READERS)
    @blp.response(200, NetworkRecordSchema)
    def get(self, resident_id):
        """The resident's results, imaging (PACS links), ECG and documents from every member organisation, each with
        its source and time and the 互认 verdict today; the orders checked against them. 404 outside scope without an
        open referral or consult."""
        resident, grant = access.grant_for(current(), resident_id)
        record = queries.network_record(resident_id)
        return {**record, "access": grant, "resident_name": access.resident_name(resident, resident_id), "orders": queries.orders_of(resident_id),
                "reasons": queries.reason_options()}


@blp.route("/residents/<int:resident_id>/order-checks")
class OrderChecks(MethodView):
    @require_roles(*CLINICIANS)
    @blp.arguments(OrderCheckSchema)
    @blp.response(201, OrderAnswerSchema)
    def post(self, body, resident_id):
        """Before ordering: does a recognised result of this item exist inside its window? Recorded as an order of the
        caller's organisation; with a recognised result the answer asks for a reason (or give `reason_code` now)."""
        principal = current()
        access.grant_for(principal, resident_id)
        row, _ = services.check_order(
            resident_id=resident_id, order_key=f"platform:{principal.user_id}:{body['request_id']}",
            order_no=body["request_id"], channel="platform", org_code=principal.org_code,
            orderer=principal.display_name or principal.username, orderer_user_id=principal.user_id,
            item_class=body["item_class"], item_code=body["item_code"], reason_code=body.get("reason_code"),
            reason_note=body.get("reason_note"), actor=principal.username)
        return services.answer_for(row)


@blp.route("/orders/<int:order_id>/answer")
class OrderAnswer(MethodView):
    @require_roles(*CLINICIANS)
    @blp.arguments(OrderReplySchema)
    @blp.response(200, OrderAnswerSchema)
    def post(self, body, order_id):
        """The orderer's answer to a repeat inside the window: keep it with a reason, or withdraw it (repeat avoided).
        404 for an order of a resident outside the caller's reach; 409 order_not_awaiting_reason."""
        principal = current()
        row = session().get(RecognitionOrder, order_id) if 0 < order_id < 2**63 else None
        if row is None:
            raise NotFound("开单记录不存在 (order not found)", code="unknown_order_id", order_id=order_id)
        access.grant_for(principal, row.resident_id)
        row = services.answer_order(order_id, action=body["action"], reason_code=body.get("reason_code"),
                                    reason_note=body.get("reason_note"),
                                    by=principal.display_name or principal.username)
        return services.answer_for(row)


@blp.route("/items")
class OrderableItems(MethodView):
    @login_required
    @blp.response(200, OrderableItemsSchema)
    def get(self):
        """Lab items and imaging modalities a clinician can check before ordering (Chinese names)."""
        return {"items": [{"item_class": c, "item_code": k, "name": n} for c, k, n in queries.orderable_items()]}





@blp.route("/accreditations")
class Accreditations(MethodView):
    @login_required
    @blp.response(200, AccreditationListSchema)
    def get(self):
        """Which organisation is accredited (quality control passed) for which lab item or imaging modality: the
        basis of 互认 besides the item's window (no personal data)."""
        return {"items": queries.accreditations()}

    @require_roles("county_admin", "supervisor")
    @blp.arguments(AccreditationSchema)
    @blp.response(200, AccreditationSchema)
    def put(self, body):
        """Record or change one accreditation (end it by setting valid_to); 422 unknown_org, unknown_item,
        invalid_period. Audited."""
        principal = current()
        row = services.save_accreditation(org_code=body["org_code"], item_class=body["item_class"],
                                          item_code=body["item_code"], programme=body["programme"],
                                          valid_from=body["valid_from"], valid_to=body.get("valid_to"),
                                          actor=principal.username)
        return next(a for a in queries.accreditations() if a["id"] == row.id)
