"""/api/portal/v1 — the residents' own API (H5 portal), apart from the staff API.

Authentication is a portal token in the `X-Portal-Token` header (from binding: SMS code, the village doctor's QR, or
a signed-in patient account). A token names one resident: no endpoint takes a resident id, so another resident's
data cannot even be asked for, and an item id of another resident (an education push, a family member) is 404.
Every read is audited (`portal.read`, with the family member's proxy id when one reads). Staff call only
`/staff/...` (the binding QR) with their ordinary sign-in.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import Any

import segno
from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.utils import deepupdate

from app.audit.services import record as audit
from app.auth.access import require_principal, require_roles
from app.auth.principal import set_principal
from app.contracting import queries as contracting_queries
from app.contracting import services as contracting
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.education import services as education
from app.residents import records
from app.residents.models import Resident
from app.residents.schemas import HomeReadingCreateSchema
from app.residents.services import mask_phone
from connectors.sms import gateway as sms

from . import consent, queries, services
from .errors import ConsentRequired, PortalLoginRequired
from .models import PortalProxy
from .schemas import (
    PortalBindStartSchema,
    PortalBindVerifySchema,
    PortalBookingCreateSchema,
    PortalBookingSchema,
    PortalConsentDecisionSchema,
    PortalConsentsSchema,
    PortalConsultListSchema,
    PortalContractRequestSchema,
    PortalContractSchema,
    PortalDevSmsListSchema,
    PortalEducationBodySchema,
    PortalEducationListSchema,
    PortalMedicationListSchema,
    PortalMeSchema,
    PortalPlanSchema,
    PortalProxyDecisionSchema,
    PortalProxyInfoSchema,
    PortalProxyListSchema,
    PortalProxyRequestedSchema,
    PortalProxyRequestSchema,
    PortalProxyVerifySchema,
    PortalQrIssuedSchema,
    PortalQrRedeemSchema,
    PortalReadingListSchema,
    PortalReferralListSchema,
    PortalSlotListSchema,
    PortalSmsSentSchema,
    PortalSurveyAnswerSchema,
    PortalSurveyListSchema,
    PortalTokenSchema,
)

blp = Blueprint("portal", __name__, url_prefix="/api/portal/v1",
                description="居民端 Resident portal (resident-scoped tokens, X-Portal-Token)")
HEADER = "X-Portal-Token"
STAFF = ("village_doctor", "township_doctor", "township_public_health", "county_specialist", "county_admin")


@blp.before_request
def _resolve_portal_caller() -> None:
    """A portal token in the header makes the request the resident's (or their family member's), nothing more."""
    g.portal_caller = None
    raw = request.headers.get(HEADER, "").strip()
    if raw:
        caller = services.caller_for_token(raw)
        session().commit()
        g.portal_caller = caller
        set_principal(caller.principal())


def _caller() -> services.PortalCaller:
    caller = getattr(g, "portal_caller", None)
    if caller is None:
        raise PortalLoginRequired("请先绑定居民身份")
    return caller


def _document(view: Callable, *, phi: bool) -> None:
    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    responses = {"401": {"description": "portal_login_required | invalid_portal_token | proxy_revoked"},
                 "403": {"description": "consent_required | proxy_pending | proxy_not_allowed"}}
    extra: dict[str, Any] = {"responses": responses, "parameters": [
        {"in": "header", "name": HEADER, "required": False, "schema": {"type": "string"},
         "description": "portal token from binding"}]}
    if phi:
        extra["x-phi"] = True
    apidoc["manual_doc"] = deepupdate(apidoc.get("manual_doc", {}), extra)
    view._apidoc = apidoc  # type: ignore[attr-defined]


def _portal_view(section: str | None, *, needs_consent: bool, self_only: bool = False) -> Callable:
    """The one shape of every resident-facing view: resolve the portal caller (401 without a token), require the
    health-data consent (403 consent_required) and, for `self_only`, the resident themselves (not a family member);
    the view gets the caller as the keyword `caller`. With a `section` the successful read is audited
    (`portal.read`, with the family member's proxy id when one reads)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            caller = _caller()
            if needs_consent and not consent.portal_allowed(caller.resident_id):
                raise ConsentRequired("请先阅读并同意《个人健康信息授权》")
            if self_only:
                caller.require_self()
            response = view(*args, caller=caller, **kwargs)
            if section is not None:
                audit("portal.read", object_type=section, object_id=caller.resident_id,
                      principal=caller.principal(), details={"proxy_id": caller.proxy_id} if caller.proxy_id else {})
            return response
        _document(wrapper, phi=section is not None)
        return wrapper
    return decorator


def portal_read(section: str, *, needs_consent: bool = True, self_only: bool = False) -> Callable:
    """A read by a portal caller (under the health-data consent), audited."""
    return _portal_view(section, needs_consent=needs_consent, self_only=self_only)


def portal_write(*, needs_consent: bool = True, self_only: bool = False) -> Callable:
    """A write (or a non-PHI read) by a portal caller; the service records what changed."""
    return _portal_view(None, needs_consent=needs_consent, self_only=self_only)


def _resident(caller: services.PortalCaller) -> Resident:
    resident = session().get(Resident, caller.resident_id)
    if resident is None:
        raise NotFound("居民不存在 (resident not found)")
    return resident


def _proxy_dict(p) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "relation": p.relation, "phone_hint": p.phone_hint, "status": p.status,
            "requested_at": p.requested_at, "decided_at": p.decided_at}


