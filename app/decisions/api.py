"""/api/v1/decisions: list, versions, XML, evaluate (outputs + trace), conformance cases, draft validation."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.auth.expensive import limited
from app.core.downloads import file_response

from . import analyses, services

blp = Blueprint("decisions", __name__, url_prefix="/api/v1/decisions",
                description="临床决策表 Clinical decisions (DMN)")


class EvaluateSchema(Schema):
    inputs = fields.Dict(required=True)


class EvaluationSchema(Schema):
    decision_id = fields.Str()
    outputs = fields.Dict()
    trace = fields.List(fields.Dict())
    reason = fields.Str()
    versions = fields.Dict(keys=fields.Str(), values=fields.Int())


class DecisionSchema(Schema):
    decision_id = fields.Str()
    name = fields.Str()
    version = fields.Int()
    source = fields.Str(allow_none=True)
    edition = fields.Str(allow_none=True)
    section = fields.Str(allow_none=True)
    table = fields.Str(allow_none=True)
    confidence = fields.Str(allow_none=True)
    deployed_at = fields.DateTime()
    cases = fields.Int()
    versions = fields.List(fields.Dict())
    inputs = fields.List(fields.Dict())


class AnalysisSchema(Schema):
    id = fields.Str()
    kind = fields.Str(metadata={"description": "cases | replay"})
    decision_id = fields.Str()
    status = fields.Str(metadata={"description": "queued | running | done | failed"})
    progress = fields.Int(metadata={"description": "0–100"})
    draft = fields.Bool()
    created_at = fields.Str()
    started_at = fields.Str(allow_none=True)
    finished_at = fields.Str(allow_none=True)
    result = fields.Dict(allow_none=True, metadata={"description": "the case run, when done"})
    error = fields.Dict(allow_none=True, metadata={"description": "{code, message}, when failed"})
    progress_url = fields.Str()


class DecisionListSchema(Schema):
    items = fields.List(fields.Nested(DecisionSchema))
    total = fields.Int()


@blp.route("")
class Decisions(MethodView):
    @login_required
    @blp.response(200, DecisionListSchema)
    def get(self):
        """List decisions with version, source and edition."""
        items = services.list_decisions()
        return {"items": items, "total": len(items)}


@blp.route("/<decision_id>")
class Decision(MethodView):
    @login_required
    @blp.response(200, DecisionSchema)
    def get(self, decision_id):
        """One decision: provenance, versions and the inputs it takes."""
        return services.decision_detail(decision_id)


@blp.route("/<decision_id>/xml")
class DecisionXml(MethodView):
    @login_required
    @blp.response(200, description="DMN XML")
    def get(self, decision_id):
        """Download the DMN XML (latest version, or `?version=`)."""
        row = services.version_row(decision_id, request.args.get("version", type=int))
        return file_response(row.xml, "application/xml", row.file_name)


@blp.route("/<decision_id>/evaluate")
class Evaluate(MethodView):
    @login_required
    @blp.arguments(EvaluateSchema)
    @blp.response(200, EvaluationSchema)
    def post(self, body, decision_id):
        """Evaluate a decision: outputs plus the trace of tables and rule rows that fired."""
        return services.evaluate(decision_id, body["inputs"], principal=current())


def _analysis(row: dict) -> dict:
    return {**row, "progress_url": f"{blp.url_prefix}/analyses/{row['id']}"}


@blp.route("/<decision_id>/evaluate-draft")
class EvaluateDraft(MethodView):
    @require_roles("process_owner")
    @limited("decision_analysis")
    @blp.response(200, EvaluationSchema)
    def post(self, decision_id):
        """Evaluate a draft of this decision before deploying it: multipart `file` (.dmn) and `inputs` (JSON).
        Process owners only; size-limited (422 `draft_too_large`) and rate-limited per user (429 `rate_limited`)."""
        draft = request.files.get("file")
        if draft is not None:
            xml = draft.read()
            analyses.check_size(xml, f"{decision_id}.dmn")
            return services.evaluate_draft(decision_id, xml, request.form.get("inputs"))
        return services.evaluate_draft(decision_id, None, request.form.get("inputs"))


@blp.route("/<decision_id>/cases/run")
class RunCases(MethodView):
    @require_roles("process_owner")
    @limited("decision_analysis")
    @blp.response(202, AnalysisSchema)
    def post(self, decision_id):
        """Queue a run of the conformance cases of the deployed decision, or of a draft (multipart `file` .dmn,
        optional `cases` .cases.json) before deploying it. Answers 202 with the analysis id; poll `progress_url`
        for status, progress and the result. Process owners only; size-limited (422 `draft_too_large`), time-limited
        (`analysis_timeout`) and rate-limited per user (429 `rate_limited`)."""
        draft = request.files.get("file")
        cases = request.files.get("cases")
        return _analysis(analyses.start(decision_id, principal=current(), draft_xml=draft.read() if draft else None,
                                        draft_cases=cases.read() if cases else None))


@blp.route("/<decision_id>/replay")
class Replay(MethodView):
    @require_roles("process_owner")
    @limited("decision_analysis")
    @blp.response(202, AnalysisSchema)
    def post(self, decision_id):
        """Queue a replay of a draft (multipart `file` .dmn of this decision; optional `limit`, default 1000) over
        the inputs of the last `limit` real evaluations that used the deployed decision: the result counts how many
        would change and from what to what (`matrix`, with Chinese labels) with a few de-identified examples.
        Answers 202; poll `progress_url`. A draft of another decision is 422 `decision_mismatch`. Process owners
        only; size-, time- and rate-limited like `cases/run`. Pass the analysis id as `replay_analysis_id` when
        deploying the draft to keep the summary with the deployment's audit entry."""
        draft = request.files.get("file")
        return _analysis(analyses.start_replay(decision_id, principal=current(),
                                               draft_xml=draft.read() if draft else None,
                                               limit=request.form.get("limit", request.args.get("limit"))))


@blp.route("/analyses/<analysis_id>")
class Analysis(MethodView):
    @require_roles("process_owner")
    @blp.response(200, AnalysisSchema)
    def get(self, analysis_id):
        """Status (queued, running, done, failed), progress 0–100 and, when done, the result of an analysis you
        asked for (404 for anyone else's)."""
        return _analysis(analyses.get(analysis_id, principal=current()))


@blp.route("/validate")
class Validate(MethodView):
    @require_roles("process_owner")
    @limited("decision_analysis")
    @blp.response(200)
    def post(self):
        """Validate draft DMN files without deploying: parse errors, overlaps and gaps with examples. Process owners
        only; size-limited (422 `draft_too_large`) and rate-limited per user (429 `rate_limited`)."""
        files = {f.filename: f.read() for f in request.files.getlist("file")}
        for name, xml in files.items():
            if name.endswith(".dmn"):
                analyses.check_size(xml, name)
        return services.validate_drafts(files)
