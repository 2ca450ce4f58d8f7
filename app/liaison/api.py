"""/api/v1/liaison: the 下沉专家 rota (county administrator), a township's week and its bookings, and the specialty
-building plans (专科共建计划)."""
from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.consult import experts
from app.consult.labels import SPECIALTIES, TITLES
from app.core import clock
from app.core.errors import Invalid

from . import bookings, duties, plans, queries
from .bookings import BOOKERS
from .labels import EDITORS
from .schemas import (
    LiaisonBookingCreateSchema,
    LiaisonBookingListSchema,
    LiaisonBookingQuerySchema,
    LiaisonBookingSchema,
    LiaisonDutyCreateSchema,
    LiaisonDutySchema,
    LiaisonOptionsSchema,
    LiaisonPlanCreateSchema,
    LiaisonPlanListSchema,
    LiaisonPlanSchema,
    LiaisonReasonSchema,
    LiaisonRotaQuerySchema,
    LiaisonRotaSchema,
    LiaisonWeekQuerySchema,
    LiaisonWeekSchema,
)

blp = Blueprint("liaison", __name__, url_prefix="/api/v1/liaison", description="下沉专家与专科共建 Expert liaison")
READERS = ("county_admin", "supervisor", "county_specialist", "township_doctor", "township_public_health",
           "village_doctor")


def _duty(duty_id: int) -> dict:
    return queries.duty_out(bookings.duty_for(current(), duty_id))


@blp.route("/options")
class Options(MethodView):
    @require_roles(*READERS)
    @blp.response(200, LiaisonOptionsSchema)
    def get(self):
        """Townships in the caller's scope, the expert registry (with leave), specialties and library indicators."""
        p = current()
        return {"townships": [{"value": t["code"], "label": t["name"]} for t in queries.townships(p)],
                "experts": [{**e, "specialty_label": SPECIALTIES.get(e["specialty"], e["specialty"]),
                             "title_label": TITLES.get(e["title"], e["title"])} for e in experts.listing()],
                "specialties": [{"value": k, "label": v} for k, v in SPECIALTIES.items()],
                "indicators": plans.indicator_catalogue(), "can_edit": p.has_role(*EDITORS)}


@blp.route("/duties")
class Duties(MethodView):
    @require_roles(*READERS)
    @blp.arguments(LiaisonRotaQuerySchema, location="query")
    @blp.response(200, LiaisonRotaSchema)
    def get(self, args):
        """The rota between two dates (default: four weeks from this Monday) of the townships the caller sees."""
        start = args.get("start") or queries.week_of(clock.today())
        end = args.get("end") or start + timedelta(days=27)
        if end < start or (end - start).days > 92:
            raise Invalid("日期范围须在 93 天以内", code="invalid_range", field="end")
        return {"start": start, "end": end, "items": queries.rota(
            current(), start=start, end=end, township_code=args.get("township_code"),
            expert_user_id=args.get("expert_user_id"))}

    @require_roles(*EDITORS)
    @blp.arguments(LiaisonDutyCreateSchema)
    @blp.response(201, LiaisonDutySchema)
    def post(self, body):
        """Put an expert on a township's rota. 409 `expert_double_booked` (names the other township) or
        `expert_on_leave`; 422 `expert_not_registered`, `date_in_past`."""
        row = duties.schedule(current(), **body)
        return _duty(row.id)


@blp.route("/duties/<int:duty_id>/cancel")
class CancelDuty(MethodView):
    @require_roles(*EDITORS)
    @blp.arguments(LiaisonReasonSchema)
    @blp.response(200, LiaisonDutySchema)
    def post(self, body, duty_id):
        """Cancel a scheduled duty with the reason (the township sees it cancelled)."""
        bookings.duty_for(current(), duty_id)
        duties.cancel(current(), duty_id, reason=body["reason"])
        return _duty(duty_id)


@blp.route("/duties/<int:duty_id>/deliver")
class DeliverDuty(MethodView):
    @require_roles("county_specialist", *EDITORS)
    @blp.response(200, LiaisonDutySchema)
    def post(self, duty_id):
        """The expert (or 医务科) confirms the day was worked (counts as an expert day delivered)."""
        bookings.duty_for(current(), duty_id)
        duties.confirm_delivered(current(), duty_id)
        return _duty(duty_id)


@blp.route("/week")
class Week(MethodView):
    @require_roles(*READERS)
    @blp.arguments(LiaisonWeekQuerySchema, location="query")
    @blp.response(200, LiaisonWeekSchema)
    def get(self, args):
        """A township's week: its experts, every duty with slots left, and who is on call now."""
        return queries.week(current(), township_code=args.get("township_code"), week_start=args.get("week_start"))


@blp.route("/duties/<int:duty_id>/bookings")
class DutyBookings(MethodView):
    @require_roles(*BOOKERS)
    @blp.arguments(LiaisonBookingCreateSchema)
    @blp.response(201, LiaisonBookingSchema)
    def post(self, body, duty_id):
        """Book a slot for a resident: a joint clinic, or a consult started as `remote_consult`. 409 `slot_full`,
        `already_booked`, `duty_not_open`, `not_bookable`; 422 `slot_in_past`."""
        p = current()
        row = bookings.book(p, duty_id, **body)
        return queries.booking_item(row, bookings.duty_for(p, duty_id))


@blp.route("/bookings")
class Bookings(MethodView):
    @phi_read("liaison_booking_list", roles=READERS)
    @blp.arguments(LiaisonBookingQuerySchema, location="query")
    @blp.response(200, LiaisonBookingListSchema)
    def get(self, args):
        """Bookings of the caller's organisation (county-wide roles: all), newest first."""
        return {"items": queries.bookings(current(), **args)}


@blp.route("/bookings/<int:booking_id>/cancel")
class CancelBooking(MethodView):
    @require_roles(*BOOKERS)
    @blp.response(200, LiaisonBookingSchema)
    def post(self, booking_id):
        """Give the slot back."""
        p = current()
        row = bookings.cancel(p, booking_id)
        return queries.booking_item(row, bookings.duty_for(p, row.duty_id))


@blp.route("/plans")
class Plans(MethodView):
    @require_roles(*READERS)
    @blp.response(200, LiaisonPlanListSchema)
    def get(self):
        """Specialty-building plans of the townships the caller sees, with milestones and their reviews."""
        return {"items": queries.plan_list(current())}

    @require_roles(*plans.DRAFTERS)
    @blp.arguments(LiaisonPlanCreateSchema)
    @blp.response(201, LiaisonPlanSchema)
    def post(self, body):
        """Draft a plan and start `specialty_plan` (approval by the county administrator)."""
        row = plans.draft(current(), **body)
        return queries.plan_item(row)


@blp.route("/plans/<int:plan_id>")
class PlanDetail(MethodView):
    @require_roles(*READERS)
    @blp.response(200, LiaisonPlanSchema)
    def get(self, plan_id):
        """One plan with its milestones, indicator targets and reviews."""
        return queries.plan_item(plans.get_plan(current(), plan_id))
