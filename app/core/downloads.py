"""A file answered to the browser: one place builds `Content-Disposition` (RFC 6266, with the RFC 5987 form so a
Chinese file name survives the Latin-1 header)."""
from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

from flask import Response


def file_response(body: bytes | str | Iterable[bytes], mimetype: str, filename: str, *, inline: bool = False,
                  headers: dict[str, str] | None = None) -> Response:
    """`body` (bytes, text, or chunks to stream) as a download (or shown in place when `inline`), named `filename`."""
    disposition = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "")
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}",
        **(headers or {})})
