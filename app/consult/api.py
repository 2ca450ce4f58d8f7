"""/api/v1/consults: remote consults of the caller's organisations (list, one consult with its opinions and open
steps, a doctor's request), the patient's consent with the drawn signature, the invited side's accept / decline (a
reason is required), an expert's own signed opinion, the requester's deterioration alarm, the patient's
satisfaction, the signed report PDF as archived by each side, a resident's consults, the agreements and the expert
registry."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core.downloads import file_response
from app.core.errors import Invalid, NotFound
from app.residents.queries import get_resident
from app.tasks import queries as task_queries

from . import agreements, documents, experts, queries, services
from .schemas import (
    ConsultAgreementSchema,
    ConsultConsentSchema,
    ConsultCreateSchema,
    ConsultDeclineSchema,
    ConsultDetailSchema,
    ConsultDeteriorationSchema,
    ConsultExpertSchema,
    ConsultListSchema,
    ConsultOpinionCreateSchema,
    ConsultOpinionSchema,
    ConsultOptionsSchema,
    ConsultQueryArgsSchema,
    ConsultSatisfactionSchema,
    ConsultSchema,
    ResidentConsultSchema,
)

blp = Blueprint("consult", __name__, url_prefix="/api/v1", description="远程会诊 Remote consultation")
DOCTORS = ("village_doctor", "township_doctor", "county_specialist")
STAFF = (*DOCTORS, "county_admin", "supervisor")


def _detail(consult_id: int) -> dict:
    p = current()
    row = queries.get(p, consult_id)
    out = queries.detail(row, p)
    out["tasks"] = task_queries.next_tasks(p, row.instance_id) if row.instance_id else []
    return out


@blp.route("/consults")
class Consults(MethodView):
    @phi_read("consult_list", roles=STAFF)
    @blp.arguments(ConsultQueryArgsSchema, location="query")
    @blp.response(200, ConsultListSchema)
    def get(self, args):
        """Consults sent from or received by the caller's organisations, newest first."""
        items, total = queries.list_consults(current(), args)
        return {"items": items, "total": total}

    @require_roles(*DOCTORS)
    @blp.arguments(ConsultCreateSchema)
    @blp.response(201, ConsultSchema)
    def post(self, body):
        """Request a consult (F2.1). 422 `no_agreement` / `agreement_expired` … with the reason when the two
        organisations have no agreement in force; the invitation is sent only after the patient's consent."""
        row = services.request_consult(current(), **body)
        return queries.item(row)


@blp.route("/consults/options")
class Options(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, ConsultOptionsSchema)
    def get(self):
        """Organisations under agreement and the code lists of the request form."""
        return queries.options(current())


@blp.route("/consults/<int:consult_id>")
class ConsultDetail(MethodView):
    @phi_read("consult", roles=STAFF)
    @blp.response(200, ConsultDetailSchema)
    def get(self, consult_id):
        """One consult: request, consent (without the signature image), opinions, report, timeline (alarms
        included) and the open steps the caller may work on."""
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/consent")
class Consent(MethodView):
    @require_roles(*DOCTORS)
    @blp.arguments(ConsultConsentSchema)
    @blp.response(200, ConsultDetailSchema)
    def post(self, body, consult_id):
        """The patient's written consent signed on the phone/tablet (422 `signature_invalid`); `consented=false`
        ends the consult: no invitation is ever sent without consent."""
        services.give_consent(current(), consult_id, body)
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/accept")
class Accept(MethodView):
    @require_roles("supervisor", "county_admin")
    @blp.response(200, ConsultDetailSchema)
    def post(self, consult_id):
        """The invited 医务科 accepts (completes 受理会诊)."""
        services.complete_step(current(), consult_id, "accept_consult", {"decision": "accept"})
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/decline")
class Decline(MethodView):
    @require_roles("supervisor", "county_admin")
    @blp.arguments(ConsultDeclineSchema)
    @blp.response(200, ConsultDetailSchema)
    def post(self, body, consult_id):
        """The invited 医务科 declines; a reason is required (400 `reason_required`)."""
        services.decline(current(), consult_id, body["reason"], body["note"])
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/opinions")
class Opinions(MethodView):
    @require_roles("county_specialist", "township_doctor")
    @blp.arguments(ConsultOpinionCreateSchema)
    @blp.response(201, ConsultOpinionSchema)
    def post(self, body, consult_id):
        """An assigned expert signs their own opinion (MDT); 403 `not_consult_expert`, 409 `already_signed`."""
        op = services.sign_opinion(current(), consult_id, body)
        return next(o for o in queries.opinions(queries.get(current(), consult_id)) if o["id"] == op.id)


