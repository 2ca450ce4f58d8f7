"""Production WSGI servers behind `ygt serve` — never werkzeug's development server.

* Embedded default (SQLite): waitress, one process with a pool of threads (SQLite wants one writer process; the
  in-process scheduler and job thread live in that same process).
* PostgreSQL: gunicorn with N worker processes of T threads each (`gthread`; `gunicorn -c python:app.gunicorn_conf
  'app:create_app()'`, or `ygt serve`, which runs the same configuration). A request spends much of its time waiting
  for PostgreSQL (two to three dozen round trips and a commit for an engine step): while one thread waits, another
  runs, and a kept-alive connection (a phone's next request) is served without a new TCP handshake. A request stuck
  on the database is ended by the web processes' statement timeout (`WEB_STATEMENT_TIMEOUT_S`, answered 503
  `database_timeout`); a threaded worker is not killed for one slow request as a sync worker was. The application
  is loaded once, in the master, and the workers are forks of it (`preload_app`): a worker replaced after
  `WEB_MAX_REQUESTS` requests costs a fork, not an application start. A new version of the code therefore needs a
  restart of the master (a HUP only replaces the workers, with the code the master loaded).

Both answer with compressed bodies (brotli or gzip, chosen from `Accept-Encoding`; `app.web` installs
flask-compress) and refuse oversized requests: bodies above `max_request_bytes` get 413 `payload_too_large` (Flask's
`MAX_CONTENT_LENGTH`, and the server's own body limit as a second wall), over-long request lines and headers are
refused by the server before the application sees them.
"""
from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import Any

from flask import Flask

MAX_REQUEST_BYTES = int(os.environ.get("YGT_MAX_REQUEST_BYTES", str(20 * 1024 * 1024)))
# request line and header limits (the same for both servers): a URL of 8 KiB, 100 headers of 8 KiB each
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELDS = 100
LIMIT_REQUEST_FIELD_SIZE = 8190
MAX_HEADER_BYTES = 64 * 1024           # all headers together (waitress; gunicorn counts fields × size)
COMPRESSED_TYPES = ("application/json", "application/fhir+json", "application/problem+json", "application/xml",
                    "text/html", "text/css", "text/plain", "text/xml", "text/csv", "application/javascript",
                    "text/javascript", "image/svg+xml", "x-application/hl7-v2+er7")
# gunicorn's access log line: client, request line, status, bytes sent, milliseconds (app.gunicorn_log writes it)
ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
WEB_THREADS = int(os.environ.get("WEB_THREADS", "4"))           # threads per gunicorn worker process
WARM_BEFORE_FORK = "ygt.warm_before_fork"     # the app's warm-up hook, run in gunicorn's master before forking
# a worker is replaced after this many requests (± a tenth), a guard against slow leaks; the replacement is a fork
# of the master, which loaded the application once (`preload_app`), so it costs milliseconds, not a start
WEB_MAX_REQUESTS = int(os.environ.get("WEB_MAX_REQUESTS", "2000"))
# a web request's SQL statement may run this long (PostgreSQL's statement_timeout on the web processes' connections;
# jobs, the scheduler and the CLI have none): what the sync worker's 60 s kill did for a request stuck on the
# database, without taking the worker's other requests with it
WEB_STATEMENT_TIMEOUT_S = os.environ.get("WEB_STATEMENT_TIMEOUT_S", "50")


def web_process_environment() -> None:
    """What a web process's app reads at start-up (`create_app` in each worker): its connections' name and statement
    timeout, unless the operator set them. Called by `app.gunicorn_conf` and `ygt serve` before workers start."""
    os.environ.setdefault("YGT_APP_NAME", "ygt-web")
    os.environ.setdefault("YGT_DB_STATEMENT_TIMEOUT_S", WEB_STATEMENT_TIMEOUT_S)


