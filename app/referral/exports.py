"""The referral statistics as an Excel workbook (openpyxl): 指标 (indicators), 拒收原因, 转诊明细 (the list)."""
from __future__ import annotations

from typing import Any

from openpyxl import Workbook

from app.auth.principal import Principal
from app.reports.xlsx import sheet, to_bytes

from . import queries
from .services import local_time

LIST_COLUMNS = (("referral_no", "转诊单号"), ("direction_label", "方向"), ("status_label", "状态"),
                ("urgency_label", "紧急程度"), ("resident_name", "患者"), ("disease_label", "病种"),
                ("from_org_name", "转出机构"), ("to_org_name", "接收机构"), ("reason", "转诊原因"),
                ("reject_reason", "拒收原因"), ("requested_at", "申请时间"), ("accepted_at", "接收时间"),
                ("arrived_at", "到诊时间"), ("result_at", "结果回传时间"), ("follow_up_done_at", "随访完成时间"))


def workbook(p: Principal, args: dict[str, Any]) -> bytes:
    stats = queries.stats(p, args)
    wb = Workbook()
    sheet(wb, "指标", ["指标", "分子", "分母", "值", "计算方法"],
           [[i["label"], i["numerator"], i["denominator"],
             i["value"] if i["kind"] == "count" or i["value"] is None else f"{i['value'] * 100:.1f}%"
             if i["kind"] == "rate" else round(i["value"], 2), i["formula"]] for i in stats["indicators"]],
           first=True)
    sheet(wb, "拒收原因", ["拒收原因", "人次"], [[r["reason"], r["count"]] for r in stats["rejections_by_reason"]])
    items, _ = queries.list_referrals(p, {**args, "page": 1, "per_page": 10_000})
    sheet(wb, "转诊明细", [label for _k, label in LIST_COLUMNS],
           [[local_time(v) if k.endswith("_at") else (v if v is not None else "")
             for k, v in ((k, it.get(k)) for k, _l in LIST_COLUMNS)] for it in items])
    return to_bytes(wb)
