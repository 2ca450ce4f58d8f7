"""Auth endpoints: login/logout (session cookie + CSRF cookie), who am I, and API tokens."""
from __future__ import annotations

from flask import Flask, after_this_request, request
from flask import session as cookie_session
from flask.views import MethodView
from flask_smorest import Blueprint

from app.org.queries import find_org

from . import services, web
from .access import login_required, require_principal
from .principal import Principal
from .schemas import LoginSchema, MeSchema, TokenCreatedSchema, TokenCreateSchema, TokenSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="登录、会话与 API 令牌 (authentication)")


def init_app(app: Flask) -> None:
    web.init_app(app)


def _me(principal: Principal, csrf_token: str | None = None) -> dict:
    org = find_org(principal.org_code)
    return {"id": principal.user_id, "username": principal.username, "display_name": principal.display_name,
            "roles": sorted(principal.roles), "resident_id": principal.resident_id, "csrf_token": csrf_token,
            "org": {"code": org.code, "name": org.name, "level": org.level} if org else None}


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, MeSchema)
    @blp.alt_response(401, description="invalid_credentials")
    @blp.alt_response(429, description="login_throttled")
    def post(self, data):
        """Sign in with username and password; sets the ygt_session and ygt_csrf cookies."""
        user = services.authenticate(data["username"], data["password"])
        if cookie_session.get("sid"):                 # signing in again replaces the old session
            services.end_session(cookie_session["sid"])
        sid, csrf = services.start_session(user, ip=request.remote_addr,
                                           user_agent=request.headers.get("User-Agent"))
        cookie_session.clear()
        cookie_session.permanent = True
        cookie_session["sid"] = sid
        after_this_request(lambda response: web.set_csrf_cookie(response, csrf,
                                                                max_age=services.SESSION_LIFETIME))
        return _me(services.principal_for(user), csrf), 200, {"Cache-Control": "no-store"}


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """Sign out: the session stops working at once."""
        if cookie_session.get("sid"):
            services.end_session(cookie_session["sid"])
        cookie_session.clear()
        after_this_request(web.clear_csrf_cookie)


@blp.route("/me")
class Me(MethodView):
    @login_required
    @blp.response(200, MeSchema)
    def get(self):
        """Who am I: id, username, display name, roles and organization."""
        return _me(require_principal())


@blp.route("/tokens")
class Tokens(MethodView):
    @login_required
    @blp.response(200, TokenSchema(many=True))
    def get(self):
        """List my API tokens (never the tokens themselves)."""
        return services.list_tokens(require_principal().user_id)

    @login_required
    @blp.arguments(TokenCreateSchema)
    @blp.response(201, TokenCreatedSchema)
    def post(self, data):
        """Create an API token for machine use; the token is shown only in this answer."""
        token, raw = services.create_token(require_principal().user_id, name=data["name"])
        return {"id": token.id, "name": token.name, "token": raw}


@blp.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @login_required
    @blp.response(204)
    @blp.alt_response(404, description="not_found: no such token of mine")
    def delete(self, token_id):
        """Revoke one of my API tokens; it stops working immediately."""
        services.revoke_token(token_id, user_id=require_principal().user_id)
