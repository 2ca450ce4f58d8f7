"""/api/v1/quality: the indicator library, values for a period and organisation (with child organisations),
breakdowns by dimension, monthly trends, the drill-down list behind a figure (audited), xlsx exports and alerts."""
from __future__ import annotations

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.downloads import file_response
from app.core.errors import Invalid

from . import aggregates, breakdowns, cohorts, exports, findings, library, queries, referral_summary, refresh, services
from .schemas import (
    QualityAlertArgsSchema,
    QualityAlertListSchema,
    QualityBreakdownArgsSchema,
    QualityBreakdownMembersArgsSchema,
    QualityBreakdownMembersSchema,
    QualityBreakdownsArgsSchema,
    QualityBreakdownSchema,
    QualityBreakdownsSchema,
    QualityCohortArgsSchema,
    QualityCohortMembersArgsSchema,
    QualityCohortMembersSchema,
    QualityCohortsSchema,
    QualityDrilldownArgsSchema,
    QualityDrilldownSchema,
    QualityFindingArgsSchema,
    QualityFindingsSchema,
    QualityFreshnessSchema,
    QualityIndicatorCheckSchema,
    QualityIndicatorSchema,
    QualityOverviewArgsSchema,
    QualityOverviewSchema,
    QualityReferralSummaryArgsSchema,
    QualityReferralSummarySchema,
    QualityReferralUnmatchedArgsSchema,
    QualityRefreshArgsSchema,
    QualityScoreArgsSchema,
    QualityScoresSchema,
    QualityTrendArgsSchema,
    QualityTrendSchema,
    QualityUnmatchedReferralsSchema,
)

blp = Blueprint("quality", __name__, url_prefix="/api/v1/quality", description="质控指标 Quality control")
STAFF = ("supervisor", "county_admin", "county_specialist", "township_doctor", "township_public_health",
         "village_doctor")
EXPORT_ROWS = 20_000


def _xlsx(data: bytes, name: str) -> Response:
    return file_response(data, exports.MIME, name)


@blp.route("/indicators")
class Indicators(MethodView):
    @require_roles(*STAFF)
    @blp.response(200, QualityIndicatorSchema(many=True))
    def get(self):
        """The indicator library: formula, unit, direction, dimensions, source and this year's thresholds."""
        return queries.catalogue()


@blp.route("/indicators/validate")
class Validate(MethodView):
    @require_roles("county_admin", "supervisor")
    @blp.arguments(QualityIndicatorCheckSchema)
    @blp.response(200, QualityIndicatorSchema)
    def post(self, body):
        """Check an indicator definition against the sources' vocabulary (422 `invalid_indicator` with its path)."""
        return queries.describe(library.parse_indicator(body["definition"]))


@blp.route("/overview")
class Overview(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityOverviewArgsSchema, location="query")
    @blp.response(200, QualityOverviewSchema)
    def get(self, args):
        """Every indicator for a month and an organisation, each with its child organisations."""
        return queries.overview(current(), **args)


@blp.route("/overview.xlsx")
class OverviewExport(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityOverviewArgsSchema, location="query")
    @blp.response(200, description="xlsx workbook")
    def get(self, args):
        """The indicator table and its child organisations as an Excel workbook (Chinese headers)."""
        data = queries.overview(current(), **args)
        return _xlsx(exports.overview_workbook(data), f"quality-{data['org']['code']}-{data['period']}.xlsx")


@blp.route("/indicators/<string:indicator_id>/breakdown")
class Breakdown(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityBreakdownArgsSchema, location="query")
    @blp.response(200, QualityBreakdownSchema)
    def get(self, args, indicator_id):
        """One indicator per child organisation, responsible doctor, disease, risk level, age band or sex."""
        return queries.breakdown(current(), indicator_id, **args)


