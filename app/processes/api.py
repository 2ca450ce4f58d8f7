"""/api/v1/process-definitions and /api/v1/process-instances."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import login_required, require_roles
from app.auth.access import require_principal as current
from app.core.downloads import file_response
from app.core.dumps import compiled
from app.core.errors import Invalid
from app.core.loads import compiled_load
from app.decisions.analyses import check_size as check_dmn_size
from app.workflows import batch

from . import batches, queries, services
from .schemas import (
    BatchFailuresSchema,
    BatchListSchema,
    BatchQueryArgsSchema,
    BatchSchema,
    ClockAdvanceSchema,
    ClockSchema,
    DefinitionListSchema,
    DefinitionSchema,
    DeployResultSchema,
    ElementStatsSchema,
    InstanceDetailSchema,
    InstanceListSchema,
    InstanceQueryArgsSchema,
    InstanceStartSchema,
    InstanceStatsSchema,
    RetrySchema,
    TerminateSchema,
)

blp = Blueprint("processes", __name__, url_prefix="/api/v1", description="流程定义与流程实例 Process definitions and instances")
DEPLOYERS = ("process_owner", "county_admin")
OPERATORS = ("supervisor", "county_admin", "process_owner")
# who watches batch starts by name (the page 批量启动; told of a batch's failures by app/wiring.py)
BATCH_WATCHERS = ("supervisor", "county_admin")


@blp.route("/process-definitions")
class Definitions(MethodView):
    @login_required
    @blp.response(200, DefinitionListSchema)
    def get(self):
        """List deployed processes with their versions."""
        items = queries.list_definitions()
        return {"items": items, "total": len(items)}

    @require_roles(*DEPLOYERS)
    @blp.response(201, DeployResultSchema)
    @blp.alt_response(422, description="invalid_definition: names file, element and reason")
    def post(self):
        """Deploy BPMN/DMN/form files (multipart `file`, several allowed) as new versions. `override_findings`
        (decision ids) with `override_reason` deploys ANY/FIRST tables despite overlap/gap findings (audited).
        `replay_analysis_id` (a finished replay of the DMN draft) keeps its summary with the audit entry."""
        return services.deploy(_uploaded_files(), principal=current(), override=_override(),
                               replay_analysis_id=request.form.get("replay_analysis_id") or None)


def _uploaded_files() -> dict[str, bytes]:
    uploads = request.files.getlist("file")
    if not uploads:
        raise Invalid("请上传至少一个文件 (multipart field 'file')", code="invalid_definition",
                      reason="no file uploaded")
    files = {}
    for upload in uploads:
        name = (upload.filename or "").replace("\\", "/").lstrip("/")
        if not name or ".." in name.split("/"):
            raise Invalid("文件名不合法 (invalid file name)", code="invalid_definition", file=name)
        files[name] = upload.read()
        if name.endswith(".dmn"):       # a deploy analyses every table (rules² × inputs): too large is refused
            check_dmn_size(files[name], name)
    return files


def _override() -> services.FindingsOverride | None:
    names = [n.strip() for v in request.form.getlist("override_findings") for n in v.split(",") if n.strip()]
    if not names:
        return None
    return services.FindingsOverride(tuple(names), request.form.get("override_reason", ""))


@blp.route("/process-definitions/validate")
class ValidateDefinitions(MethodView):
    @require_roles(*DEPLOYERS)
    @blp.response(200)
    @blp.alt_response(422, description="invalid_definition: names file, element and reason")
    def post(self):
        """Check BPMN/DMN/form files exactly as a deploy would, without storing anything."""
        return services.validate(_uploaded_files(), override=_override())


@blp.route("/process-definitions/<process_id>")
class Definition(MethodView):
    @login_required
    @blp.response(200, DefinitionSchema)
    def get(self, process_id):
        """One process with all its versions and user tasks."""
        return queries.definition(process_id)


@blp.route("/process-definitions/<process_id>/versions/<int:version>/xml")
class DefinitionXml(MethodView):
    @login_required
    @blp.response(200, description="BPMN XML")
    def get(self, process_id, version):
        """Download the BPMN XML of a version."""
        row = queries.version(process_id, version)
        return file_response(row.bpmn_xml, "application/xml", row.file_name)


@blp.route("/process-definitions/<process_id>/versions/<int:version>/forms")
class DefinitionForms(MethodView):
    @login_required
    @blp.response(200)
    def get(self, process_id, version):
        """The forms (JSON Schema + uiSchema) of a version, keyed by `<process>/<task>`."""
        return queries.version(process_id, version).forms


@blp.route("/process-definitions/<process_id>/stats")
class DefinitionStats(MethodView):
    @login_required
    @blp.response(200, ElementStatsSchema)
    def get(self, process_id):
        """Where tokens wait now: counts per element of the caller's instances."""
        return queries.element_stats(current(), process_id)