def _proxy_of(caller: services.PortalCaller) -> dict[str, Any] | None:
    if not caller.proxy_id:
        return None
    row = session().get(PortalProxy, caller.proxy_id)
    return _proxy_dict(row) if row else None


# --- binding -------------------------------------------------------------------------------------------------------

@blp.route("/bind/sms")
class BindSms(MethodView):
    @blp.arguments(PortalBindStartSchema)
    @blp.response(202, PortalSmsSentSchema)
    @blp.alt_response(404, description="resident_not_matched: no resident with this ID number and name")
    @blp.alt_response(422, description="no_phone_on_file | validation_error")
    @blp.alt_response(429, description="binding_locked (5 wrong codes; locked_until) | sms_too_soon")
    @blp.alt_response(503, description="sms_unavailable: the gateway took no message")
    def post(self, data):
        """Send a six-digit binding code to the phone on file for this ID number and name."""
        sent = services.start_sms(data["id_number"], data["name"])
        return sent | {"dev_inbox": sms.is_dev()}


@blp.route("/bind/sms/verify")
class BindSmsVerify(MethodView):
    @blp.arguments(PortalBindVerifySchema)
    @blp.response(200, PortalTokenSchema)
    @blp.alt_response(404, description="resident_not_matched")
    @blp.alt_response(422, description="wrong_code (details.remaining) | code_expired")
    @blp.alt_response(429, description="binding_locked: the 5th wrong code locks binding for 30 minutes")
    def post(self, data):
        """Check the code; a portal token for the resident."""
        token, resident = services.verify_sms(data["id_number"], data["name"], data["code"])
        return {"token": token, "resident_name": resident.name, "proxy": None}


@blp.route("/bind/qr")
class BindQr(MethodView):
    @blp.arguments(PortalQrRedeemSchema)
    @blp.response(200, PortalTokenSchema)
    @blp.alt_response(422, description="code_expired: unknown, used or older than 10 minutes")
    def post(self, data):
        """Bind with the one-time QR the village doctor showed."""
        token, resident = services.redeem_qr(data["code"])
        return {"token": token, "resident_name": resident.name, "proxy": None}


@blp.route("/bind/login")
class BindLogin(MethodView):
    @require_roles("patient")
    @blp.response(200, PortalTokenSchema)
    @blp.alt_response(404, description="not_a_patient: the account is linked to no resident")
    def post(self):
        """A patient signed in to the platform (session or API token) gets a portal token for their record."""
        token, resident = services.token_for_patient_login(require_principal())
        return {"token": token, "resident_name": resident.name, "proxy": None}


@blp.route("/session")
class PortalSession(MethodView):
    @portal_write(needs_consent=False)
    @blp.response(200, PortalMeSchema)
    def get(self, *, caller: services.PortalCaller):
        """Who the token belongs to, and whether the health-data consent is still to be given."""
        return {"resident_name": caller.resident_name, "proxy": _proxy_of(caller),
                "consent_needed": not consent.portal_allowed(caller.resident_id)}

    @portal_write(needs_consent=False)
    @blp.response(204)
    def delete(self, *, caller: services.PortalCaller):
        """Sign out: this token stops working."""
        services.sign_out(caller)


