"""Medical-insurance platform (医保): DRG grouping and payment per inpatient case, and two-way-referral flags.

    GET {base}/drg-settlements?since=C → {"items": [{"case_no", "id_number", "org_code", "admitted_on",
        "discharged_on", "drg_code", "drg_name", "relative_weight", "total_cost", "fund_paid", "settled_on"}],
        "next_cursor"}
    GET {base}/referral-flags?since=C  → {"items": [{"id", "id_number", "flagged", "reason"}], "next_cursor"}
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.residents.records import set_referral_flag
from connectors.rest import RestClient, pull_pages, resident_by_id_number

from .models import DrgSettlement

SYSTEM_NAME = "insurance"


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def take_settlement(item: dict[str, Any]) -> None:
    """Insert or update one case (re-grouping after appeal updates the same case number)."""
    resident_id = resident_by_id_number(item.get("id_number"))
    row = session().scalars(select(DrgSettlement).where(DrgSettlement.case_no == item["case_no"])).first()
    if row is None:
        row = DrgSettlement(case_no=item["case_no"])
    row.resident_id = resident_id
    row.org_code, row.drg_code, row.drg_name = item.get("org_code"), item["drg_code"], item.get("drg_name", "")
    row.admitted_on, row.discharged_on = _day(item.get("admitted_on")), _day(item.get("discharged_on"))
    row.relative_weight = _money(item.get("relative_weight"))
    row.total_cost, row.fund_paid = _money(item.get("total_cost")), _money(item.get("fund_paid"))
    row.settled_on, row.received_at = _day(item.get("settled_on")), clock.now()
    row.raw = {k: v for k, v in item.items() if k != "id_number"}
    session().add(row)
    session().flush()


def take_referral_flag(item: dict[str, Any]) -> None:
    resident_id = resident_by_id_number(item.get("id_number"))
    if resident_id is None:
        raise LookupError("no resident with this ID number")
    set_referral_flag(resident_id, source=SYSTEM_NAME, flagged=bool(item.get("flagged", True)),
                      reason=item.get("reason"))


def pull() -> int:
    client = RestClient.for_system(SYSTEM_NAME)
    if client is None:
        return 0
    return (pull_pages(client, "/drg-settlements", "insurance.drg", take_settlement)
            + pull_pages(client, "/referral-flags", "insurance.referral_flags", take_referral_flag))


def settlements_of(resident_id: int) -> list[DrgSettlement]:
    return list(session().scalars(select(DrgSettlement).where(DrgSettlement.resident_id == resident_id)
                                  .order_by(DrgSettlement.discharged_on.desc())))
