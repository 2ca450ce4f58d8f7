"""A custom report (自定义报表) as a printable table: title, what it covers, and the pivot's rows."""
from __future__ import annotations

from typing import Any

from app.core import clock

from .render import render_pdf


def custom_report_pdf(*, title: str, meta: list[str], header: list[str], rows: list[list[Any]]) -> bytes:
    """An A4 landscape PDF of one table (Chinese headers)."""
    return render_pdf("custom_report.html", title=title, meta=meta, header=header, rows=rows,
                      printed_on=clock.local(clock.now()).strftime("%Y年%m月%d日 %H:%M"))