# --- what the resident sees ----------------------------------------------------------------------------------------

@blp.route("/plan")
class Plan(MethodView):
    @portal_read("portal_plan")
    @blp.response(200, PortalPlanSchema)
    def get(self, *, caller: services.PortalCaller):
        """Next follow-up window, targets, drugs and guidance of the plan in force, the family doctor and phone."""
        return queries.plan(_resident(caller))


@blp.route("/readings")
class Readings(MethodView):
    @portal_read("portal_readings")
    @blp.response(200, PortalReadingListSchema)
    def get(self, *, caller: services.PortalCaller):
        """BP, pulse and glucose of the last 180 days, oldest first, each labelled 诊室 / 自测 / 设备."""
        return queries.readings(caller.resident_id)

    @portal_write()
    @blp.arguments(HomeReadingCreateSchema)
    @blp.response(201, PortalReadingListSchema)
    @blp.alt_response(200, description="a replay of a known client `id`: the first rows, nothing added")
    @blp.alt_response(422, description="validation_error: nothing measured, half a BP pair, implausible, future")
    def post(self, data, *, caller: services.PortalCaller):
        """Upload a home reading (BP with pulse, and/or glucose) through the record's intake: the village doctor
        sees it labelled 患者自测; it never grades, screens or classifies."""
        rows, created = records.record_home_reading(caller.resident_id, data, actor=caller.actor)
        codes = {v: k for k, v in queries.READING_CODES.items()}
        items = [{"id": o.id, "kind": codes.get(o.code, o.code), "name": o.code, "value": o.value_num,
                  "unit": o.unit, "at": o.effective_at, "origin": "self", "origin_label": "自测"} for o in rows]
        return {"items": items, "days": 0}, 201 if created else 200


@blp.route("/medications")
class Medications(MethodView):
    @portal_read("portal_medications")
    @blp.response(200, PortalMedicationListSchema)
    def get(self, *, caller: services.PortalCaller):
        """Current medications (drug, dose, frequency)."""
        return {"items": queries.medications(caller.resident_id)}


@blp.route("/education")
class Education(MethodView):
    @portal_read("portal_education")
    @blp.response(200, PortalEducationListSchema)
    def get(self, *, caller: services.PortalCaller):
        """Education items pushed to the resident, newest first, with when each was read."""
        return {"items": queries.education_items(caller.resident_id)}


@blp.route("/education/<int:push_id>")
class EducationItem(MethodView):
    @portal_read("portal_education")
    @blp.response(200, PortalEducationBodySchema)
    @blp.alt_response(404, description="not_found: no such item for this resident")
    def get(self, push_id, *, caller: services.PortalCaller):
        """Open one item; the first opening by the resident themselves is recorded as read."""
        push = queries.education_push(caller.resident_id, push_id)
        if push is None:
            raise NotFound("宣教内容不存在 (education item not found)")
        if not caller.is_proxy:
            push = education.mark_read(push.id)
        item = next(i for i in education.pushes_for(caller.resident_id) if i["id"] == push.id)
        body = education.list_items()
        text = next((i.body for i in body if i.id == push.item_id), "")
        return {"id": push.id, "title": item["title"], "summary": item["summary"], "topic": item["topic"],
                "pushed_at": push.pushed_at, "read_at": push.read_at, "body": text}


@blp.route("/referrals")
class Referrals(MethodView):
    @portal_read("portal_referrals")
    @blp.response(200, PortalReferralListSchema)
    def get(self, *, caller: services.PortalCaller):
        """Referrals: status only (已提交 / 已接收 / 已就诊 / 已回转), hospital and times."""
        return {"items": queries.referrals(caller.resident_id)}


@blp.route("/consults")
class Consults(MethodView):
    @portal_read("portal_consults")
    @blp.response(200, PortalConsultListSchema)
    def get(self, *, caller: services.PortalCaller):
        """Remote consultations: status only (已申请 / 已受理 / 已会诊 / 已出报告), specialty, hospital, times."""
        return {"items": queries.consults(caller.resident_id)}


@blp.route("/bookings/slots")
class BookingSlots(MethodView):
    @portal_read("portal_booking_slots")
    @blp.response(200, PortalSlotListSchema)
    def get(self, *, caller: services.PortalCaller):
        """The village clinic's follow-up half-days of the next two weeks, with the places left."""
        return {"items": services.slot_calendar(caller.resident_id)}


