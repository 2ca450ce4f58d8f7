"""Quality figures as Excel workbooks (openpyxl, Chinese headers): the indicator table with its child
organisations, and the list behind one figure."""
from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from app.reports.xlsx import MIME, sheet, to_bytes

STATUS_LABELS = {"met": "达标", "below_target": "未达目标", "warning": "预警", "alarm": "报警", "no_data": "无数据",
                 "none": "—"}
PART_LABELS = {"numerator": "分子", "denominator": "分母", "gap": "未达标 (分母减分子)"}
__all__ = ["MIME", "drilldown_workbook", "overview_workbook"]


def _value(fig: dict[str, Any], unit: str) -> str:
    return "—" if fig["value"] is None else f"{fig['value']:g}{unit}"


def overview_workbook(data: dict[str, Any]) -> bytes:
    """指标 (one row per indicator) and 分机构 (one row per indicator and child organisation)."""
    wb = Workbook()
    head = ["统计期", "机构", "指标", "分子", "分母", "值", "目标值", "状态", "统计区间", "口径来源"]
    sheet(wb, "指标", head, [[data["period"], data["org"]["name"], i["name"], i["numerator"], i["denominator"],
                              _value(i, i["unit"]), (i["thresholds"] or {}).get("target"),
                              STATUS_LABELS[i["status"]], f"{i['window_start']}~{i['window_end']}",
                              i["source_note"]] for i in data["indicators"]], first=True)
    sheet(wb, "分机构", ["指标", "机构", "分子", "分母", "值", "状态"],
           [[i["name"], c["label"], c["numerator"], c["denominator"], _value(c, i["unit"]),
             STATUS_LABELS[c["status"]]] for i in data["indicators"] for c in i["children"]])
    return to_bytes(wb)


def drilldown_workbook(data: dict[str, Any], items: list[dict[str, Any]]) -> bytes:
    """The residents (or tasks) behind one figure, with the facts the indicator counted."""
    wb = Workbook()
    facts = list(items[0]["facts"]) if items else []
    head = ["姓名", "机构", "病种", "风险分层", "性别", "年龄", "责任医生"] + facts
    title = f"{data['indicator']['name']}-{PART_LABELS[data['part']]}"[:31]
    sheet(wb, title.replace("/", "-"), head,
           [[it["resident_name"] or "", it["org_name"] or "", it["disease_label"], it["risk_level_label"],
             it["sex_label"], it["age"], it["doctor_name"] or ""] + [it["facts"].get(k) for k in facts]
            for it in items], first=True)
    return to_bytes(wb)
