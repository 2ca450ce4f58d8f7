"""GET /api/v1/users — staff in the caller's scope (for assign/delegate pickers and the forms' doctor picker),
filterable by role(s), org and name prefix; each row names its organisation."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.core.db import session
from app.org.models import Organization
from app.org.scope import org_scope_filter

from .access import require_principal, require_roles
from .fields import Text
from .models import User, UserRole
from .principal import ROLES

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="用户 (staff directory)")
STAFF = tuple(r for r in ROLES if r not in ("patient", "integration"))


class UserQueryArgsSchema(Schema):
    role = fields.List(Text(validate=validate.OneOf(ROLES)),
                       metadata={"description": "only users with one of these roles (repeat the parameter for several)"})
    org_code = Text(metadata={"description": "only users of this organization and those below it"})
    q = Text(metadata={"description": "username or display-name prefix"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class UserSchema(Schema):
    id = fields.Integer()
    username = fields.String()
    display_name = fields.String()
    roles = fields.List(fields.String(), attribute="role_codes")
    org_code = fields.String()
    org_name = fields.String(metadata={"description": "the organisation's name (机构名称), for pickers"})


@blp.route("")
class Users(MethodView):
    @require_roles(*STAFF)
    @blp.arguments(UserQueryArgsSchema, location="query")
    @blp.response(200, UserSchema(many=True))
    def get(self, args):
        """List active staff in the caller's scope (patients and machine clients are never listed)."""
        query = (select(User).join(Organization, Organization.code == User.org_code)
                 .where(User.active.is_(True), org_scope_filter(Organization.path, require_principal()),
                        ~User.roles.any(UserRole.role.in_(("patient", "integration")))))
        if args.get("role"):
            query = query.where(User.roles.any(UserRole.role.in_(args["role"])))
        if args.get("org_code"):
            under = session().get(Organization, args["org_code"])
            if under is None:
                return []
            query = query.where(Organization.path.startswith(under.path, autoescape=True))
        if args.get("q"):
            query = query.where(User.username.startswith(args["q"], autoescape=True)
                                | User.display_name.startswith(args["q"], autoescape=True))
        rows = session().execute(query.add_columns(Organization.name).order_by(User.username).limit(args["limit"]))
        return [_with_org_name(user, org_name) for user, org_name in rows]


def _with_org_name(user: User, org_name: str) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role_codes": user.role_codes, "org_code": user.org_code, "org_name": org_name}
