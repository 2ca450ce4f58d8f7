"""/api/v1/care-plans: plans and versions, diffs, revision proposals, comments, medication guidance, the PDF."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.downloads import file_response
from app.core.errors import NotFound
from app.residents.queries import get_resident

from . import guidance as medication
from . import queries, services
from .printing import pdf_for
from .schemas import (
    CarePlanCommentCreateSchema,
    CarePlanCommentSchema,
    CarePlanDetailSchema,
    CarePlanGuidanceSchema,
    CarePlanListSchema,
    CarePlanQueryArgsSchema,
    CarePlanRequestResultSchema,
    CarePlanRequestSchema,
    CarePlanVersionSchema,
    RevisionCancelSchema,
    RevisionProposalSchema,
    VersionDiffSchema,
)

blp = Blueprint("care_plans", __name__, url_prefix="/api/v1", description="管理方案 Care plans")
DOCTORS = ("county_specialist", "township_doctor", "village_doctor", "county_admin", "supervisor")


def _resident_in_scope(resident_id: int) -> None:
    if get_resident(resident_id, current()) is None:
        raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)


@blp.route("/care-plans")
class CarePlans(MethodView):
    @phi_read("care_plan")
    @blp.arguments(CarePlanQueryArgsSchema, location="query")
    @blp.response(200, CarePlanListSchema)
    def get(self, args):
        """List a resident's care plans (one per disease)."""
        return {"items": queries.plans_of_resident(current(), args["resident_id"])}


@blp.route("/care-plans/requests")
class CarePlanRequests(MethodView):
    @require_roles("county_specialist", "township_doctor", "integration")
    @blp.arguments(CarePlanRequestSchema)
    @blp.response(202, CarePlanRequestResultSchema)
    def post(self, body):
        """Ask for a care plan for an enrolled, graded resident (starts `care_plan`; idempotent)."""
        _resident_in_scope(body["resident_id"])
        return services.request_plan(body["resident_id"], body["disease"], body["risk_level"],
                                     requested_by=current().username, reason=body["reason"])


@blp.route("/care-plans/<int:care_plan_id>")
class CarePlan(MethodView):
    @phi_read("care_plan")
    @blp.response(200, CarePlanDetailSchema)
    def get(self, care_plan_id):
        """Show a plan with its version in force, every version and the comments."""
        plan = queries.scoped_plan(current(), care_plan_id)
        versions, comments = queries.versions(plan.id), queries.comments(plan.id)
        return {**{c: getattr(plan, c) for c in ("id", "resident_id", "disease", "risk_level", "status",
                                                 "current_version", "org_code", "created_at", "updated_at")},
                "current": queries.current(plan.id), "versions": versions, "comments": comments,
                "names": queries.display_names(versions, comments)}


@blp.route("/care-plans/<int:care_plan_id>/versions/<int:number>")
class CarePlanVersion(MethodView):
    @phi_read("care_plan_version")
    @blp.response(200, CarePlanVersionSchema)
    def get(self, care_plan_id, number):
        """Show one version of a plan."""
        return queries.version(queries.scoped_plan(current(), care_plan_id).id, number)


@blp.route("/care-plans/<int:care_plan_id>/versions/<int:number>/cancel")
class CarePlanVersionCancel(MethodView):
    @require_roles("supervisor", "county_admin")
    @blp.arguments(RevisionCancelSchema)
    @blp.response(200, CarePlanVersionSchema)
    def post(self, body, care_plan_id, number):
        """Cancel an open revision (draft, returned or waiting for approval) with a reason: its `care_plan` instance
        is terminated, the plan in force stays; audited (409 revision_not_open for any other version)."""
        queries.scoped_plan(current(), care_plan_id)
        return services.cancel_revision(care_plan_id, number, reason=body["reason"], principal=current())


@blp.route("/care-plans/<int:care_plan_id>/versions/<int:a>/diff/<int:b>")
class CarePlanDiff(MethodView):
    @phi_read("care_plan_diff")
    @blp.response(200, VersionDiffSchema)
    def get(self, care_plan_id, a, b):
        """What changed between two versions (targets, drugs keyed by drug, lifestyle, interval, topics)."""
        return queries.version_diff(queries.scoped_plan(current(), care_plan_id).id, a, b)


@blp.route("/care-plans/<int:care_plan_id>/revisions")
class CarePlanRevisions(MethodView):
    @require_roles("township_doctor", "county_specialist")
    @blp.arguments(RevisionProposalSchema)
    @blp.response(202, CarePlanRequestResultSchema)
    def post(self, body, care_plan_id):
        """Propose a revised plan; the county approves it in the `care_plan` process."""
        queries.scoped_plan(current(), care_plan_id)
        return services.propose_revision(care_plan_id, content=body["content"], reason=body["reason"],
                                         principal=current())


@blp.route("/care-plans/<int:care_plan_id>/comments")
class CarePlanComments(MethodView):
    @require_roles(*DOCTORS)
    @blp.arguments(CarePlanCommentCreateSchema)
    @blp.response(201, CarePlanCommentSchema)
    def post(self, body, care_plan_id):
        """Comment on a plan or one of its versions."""
        queries.scoped_plan(current(), care_plan_id)
        return services.add_comment(care_plan_id, body=body["body"], version=body["version"], principal=current())


@blp.route("/care-plans/<int:care_plan_id>/guidance")
class CarePlanGuidance(MethodView):
    @phi_read("care_plan_guidance")
    @blp.response(200, CarePlanGuidanceSchema)
    def get(self, care_plan_id):
        """Medication guidance: what to take, adherence, warnings (dose limits, interactions)."""
        return medication.guidance(queries.scoped_plan(current(), care_plan_id).id)


@blp.route("/care-plans/<int:care_plan_id>/pdf")
class CarePlanPdf(MethodView):
    @phi_read("care_plan_pdf")
    @blp.response(200, content_type="application/pdf")
    def get(self, care_plan_id):
        """The printable plan for the patient (PDF, Chinese text)."""
        plan = queries.scoped_plan(current(), care_plan_id)
        return file_response(pdf_for(plan), "application/pdf", f"care-plan-{plan.id}.pdf", inline=True)
