"""/api/v1/anticoag/episodes: a patient's anticoagulant episodes (monitoring schedule, results, events, TTR);
scoped and read-audited."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current
from app.auth.access import require_roles

from . import queries
from .schemas import (
    AnticoagEpisodeDetailSchema,
    AnticoagEpisodeListSchema,
    AnticoagEpisodeQuerySchema,
    AnticoagTtrDistributionSchema,
    AnticoagTtrQuerySchema,
)

blp = Blueprint("anticoag", __name__, url_prefix="/api/v1/anticoag", description="抗凝监测 Anticoagulant monitoring")


@blp.route("/episodes")
class Episodes(MethodView):
    @phi_read("anticoag_episode")
    @blp.arguments(AnticoagEpisodeQuerySchema, location="query")
    @blp.response(200, AnticoagEpisodeListSchema)
    def get(self, args):
        """Episodes in the caller's scope (a resident's with `resident_id`; by drug, organisation, overdue), the
        overdue first, with the last INR, the next check and the TTR."""
        return {"items": queries.listing(current(), **args)}


@blp.route("/episodes/<int:episode_id>")
class EpisodeDetail(MethodView):
    @phi_read("anticoag_episode")
    @blp.response(200, AnticoagEpisodeDetailSchema)
    def get(self, episode_id):
        """One episode: schedule, every result (INR, CrCl, platelets) with its action, events and TTR."""
        return queries.detail(queries.get(current(), episode_id))


TTR_READERS = ("pharmacist", "supervisor", "county_admin", "county_specialist")


@blp.route("/ttr-distribution")
class TtrDistribution(MethodView):
    @require_roles(*TTR_READERS)
    @blp.arguments(AnticoagTtrQuerySchema, location="query")
    @blp.response(200, AnticoagTtrDistributionSchema)
    def get(self, args):
        """TTR of the active warfarin patients in scope: pooled and mean, bands, a 10 % histogram, per township."""
        return queries.ttr_distribution(current(), org_code=args.get("org_code"))
