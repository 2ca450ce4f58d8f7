"""gunicorn's access log, cheap: the line of `app.serving.ACCESS_LOG_FORMAT` written from the five values it names.

gunicorn's own `Logger.access` builds a dict of every atom, request header, response header and environ variable
for each request, then wraps it for case-insensitive lookup, whatever the format uses (issue 23.2: ~2 % of a
worker's CPU on the engine path). The line is the same; another format (set by an operator) takes gunicorn's way.

Where the line goes is gunicorn's set-up as it stands (`accesslog = "-"`: one `StreamHandler` on stdout formatting
`%(message)s`, no filter): the line is then written to that handler's stream under its lock, as its `emit` writes it,
without a `LogRecord` made and formatted back into the same text (≈ 1 % of the worker's CPU on the engine path).
Any other set-up (a file, syslog, a filter, a `logconfig_dict`) gets the line through `logging` as before.
"""
from __future__ import annotations

import logging

from gunicorn.glogging import Logger

from app.serving import ACCESS_LOG_FORMAT

LINE = '%s "%s %s %s" %s %s %sms'
PLAIN = "%(message)s"


class AccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if self.cfg.access_log_format != ACCESS_LOG_FORMAT:
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return None
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        # a fixed format of five values: nothing to fail on (gunicorn guards an operator's format, logging the handler)
        args = (environ.get("REMOTE_ADDR", "-"), environ["REQUEST_METHOD"], environ["RAW_URI"],
                environ["SERVER_PROTOCOL"], status, sent is not None and str(sent) or "-",
                request_time.seconds * 1000 + int(request_time.microseconds / 1000))
        handler = self._plain_stream()
        if handler is not None:
            handler.acquire()
            try:
                handler.stream.write(LINE % args + handler.terminator)
                handler.flush()
                return None
            except Exception:  # noqa: BLE001, S110 - logging below reports the failing handler, as for any line
                pass
            finally:
                handler.release()
        self.access_log.info(LINE, *args)
        return None

    def _plain_stream(self) -> logging.StreamHandler | None:
        """gunicorn's own stream handler when it is the access log's only way out and writes the bare message."""
        log = self.access_log
        if len(log.handlers) != 1 or log.filters or not log.isEnabledFor(logging.INFO):
            return None
        handler = log.handlers[0]
        if type(handler) is not logging.StreamHandler or handler.filters or handler.level > logging.INFO:
            return None
        formatter = handler.formatter
        if type(formatter) is not logging.Formatter or type(formatter._style) is not logging.PercentStyle or \
                formatter._fmt != PLAIN:
            return None
        return handler