@blp.route("/indicators/<string:indicator_id>/trend")
class Trend(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityTrendArgsSchema, location="query")
    @blp.response(200, QualityTrendSchema)
    def get(self, args, indicator_id):
        """One indicator at the end of each of the last months."""
        return queries.trend(current(), indicator_id, **args)


@blp.route("/indicators/<string:indicator_id>/scores")
class Scores(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityScoreArgsSchema, location="query")
    @blp.response(200, QualityScoresSchema)
    def get(self, args, indicator_id):
        """Peer townships or villages scored by P10/P90 interval scoring (50 … 100) and ranked (appraisal)."""
        return queries.scores(current(), indicator_id, **args)


@blp.route("/indicators/<string:indicator_id>/drilldown")
class Drilldown(MethodView):
    @phi_read("quality_drilldown", roles=STAFF)
    @blp.arguments(QualityDrilldownArgsSchema, location="query")
    @blp.response(200, QualityDrilldownSchema)
    def get(self, args, indicator_id):
        """The residents or tasks behind a figure: numerator, denominator, or gap (e.g. the uncontrolled)."""
        return queries.drilldown(current(), indicator_id, **args)


@blp.route("/indicators/<string:indicator_id>/drilldown.xlsx")
class DrilldownExport(MethodView):
    @phi_read("quality_drilldown_export", roles=STAFF)
    @blp.arguments(QualityDrilldownArgsSchema, location="query")
    @blp.response(200, description="xlsx workbook")
    def get(self, args, indicator_id):
        """The whole list behind a figure as an Excel workbook."""
        args = {**args, "page": 1, "per_page": EXPORT_ROWS}
        data = queries.drilldown(current(), indicator_id, **args)
        if data["total"] > EXPORT_ROWS:
            raise Invalid(f"名单超过 {EXPORT_ROWS} 条, 请缩小机构或统计期", code="too_many_rows", limit=EXPORT_ROWS,
                          total=data["total"])
        return _xlsx(exports.drilldown_workbook(data, data["items"]), f"quality-{indicator_id}-{data['part']}.xlsx")


@blp.route("/cohorts")
class Cohorts(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityCohortArgsSchema, location="query")
    @blp.response(200, QualityCohortsSchema)
    def get(self, args):
        """Quarterly cohorts (Simple.org): patients registered in a quarter and their status in the next quarter."""
        return cohorts.cohorts(current(), **args)


@blp.route("/cohorts/members")
class CohortMembers(MethodView):
    @phi_read("quality_cohort", roles=STAFF)
    @blp.arguments(QualityCohortMembersArgsSchema, location="query")
    @blp.response(200, QualityCohortMembersSchema)
    def get(self, args):
        """The patients of one cohort's box (e.g. a quarter's registrations that missed their next visit)."""
        return cohorts.members(current(), **args)


@blp.route("/findings")
class Findings(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityFindingArgsSchema, location="query")
    @blp.response(200, QualityFindingsSchema)
    def get(self, args):
        """发现: rates drifting against their own history (p-chart, run rules) and townships, villages or doctors
        outside their peers' funnel limits, each with a sentence, a severity and the drill-down behind it."""
        return findings.findings(current(), **args)


@blp.route("/alerts")
class Alerts(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityAlertArgsSchema, location="query")
    @blp.response(200, QualityAlertListSchema)
    def get(self, args):
        """Threshold alerts raised for organisations in the caller's scope (counts, not the names behind them)."""
        return {"items": services.alerts(current(), **args)}


@blp.route("/aggregates")
class Aggregates(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityRefreshArgsSchema, location="query")
    @blp.response(200, QualityFreshnessSchema)
    def get(self, args):
        """How fresh a month's materialized figures are (as-of time, refresh state); default this month."""
        period = args.get("period") or queries.current_period()
        queries.month_end(period)
        return aggregates.freshness([period])


