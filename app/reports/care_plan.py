"""The printable care plan for the patient (患者管理方案告知书)."""
from __future__ import annotations

from typing import Any

from app.core import clock
from app.vocabulary import Disease, EducationTopic, Frequency, RiskLevel

from .render import render_pdf


def care_plan_pdf(*, resident: dict[str, Any], plan: dict[str, Any], version: dict[str, Any],
                  guidance: dict[str, Any], education: list[dict[str, Any]], schedule: dict[str, Any] | None) -> bytes:
    """A one-to-two page PDF: targets, drugs with how to take them, lifestyle, follow-up, education, warnings."""
    return render_pdf("care_plan.html", resident=resident, plan=plan, version=version, guidance=guidance,
                      education=education, schedule=schedule, diseases=Disease, risks=RiskLevel,
                      topics=EducationTopic, frequencies=Frequency,
                      printed_on=clock.today().strftime("%Y年%m月%d日"))
