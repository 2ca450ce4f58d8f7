"""GET /api/v1/audit — the audit log, for supervisors and county administrators."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import require_roles

from . import queries
from .schemas import AuditPageSchema, AuditQueryArgsSchema

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="审计日志 (audit log)")
AUDIT_READERS = ("supervisor", "county_admin")


@blp.route("")
class AuditEntries(MethodView):
    @require_roles(*AUDIT_READERS)
    @blp.arguments(AuditQueryArgsSchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, args):
        """Search the audit log by actor, action, object and time range (newest first)."""
        items, total = queries.search_entries(**args)
        return {"items": items, "total": total}