@blp.route("/bookings")
class Bookings(MethodView):
    @portal_write()
    @blp.arguments(PortalBookingCreateSchema)
    @blp.response(201, PortalBookingSchema)
    @blp.alt_response(422, description="invalid_slot: not tomorrow..60 days ahead, or not am/pm; slot_closed: the "
                                       "clinic does not see follow-ups then")
    @blp.alt_response(409, description="slot_full: the half-day has no place left")
    def post(self, data, *, caller: services.PortalCaller):
        """Take a place in the next follow-up slot; the family doctor is told in the inbox."""
        return services.book(caller, slot_on=data["slot_on"], half_day=data["half_day"],
                             disease=data.get("disease"))


@blp.route("/surveys")
class Surveys(MethodView):
    @portal_read("portal_surveys")
    @blp.response(200, PortalSurveyListSchema)
    def get(self, *, caller: services.PortalCaller):
        """Satisfaction surveys and whether each is answered."""
        return {"items": services.surveys(caller.resident_id)}

    @portal_write()
    @blp.arguments(PortalSurveyAnswerSchema)
    @blp.response(201, PortalSurveyListSchema)
    @blp.alt_response(404, description="not_found: no such survey | satisfaction_not_open: no contract cycle "
                                       "awaits the resident's answer")
    @blp.alt_response(403, description="proxy_not_allowed: a family member cannot rate the contract")
    @blp.alt_response(409, description="survey_answered")
    def post(self, data, *, caller: services.PortalCaller):
        """Answer a survey (overall 1–5 and per question 1–5), once. `contract_cycle` (listed while a contract's
        cycle-end 满意度评价 waits) completes that step with the resident's own score."""
        services.answer_survey(caller, code=data["code"], overall=data["overall"], answers=data["answers"])
        return {"items": services.surveys(caller.resident_id)}


@blp.route("/contract")
class Contract(MethodView):
    @portal_read("portal_contract")
    @blp.response(200, PortalContractSchema)
    def get(self, *, caller: services.PortalCaller):
        """The family-doctor contract: active and pending, team, packages, what was delivered of each item."""
        return contracting_queries.resident_summary(caller.resident_id)

    @portal_write()
    @blp.arguments(PortalContractRequestSchema)
    @blp.response(201, PortalContractSchema)
    @blp.alt_response(404, description="unknown_package")
    @blp.alt_response(409, description="contract_in_progress | active_contract_exists (names the contract) | "
                                       "process_not_deployed")
    def post(self, data, *, caller: services.PortalCaller):
        """Ask to sign (or renew) a family-doctor contract: the team assesses, recommends packages and signs."""
        contracting.request_contract(caller.resident_id, data.get("package_code"), channel="portal",
                                     actor=caller.actor)
        return contracting_queries.resident_summary(caller.resident_id)


# --- consent ------------------------------------------------------------------------------------------------------

def _consents(resident_id: int) -> dict[str, Any]:
    resident = session().get(Resident, resident_id)
    minor = bool(resident and consent.age_on(resident.birth_date, clock.today()) < consent.GUARDIAN_AGE)
    return {"items": consent.current(resident_id), "history": consent.history(resident_id),
            "guardian_needed": minor}


@blp.route("/consents")
class Consents(MethodView):
    @portal_read("portal_consents", needs_consent=False)
    @blp.response(200, PortalConsentsSchema)
    def get(self, *, caller: services.PortalCaller):
        """Each purpose and channel with its text and version, the current decision, and every past decision."""
        return _consents(caller.resident_id)

    @portal_write(needs_consent=False, self_only=True)
    @blp.arguments(PortalConsentDecisionSchema)
    @blp.response(201, PortalConsentsSchema)
    @blp.alt_response(422, description="invalid_channel | guardian_required (under 14) | not_a_minor")
    def post(self, data, *, caller: services.PortalCaller):
        """Grant or withdraw one purpose on one channel (takes effect at once). Only the resident (or guardian)."""
        consent.decide(caller.resident_id, purpose=data["purpose"], channel=data["channel"],
                       granted=data["granted"], decided_by=data["decided_by"],
                       guardian_name=data.get("guardian_name"), guardian_relation=data.get("guardian_relation"),
                       actor=caller.principal())
        return _consents(caller.resident_id)


