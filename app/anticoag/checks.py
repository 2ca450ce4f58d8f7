"""The submit check of the monitoring form (`x-submit-check: anticoag_entry`): an implausible INR is refused with
422 `implausible_inr` before anything is recorded or graded (an INR of 0 or 30 is a typing or device error)."""
from __future__ import annotations

from typing import Any

from app.core.errors import Invalid

from .ttr import check_inr


def check_entry(*, task: Any, data: dict[str, Any], principal: Any) -> dict[str, Any]:
    entry = data.get("entry") or {}
    if entry.get("inr") is not None:
        check_inr(entry["inr"])
    if not any(entry.get(k) is not None for k in ("inr", "scr_umol_l", "plt")) and entry.get("bleeding") != "major":
        raise Invalid("请至少录入一项结果（INR、血肌酐或血小板）", code="no_result", field="entry.inr")
    return data
