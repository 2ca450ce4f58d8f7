"""One place names a downloaded file: ASCII fallback plus the UTF-8 form, so a Chinese name cannot break the header."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from app.core.downloads import file_response


def test_a_chinese_file_name_is_kept_in_the_utf8_form_and_replaced_in_the_ascii_one():
    with Flask(__name__).test_request_context():
        resp = file_response(b"x", "text/csv", "高血压队列.csv")
    header = resp.headers["Content-Disposition"]
    assert header.startswith('attachment; filename="_____.csv"')
    assert "filename*=UTF-8''%E9%AB%98%E8%A1%80%E5%8E%8B%E9%98%9F%E5%88%97.csv" in header
    assert resp.mimetype == "text/csv" and resp.get_data() == b"x"


def test_inline_and_extra_headers():
    with Flask(__name__).test_request_context():
        resp = file_response(b"%PDF", "application/pdf", "r.pdf", inline=True, headers={"X-Content-SHA256": "ab"})
    assert resp.headers["Content-Disposition"].startswith('inline; filename="r.pdf"')
    assert resp.headers["X-Content-SHA256"] == "ab"


def test_streamed_chunks_keep_the_header():
    with Flask(__name__).test_request_context():
        resp = file_response(iter([b"a", b"b"]), "video/mp4", "讲课.mp4", inline=True)
    assert resp.headers["Content-Disposition"].startswith('inline; filename="__.mp4"')
    assert resp.get_data() == b"ab"


def test_only_the_helper_builds_the_header():
    root = Path(__file__).resolve().parents[2]
    by_hand = [str(p.relative_to(root)) for folder in ("app", "connectors") for p in (root / folder).rglob("*.py")
               if "Content-Disposition" in p.read_text(encoding="utf-8") and p.name != "downloads.py"]
    assert by_hand == [], "answer files through app.core.downloads.file_response"
