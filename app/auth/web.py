"""Resolve who is calling on every request, and enforce CSRF for cookie-authenticated writes.

* `Authorization: Bearer <token>`: an API token (no CSRF: a browser never sends it on its own). A bad or revoked
  token is answered 401 at once rather than treated as anonymous.
* otherwise the signed `ygt_session` cookie: its session id names a live `UserSession`. Unsafe methods must send
  `X-CSRF-Token` equal to that session's token (the `ygt_csrf` cookie, readable by the UI's JavaScript).
"""
from __future__ import annotations

import hmac
import os
from datetime import timedelta

from flask import Flask, current_app, g, request
from flask import session as cookie_session
from flask.sessions import SecureCookieSessionInterface

from app.core import db
from app.core.errors import Unauthorized

from . import services
from .errors import CsrfFailed
from .principal import set_principal

CSRF_COOKIE = "ygt_csrf"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
CSRF_EXEMPT_PATHS = frozenset({"/api/v1/auth/login"})   # no session to ride on yet
SKIP_PREFIXES = ("/assets/", "/metrics", "/healthz")


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session without its fixed cost where there is none (issue 23.2): a request that sends no
    cookie at all (an API client with a bearer token) gets the empty session Flask would give it, without a signer
    built and a cookie header parsed; a session left empty and untouched ends as in Flask, without computing the
    cookie's settings first. Everything else is Flask's own."""

    def open_session(self, app, request):
        if app.secret_key and not request.environ.get("HTTP_COOKIE"):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.accessed and not session.modified:
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = CookieSessions()
    app.config["PERMANENT_SESSION_LIFETIME"] = services.SESSION_LIFETIME     # cookie and UserSession agree
    if os.environ.get("YGT_SECURE_COOKIES") == "1":                          # behind HTTPS (production)
        app.config["SESSION_COOKIE_SECURE"] = True
    app.before_request(resolve_principal)


def resolve_principal() -> None:
    """before_request: set the Principal (or None) for this request; 401 on a bad token, 403 on a bad CSRF."""
    ctx_g = g._get_current_object()       # one context lookup each for g and the request (issue 23.2)
    ctx_g.principal = None                # set_principal(None)
    ctx_g.auth_method = None
    req = request._get_current_object()  # type: ignore[attr-defined]
    environ = req.environ
    if req.path.startswith(SKIP_PREFIXES):
        return
    auth = environ.get("HTTP_AUTHORIZATION", "")      # what request.headers.get("Authorization", "") reads
    try:
        if auth[:7].lower() == "bearer ":
            _from_token(auth[7:].strip())
        elif cookie_session.get("sid"):
            _from_session(cookie_session["sid"])
    except BaseException:
        db.session().rollback()
        raise
    # SQLite: end the lookup's transaction (it began with BEGIN IMMEDIATE, the write lock); the view starts its own.
    # PostgreSQL: the view goes on in the lookup's read-only transaction, on the same connection: ending it returned
    # the connection to the pool, and the view's first statement checked one out again, with the pool's ping — two
    # round trips (COMMIT, ping) per request whose caller was not cached (issue 23.5). A token resolved from the
    # worker's cache began none: nothing to end. (PostgreSQL asks the session nothing.)
    if not db.is_postgres():
        s = db.session()
        if s.in_transaction():
            s.commit()


def _from_token(raw: str) -> None:
    principal = services.principal_for_token(raw) if raw else None
    if principal is None:
        raise Unauthorized("令牌无效或已吊销 (invalid or revoked token)", code="invalid_token")
    set_principal(principal)
    g.auth_method = "token"


def _from_session(sid: str) -> None:
    found = services.principal_for_session(sid)
    if found is None:
        cookie_session.clear()
        return
    principal, csrf_token = found
    if request.method not in SAFE_METHODS and request.path not in CSRF_EXEMPT_PATHS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, csrf_token):
            raise CsrfFailed("缺少或错误的 CSRF 令牌 (missing or wrong X-CSRF-Token header)")
    set_principal(principal)
    g.auth_method = "session"


def set_csrf_cookie(response, token: str, *, max_age: timedelta):
    response.set_cookie(CSRF_COOKIE, token, max_age=int(max_age.total_seconds()), httponly=False,
                        samesite="Lax", secure=current_app.config.get("SESSION_COOKIE_SECURE", False), path="/")
    return response


def clear_csrf_cookie(response):
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
