"""/api/v1/screening — population runs (start, resume, progress), cases, the prevention list and counts."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import require_principal, require_roles
from app.core.errors import NotFound

from . import batch, queries
from .schemas import (
    CasePageSchema,
    CaseQueryArgsSchema,
    HighRiskQueryArgsSchema,
    RunCreateSchema,
    RunListSchema,
    RunSchema,
    StatsQueryArgsSchema,
    StatsSchema,
)

blp = Blueprint("screening", __name__, url_prefix="/api/v1/screening", description="慢病筛查 (population screening)")

RUNNERS = ("county_admin", "township_public_health")
READERS = ("county_admin", "county_specialist", "supervisor", "township_doctor", "township_public_health",
           "village_doctor")
SUPERVISORS = ("county_admin", "county_specialist", "supervisor", "township_doctor", "township_public_health")


@blp.route("/runs")
class Runs(MethodView):
    @require_roles(*RUNNERS)
    @blp.response(200, RunListSchema)
    def get(self):
        """List recent population runs, newest first."""
        items = [batch.progress(r) for r in queries.list_runs()]
        return {"items": items, "total": len(items)}

    @require_roles(*RUNNERS)
    @blp.arguments(RunCreateSchema)
    @blp.response(202, RunSchema)
    @blp.alt_response(409, description="run_in_progress")
    def post(self, body):
        """Start a population run (or resume the last unfinished one); it runs in a worker, poll its progress."""
        return batch.start_run(started_by=require_principal().username, resume=body["resume"],
                               chunk_size=body["chunk_size"])


@blp.route("/runs/<int:run_id>")
class RunById(MethodView):
    @require_roles(*RUNNERS)
    @blp.response(200, RunSchema)
    def get(self, run_id):
        """Progress of a run: processed of total, cases created, rate, counts per disease and kind."""
        run = queries.get_run(run_id)
        if run is None:
            raise NotFound("筛查批次不存在 (run not found)", run_id=run_id)
        return batch.progress(run)


@blp.route("/cases")
class Cases(MethodView):
    @phi_read("screening_case", roles=READERS)
    @blp.arguments(CaseQueryArgsSchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """Screening cases in the caller's scope (referral-flagged residents first)."""
        items, total = queries.list_cases(require_principal(), **args)
        return {"items": items, "total": total}


@blp.route("/high-risk")
class HighRisk(MethodView):
    @phi_read("high_risk_list", roles=READERS)
    @blp.arguments(HighRiskQueryArgsSchema, location="query")
    @blp.response(200, CasePageSchema)
    def get(self, args):
        """The prevention list: high-risk residents (prediabetes, high-normal BP with risk factors, stroke
        medium risk, CDRS ≥25) in the caller's scope."""
        items, total = queries.high_risk(require_principal(), **args)
        return {"items": items, "total": total}


@blp.route("/stats")
class Stats(MethodView):
    @require_roles(*SUPERVISORS)
    @blp.arguments(StatsQueryArgsSchema, location="query")
    @blp.response(200, StatsSchema)
    def get(self, args):
        """Flagged, verified, rejected, enrolled per disease and organization in a period; referral flags."""
        return queries.stats(require_principal(), **args)
