"""Quality figures as Excel workbooks (openpyxl, Chinese headers): the indicator table with its child
organisations, and the list behind one figure."""
from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from app.reports.xlsx import MIME, sheet, to_bytes

STATUS_LABELS = {"met": "达标", "below_target": "未达目标", "warning": "预警", "alarm": "报警", "no_data": "无数据",
                 "none": "—"}
PART_LABELS = {"numerator": "分子", "denominator": "分母", "gap": "未达标 (分母减分子)"}
__all__ = ["MIME", "breakdowns_workbook", "drilldown_workbook", "overview_workbook",
           "referral_summary_workbook"]


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


SUM_LABELS = {"los_days": "住院日(天)", "total_charge": "总费用(元)", "case_cost": "病例成本(元)", "margin": "结余(元)",
              "insurance_paid": "统筹支付(元)"}
SOURCE_LABELS = {"his": "医院HIS", "public_health": "公卫系统", "insurance": "医保平台"}


def breakdowns_workbook(data: dict[str, Any]) -> bytes:
    """分组 (one row per figure and group, summed fields as columns), 对比 (control rates per child organisation
    and doctor against the organisation's own) and 未掌握 (what the platform does not hold), as `breakdowns` gave."""
    wb = Workbook()
    sections = {s["code"]: s["label"] for s in data["sections"]}
    sum_fields = [k for f in data["figures"] for k in f["sum_fields"]]
    sum_fields = list(dict.fromkeys(sum_fields))
    head = ["统计期", "机构", "分区", "图表", "分组方式", "分组", "数量", "单位"] + \
        [SUM_LABELS.get(k, k) for k in sum_fields] + ["说明"]
    rows = [[data["period"], data["org"]["name"], sections.get(f["section"], f["section"]), f["title"], f["by"],
             g["label"], g["count"], f["unit"]] + [g["sums"].get(k) if k in f["sum_fields"] else None
                                                   for k in sum_fields] + [f["note"]]
            for f in data["figures"] for g in f["groups"]]
    sheet(wb, "分组", head, rows, first=True)
    if data["comparisons"]:
        sheet(wb, "对比", ["指标", "比较对象", "分组", "值", "分子", "分母", "本级值", "与本级差(百分点)"],
              [[c["name"], "机构" if c["by"] == "org" else "医生", g["label"], g["value"], g["numerator"],
                g["denominator"], c["reference"], g["versus"]] for c in data["comparisons"] for g in c["groups"]])
    sheet(wb, "未掌握", ["分区", "平台未持有的数据"],
          [[s["label"], text] for s in data["sections"] for text in s["not_held"]])
    return to_bytes(wb)


def _counts_row(c: dict[str, Any]) -> list[Any]:
    row = [c["network_up"], c["network_down"]]
    for source in SOURCE_LABELS:
        row += [c[source]["up"], c[source]["down"], c[source]["matched"]]
    return row + [c["reported"], c["matched"], c["unmatched_reported"], c["unmatched_network"]]


COUNT_HEAD = ["平台上转", "平台下转"] + [f"{label}{part}" for label in SOURCE_LABELS.values()
                                         for part in ("上报上转", "上报下转", "已匹配")] + \
    ["外部上报合计", "已匹配合计", "外部上报未匹配", "平台转诊未上报"]
UNMATCHED_HEAD = ["来源", "来源编号/转诊单号", "方向", "日期", "居民", "转出", "转入"]


def referral_summary_workbook(summary: dict[str, Any], reported: list[dict[str, Any]],
                              network: list[dict[str, Any]]) -> bytes:
    """转诊对账: 按月, 按机构 (the counts of `referral_summary.summary`) and the two unmatched lists."""
    wb = Workbook()
    sheet(wb, "按月", ["月份"] + COUNT_HEAD, [[m["period"]] + _counts_row(m) for m in summary["by_month"]]
          + [["合计"] + _counts_row(summary["totals"])], first=True)
    sheet(wb, "按机构", ["机构"] + COUNT_HEAD, [[o["label"]] + _counts_row(o) for o in summary["by_org"]])
    for title, items in (("外部上报未匹配", reported), ("平台转诊未上报", network)):
        sheet(wb, title, UNMATCHED_HEAD,
              [[i["source_label"], i["source_id"] or i["referral_no"] or "", i["direction_label"], i["on"],
                i["resident_name"] or "", i["from_name"] or "", i["to_name"] or ""] for i in items])
    return to_bytes(wb)
