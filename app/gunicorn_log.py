"""gunicorn's access log, cheap: the line of `app.serving.ACCESS_LOG_FORMAT` written from the five values it names.

gunicorn's own `Logger.access` builds a dict of every atom, request header, response header and environ variable
for each request, then wraps it for case-insensitive lookup, whatever the format uses (issue 23.2: ~2 % of a
worker's CPU on the engine path). The line is the same; another format (set by an operator) takes gunicorn's way.
"""
from __future__ import annotations

from gunicorn.glogging import Logger

from app.serving import ACCESS_LOG_FORMAT


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
        self.access_log.info('%s "%s %s %s" %s %s %sms', environ.get("REMOTE_ADDR", "-"), environ["REQUEST_METHOD"],
                             environ["RAW_URI"], environ["SERVER_PROTOCOL"], status,
                             sent is not None and str(sent) or "-",
                             request_time.seconds * 1000 + int(request_time.microseconds / 1000))
        return None