@blp.route("/consults/<int:consult_id>/expert-decline")
class ExpertDecline(MethodView):
    @require_roles("county_specialist", "township_doctor")
    @blp.arguments(ConsultDeclineSchema)
    @blp.response(200, ConsultDetailSchema)
    def post(self, body, consult_id):
        """An assigned expert declines to take part; a reason is required (400 `reason_required`). A lead's decline
        sends the consult back to the 医务科 to assign experts again."""
        services.expert_declines(current(), consult_id, body["reason"] or "")
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/reassign")
class Reassign(MethodView):
    @require_roles("supervisor", "county_admin")
    @blp.arguments(ConsultDeclineSchema)
    @blp.response(200, ConsultDetailSchema)
    def post(self, body, consult_id):
        """The invited 医务科 takes the experts off a scheduled consult, with a reason (400 `reason_required`); the
        排班/指派专家 step opens again (409 `consult_not_in_progress` outside the consult)."""
        services.reassign(current(), consult_id, body["reason"] or "")
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/deterioration")
class Deterioration(MethodView):
    @require_roles(*DOCTORS)
    @blp.arguments(ConsultDeteriorationSchema)
    @blp.response(200, ConsultDetailSchema)
    def post(self, body, consult_id):
        """The patient deteriorates during the consult: an emergency referral starts, the consult goes on
        (409 `not_in_consult` before or after the consult itself)."""
        services.report_deterioration(current(), consult_id, body["reason"])
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/satisfaction")
class Satisfaction(MethodView):
    @require_roles(*DOCTORS)
    @blp.arguments(ConsultSatisfactionSchema)
    @blp.response(200, ConsultDetailSchema)
    def post(self, body, consult_id):
        """The patient's satisfaction answer (1–5) after the consult closed."""
        services.record_satisfaction(current(), consult_id, body["score"])
        return _detail(consult_id)


@blp.route("/consults/<int:consult_id>/report.pdf")
class Report(MethodView):
    @phi_read("consult_report", roles=STAFF)
    @blp.response(200, description="PDF")
    def get(self, consult_id):
        """The signed report as archived by the requesting (`?side=requester`, default) or the invited side."""
        side = request.args.get("side", "requester")
        if side not in documents.SIDES:
            raise Invalid("side 取值不正确", code="invalid_side", allowed=list(documents.SIDES))
        row = queries.get(current(), consult_id)
        doc = documents.archived(row, side)
        return file_response(doc.content, "application/pdf", f"{row.consult_no}-{side}.pdf", inline=True,
                             headers={"X-Content-SHA256": doc.sha256})


@blp.route("/residents/<int:resident_id>/consults")
class ResidentConsults(MethodView):
    @phi_read("consult_list", roles=STAFF)
    @blp.response(200, ResidentConsultSchema(many=True))
    def get(self, resident_id):
        """A resident's consults with the signed opinion (the record's timeline)."""
        if get_resident(resident_id, current()) is None:
            raise NotFound("居民不存在 (resident not found)", resident_id=resident_id)
        return queries.for_resident(resident_id)


@blp.route("/consult-agreements")
class Agreements(MethodView):
    @login_required
    @blp.response(200, ConsultAgreementSchema(many=True))
    def get(self):
        """The 远程医疗合作协议 between organisations (and whether each is in force today)."""
        return agreements.listing()

    @require_roles("county_admin")
    @blp.arguments(ConsultAgreementSchema)
    @blp.response(200, ConsultAgreementSchema)
    def put(self, body):
        """Add or change an agreement (by number)."""
        agreements.upsert(**body)
        return next(a for a in agreements.listing() if a["agreement_no"] == body["agreement_no"])


@blp.route("/consult-experts")
class Experts(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, ConsultExpertSchema(many=True))
    def get(self):
        """The expert registry (specialty, title, availability, open consults)."""
        return experts.listing()

    @require_roles("county_admin")
    @blp.arguments(ConsultExpertSchema)
    @blp.response(200, ConsultExpertSchema)
    def put(self, body):
        """Register an expert at an organisation (多点执业: one row per organisation) or change leave/availability."""
        row = experts.upsert(**body)
        return next(e for e in experts.listing() if e["id"] == row.id)