def _warm_before_forking(server: Any) -> None:
    """In the master, once the application is loaded and before the first worker is forked: the application's own
    warm-up (`app.factory.warm_before_forking`, registered by `create_app` as `app.extensions[WARM_BEFORE_FORK]`), so
    every worker starts with what it shares."""
    warm = getattr(server.app.wsgi(), "extensions", {}).get(WARM_BEFORE_FORK)
    if warm is not None:
        warm()


def _freeze_before_fork(_server: Any, _worker: Any) -> None:
    """What the master loaded stays out of the workers' garbage collections (`gc.freeze`): a collection in a worker
    neither walks the application's modules, classes and caches nor writes to their pages, which stay shared with
    the master instead of being copied into each worker."""
    gc.freeze()


def gunicorn_options(bind: str, workers: int, threads: int = WEB_THREADS) -> dict:
    """The gunicorn settings `app.gunicorn_conf` and `ygt serve` share."""
    from app.gunicorn_log import AccessLogger  # noqa: PLC0415 - gunicorn is loaded only where it serves (POSIX)
    from app.gunicorn_worker import ThreadWorker  # noqa: PLC0415 - gunicorn's gthread, less per request
    return {
        "bind": bind, "workers": workers, "worker_class": ThreadWorker, "threads": max(1, threads),
        "timeout": 60, "graceful_timeout": 30,
        "keepalive": 5, "max_requests": WEB_MAX_REQUESTS, "max_requests_jitter": WEB_MAX_REQUESTS // 10,
        # the application is imported and built once, in the master, and each worker is a fork of it: a worker
        # replaced after `max_requests` cost a whole application start before (≈ 3.7 s of CPU on the benchmark
        # machine, ≈ 1.9 ms per request at 2,000 requests), now a fork. What a worker must not share is re-opened
        # after the fork: the database pool (app.core.db's at-fork hook), Redis (redis-py checks the pid), the
        # script zygote's sockets (one per process, app.engine.isolation); the master warms what workers share first
        "preload_app": True, "when_ready": _warm_before_forking, "pre_fork": _freeze_before_fork,
        "limit_request_line": LIMIT_REQUEST_LINE, "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
        # a request's head is parsed by gunicorn_h1c's C parser (a dependency on POSIX), gunicorn's own Python parser
        # when it cannot be imported; the body, its framing (Content-Length, chunked) and the header policy stay in
        # gunicorn's Python code. Same requests, same refusals (tests/unit/test_http_parser.py); 12 % less of a
        # worker's CPU per instance on the engine path (issue 23.2, docs/benchmarks.md)
        "http_parser": "auto",
        "accesslog": "-", "errorlog": "-",
        "access_log_format": ACCESS_LOG_FORMAT, "logger_class": AccessLogger,
    }


def serve_waitress(app, host: str, port: int, *, threads: int = 8) -> None:
    """Serve the app with waitress (one process, a thread pool) until interrupted."""
    from waitress import serve  # noqa: PLC0415 - only the server that runs is loaded: waitress or gunicorn, not both
    serve(app, host=host, port=port, threads=threads, ident="yigongti",
          max_request_body_size=MAX_REQUEST_BYTES + 1024 * 1024,   # Flask answers 413 first, with our error body
          max_request_header_size=MAX_HEADER_BYTES,
          channel_timeout=120, connection_limit=200, clear_untrusted_proxy_headers=True)


def serve_gunicorn(host: str, port: int, *, workers: int, make_app: Callable[[], Flask],
                   threads: int = WEB_THREADS) -> None:
    """Serve `make_app()` (app/cli.py passes `app.create_app`) with gunicorn worker processes until interrupted."""
    from gunicorn.app.base import BaseApplication  # noqa: PLC0415 - only the running server is loaded; POSIX-only

    class Server(BaseApplication):
        def load_config(self):
            for key, value in gunicorn_options(f"{host}:{port}", workers, threads).items():
                self.cfg.set(key, value)

        def load(self):
            return make_app()

    web_process_environment()

    Server().run()
