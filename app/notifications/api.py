"""/api/v1/notifications: the caller's in-platform notifications."""
from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.auth.access import login_required
from app.auth.access import require_principal as current

from . import services
from .schemas import NotificationListSchema, NotificationQueryArgsSchema, NotificationSchema, UnreadSchema

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="站内通知 In-platform notifications")


@blp.route("/notifications")
class Notifications(MethodView):
    @login_required
    @blp.arguments(NotificationQueryArgsSchema, location="query")
    @blp.response(200, NotificationListSchema)
    def get(self, args):
        """List the caller's notifications, newest first (`unread=1` for unread only)."""
        items, total, unread = services.list_for(current().user_id, **args)
        return {"items": items, "total": total, "unread": unread}


@blp.route("/notifications/<int:notification_id>/read")
class NotificationRead(MethodView):
    @login_required
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark one notification read."""
        return services.mark_read(current().user_id, notification_id)


@blp.route("/notifications/read-all")
class NotificationsReadAll(MethodView):
    @login_required
    @blp.response(200, UnreadSchema)
    def post(self):
        """Mark all of the caller's notifications read."""
        services.mark_all_read(current().user_id)
        return {"unread": 0}
