"""/api/v1/referrals: the referral list per organisation, one referral with its documents, a doctor's new up- or
down-referral, the receiving department's accept / reject / redirect, the sender's record summary for the receiver,
live statistics (JSON and xlsx), the capability catalogue, and arrivals that matched no referral."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.audit.reads import phi_read
from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core.db import session
from app.core.downloads import file_response
from app.core.errors import Invalid, NotFound
from app.reports import xlsx
from app.residents.queries import get_resident
from app.tasks import completion
from app.tasks import queries as task_queries
from app.workflows.models import HumanTask

from . import catalogue, documents, exports, queries, services, summary
from .schemas import (
    DownReferralCreateSchema,
    ReferralAcceptSchema,
    ReferralCapabilitySchema,
    ReferralCreateSchema,
    ReferralDetailSchema,
    ReferralListSchema,
    ReferralQueryArgsSchema,
    ReferralRedirectSchema,
    ReferralRejectSchema,
    ReferralSchema,
    ReferralSenderSummarySchema,
    ReferralStatsQueryArgsSchema,
    ReferralStatsSchema,
    ReferralUnmatchedArrivalSchema,
)
from .steps import REJECT_REASONS

blp = Blueprint("referral", __name__, url_prefix="/api/v1", description="双向转诊 Referral")
STAFF = ("village_doctor", "township_doctor", "county_specialist", "county_admin", "supervisor",
         "township_public_health")


@blp.route("/referrals")
class Referrals(MethodView):
    @phi_read("referral_list")
    @blp.arguments(ReferralQueryArgsSchema, location="query")
    @blp.response(200, ReferralListSchema)
    def get(self, args):
        """Referrals sent from or to the caller's organisations (filter, drill down from an indicator)."""
        items, total = queries.list_referrals(current(), args)
        return {"items": items, "total": total}

    @require_roles("village_doctor", "township_doctor", "county_specialist")
    @blp.arguments(ReferralCreateSchema)
    @blp.response(201, ReferralSchema)
    def post(self, body):
        """Refer a resident up from the patient record (a chosen receiver must offer the capability)."""
        row = services.request_from_principal(
            current(), resident_id=body["resident_id"], disease=body["disease"], reason=body["reason"],
            requested_urgency=body["urgency"], to_org_code=body["to_org_code"], capability=body["capability"],
            trigger=body["trigger"])
        return queries.item(row)


@blp.route("/referrals/down")
class DownReferrals(MethodView):
    @require_roles("county_specialist")
    @blp.arguments(DownReferralCreateSchema)
    @blp.response(201, ReferralSchema)
    def post(self, body):
        """Refer a resident down to their managing township/village (ward round or discharge)."""
        row = services.request_down_from_principal(current(), resident_id=body["resident_id"],
                                                   disease=body["disease"], reason=body["reason"],
                                                   parent_id=body["parent_id"])
        return queries.item(row)


@blp.route("/referrals/<int:referral_id>")
class ReferralDetail(MethodView):
    @phi_read("referral")
    @blp.response(200, ReferralDetailSchema)
    def get(self, referral_id):
        """One referral: forms, result, follow-up, timeline, linked down-referrals, and the open steps of its process
        the caller may work on now (the page links to their inbox forms)."""
        row = queries.get(current(), referral_id)
        out = queries.detail(row)
        out["tasks"] = task_queries.next_tasks(current(), row.instance_id) if row.instance_id else []
        return out


def _review_task(referral_id: int) -> HumanTask:
    row = queries.get(current(), referral_id)
    task = session().scalars(select(HumanTask).where(
        HumanTask.instance_id == row.instance_id, HumanTask.element_id == "review_referral",
        HumanTask.status == "open")).first() if row.instance_id else None
    if task is None:
        raise Invalid("此转诊当前没有待审核的接诊任务 (no open review)", code="no_open_review", status=409)
    return task


@blp.route("/referrals/<int:referral_id>/accept")
class Accept(MethodView):
    @require_roles("county_specialist", "township_doctor")
    @blp.arguments(ReferralAcceptSchema)
    @blp.response(200, ReferralSchema)
    def post(self, body, referral_id):
        """Accept the referral (completes the department's 接诊审核 task)."""
        task = _review_task(referral_id)
        data = {"decision": "accept", "visit_mode": body["visit_mode"],
                "suggested_date": body["suggested_date"].isoformat() if body["suggested_date"] else None}
        completion.complete(current(), task.id, data=data)
        return queries.item(queries.get(current(), referral_id))


