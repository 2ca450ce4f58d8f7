"""The centre's outputs: the monthly analysis PDF (indicators against targets, a six-month trend, each alarm with
the cases behind it, DRG outliers and loss-making cases), the indicator workbook (xlsx) and the de-identified
specialty-database export (xlsx)."""
from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.org.queries import find_org
from app.reports.render import render_pdf

from . import indicators, queries
from .labels import SERVICE_LINES
from .models import InterventionCase

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.2f}".rstrip("0").rstrip(".") if v != int(v) else f"{int(v):,}"
    return str(v)


def value_text(i: dict[str, Any]) -> str:
    if i.get("value") is None:
        return "—"
    if i["unit"] == "%":
        return f"{i['value']:.1f}%"
    if i["unit"] == "元":
        return f"{i['value']:,.0f}"
    if i["code"] == "cases":
        return f"{int(i['value'])}"
    return f"{i['value']:.2f}"


def _months_before(month: str, n: int) -> list[str]:
    first = date.fromisoformat(f"{month}-01")
    out = []
    for _ in range(n):
        out.append(first.strftime("%Y-%m"))
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def _case_rows(ids: list[int]) -> list[dict[str, Any]]:
    rows = session().scalars(select(InterventionCase).where(InterventionCase.id.in_(ids or [0]))
                             .order_by(InterventionCase.id))
    out = []
    for c in rows:
        comps = queries.complications(c.id)
        reops = queries.reoperations(c.id)
        out.append({"case_no": c.case_no, "line": SERVICE_LINES.get(c.service_line, ""), "procedure": c.procedure_name,
                    "discharged": c.discharged_on.isoformat() if c.discharged_on else "",
                    "complications": "；".join(f"{x['kind_label']}{x['grade_label']}" for x in comps) or "—",
                    "reoperations": "；".join(f"{'非计划' if r['unplanned'] else '计划内'}（{r['reason_label']}，"
                                             f"{r['interval_hours']:g}小时）" for r in reops) or "—",
                    "margin": _fmt(c.margin)})
    return out


def monthly_pdf(p: Principal, month: str) -> bytes:
    data = indicators.centre(p, month)
    months = _months_before(month, 6)
    history = [indicators.centre(p, m)["total"] for m in months]
    codes = [*data["quality"], *data["economy"]]
    items = [data["total"][c] for c in ["cases", *codes]]
    trend = {i["code"]: [value_text(h[i["code"]]) for h in history] for i in items}
    alarms = [{**i, "cases": _case_rows(i["case_ids"])} for i in items if i["alarm"]]
    start, end = indicators.month_range(month)
    outliers = []
    for c in session().scalars(select(InterventionCase).where(
            queries.in_scope(p), InterventionCase.discharged_on >= start, InterventionCase.discharged_on <= end,
            InterventionCase.case_cost.is_not(None)).order_by(InterventionCase.id)):
        cost = c.cost or {}
        if cost.get("outlier") or cost.get("excluded") or (c.margin or 0) < 0:
            outliers.append({"case_no": c.case_no, "drg": f"{c.drg_code} {(c.drg or {}).get('drg_name', '')}",
                             "weight": _fmt(c.drg_weight), "total": _fmt(c.total_charge),
                             "basis": cost.get("basis", ""), "margin": _fmt(c.margin)})
    org = find_org(p.org_code)
    return render_pdf("intervention_monthly.html", centre_name=org.name if org else "介入中心", month=month,
                      indicators=items, lines=data["lines"], alarms=alarms, outliers=outliers, trend=trend,
                      trend_months=months, fmt=_fmt, value=value_text,
                      printed_at=clock.local(clock.now()).strftime("%Y-%m-%d %H:%M"))


def _sheet(ws, header: list[str], rows: list[list[Any]]) -> None:
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="EEF3F7")
    for r in rows:
        ws.append(r)
    for i, h in enumerate(header, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, len(h) * 2 + 4))
    ws.freeze_panes = "A2"


def indicators_xlsx(p: Principal, first: str, last: str | None = None) -> bytes:
    data = indicators.centre(p, first, last)
    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    header = ["范围", "指标", "定义", "分子", "分母", "值", "单位", "目标", "报警"]
    rows = []
    for scope, block in [("全中心", data["total"]), *[(l["label"], l["indicators"]) for l in data["lines"]]]:
        for code in ["cases", *data["quality"], *data["economy"]]:
            i = block[code]
            rows.append([scope, i["label"], i["definition"], i["numerator"], i["denominator"], i["value"], i["unit"],
                         i["target"], "是" if i["alarm"] else ""])
    _sheet(ws, header, rows)
    cases = wb.create_sheet("病例")
    ids = data["total"]["cases"]["case_ids"]
    listed = [queries.item(c) for c in session().scalars(
        select(InterventionCase).where(InterventionCase.id.in_(ids or [0])).order_by(InterventionCase.id))]
    _sheet(cases, ["病例号", "亚专业", "术式", "手术分级", "出院日期", "住院日", "DRG", "权重", "总费用", "病例成本", "结余",
                   "满意度", "30天再入院"],
           [[c["case_no"], c["service_line_label"], c["procedure_name"], c["grade_label"], c["discharged_on"],
             c["los_days"], c["drg_code"], c["drg_weight"], c["total_charge"], c["case_cost"], c["margin"],
             c["satisfaction"], {True: "是", False: "否"}.get(c["readmitted_30d"], "")] for c in listed])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


EXPORT_COLUMNS = [("study_id", "研究编号"), ("sex", "性别"), ("age_band", "年龄段"), ("month", "入院月份"),
                  ("service_line", "亚专业"), ("diagnosis", "诊断"), ("procedure_code", "术式编码"),
                  ("procedure_name", "术式"), ("grade", "手术分级"), ("asa", "ASA"), ("egfr", "eGFR"),
                  ("contrast_risk", "造影剂风险"), ("anticoagulated", "抗凝"), ("devices", "耗材"),
                  ("implants", "植入物件数"), ("complications", "并发症"), ("severe_complication", "严重并发症"),
                  ("unplanned_return", "非计划再次手术"), ("los_days", "住院日"), ("outcome", "手术结果"),
                  ("died", "院内死亡"), ("readmitted_30d", "30天再入院"), ("satisfaction", "满意度"),
                  ("drg_code", "DRG"), ("drg_weight", "权重")]


def deidentified_xlsx(p: Principal, args: dict[str, Any]) -> bytes:
    """The specialty database's rows for a study, without direct identifiers (see queries.deidentified)."""
    salt = f"{p.org_code}:{clock.today():%Y%m%d}:{p.user_id}"
    rows = queries.deidentified(p, args, salt=salt)
    wb = Workbook()
    ws = wb.active
    ws.title = "专病数据库"

    def cell(v: Any) -> Any:
        return {True: "是", False: "否"}.get(v, v) if isinstance(v, bool) else v
    _sheet(ws, [label for _, label in EXPORT_COLUMNS], [[cell(r[k]) for k, _ in EXPORT_COLUMNS] for r in rows])
    note = wb.create_sheet("说明")
    note.append(["本表已去标识化：无姓名、身份证号、电话、住址；年龄按10岁分段，日期到月；研究编号在同一次导出内对同一患者稳定，不可逆推。"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
