"""The Flask application factory: settings, the database, the API and its blueprints, the UI, compression, the job
queue and the wiring of hooks. `app.create_app` loads this module when it is called, so importing any submodule of
`app` (which runs `app/__init__.py` first) does not pull in every capability the wiring and the blueprints import."""
from __future__ import annotations

import logging
from functools import partial

from flask import Flask
from flask_compress import Compress

from . import serving, web, wiring
from .blueprints import register_blueprints
from .config import Settings
from .core import clock, crypto, db, logs
from .core.jsonio import JSONProvider
from .dispatch import App
from .extensions import api
from .jobs import queue
from .workflows import bindings
from .workflows.batch import warm_caches
from .workflows.limits import warm_up

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask application factory (`app:create_app()`): settings from the environment unless given."""
    settings = settings or Settings.from_env()
    Flask.json_provider_class = JSONProvider
    app = App("app", static_folder=None)   # the import name of the package: the app's name, root path, logger
    app.url_map.converters["int"] = web.BoundedIntConverter
    app.config.update(
        SECRET_KEY=settings.secret_key,
        YGT=settings,
        API_TITLE="yigongti 医共体流程平台 API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/api/docs/static/",
        MAX_CONTENT_LENGTH=serving.MAX_REQUEST_BYTES,
        MAX_FORM_MEMORY_SIZE=serving.MAX_REQUEST_BYTES,
        MAX_FORM_PARTS=200,
        COMPRESS_ALGORITHM=["br", "gzip"],
        COMPRESS_MIN_SIZE=512,
        COMPRESS_MIMETYPES=list(serving.COMPRESSED_TYPES),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="ygt_session",
    )
    logs.configure()
    # site script functions (YGT_SCRIPT_EXTENSIONS): a module that cannot be used stops start-up, naming it
    bindings.use_script_extensions(settings.script_extensions)
    clock.configure(settings.display_tz)
    crypto.configure(settings.field_key)
    db.init_engine(settings.database_url)
    app.teardown_appcontext(db.close_session)
    api.init_app(app)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    register_blueprints(app, api)
    web.init_app(app)
    # the API's ETags are If-Match tokens (task completion), not cache validators: a task's ETag leaves its draft
    # out, so answering If-None-Match with 304 served a stale draft (flask-compress did so for compressed bodies only)
    app.config["COMPRESS_EVALUATE_CONDITIONAL_REQUEST"] = False
    Compress(app)
    queue.configure(settings, app)
    wiring.wire()
    app.extensions[serving.WARM_BEFORE_FORK] = partial(warm_before_forking, app)
    return app


def warm_before_forking(app: Flask) -> None:
    """What a process that forks workers builds once for all of them (gunicorn's master with `preload_app`, as
    `ygt worker` does before rq forks its job processes): the script zygote, and the latest versions' setup, decision
    pins and engine specs (a web worker's first engine-path instance cost ≈ 0.3 s of CPU, ≈ 0.1 s with them); the
    warm-up's connection is not kept. Never fails the start: a worker builds what it lacks itself."""
    try:
        warm_up()
    except Exception:  # an optimisation: each worker starts its own script workers
        log.exception("starting the script zygote before forking failed")
    with app.app_context():
        warm_caches()
        db.remove_session()
        db.engine().dispose()
