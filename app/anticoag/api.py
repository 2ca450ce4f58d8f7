"""/api/v1/anticoag/episodes: a patient's anticoagulant episodes (monitoring schedule, results, events, TTR);
scoped and read-audited."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal as current

from . import queries
from .schemas import AnticoagEpisodeDetailSchema, AnticoagEpisodeListSchema, AnticoagEpisodeQuerySchema

blp = Blueprint("anticoag", __name__, url_prefix="/api/v1/anticoag", description="抗凝监测 Anticoagulant monitoring")


@blp.route("/episodes")
class Episodes(MethodView):
    @phi_read("anticoag_episode")
    @blp.arguments(AnticoagEpisodeQuerySchema, location="query")
    @blp.response(200, AnticoagEpisodeListSchema)
    def get(self, args):
        """Episodes in the caller's scope (a resident's with `resident_id`), newest first, with their TTR."""
        return {"items": queries.listing(current(), resident_id=args.get("resident_id"), status=args.get("status"))}


@blp.route("/episodes/<int:episode_id>")
class EpisodeDetail(MethodView):
    @phi_read("anticoag_episode")
    @blp.response(200, AnticoagEpisodeDetailSchema)
    def get(self, episode_id):
        """One episode: schedule, every result (INR, CrCl, platelets) with its action, events and TTR."""
        return queries.detail(queries.get(current(), episode_id))
