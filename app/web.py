"""Web plumbing: request ids, error mapping, /healthz, /metrics, and the built UI (client-side routing)."""
from __future__ import annotations

import mimetypes
import os
import time
from urllib.parse import quote

from flask import Flask, Response, current_app, g, jsonify, redirect, request, send_from_directory
from marshmallow import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

from .auth.principal import current_principal
from .core import db, jsonio, logs, metrics
from .core.errors import DomainError
from .core.field_errors import field_errors
from .jobs.queue import redis_connection
from .workflows import EngineError, health

UI_ROUTES = ("/", "/inbox", "/tasks/<path:_rest>", "/modeler", "/modeler/<path:_rest>", "/instances",
             "/instances/<path:_rest>", "/residents", "/residents/<path:_rest>", "/dashboards",
             "/dashboards/<path:_rest>", "/login", "/integrations", "/follow-ups", "/screening", "/training",
             "/training/<path:_rest>", "/referrals", "/referrals/<path:_rest>",
             "/quality", "/live", "/live/<path:_rest>", "/portal", "/portal/<path:_rest>",
             "/contracts", "/contracts/<path:_rest>", "/consults", "/consults/<path:_rest>", "/intervention",
             "/intervention/<path:_rest>",
             "/supply", "/pharmacy", "/pharmacy/<path:_rest>", "/liaison/<path:_rest>", "/research",
             "/research/<path:_rest>", "/anticoag", "/anticoag/<path:_rest>", "/appraisal", "/reports", "/clock",
             "/batches", "/batches/<path:_rest>")