# --- family proxy ---------------------------------------------------------------------------------------------------

@blp.route("/proxy/request")
class ProxyRequest(MethodView):
    @blp.arguments(PortalProxyRequestSchema)
    @blp.response(202, PortalProxyRequestedSchema)
    @blp.alt_response(404, description="resident_not_matched")
    @blp.alt_response(422, description="invalid_phone | validation_error")
    @blp.alt_response(429, description="binding_locked | sms_too_soon")
    @blp.alt_response(503, description="sms_unavailable")
    def post(self, data):
        """A family member asks to act for a resident; a code goes to the family member's phone."""
        answer = services.request_proxy(id_number=data["id_number"], name=data["name"],
                                        proxy_name=data["proxy_name"], relation=data["relation"],
                                        proxy_phone=data["proxy_phone"])
        return answer | {"dev_inbox": sms.is_dev()}


@blp.route("/proxy/verify")
class ProxyVerify(MethodView):
    @blp.arguments(PortalProxyVerifySchema)
    @blp.response(200, PortalTokenSchema)
    @blp.alt_response(404, description="not_found: no such request waiting for its code")
    @blp.alt_response(422, description="wrong_code | code_expired")
    @blp.alt_response(429, description="binding_locked")
    def post(self, data):
        """The family member's code: a token that works once the resident approves (403 proxy_pending before)."""
        token = services.verify_proxy(proxy_id=data["proxy_id"], code=data["code"])
        proxy = session().get(PortalProxy, data["proxy_id"])
        assert proxy is not None
        resident = session().get(Resident, proxy.resident_id)
        return {"token": token, "resident_name": resident.name if resident else "", "proxy": _proxy_dict(proxy)}


@blp.route("/proxies")
class Proxies(MethodView):
    @portal_read("portal_proxies", needs_consent=False, self_only=True)
    @blp.response(200, PortalProxyListSchema)
    def get(self, *, caller: services.PortalCaller):
        """The family members who asked to act for the resident (pending, approved, revoked)."""
        return {"items": [_proxy_dict(p) for p in services.proxies_of(caller.resident_id)]}


@blp.route("/proxies/<int:proxy_id>/decision")
class ProxyDecision(MethodView):
    @portal_write(needs_consent=False)
    @blp.arguments(PortalProxyDecisionSchema)
    @blp.response(200, PortalProxyInfoSchema)
    @blp.alt_response(404, description="not_found: no such family member for this resident")
    @blp.alt_response(409, description="proxy_state: already decided")
    def post(self, data, proxy_id, *, caller: services.PortalCaller):
        """Approve, decline or revoke a family member (revoking ends their access at once). Resident only."""
        return _proxy_dict(services.decide_proxy(caller, proxy_id, action=data["action"]))


# --- staff side and the development SMS inbox -----------------------------------------------------------------------

@blp.route("/staff/residents/<int:resident_id>/qr")
class StaffQr(MethodView):
    @require_roles(*STAFF)
    @blp.response(201, PortalQrIssuedSchema)
    @blp.alt_response(404, description="not_found: no such resident in the caller's scope")
    def post(self, resident_id):
        """A one-time binding QR (10 minutes) for a resident in the staff member's scope."""
        code, expires_at = services.issue_qr(resident_id, require_principal())
        url = f"{request.host_url.rstrip('/')}/portal/qr/{code}"
        out = io.BytesIO()
        segno.make(url, error="m").save(out, kind="svg", scale=5, border=3, xmldecl=False, svgns=True,
                                       omitsize=True)
        return {"code": code, "url": url, "svg": out.getvalue().decode(), "expires_at": expires_at}


@blp.route("/dev/sms")
class DevSms(MethodView):
    @blp.response(200, PortalDevSmsListSchema)
    @blp.alt_response(404, description="not_found: the development SMS sink is off (a real gateway is configured)")
    def get(self):
        """The development SMS sink's latest messages (embedded default only), so a demo user can read a code."""
        if not sms.is_dev():
            raise NotFound("开发短信收件箱未启用")
        return {"items": [{"id": m.id, "phone_hint": mask_phone(m.phone), "purpose": m.purpose, "text": m.text,
                           "sent_at": m.sent_at} for m in sms.dev_messages()]}
