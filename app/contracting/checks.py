"""Submit checks of `fd_contract` forms (named by `x-submit-check`, registered in app/wiring.py): a selection of
retired/unknown packages and a signing without a captured signature are refused when the form is submitted."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.core.errors import Invalid, NotFound

from . import services
from .models import Contract


def _contract_of(task) -> Contract:
    row = session().scalars(select(Contract).where(Contract.instance_id == task.instance_id)).first()
    if row is None:
        raise NotFound("签约不存在 (contract not found)", code="contract_not_found")
    return row


def check_selection(*, task, data: dict[str, Any], principal) -> dict[str, Any]:
    services.selection_problems(list(data.get("packages") or []), bool(data.get("disclosure_ack")))
    return data


def check_signature(*, task, data: dict[str, Any], principal) -> dict[str, Any]:
    row = _contract_of(task)
    if not row.signature:
        raise Invalid("尚未采集居民签名：请在签约页面手写签名或上传纸质协议扫描件 (no signature captured)",
                      code="signature_missing", contract_no=row.contract_no)
    return data


def check_termination(*, task, data: dict[str, Any], principal) -> dict[str, Any]:
    services.termination_problems(data.get("informed_how"), bool(data.get("resident_informed")))
    return data
