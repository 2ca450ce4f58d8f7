"""Printable documents of a session: the sign-in sheet (xlsx or PDF) and the summary (PDF, weasyprint)."""
from __future__ import annotations

import base64
import io
from typing import Any

from openpyxl import Workbook
from PIL import Image, ImageOps

from app.auth.principal import Principal
from app.core import clock
from app.org.queries import find_org
from app.reports.render import render_pdf
from app.vocabulary import (
    EnrolmentResponse,
    MaterialKind,
    ProjectLevel,
    SignInMethod,
    TrainingCategory,
    TrainingMode,
)

from . import attendance, materials, storage
from .models import TrainingSession
from .queries import session_stats
from .services import local, managed_session

SHEET_HEADER = ("序号", "姓名", "单位", "应答", "签到时间", "签到方式", "迟到(分钟)", "距场地(米)", "定位精度(米)",
                "签退时间", "学时", "备注")


def _when(row: TrainingSession) -> str:
    return f"{local(row.starts_at)}–{local(row.ends_at)[-5:]}"


def sheet_rows(row: TrainingSession) -> list[list[Any]]:
    out = []
    for n, r in enumerate(attendance.roster_view(row.id), start=1):
        org = find_org(r["org_code"])
        note = f"补签：{r['manual_by']}" if r["manual_by"] else (r["decline_reason"] or "")
        out.append([n, r["name"], org.name if org else r["org_code"], EnrolmentResponse.label_of(r["response"]),
                    local(r["signed_in_at"]) if r["signed_in_at"] else "未签到",
                    SignInMethod.label_of(r["sign_in_method"], ""), r["late_minutes"] or "",
                    r["distance_m"] if r["distance_m"] is not None else "",
                    r["accuracy_m"] if r["accuracy_m"] is not None else "",
                    local(r["signed_out_at"]) if r["signed_out_at"] else "",
                    r["attended_hours"] if r["attended_hours"] is not None else "", note])
    return out


def sign_in_sheet_xlsx(p: Principal, session_id: int) -> tuple[str, bytes]:
    row = managed_session(p, session_id)
    wb = Workbook()
    ws = wb.active
    ws.title = "签到表"
    ws.append([f"{row.topic} 签到表", _when(row), row.venue or TrainingMode.label_of(row.mode)])
    ws.append(list(SHEET_HEADER))
    for r in sheet_rows(row):
        ws.append(r)
    out = io.BytesIO()
    wb.save(out)
    return f"签到表-{row.id}.xlsx", out.getvalue()


def sign_in_sheet_pdf(p: Principal, session_id: int) -> tuple[str, bytes]:
    row = managed_session(p, session_id)
    pdf = render_pdf("training_sign_in_sheet.html", s=row, when=_when(row), place=row.venue or TrainingMode.label_of(row.mode),
                     st=session_stats(row.id), header=SHEET_HEADER, rows=sheet_rows(row))
    return f"签到表-{row.id}.pdf", pdf


def _photo_uri(material) -> str | None:
    """A photo scaled down for print, as a data URI (the PDF must not fetch anything)."""
    try:
        raw = b"".join(storage.backend().open(material.storage_key))
        with Image.open(io.BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image).convert("RGB")
            image.thumbnail((900, 900))
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
        return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()
    except (OSError, ValueError):
        return None


def summary_pdf(p: Principal, session_id: int) -> tuple[str, bytes]:
    row = managed_session(p, session_id)
    files = materials.materials_of(row.id)
    photos = [uri for m in files if m.kind == "photo" for uri in [_photo_uri(m)] if uri][:6]
    org = find_org(row.org_code)
    rule = row.credit_rule or {}
    credit_note = (f"学分类别：{ {'I': 'I类', 'II': 'II类'}.get(rule.get('credit_class'), '不计学分') }；"
                   "学员按出勤学时与考核结果计分，明细见个人学分档案。") if rule else "学分尚未计算（小结完成后自动计算）。"
    pdf = render_pdf("training_summary.html", s=row, org_name=org.name if org else row.org_code,
                     category=TrainingCategory.label_of(row.category),
                     level=ProjectLevel.label_of(row.level), mode=TrainingMode.label_of(row.mode),
                     when=_when(row), st=session_stats(row.id), summary=row.summary or {}, materials=files,
                     kinds={k.value: k.label for k in MaterialKind}, photos=photos, credit_note=credit_note,
                     generated=local(clock.now()), pct=_pct)
    return f"培训小结-{row.id}.pdf", pdf


def _pct(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"