@blp.route("/aggregates/refresh")
class AggregatesRefresh(MethodView):
    @require_roles("supervisor", "county_admin")
    @blp.arguments(QualityRefreshArgsSchema, location="query")
    @blp.response(202, QualityFreshnessSchema)
    def post(self, args):
        """Recompute a month's materialized figures now (a job; default this month): 202 with the state."""
        period = args.get("period") or queries.current_period()
        queries.month_end(period)
        refresh.enqueue_refresh(period)
        return aggregates.freshness([period])


@blp.route("/breakdowns")
class Breakdowns(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityBreakdownsArgsSchema, location="query")
    @blp.response(200, QualityBreakdownsSchema)
    def get(self, args):
        """分析: population, disease spectrum, cost, resource use and outcome comparisons for a month and an
        organisation (counts only; each group's list is read through /breakdowns/{figure_id}/members)."""
        return breakdowns.breakdowns(current(), **args)


@blp.route("/breakdowns.xlsx")
class BreakdownsExport(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityBreakdownsArgsSchema, location="query")
    @blp.response(200, description="xlsx workbook")
    def get(self, args):
        """分析 as an Excel workbook (Chinese headers): the groups of every figure of a section (or all), the
        comparisons and what the platform does not hold — counts only, scoped like /breakdowns."""
        data = breakdowns.breakdowns(current(), **args)
        name = f"quality-breakdowns-{args.get('section') or 'all'}-{data['org']['code']}-{data['period']}.xlsx"
        return _xlsx(exports.breakdowns_workbook(data), name)


@blp.route("/breakdowns/<string:figure_id>/members")
class BreakdownMembers(MethodView):
    @phi_read("quality_breakdown", roles=STAFF)
    @blp.arguments(QualityBreakdownMembersArgsSchema, location="query")
    @blp.response(200, QualityBreakdownMembersSchema)
    def get(self, args, figure_id):
        """The de-duplicated residents, tasks or cases behind one group of a breakdown figure."""
        return breakdowns.members(current(), figure_id, **args)


@blp.route("/referral-summary")
class ReferralSummary(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(QualityReferralSummaryArgsSchema, location="query")
    @blp.response(200, QualityReferralSummarySchema)
    def get(self, args):
        """转诊对账: referrals reported by the HIS, public health and insurance beside the network's own, per month
        and organisation, with how many match (counts only)."""
        return referral_summary.summary(current(), **args)


@blp.route("/referral-summary/unmatched")
class ReferralUnmatched(MethodView):
    @phi_read("quality_referral_unmatched", roles=STAFF)
    @blp.arguments(QualityReferralUnmatchedArgsSchema, location="query")
    @blp.response(200, QualityUnmatchedReferralsSchema)
    def get(self, args):
        """The reported referrals no network referral matches, or the network referrals no source reported."""
        return referral_summary.unmatched(current(), **args)


@blp.route("/referral-summary.xlsx")
class ReferralSummaryExport(MethodView):
    @phi_read("quality_referral_export", roles=STAFF)
    @blp.arguments(QualityReferralSummaryArgsSchema, location="query")
    @blp.response(200, description="xlsx workbook")
    def get(self, args):
        """转诊对账 as an Excel workbook: the monthly and per-organisation counts and both unmatched lists (which name
        residents, so the download is audited like the lists)."""
        p = current()
        data = referral_summary.summary(p, **args)
        lists = [referral_summary.unmatched(p, side=side, page=1, per_page=EXPORT_ROWS, **args)
                 for side in ("reported", "network")]
        total = sum(x["total"] for x in lists)
        if total > EXPORT_ROWS:
            raise Invalid(f"名单超过 {EXPORT_ROWS} 条, 请缩小机构或月数", code="too_many_rows", limit=EXPORT_ROWS,
                          total=total)
        return _xlsx(exports.referral_summary_workbook(data, lists[0]["items"], lists[1]["items"]),
                     f"referral-summary-{data['org']['code']}-{data['period']}.xlsx")
