"""gunicorn parses a request's head with gunicorn_h1c's C parser in production (issue 23.2): it must take the same
requests and refuse the same ones as gunicorn's own Python parser, with our limits.

Each raw request below goes through gunicorn's `Request` with either parser, fed a few bytes at a time as a socket
would, and through the worker's own `handle_error` when it is refused: what the application would see (method,
target, headers in order, body, keep-alive) or the status line the client would get must be the same."""
from __future__ import annotations

import logging
import socket

import pytest
from gunicorn.config import Config
from gunicorn.http import message
from gunicorn.http.message import Request
from gunicorn.http.unreader import IterUnreader
from gunicorn.workers.base import Worker

from app.serving import LIMIT_REQUEST_FIELD_SIZE, LIMIT_REQUEST_LINE, gunicorn_options

PEER = ("127.0.0.1", 50000)


def config(parser: str) -> Config:
    cfg = Config()
    for key, value in gunicorn_options("127.0.0.1:0", 1).items():
        if key in cfg.settings and not callable(value) and key != "logger_class":
            cfg.set(key, value)
    cfg.set("http_parser", parser)
    return cfg


class _Log:
    """The little of gunicorn's logger `handle_error` uses."""

    def access(self, *_args) -> None:
        pass

    def __getattr__(self, name):
        return getattr(logging.getLogger("test_http_parser"), name)


def refusal(cfg: Config, exc: Exception) -> bytes:
    """The status line gunicorn's worker writes for a request it refused."""
    worker = object.__new__(Worker)
    worker.cfg, worker.log = cfg, _Log()
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, PEER, exc)
        ours.shutdown(socket.SHUT_WR)
        return theirs.recv(4096).split(b"\r\n", 1)[0]


def outcome(raw: bytes, parser: str) -> list:
    cfg = config(parser)
    unreader = IterUnreader(iter([raw[i:i + 7] for i in range(0, len(raw), 7)]))
    seen: list = []
    number = 1
    try:
        while True:
            try:
                req = Request(cfg, unreader, PEER, number)
            except StopIteration:
                return seen
            body = req.body.read()
            seen.append((req.method, req.uri, req.path, req.query, req.fragment, req.version, req.headers, body,
                         req.should_close()))
            if req.should_close():
                return seen
            number += 1
    except Exception as exc:  # noqa: BLE001 - every refusal is compared by the status the client gets
        seen.append(refusal(cfg, exc))
        return seen


CASES = {
    "get with query and bearer": b"GET /api/v1/tasks?per_page=20&q=%E7%8E%8B HTTP/1.1\r\nHost: x\r\n"
                                 b"Authorization: Bearer abc\r\n\r\n",
    "json post": b"POST /api/v1/instances HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 13\r\n\r\n{\"a\": \"\xe7\x8e\x8b\"}",
    "chunked body": b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "chunk extension": b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\n\r\n",
    "bad chunk size": b"POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    "pipelined": b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "http/1.0": b"GET / HTTP/1.0\r\n\r\n",
    "one empty line first": b"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
    "lower-case method": b"get / HTTP/1.1\r\nHost: x\r\n\r\n",
    "http/2.0 version": b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
    "no version": b"GET /\r\nHost: x\r\n\r\n",
    "header without colon": b"GET / HTTP/1.1\r\nHost x\r\n\r\n",
    "space in a header name": b"GET / HTTP/1.1\r\nHo st: x\r\n\r\n",
    "space before the colon": b"GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    "empty header name": b"GET / HTTP/1.1\r\n: x\r\n\r\n",
    "obsolete line folding": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
    "bare LF": b"GET / HTTP/1.1\nHost: x\n\n",
    "request line over the limit": b"GET /" + b"a" * (LIMIT_REQUEST_LINE + 10) + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "too many header fields": b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(200)) + b"\r\n",
    "header field over the limit": b"GET / HTTP/1.1\r\nX-A: " + b"a" * (LIMIT_REQUEST_FIELD_SIZE + 10) + b"\r\n\r\n",
    "Content-Length and chunked (smuggling)": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                                              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "two Content-Lengths": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
    "negative Content-Length": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    "Content-Length with a plus": b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na",
    "gzip before chunked": b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "NUL in a header value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    "control character in a value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n",
    "tab in a value": b"GET / HTTP/1.1\r\nHost: x\r\nX-A:\ta\tb \r\n\r\n",
    "UTF-8 in a value": "GET / HTTP/1.1\r\nHost: x\r\nX-Name: 王\r\n\r\n".encode(),
    "underscore in a name": b"GET / HTTP/1.1\r\nHost: x\r\nX_Forwarded_For: 1.2.3.4\r\n\r\n",
    "forwarded headers": b"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n",
    "space in the target": b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
    "fragment in the target": b"GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n",
    "absolute-form target": b"GET http://x/a?b=1 HTTP/1.1\r\nHost: x\r\n\r\n",
    "asterisk outside OPTIONS": b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
    "asterisk with OPTIONS": b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
    "Expect: 100-continue": b"POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na",
    "unknown Expect": b"POST / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\nContent-Length: 1\r\n\r\na",
    "Connection: close": b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    "nothing sent": b"",
}


def test_production_settings_choose_the_c_parser() -> None:
    assert message._check_fast_parser(config(gunicorn_options("127.0.0.1:0", 1)["http_parser"]))
    # the comparison below is C against Python, not Python twice
    assert message._check_fast_parser(config("fast")) and not message._check_fast_parser(config("python"))


@pytest.mark.parametrize("raw", CASES.values(), ids=CASES.keys())
def test_both_parsers_take_and_refuse_the_same_requests(raw: bytes) -> None:
    assert outcome(raw, "python") == outcome(raw, "fast")


def test_an_unknown_transfer_coding_is_refused_by_both() -> None:
    """gunicorn's parser answers 501 (RFC 9112 6.1); gunicorn_h1c before 0.6.14 reports it as an invalid header and
    the client gets 400. Either way the request never reaches the application."""
    raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: foo\r\n\r\n"
    assert outcome(raw, "python") == [b"HTTP/1.1 501 Bad Request"]     # gunicorn's reason phrase, as it writes it
    assert outcome(raw, "fast") in ([b"HTTP/1.1 400 Bad Request"], [b"HTTP/1.1 501 Bad Request"])
