"""One place names a downloaded file: ASCII fallback plus the UTF-8 form, so a Chinese name cannot break the header."""
from __future__ import annotations

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