@blp.route("/referrals/<int:referral_id>/reject")
class Reject(MethodView):
    @require_roles("county_specialist", "township_doctor")
    @blp.arguments(ReferralRejectSchema)
    @blp.response(200, ReferralSchema)
    def post(self, body, referral_id):
        """Reject with a reason (400 `reason_required` without one); the sender re-targets or cancels."""
        if body["reason"] not in REJECT_REASONS:
            raise Invalid("拒收须说明原因", code="reason_required", status=400, allowed=list(REJECT_REASONS))
        task = _review_task(referral_id)
        completion.complete(current(), task.id, data={"decision": "reject", "reject_reason": body["reason"],
                                                        "reject_note": body["note"]})
        return queries.item(queries.get(current(), referral_id))


@blp.route("/referrals/<int:referral_id>/redirect")
class Redirect(MethodView):
    @require_roles("county_specialist", "township_doctor")
    @blp.arguments(ReferralRedirectSchema)
    @blp.response(200, ReferralSchema)
    def post(self, body, referral_id):
        """Redirect to another department (it must offer the capability: 422 `capability_unavailable`)."""
        row = queries.get(current(), referral_id)
        catalogue.check(body["to_org_code"], row.capability or "general_medicine")
        task = _review_task(referral_id)
        completion.complete(current(), task.id, data={"decision": "redirect", "redirect_org": body["to_org_code"],
                                                        "reject_note": body["note"]})
        return queries.item(queries.get(current(), referral_id))


@blp.route("/referrals/<int:referral_id>/sender-summary")
class SenderSummary(MethodView):
    @phi_read("referral_sender_summary", roles=("county_specialist", "township_doctor", "village_doctor"))
    @blp.response(200, ReferralSenderSummarySchema)
    def get(self, referral_id):
        """The sender's record summary for the receiving doctor: only while the referral is active; audited."""
        return summary.for_receiver(current(), referral_id)


@blp.route("/referrals/<int:referral_id>/documents/<string:kind>.pdf")
class Document(MethodView):
    @phi_read("referral_document")
    @blp.response(200, description="PDF")
    def get(self, referral_id, kind):
        """转诊单 (`referral_form`), 回执 (`receipt`) or 下转单 (`down_form`) as a printable PDF with its stub."""
        row = queries.get(current(), referral_id)
        pdf = documents.render(row, kind)
        return file_response(pdf, "application/pdf", f"{row.referral_no}-{kind}.pdf", inline=True)


@blp.route("/referral-stats")
class Stats(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(ReferralStatsQueryArgsSchema, location="query")
    @blp.response(200, ReferralStatsSchema)
    def get(self, args):
        """Live referral indicators for the caller's scope (period on the request date, org, disease)."""
        out = queries.stats(current(), args)
        out["unmatched_arrivals"] = len(summary.unmatched_arrivals(limit=1000))
        return out


@blp.route("/referral-stats.xlsx")
class StatsExport(MethodView):
    @phi_read("referral_export", roles=STAFF)
    @blp.arguments(ReferralStatsQueryArgsSchema, location="query")
    @blp.response(200, description="xlsx workbook")
    def get(self, args):
        """The indicators and the referral list as an Excel workbook (Chinese headers)."""
        data = exports.workbook(current(), args)
        return file_response(data, xlsx.MIME, "referral-stats.xlsx")


@blp.route("/referral-capabilities")
class Capabilities(MethodView):
    @login_required
    @blp.response(200, ReferralCapabilitySchema(many=True))
    def get(self):
        """The organisation capability catalogue (which organisation offers which capability)."""
        return catalogue.listing()

    @require_roles("county_admin")
    @blp.arguments(ReferralCapabilitySchema)
    @blp.response(200, ReferralCapabilitySchema)
    def put(self, body):
        """Add or change a catalogue row (pause a capability with a reason, register an out-of-county hospital)."""
        catalogue.upsert(**body)
        return next(c for c in catalogue.listing(org_code=body["org_code"], capability=body["capability"])
                    if body["org_code"] or c["org_name"] == body["hospital_name"])


@blp.route("/referrals/unmatched-arrivals")
class UnmatchedArrivals(MethodView):
    @phi_read("referral_unmatched_arrival", roles=("county_admin", "supervisor", "county_specialist"))
    @blp.response(200, ReferralUnmatchedArrivalSchema(many=True))
    def get(self):
        """Arrival messages from the hospital that named no known referral (kept in the inbound store)."""
        return summary.unmatched_arrivals()


@blp.route("/residents/<int:resident_id>/referrals")
class ResidentReferrals(MethodView):
    @phi_read("referral_list")
    @blp.response(200, ReferralSchema(many=True))
    def get(self, resident_id):
        """A resident's referrals with their milestones (the record's referral section and timeline)."""
        if get_resident(resident_id, current()) is None:
            raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
        return queries.for_resident(resident_id)
