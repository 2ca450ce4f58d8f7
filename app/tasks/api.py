"""/api/v1/tasks: the personal inbox (views, filters, counts, saved filters), task detail with its resolved form,
claim/unclaim/assign/delegate/return, comments, drafts and completion. Also registers /api/v1/notifications."""
from __future__ import annotations

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.audit.reads import phi_read
from app.auth.access import login_required
from app.auth.access import require_principal as current
from app.core.dumps import compiled
from app.core.loads import compiled_load

from . import completion, queries, services
from .schemas import (
    CommentCreateSchema,
    CommentListSchema,
    CommentSchema,
    CompletedTaskSchema,
    CompleteSchema,
    DelegateSchema,
    DraftSavedSchema,
    DraftSchema,
    SavedFilterCreateSchema,
    SavedFilterListSchema,
    SavedFilterSchema,
    TaskCountsSchema,
    TaskDetailSchema,
    TaskListSchema,
    TaskQueryArgsSchema,
    TaskSchema,
    UserTargetSchema,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/v1", description="待办任务 Personal task inbox")
CONFLICTS = "409 task_already_claimed | task_already_completed | task_reassigned | definition_changed"


@blp.route("/tasks")
class Tasks(MethodView):
    @phi_read("task_list", roles=())
    @blp.arguments(compiled_load(TaskQueryArgsSchema()), location="query")
    @blp.response(200, compiled(TaskListSchema()))
    @blp.alt_response(400, description="invalid_cursor: the cursor is not one this list handed out for this sort")
    def get(self, args):
        """List tasks of a view (mine, groups, org) with filters, a sort and paging (`page`, or `cursor` from the
        previous page's `next_cursor`: keyset paging, stable while tasks come and go)."""
        items, total, next_cursor = queries.list_tasks(current(), args)
        return {"items": items, "total": total, "next_cursor": next_cursor}


@blp.route("/tasks/counts")
class TaskCounts(MethodView):
    @login_required
    @blp.response(200, TaskCountsSchema)
    def get(self):
        """Count open tasks per view and the overdue ones (for the header)."""
        return queries.counts(current())


@blp.route("/tasks/filters")
class SavedFilters(MethodView):
    @login_required
    @blp.response(200, SavedFilterListSchema)
    def get(self):
        """List the caller's saved filters and those shared with their organization."""
        items = queries.saved_filters(current())
        return {"items": items, "total": len(items)}

    @login_required
    @blp.arguments(SavedFilterCreateSchema())
    @blp.response(201, SavedFilterSchema)
    def post(self, body):
        """Save an inbox filter (replaces the caller's filter of the same name)."""
        return services.create_filter(current(), **body)


@blp.route("/tasks/filters/<int:filter_id>")
class SavedFilter(MethodView):
    @login_required
    @blp.response(204)
    def delete(self, filter_id):
        """Delete one of the caller's saved filters."""
        services.delete_filter(current(), filter_id)


@blp.route("/tasks/<int:task_id>")
class Task(MethodView):
    @phi_read("task", roles=())
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id):
        """Show a task with its resolved form, resident summary and allowed actions (ETag header)."""
        detail = services.task_detail(current(), task_id)
        return detail, 200, {"ETag": detail["etag"], "Cache-Control": "no-store"}


@blp.route("/tasks/<int:task_id>/complete")
class TaskComplete(MethodView):
    @login_required
    @blp.arguments(compiled_load(CompleteSchema()))
    @blp.response(200, compiled(CompletedTaskSchema()))
    @blp.alt_response(422, description="form_invalid: details.errors = [{field, message}] (Chinese messages)")
    @blp.alt_response(409, description=CONFLICTS)
    def post(self, body, task_id):
        """Complete a task with form data (If-Match and completion_id make it safe to retry)."""
        cid = str(body["completion_id"]) if body.get("completion_id") else None
        return completion.complete(current(), task_id, data=body["data"], completion_id=cid,
                                   if_match=request.headers.get("If-Match"))


def _holder_action(name: str, summary: str, schema=None):
    """A POST /tasks/{id}/<name> endpoint that changes who holds the task."""
    action = {"claim": services.claim, "unclaim": services.unclaim, "assign": services.assign,
              "delegate": services.delegate, "return": services.return_task}[name]

    def post(self, *args, task_id):
        options = dict(args[0]) if args else {}
        to_username = options.pop("to_username", None)
        if to_username and not options.get("username"):
            options["username"] = to_username
        return action(current(), task_id, **options)
    post.__doc__ = summary
    view = blp.alt_response(409, description=CONFLICTS)(blp.response(200, TaskSchema)(post))
    if schema is not None:
        view = blp.arguments(schema())(view)
    cls = type(f"Task{name.title()}", (MethodView,), {"post": login_required(view)})
    blp.route(f"/tasks/<int:task_id>/{name}")(cls)


_holder_action("claim", "Claim an unassigned task offered to the caller.")
_holder_action("unclaim", "Give a claimed task back to its candidates.")
_holder_action("assign", "Assign a task to one of its candidates (leads in scope).", UserTargetSchema)
_holder_action("delegate", "Delegate a task to another user, who may return it.", DelegateSchema)
_holder_action("return", "Return a delegated task to the user who delegated it.")


@blp.route("/tasks/<int:task_id>/comments")
class TaskComments(MethodView):
    @phi_read("task_comment", roles=())
    @blp.response(200, CommentListSchema)
    def get(self, task_id):
        """List a task's comments, oldest first."""
        items = services.list_comments(current(), task_id)
        return {"items": items, "total": len(items)}

    @login_required
    @blp.arguments(CommentCreateSchema())
    @blp.response(201, CommentSchema)
    def post(self, body, task_id):
        """Comment on a task."""
        return services.add_comment(current(), task_id, body["body"])


@blp.route("/tasks/<int:task_id>/draft")
class TaskDraft(MethodView):
    @phi_read("task_draft", roles=())
    @blp.response(200, DraftSavedSchema)
    def get(self, task_id):
        """The saved draft of a task (null data when none)."""
        task = queries.get_task(current(), task_id)
        return {"task_id": task.id, "data": task.draft}, 200, {"Cache-Control": "no-store"}

    @login_required
    @blp.arguments(DraftSchema())
    @blp.response(200, DraftSavedSchema)
    def put(self, body, task_id):
        """Save partial form data without validating or completing."""
        return services.save_draft(current(), task_id, body["data"])

