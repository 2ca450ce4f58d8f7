"""The gunicorn access log line (app.gunicorn_log): the same line as gunicorn's own logger writes, made cheaply."""
from __future__ import annotations

import io
import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config
from gunicorn.glogging import Logger

from app.gunicorn_log import AccessLogger
from app.serving import gunicorn_options


def _logger(logger_class, fmt: str | None = None) -> Logger:
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1:0", 1).items():
        if key != "logger_class":
            cfg.set(key, value)
    if fmt:
        cfg.set("access_log_format", fmt)
    access = logging.getLogger("gunicorn.access")       # one logger per process: no other test's handler or filter
    access.handlers, access.filters = [], []
    return logger_class(cfg)


def _line(logger_class, fmt: str | None = None) -> str:
    logger = _logger(logger_class, fmt)
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())     # type: ignore[method-assign]
    logger.access_log.handlers = [handler]
    _request(logger)
    return lines[0]


def _written(logger_class) -> str:
    """What gunicorn's own access handler (`accesslog = "-"`: a stream handler on stdout) writes for one request."""
    logger = _logger(logger_class)
    stream = io.StringIO()
    [handler] = logger.access_log.handlers
    handler.setStream(stream)
    _request(logger)
    return stream.getvalue()


def _request(logger: Logger) -> None:
    resp = SimpleNamespace(status="201 CREATED", sent=1234, headers=[("Content-Type", "application/json")])
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "RAW_URI": "/api/v1/tasks/5/complete?x=1",
               "SERVER_PROTOCOL": "HTTP/1.1", "PATH_INFO": "/api/v1/tasks/5/complete", "QUERY_STRING": "x=1"}
    req = SimpleNamespace(headers=[("HOST", "ygt")])
    logger.access(resp, req, environ, timedelta(seconds=1, microseconds=23_456))


def test_the_access_line_is_gunicorns_own():
    assert _line(AccessLogger) == _line(Logger) == '10.0.0.7 "POST /api/v1/tasks/5/complete?x=1 HTTP/1.1" 201 1234 1023ms'


def test_the_line_on_gunicorns_stream_is_the_one_logging_writes():
    assert _written(AccessLogger) == _written(Logger) == \
        '10.0.0.7 "POST /api/v1/tasks/5/complete?x=1 HTTP/1.1" 201 1234 1023ms\n'


def test_the_line_on_gunicorns_stream_makes_no_log_record():
    made: list[str] = []
    factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(lambda name, *args, **kwargs: made.append(name) or factory(name, *args, **kwargs))
    try:
        _written(AccessLogger)
    finally:
        logging.setLogRecordFactory(factory)
    assert made == []


def test_a_filtered_access_log_goes_through_logging():
    """An operator's filter (or any handler but gunicorn's plain stream) still sees every line."""
    logger = _logger(AccessLogger)
    seen: list[str] = []
    logger.access_log.addFilter(lambda record: seen.append(record.getMessage()) or False)
    _request(logger)
    assert seen == ['10.0.0.7 "POST /api/v1/tasks/5/complete?x=1 HTTP/1.1" 201 1234 1023ms']


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
