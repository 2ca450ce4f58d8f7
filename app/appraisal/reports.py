"""The appraisal report: PDF (weasyprint, app.reports) with the ranking and each subject's indicator breakdown, and
an xlsx workbook with Chinese headers (ranking sheet and breakdown sheet per type)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from openpyxl import Workbook

from app.core import clock
from app.reports import xlsx
from app.reports.render import render_pdf

MIME = xlsx.MIME
PDF_MIME = "application/pdf"


def _num(value: Any) -> str:
    if value is None:
        return "—"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _when(value: Any) -> str:
    if isinstance(value, datetime):
        return clock.local(value).strftime("%Y-%m-%d %H:%M")
    return str(value or "")


def pdf(results: list[dict[str, Any]], *, org_name: str) -> bytes:
    return render_pdf("appraisal.html", results=results, org_name=org_name, num=_num, when=_when,
                      printed_at=_when(clock.now()))


def workbook(results: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    first = True
    for r in results:
        names = [i["indicator_name"] for i in r["indicators"]]
        header = ["名次", "考核对象", "所属机构", "总分", *[f"{n}得分" for n in names]]
        rows = [[s["rank"], s["name"], s["org_name"], s["total"], *[b["score"] for b in s["breakdown"]]]
                for s in r["subjects"]]
        xlsx.sheet(wb, f"{r['kind_label']}排名{r['period']}", header, rows, first=first)
        first = False
        detail = []
        for s in r["subjects"]:
            for i, b in zip(r["indicators"], s["breakdown"], strict=True):
                detail.append([s["name"], i["indicator_name"], i["rule_label"], i["weight"], b["numerator"],
                               b["denominator"], b["value"], b["score"], b["weighted"]])
        xlsx.sheet(wb, f"{r['kind_label']}明细{r['period']}",
                   ["考核对象", "指标", "评分方法", "权重", "分子", "分母", "指标值", "得分", "加权得分"], detail)
    if first:
        xlsx.sheet(wb, "绩效考核", ["说明"], [["没有可导出的考核结果"]], first=True)
    return xlsx.to_bytes(wb)