@blp.route("/clock")
class Clock(MethodView):
    @require_roles(*DEPLOYERS)
    @blp.response(200, ClockSchema)
    def get(self):
        """The platform clock and whether it may be moved (demo and test installs only)."""
        return services.clock_state()

    @require_roles(*DEPLOYERS)
    @blp.arguments(ClockAdvanceSchema())
    @blp.response(200, ClockSchema)
    @blp.alt_response(403, description="clock_control_disabled: production, or the site did not opt in")
    def post(self, body):
        """Advance the platform clock (e.g. `{"days": 90}`) and fire the timers that became due."""
        return services.advance_clock(principal=current(), **body)


@blp.route("/process-instances")
class Instances(MethodView):
    @phi_read("process_instance_list", roles=())
    @blp.arguments(InstanceQueryArgsSchema(), location="query")
    @blp.response(200, InstanceListSchema)
    def get(self, args):
        """Search instances in the caller's scope (paged, newest first)."""
        items, total = queries.list_instances(current(), args)
        return {"items": items, "total": total}

    @login_required
    @blp.arguments(compiled_load(InstanceStartSchema()))
    @blp.response(201, compiled(InstanceDetailSchema()))
    def post(self, body):
        """Start an instance and run it until it waits."""
        inst = services.start(current(), **body)
        return queries.started_instance_detail(current(), inst)


@blp.route("/process-instances/stats")
class InstanceStats(MethodView):
    @login_required
    @blp.response(200, InstanceStatsSchema)
    def get(self):
        """Counts of instances by status and process in the caller's scope."""
        return queries.instance_stats(current())


@blp.route("/process-instances/<int:instance_id>")
class Instance(MethodView):
    @phi_read("process_instance", roles=())
    @blp.response(200, InstanceDetailSchema)
    def get(self, instance_id):
        """An instance with open tasks, history and diagram data (completed/active/error element ids)."""
        return queries.instance_detail(current(), instance_id)


def _action(name, schema=None, summary=""):
    class Action(MethodView):
        @require_roles(*OPERATORS)
        @blp.response(200, InstanceDetailSchema)
        def post(self, instance_id):
            body = request.get_json(silent=True) or {}
            options = schema().load(body) if schema else {}
            return services.act(current(), instance_id, name, **options)
    Action.post.__doc__ = summary
    Action.__name__ = f"Instance{name.title()}"
    blp.route(f"/process-instances/<int:instance_id>/{name}")(Action)


_action("suspend", summary="Suspend an instance (timers and tasks wait).")
_action("resume", summary="Resume a suspended instance.")
_action("terminate", TerminateSchema, summary="Terminate an instance; its open tasks are cancelled.")
_action("retry", RetrySchema, summary="Retry a failed step (optionally patching the failing task's data).")


@blp.route("/batches")
class Batches(MethodView):
    @require_roles(*OPERATORS)
    @blp.arguments(BatchQueryArgsSchema(), location="query")
    @blp.response(200, BatchListSchema)
    def get(self, args):
        """Batch starts (many instances of one process started as one set operation), newest first."""
        return {"items": batches.list_batches(kind=args.get("kind"))}


@blp.route("/batches/<int:batch_id>")
class Batch(MethodView):
    @require_roles(*OPERATORS)
    @blp.response(200, BatchSchema)
    def get(self, batch_id):
        """A batch start's progress: total, started, skipped, failed (with the first failures' reasons)."""
        return batches.progress(batch_id)


@blp.route("/batches/<int:batch_id>/failures")
class BatchFailures(MethodView):
    @phi_read("batch_start_failures", roles=BATCH_WATCHERS)
    @blp.response(200, BatchFailuresSchema)
    def get(self, batch_id):
        """A batch start's failed items by the residents' names (in the caller's scope) with the reasons in words:
        the page 批量启动 of the county administrators and supervisors, who are told when a batch had failures."""
        return batches.failures(current(), batch_id)


@blp.route("/batches/<int:batch_id>/resume")
class BatchResume(MethodView):
    @require_roles(*OPERATORS)
    @blp.response(200, BatchSchema)
    def post(self, batch_id):
        """Re-enqueue the chunks that still have pending items (after a worker was killed); starts nothing twice."""
        batch.resume(batch_id)
        return batches.progress(batch_id)
