"""The submit check of the monitoring form (`x-submit-check: anticoag_entry`): an implausible INR is refused with
422 `implausible_inr` before anything is recorded or graded (an INR of 0 or 30 is a typing or device error)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from app.core import clock
from app.core.errors import Invalid

from .ttr import check_inr


def check_entry(*, task: Any, data: dict[str, Any], principal: Any) -> dict[str, Any]:
    entry = data.get("entry") or {}
    if entry.get("inr") is not None:
        check_inr(entry["inr"])
    if not any(entry.get(k) is not None for k in ("inr", "scr_umol_l", "plt")) and entry.get("bleeding") != "major":
        raise Invalid("请至少录入一项结果（INR、血肌酐或血小板）", code="no_result", field="entry.inr")
    return data


def check_escalation(*, task: Any, data: dict[str, Any], principal: Any) -> dict[str, Any]:
    """The township doctor's answer to an overdue check (`x-submit-check: anticoag_escalation`): the date agreed with
    the patient is today or within the next 28 days (422 `agreed_date_out_of_range`)."""
    esc = data.get("escalation") or {}
    if esc.get("outcome") == "contacted" and esc.get("agreed_date"):
        agreed = date.fromisoformat(esc["agreed_date"])
        if not clock.today() <= agreed <= clock.today() + timedelta(days=28):
            raise Invalid("约定检测日期须在今天至4周内", code="agreed_date_out_of_range", field="escalation.agreed_date")
    return data
