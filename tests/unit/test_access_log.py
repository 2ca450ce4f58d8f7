"""The gunicorn access log line (app.gunicorn_log): the same line as gunicorn's own logger writes, made cheaply."""
from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from app.gunicorn_log import AccessLogger
from app.serving import gunicorn_options


def _line(logger_class, fmt: str | None = None) -> str:
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1:0", 1).items():
        if key != "logger_class":
            cfg.set(key, value)
    if fmt:
        cfg.set("access_log_format", fmt)
    logger = logger_class(cfg)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())     # type: ignore[method-assign]
    logger.access_log.handlers = [handler]
    resp = SimpleNamespace(status="201 CREATED", sent=1234, headers=[("Content-Type", "application/json")])
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/tasks/5/complete?x=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/api/v1/tasks/5/complete", "QUERY_STRING": "x=1"}
    req = SimpleNamespace(headers=[("HOST", "ygt")])
    logger.access(resp, req, environ, timedelta(seconds=1, microseconds=23_456))
    return lines[0]


def test_the_access_line_is_gunicorns_own():
    assert _line(AccessLogger) == _line(Logger) == '10.0.0.7 "POST /api/v1/tasks/5/complete?x=1 HTTP/1.1" 201 1234 1023ms'


def test_another_format_is_written_by_gunicorn():
    fmt = '%(h)s %(m)s %(U)s %({host}i)s'
    assert _line(AccessLogger, fmt) == _line(Logger, fmt) == "10.0.0.7 POST /api/v1/tasks/5/complete ygt"


def test_the_shared_options_hand_gunicorn_the_logger_class_itself():
    """The options name the class (no dotted string to resolve) and gunicorn takes it as its logger."""
    assert gunicorn_options("127.0.0.1:0", 1)["logger_class"] is AccessLogger
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1:0", 1).items():
        cfg.set(key, value)
    assert cfg.logger_class is AccessLogger
