"""GET /api/v1/users — staff in the caller's scope (for assign/delegate pickers and the forms' doctor picker),
filterable by role(s), org and name prefix; each row names its organisation and whether it holds 处方权.
PUT /api/v1/users/{id}/prescribing-privilege — grant or withdraw 处方权 (county administrator; audited)."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.db import session
from app.org.models import Organization
from app.org.scope import org_scope_filter

from . import services
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
    prescribing_privilege = fields.Boolean(metadata={"description": "holds 处方权 at their organisation (R6a)"})


class PrescribingPrivilegeUpdateSchema(Schema):
    granted = fields.Boolean(required=True, metadata={"description": "true 授予处方权, false 撤销处方权"})
    reason = Text(load_default=None, validate=validate.Length(max=500),
                  metadata={"description": "why; required when withdrawing (422 reason_required)"})


class PrivilegeChangeSchema(Schema):
    at = fields.DateTime()
    by = fields.String(metadata={"description": "display name of who granted or withdrew"})
    granted = fields.Boolean()
    reason = fields.String(allow_none=True)


class UserPrivilegeSchema(UserSchema):
    last_change = fields.Nested(PrivilegeChangeSchema, allow_none=True,
                                metadata={"description": "the latest grant or withdrawal (from the audit log)"})


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
            "role_codes": user.role_codes, "org_code": user.org_code, "org_name": org_name,
            "prescribing_privilege": bool(user.prescribing_privilege)}


@blp.route("/<int:user_id>/prescribing-privilege")
class PrescribingPrivilege(MethodView):
    @require_roles("county_admin")
    @blp.arguments(PrescribingPrivilegeUpdateSchema)
    @blp.response(200, UserPrivilegeSchema)
    @blp.alt_response(404, description="not_found")
    @blp.alt_response(403, description="forbidden, out_of_scope")
    @blp.alt_response(422, description="not_prescribing_role, reason_required, validation_error")
    def put(self, body, user_id):
        """Grant (授予处方权) or withdraw (撤销处方权) a doctor's 处方权 at their organisation: the next prescription
        they sign is judged by R6a `rx_legality` with it. County administrator; a withdrawal needs a reason;
        audited `user.prescribing_privilege` (who, when, reason)."""
        principal = require_principal()
        user = services.set_prescribing_privilege(user_id, granted=body["granted"], reason=body.get("reason"),
                                                  principal=principal)
        org = session().get(Organization, user.org_code)
        return {**_with_org_name(user, org.name if org else ""), "last_change": last_privilege_change(user.id)}


def last_privilege_change(user_id: int) -> dict | None:
    """The latest grant or withdrawal of a user's 处方权, from the audit log."""
    entry = session().scalars(select(AuditEntry).where(
        AuditEntry.object_type == "user", AuditEntry.object_id == str(user_id),
        AuditEntry.action == "user.prescribing_privilege").order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)).first()
    if entry is None:
        return None
    actor = session().get(User, entry.actor_user_id) if entry.actor_user_id else None
    return {"at": entry.at, "by": actor.display_name if actor else entry.actor,
            "granted": entry.details.get("granted"), "reason": entry.details.get("reason")}
