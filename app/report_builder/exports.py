"""A report's pivot as a table of text with Chinese headers, saved as an Excel workbook (openpyxl) or a PDF."""
from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from app.reports.custom_report import custom_report_pdf
from app.reports.xlsx import MIME, sheet, to_bytes

PDF_MIME = "application/pdf"
__all__ = ["MIME", "PDF_MIME", "pdf", "table", "workbook"]


def _shown(value: Any, unit: str) -> str | None:
    if value is None:
        return None
    return f"{value:g}{unit}" if unit in ("%", "‰") else f"{value:g}"


def _signed(value: Any, suffix: str) -> str | None:
    return None if value is None else f"{value:+g}{suffix}"


def table(result: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: one column per row dimension, then per column its value, and per comparison its base and change
    (percentage points for a rate, per cent for a count)."""
    row_dims = result.get("row_dimensions") or [result["row_dimension"]]
    header = [d["label"] for d in row_dims]
    for col in result["columns"]:
        unit = f" ({col['unit']})" if col["unit"] else ""
        header.append(f"{col['label']}{unit}")
        for c in result["comparisons"]:
            header += [f"{col['label']} {c['label']}基期", f"{col['label']} {c['label']}变化"]
    rows = []
    for row in result["rows"]:
        line: list[Any] = list(row.get("labels") or [row["label"]])
        for col, cell in zip(result["columns"], row["cells"], strict=True):
            rate = col["unit"] in ("%", "‰")
            line.append(cell["value"])
            for c in result["comparisons"]:
                cmp = cell[c["code"]]
                line += [cmp["base"], _signed(cmp["change"], "个百分点") if rate else _signed(cmp["change_pct"], "%")]
        rows.append(line)
    return header, rows


def _meta(result: dict[str, Any]) -> list[str]:
    meta = [f"机构：{result['org']['name']}", f"统计期：{result['period_label']}"]
    meta += [f"{f['label']}：{'、'.join(f['value_labels'])}" for f in result["filters"]]
    return meta


def workbook(result: dict[str, Any], title: str) -> bytes:
    """报表 (the pivot) and 说明 (organisation, period, filters)."""
    wb = Workbook()
    header, rows = table(result)
    sheet(wb, "报表", header, rows, first=True)
    sheet(wb, "说明", ["项目", "内容"], [["报表名称", title]] + [line.split("：", 1) for line in _meta(result)])
    return to_bytes(wb)


def pdf(result: dict[str, Any], title: str) -> bytes:
    header, rows = table(result)
    return custom_report_pdf(title=title, meta=_meta(result), header=header, rows=rows)
