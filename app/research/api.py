"""/api/v1/research (科研数据): the criteria builder's options, cohort preview (size only), projects (draft, edit,
submit) and the download of a released de-identified extract (limited, expiring, audited)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import require_principal as current
from app.auth.access import require_roles
from app.core.downloads import file_response

from . import queries, services
from .schemas import (
    ResearchCommitteeBodySchema,
    ResearchCommitteeSchema,
    ResearchDownloadBodySchema,
    ResearchOptionsSchema,
    ResearchPreviewBodySchema,
    ResearchPreviewSchema,
    ResearchProjectBodySchema,
    ResearchProjectListSchema,
    ResearchProjectSchema,
    ResearchRefreshBodySchema,
)
from .settings import settings

blp = Blueprint("research", __name__, url_prefix="/api/v1/research", description="科研数据 Research extraction")
READERS = tuple(dict.fromkeys((*services.RESEARCHER_ROLES, *settings().review_roles)))


def _detail(project_id: int) -> dict:
    p = current()
    return queries.project_item(p, services.get_project(p, project_id), detail=True)


@blp.route("/options")
class Options(MethodView):
    @require_roles(*READERS)
    @blp.response(200, ResearchOptionsSchema)
    def get(self):
        """What the criteria builder offers (variables, LOINC codes, diseases, risk levels) and the k / download
        settings."""
        return queries.options()


@blp.route("/committee")
class Committee(MethodView):
    @require_roles(*READERS)
    @blp.response(200, ResearchCommitteeSchema)
    def get(self):
        """The caller's county data/ethics committee: its members (named, or everyone holding the committee role),
        its chair and the vote deadline."""
        return queries.committee(current())

    @require_roles("county_admin")
    @blp.arguments(ResearchCommitteeBodySchema)
    @blp.response(200, ResearchCommitteeSchema)
    def put(self, body):
        """Name the county's committee members and chair (an empty list: everyone holding the committee role).
        422 `unknown_user`."""
        p = current()
        services.set_committee(p, body["members"], body.get("chair"))
        return queries.committee(p)


@blp.route("/preview")
class Preview(MethodView):
    @require_roles(*services.RESEARCHER_ROLES)
    @blp.arguments(ResearchPreviewBodySchema)
    @blp.response(200, ResearchPreviewSchema)
    def post(self, body):
        """The cohort size of the criteria (no rows); below the minimum k only "fewer than k". 422 with the JSON
        path of a bad criterion (`invalid_icd10`, `unknown_loinc`, `invalid_range`, …)."""
        return services.preview(current(), body.get("criteria"))


@blp.route("/projects")
class Projects(MethodView):
    @require_roles(*READERS)
    @blp.response(200, ResearchProjectListSchema)
    def get(self):
        """The caller's projects; committee members also every submitted project of their subtree."""
        p = current()
        return {"items": [queries.project_item(p, r) for r in services.list_projects(p)],
                "can_create": p.has_role(*services.RESEARCHER_ROLES), "can_review": services.is_reviewer(p)}

    @require_roles(*services.RESEARCHER_ROLES)
    @blp.arguments(ResearchProjectBodySchema)
    @blp.response(201, ResearchProjectSchema)
    def post(self, body):
        """Draft a project: cohort criteria, variables, date handling and k. 422 `identifier_not_allowed`,
        `unknown_variable`, `invalid_k`, or a criteria code with its JSON path."""
        return _detail(services.create(current(), body).id)


@blp.route("/projects/<int:project_id>")
class Project(MethodView):
    @require_roles(*READERS)
    @blp.response(200, ResearchProjectSchema)
    def get(self, project_id):
        """One project with its review, the extract's k-anonymity and suppression, and the download log."""
        return _detail(project_id)

    @require_roles(*services.RESEARCHER_ROLES)
    @blp.arguments(ResearchProjectBodySchema)
    @blp.response(200, ResearchProjectSchema)
    def put(self, body, project_id):
        """Change a draft or a returned project. 409 `project_locked` while under review."""
        services.update(current(), project_id, body)
        return _detail(project_id)


@blp.route("/projects/<int:project_id>/submit")
class Submit(MethodView):
    @require_roles(*services.RESEARCHER_ROLES)
    @blp.response(200, ResearchProjectSchema)
    def post(self, project_id):
        """Send a draft to the data/ethics committee (`research_extract`). 409 `already_submitted`."""
        services.submit(current(), project_id)
        return _detail(project_id)


@blp.route("/projects/<int:project_id>/downloads")
class Download(MethodView):
    @require_roles(*services.RESEARCHER_ROLES)
    @blp.arguments(ResearchDownloadBodySchema)
    @blp.response(200, description="the de-identified extract (csv or xlsx)")
    @blp.alt_response(409, description="extract_not_released")
    @blp.alt_response(410, description="extract_expired, download_limit_reached")
    def post(self, body, project_id):
        """Download the released extract (a POST: each download counts against the limit and is audited)."""
        data, mime, name = services.download(current(), project_id, body["format"])
        return file_response(data, mime, name)


@blp.route("/projects/<int:project_id>/refresh")
class Refresh(MethodView):
    @require_roles(*services.RESEARCHER_ROLES)
    @blp.arguments(ResearchRefreshBodySchema)
    @blp.response(200, description="the refreshed de-identified extract (csv or xlsx)")
    @blp.alt_response(409, description="extract_not_released")
    @blp.alt_response(410, description="approval_expired, download_limit_reached")
    def post(self, body, project_id):
        """Rebuild the released extract on the data up to `until` (same research ids: stable per project) and
        download it; within the approval's validity, counted against the download limit and audited."""
        data, mime, name = services.refresh(current(), project_id, body.get("until"), body["format"])
        return file_response(data, mime, name)
