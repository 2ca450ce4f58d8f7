"""Intra-operative UDI scans. Parsing the UDI (GS1 check digit, expiry, lot, serial), refusing expired or already
used items and taking the item out of the centre's store belong to the supply chain (app.supply); this module binds
what the supply chain consumed to the case, the patient and the operator.

The supply chain is plugged in by app/wiring.py (`use_consumer`): a callable
`consume(udi, *, org_code, resident_id, case_ref, user_id) -> dict` that raises a DomainError with a stable code
when the scan is refused and answers the consumed item: gtin, lot, serial, expiry (ISO date or None), name,
unit_price, unit_cost, insurance_code, high_value, implant, in_catalogue, stock_ref."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import unit_of_work
from app.core.errors import Conflict, Invalid

from .models import CaseDevice, InterventionCase

Consumer = Callable[..., dict[str, Any]]
_consumer: list[Consumer] = []


def use_consumer(fn: Consumer) -> None:
    """Route intra-operative scans to the supply chain's consumption service (app/wiring.py)."""
    _consumer[:] = [fn]


def connected() -> bool:
    return bool(_consumer)


def scan(case: InterventionCase, udi: str, *, user_id: int, quantity: int = 1, self_pay: bool = False) -> CaseDevice:
    """Consume the scanned item from the centre's store and bind it to the case (nothing bound when refused)."""
    udi = (udi or "").strip()
    if not udi:
        raise Invalid("请扫描耗材 UDI 码", code="udi_required", field="udi")
    if not _consumer:
        raise Conflict("耗材供应链服务未接入，暂不能扫码使用 (supply chain not connected)", code="supply_not_connected",
                       status=503)
    item = _consumer[0](udi, org_code=case.org_code, resident_id=case.resident_id, case_ref=case.case_no,
                        user_id=user_id)
    with unit_of_work() as s:
        if item.get("serial") and s.scalars(select(CaseDevice).where(
                CaseDevice.gtin == item["gtin"], CaseDevice.serial == item["serial"])).first():
            raise Conflict("该序列号的耗材已使用过，不能重复使用 (serial already used)", code="udi_serial_used",
                           status=409, gtin=item["gtin"], serial=item["serial"])
        expiry = date.fromisoformat(item["expiry"]) if item.get("expiry") else None
        row = CaseDevice(case_id=case.id, udi=udi, gtin=item["gtin"], lot=item.get("lot"), serial=item.get("serial"),
                         expiry=expiry, name=item.get("name") or item["gtin"], quantity=max(1, int(quantity or 1)),
                         unit_price=float(item.get("unit_price") or 0), unit_cost=float(item.get("unit_cost") or 0),
                         insurance_code=item.get("insurance_code"), high_value=bool(item.get("high_value", True)),
                         implant=bool(item.get("implant")),
                         self_pay=bool(self_pay or item.get("in_catalogue") is False),
                         stock_ref=item.get("stock_ref"), scanned_by=user_id, scanned_at=clock.now())
        s.add(row)
        s.flush()
        return row
