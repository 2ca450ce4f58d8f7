"""GET /api/v1/organizations — the organization tree in the caller's scope."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import login_required
from app.auth.principal import current_principal

from . import queries
from .schemas import OrganizationQueryArgsSchema, OrganizationSchema

blp = Blueprint("organizations", __name__, url_prefix="/api/v1/organizations",
                description="县-乡-村 organizations (机构)")


@blp.route("")
class Organizations(MethodView):
    @login_required
    @blp.arguments(OrganizationQueryArgsSchema, location="query")
    @blp.response(200, OrganizationSchema(many=True))
    def get(self, args):
        """List the organizations in the caller's scope as a flat tree (parent_code links), in path order."""
        return queries.orgs_in_scope(current_principal(), **args)