# the pages only some roles may open (issue 14.13, 22.5): the same lists as the menus (ui/src/lib/roles.ts menuFor);
# the API checks its own roles on every call behind them. Most specific prefix first.
_SUPERVISING = ("supervisor", "county_admin")
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "/modeler": ("process_owner", "county_admin"),               # deployers: app.processes.api.DEPLOYERS
    "/clock": ("process_owner", "county_admin"),                 # 平台时钟 (issue 14.12): the deployers too
    "/instances": (*_SUPERVISING, "process_owner"),
    "/integrations": _SUPERVISING,
    "/batches": _SUPERVISING,       # 批量启动: app.processes.api.BATCH_WATCHERS (failed items by name; told of them)
    "/screening": (*_SUPERVISING, "township_public_health"),
    "/quality": (*_SUPERVISING, "township_public_health"),
    "/reports": (*_SUPERVISING, "township_public_health"),                       # 自定义报表 (issue 20.5)
    "/appraisal": (*_SUPERVISING, "township_public_health", "township_doctor"),  # 绩效考核 (issue 20.4)
    "/referrals/dashboard": (*_SUPERVISING, "township_doctor", "township_public_health", "county_specialist"),
    "/contracts": (*_SUPERVISING, "village_doctor", "township_doctor", "township_public_health"),
    "/referrals": (*_SUPERVISING, "village_doctor", "township_doctor", "township_public_health", "county_specialist"),
    "/consults": (*_SUPERVISING, "village_doctor", "township_doctor", "county_specialist"),
    "/intervention": (*_SUPERVISING, "county_specialist"),
    # expert liaison (issue 21.6): the rota is 医务科's, the week is the township's, plans both sides'
    "/liaison/rota": (*_SUPERVISING, "county_specialist"),
    "/liaison/week": ("township_doctor", "township_public_health", "village_doctor"),
    "/liaison/plans": (*_SUPERVISING, "county_specialist", "township_doctor"),
    "/follow-ups": (*_SUPERVISING, "village_doctor", "township_doctor", "township_public_health", "county_specialist"),
    "/dashboards": (*_SUPERVISING, "township_doctor", "township_public_health", "county_specialist", "process_owner"),
    "/pharmacy": (*_SUPERVISING, "pharmacist"),     # 审方工作台 (issue 18.2; the API: app.pharmacy, PHI readers)
    "/supply": (*_SUPERVISING, "pharmacist", "county_specialist", "township_doctor"),   # app.supply.api.READERS
    "/anticoag": (*_SUPERVISING, "pharmacist", "county_specialist", "township_doctor", "village_doctor"),
    "/research": (*_SUPERVISING, "researcher", "county_specialist"),     # app.research.api.READERS (issue 20.7)
    # records: the treating roles and a patient (their own; the API scopes rows), not modelers or trainers
    "/residents": (*_SUPERVISING, "village_doctor", "township_doctor", "township_public_health", "county_specialist",
                   "pharmacist", "patient"),
}
# what the refusal says (the modeler's words are older than the others)
_REFUSAL = {"/modeler": "流程建模仅对流程负责人和县级管理员开放。"}
log = logs.get("web")


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` path parts beyond a 64-bit id are simply not found."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(map, *args, **kwargs)


def error_response(code: str, message: str, status: int, details: dict | None = None) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message, "details": details or {}}), status


def _handle_domain(exc: DomainError):
    return error_response(exc.code, exc.message, exc.status, exc.details)


def _handle_engine(exc: EngineError):
    status = 422 if exc.code in ("invalid_definition", "invalid_task_data") else 409
    if exc.code == "no_waiting_instance":
        status = 404
    return error_response(exc.code, exc.message, status, {k: v for k, v in exc.details.items() if v is not None})


def _handle_http(exc: HTTPException):
    if exc.code == 422 and getattr(exc, "data", None):  # webargs / marshmallow validation
        messages = exc.data.get("messages", {})     # {location: {field: [message, …]}}
        errors = [error for location in messages.values() for error in field_errors(location)]
        return error_response("validation_error", "请求数据不合法 (invalid request body)", 422, {"errors": errors})
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             405: "method_not_allowed", 409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
             429: "rate_limited"}
    response, status = error_response(codes.get(exc.code, "http_error"), exc.description or exc.name,
                                      exc.code or 500)
    for name, value in exc.get_headers():           # 405 keeps its Allow, 429 its Retry-After, 401 its challenge
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response, status


def _handle_marshmallow(exc: ValidationError):
    return error_response("validation_error", "请求数据不合法 (invalid request body)", 422,
                          {"errors": field_errors(exc.messages)})


def _handle_out_of_range(exc: Exception):
    # an integer or value the database cannot hold is bad input, not a server failure
    return error_response("value_out_of_range", "参数超出允许范围 (value out of range)", 422, {})


def _handle_database(exc: OperationalError):
    # the web processes' statement timeout (app.serving: YGT_DB_STATEMENT_TIMEOUT_S) ended a statement that waited or
    # ran too long (SQLSTATE 57014, query_canceled): the transaction rolled back, nothing was half-applied; the client
    # may try again. Any other operational failure is an internal error.
    if getattr(getattr(exc, "orig", None), "sqlstate", None) == "57014":
        log.warning("statement timeout", extra={"path": request.path})
        response, status = error_response("database_timeout", "数据库操作超时，请稍后重试 (database operation timed out)",
                                          503, {"request_id": logs.request_id.get()})
        response.headers["Retry-After"] = "5"
        return response, status
    return _handle_unexpected(exc)


def _handle_unexpected(exc: Exception):
    log.exception("unhandled error", extra={"path": request.path})
    return error_response("internal_error", "服务器内部错误 (internal error)", 500,
                          {"request_id": logs.request_id.get()})


def init_app(app: Flask) -> None:
    app.register_error_handler(DomainError, _handle_domain)
    app.register_error_handler(EngineError, _handle_engine)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(ValidationError, _handle_marshmallow)
    app.register_error_handler(OverflowError, _handle_out_of_range)
    app.register_error_handler(DataError, _handle_out_of_range)
    app.register_error_handler(OperationalError, _handle_database)
    app.register_error_handler(Exception, _handle_unexpected)

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        # the caller's id, or 16 random hex digits (64 random bits, without building a UUID per request)
        logs.request_id.set(request.environ.get("HTTP_X_REQUEST_ID") or os.urandom(8).hex())
        jsonio.guard_request()

    @app.after_request
    def _finish(response):
        ended = time.perf_counter()
        req = request._get_current_object()     # one context lookup for what follows (issue 23.2)
        rule = req.url_rule
        metrics.observe_request(req.method, rule.rule if rule else "unmatched", response.status_code,
                                ended - g.get("started", ended))
        response.headers["X-Request-Id"] = logs.request_id.get() or ""
        return response

    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    app.add_url_rule("/metrics", "metrics", metrics_view)
    for rule in UI_ROUTES:
        app.add_url_rule(rule, f"ui:{rule}", ui_index)
    app.add_url_rule("/assets/<path:filename>", "ui_assets", ui_asset)
    # the village doctor's offline app (issue 22.2): its own build in ui/dist/m with its service worker (scope /m/)
    app.add_url_rule("/m", "ui_mobile", lambda: redirect("/m/"))
    app.add_url_rule("/m/", "ui_mobile_root", mobile_app)
    app.add_url_rule("/m/<path:filename>", "ui_mobile_file", mobile_app)


def _dependency_checks(settings) -> dict[str, str]:
    checks = {}
    try:
        db.session().execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 (health must answer, whatever broke)
        checks["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session().rollback()
    if settings.redis_url:
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001 (health must answer, whatever broke)
            checks["redis"] = f"error: {type(exc).__name__}"
    return checks


def _background(checks: dict[str, str]) -> dict:
    """Scheduler heartbeat, due timers, outbox and queue — what tells a monitor that background work happens."""
    out: dict = {}
    if checks.get("database") == "ok":
        try:
            out.update(health.background_status())
        except Exception as exc:  # noqa: BLE001 (health must answer, whatever broke)
            out["error"] = type(exc).__name__
        finally:
            db.session().rollback()
    if checks.get("redis", "ok") == "ok":
        try:
            out["queue"] = health.queue_status()
        except Exception as exc:  # noqa: BLE001 (health must answer, whatever broke)
            out["queue"] = {"state": f"error: {type(exc).__name__}"}
    return out


def _background_problems(background: dict) -> list[str]:
    problems = []
    if background.get("scheduler", {}).get("state") != "ok":
        problems.append(f"scheduler: {background.get('scheduler', {}).get('state', 'unknown')}")
    if background.get("timers", {}).get("state") != "ok":
        problems.append("timers: lagging")
    if background.get("job_outbox", {}).get("state", "ok") != "ok":
        problems.append("job_outbox: stuck")
    if background.get("queue", {}).get("state") != "ok":
        problems.append(f"queue: {background.get('queue', {}).get('state', 'unknown')}")
    return problems


def healthz():
    """Liveness: 200 when the database answers; the body also reports Redis and background work.

    Redis being down does not fail liveness: writes still commit and their jobs wait in the job outbox, so a load
    balancer must keep serving (`/readyz` and `problems` report it)."""
    settings = current_app.config["YGT"]
    checks = _dependency_checks(settings)
    ok = checks.get("database") == "ok"
    background = _background(checks)
    problems = [f"{k}: {v}" for k, v in checks.items() if k != "database" and v != "ok"]
    return jsonify({"status": "ok" if ok else "error", "mode": "production" if settings.production else "embedded",
                    "checks": checks, "background": background,
                    "problems": problems + _background_problems(background)}), (200 if ok else 503)


def readyz():
    """For monitors: 200 only when dependencies answer, a scheduler leads, timers are on time and workers listen."""
    settings = current_app.config["YGT"]
    checks = _dependency_checks(settings)
    background = _background(checks)
    problems = [f"{k}: {v}" for k, v in checks.items() if v != "ok"] + _background_problems(background)
    return jsonify({"status": "ok" if not problems else "error", "checks": checks, "background": background,
                    "problems": problems}), (200 if not problems else 503)


def metrics_view():
    return Response(metrics.render(), mimetype="text/plain; version=0.0.4")


def _ui_dir():
    return current_app.config["YGT"].asset_root / "ui" / "dist"


def ui_index(_rest=None):
    refused = _page_refused()
    if refused is not None:
        return refused
    index = _ui_dir() / "index.html"
    if not index.exists():
        return Response("<!doctype html><meta charset=utf-8><title>医共体平台</title>"
                        "<p>前端尚未构建：请运行 <code>make run</code>（会执行 npm ci &amp;&amp; npm run build）。"
                        " API 文档见 <a href=/api/docs>/api/docs</a>。</p>", mimetype="text/html")
    return send_from_directory(_ui_dir(), "index.html", max_age=0)


def _page_refused() -> Response | None:
    """A role page asks for a sign-in first, then answers 403 to everyone outside its roles (issue 14.13, 22.5)."""
    prefix = next((p for p in ROLE_PAGES if request.path == p or request.path.startswith(p + "/")), None)
    if prefix is None:
        return None
    principal = current_principal()
    if principal is None:
        return redirect("/login?next=" + quote(request.full_path.rstrip("?"), safe=""))
    if principal.has_role(*ROLE_PAGES[prefix]):
        return None
    why = _REFUSAL.get(prefix, "您的角色不使用此页面。")
    page = ("<!doctype html><html lang=zh-CN><meta charset=utf-8><title>无权访问 · 医共体平台</title>"
            f"<h1>无权访问</h1><p>{why}</p><p><a href=/>返回首页</a></p></html>")
    return Response(page, status=403, mimetype="text/html")


# Vite names every asset after its content hash (index-<hash>.js): a name never changes meaning, so a phone keeps it
# for a year without asking again; index.html (which names the current ones) is revalidated every time (no-cache).
ASSET_CACHE = "public, max-age=31536000, immutable"
# the build writes brotli (quality 11) and gzip twins next to each asset (ui/vite.config.ts, precompress): served as
# they are, so a slow phone gets the smallest body and the server does not recompress per request (issue 22.3)
PRECOMPRESSED = (("br", ".br"), ("gzip", ".gz"))


def _accepts(encoding: str) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == encoding:
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def ui_asset(filename):
    folder = _ui_dir() / "assets"
    if filename.endswith((".br", ".gz")):
        return error_response("not_found", "资源不存在", 404)
    for encoding, suffix in PRECOMPRESSED:
        if _accepts(encoding) and (folder / (filename + suffix)).is_file() and (folder / filename).is_file():
            response = send_from_directory(folder, filename + suffix, max_age=31536000)
            response.headers["Content-Encoding"] = encoding
            response.mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            break
    else:
        response = send_from_directory(folder, filename, max_age=31536000)
    response.headers["Cache-Control"] = ASSET_CACHE
    response.vary.add("Accept-Encoding")
    return response


def mobile_app(filename=None):
    """/m/: a file of the phone app's build when it exists (hashed assets cached for a year; the service worker,
    manifest and shell revalidated every time), any other path its index.html (the app routes inside)."""
    base = _ui_dir() / "m"
    if filename and filename != "index.html" and (base / filename).is_file():
        response = send_from_directory(base, filename, max_age=31536000 if filename.startswith("assets/") else 0)
        if filename.endswith(".webmanifest"):
            response.mimetype = "application/manifest+json"
        return response
    if not (base / "index.html").exists():
        return Response("<!doctype html><meta charset=utf-8><title>村医随访</title>"
                        "<p>村医随访应用尚未构建：请运行 <code>cd ui &amp;&amp; npm run build</code>。</p>",
                        mimetype="text/html", status=503)
    return send_from_directory(base, "index.html", max_age=0)
