"""The package ledger: each delivered unit of a contract's package items (wave2 §6.2 step 7).

A follow-up visit completed for a resident with an active contract counts against the contract's follow-up item of
that disease (the follow-up capability announces `FOLLOW_UP_RECORDED`; app/wiring.py subscribes `on_follow_up_recorded`);
exams, home visits, consults and guidance are recorded by the team (`deliver`). A unit beyond the item's quantity is
refused (`item_quantity_exhausted`); a unit counts as on time when delivered by its due date.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from app.core import clock, logs
from app.core.db import session
from app.core.errors import Conflict, Invalid, NotFound

from .models import Contract, ContractDelivery, ContractItem

log = logs.get("contracting.ledger")


class ItemQuantityExhausted(Conflict):
    code = "item_quantity_exhausted"


def _item(contract_id: int, item_id: int) -> ContractItem:
    item = session().scalars(select(ContractItem).where(ContractItem.id == item_id,
                                                        ContractItem.contract_id == contract_id)
                             .with_for_update()).first()
    if item is None:
        raise NotFound("服务项目不存在 (item not found)", code="contract_item_not_found", item_id=item_id)
    return item


def unit_on_time(item: ContractItem, unit_no: int, delivered_on: date) -> tuple[date | None, bool]:
    """The due date of the `unit_no`-th unit and whether `delivered_on` met it (pure)."""
    if unit_no - 1 < len(item.due_dates):
        due = date.fromisoformat(item.due_dates[unit_no - 1])
        return due, delivered_on <= due
    return None, True


def deliver(contract: Contract, item_id: int, *, source: str, source_ref: str, delivered_on: date | None,
            actor: str) -> ContractDelivery:
    """Count one unit of the item. Refused: contract not active (409 contract_not_active), the item's quantity
    already delivered (409 item_quantity_exhausted), a date outside the cycle (422 delivery_outside_cycle); the
    same source twice answers the first delivery."""
    if contract.status != "active":
        raise Conflict("签约不在履约期内，不能记录服务 (contract is not active)", code="contract_not_active",
                       status_now=contract.status)
    item = _item(contract.id, item_id)
    seen = session().scalars(select(ContractDelivery).where(
        ContractDelivery.item_id == item.id, ContractDelivery.source == source,
        ContractDelivery.source_ref == source_ref)).first()
    if seen is not None:
        return seen
    day = delivered_on or clock.today()
    assert contract.starts_on is not None and contract.ends_on is not None
    if not contract.starts_on <= day <= contract.ends_on or day > clock.today():
        raise Invalid("服务日期不在本签约周期内或晚于今天 (delivery date outside the cycle)",
                      code="delivery_outside_cycle", starts_on=contract.starts_on.isoformat(),
                      ends_on=contract.ends_on.isoformat())
    if item.delivered >= item.quantity:
        raise ItemQuantityExhausted(f"“{item.name}”本周期 {item.quantity} 次已全部完成，不能再计入服务包 "
                                    f"(the item's quantity is used up)", item_id=item.id, quantity=item.quantity,
                                    delivered=item.delivered)
    unit = item.delivered + 1
    due, on_time = unit_on_time(item, unit, day)
    row = ContractDelivery(contract_id=contract.id, item_id=item.id, unit_no=unit, source=source,
                           source_ref=source_ref[:60], delivered_on=day, due_on=due, on_time=on_time,
                           recorded_by=actor, recorded_at=clock.now())
    item.delivered = unit
    session().add(row)
    session().flush()
    return row


def on_follow_up_recorded(*, resident_id: int, visit_id: int, disease: str, visited_on: date | None,
                          visit_type: str | None, performed_by: str | None, **_: Any) -> None:
    """A follow-up visit was completed: it counts against the active contract's follow-up item of that disease
    (the first with units left). When every unit is used, the visit is still the follow-up it is; the ledger is
    not over-counted (logged)."""
    contract = session().scalars(select(Contract).where(Contract.resident_id == resident_id,
                                                        Contract.status == "active")).first()
    if contract is None:
        return
    items = list(session().scalars(select(ContractItem).where(
        ContractItem.contract_id == contract.id, ContractItem.kind == "follow_up",
        ContractItem.disease == disease).order_by(ContractItem.id)))
    if not items:
        return
    open_items = [i for i in items if i.delivered < i.quantity]
    if not open_items:
        log.info("follow-up beyond the package quantity not counted",
                 extra={"contract_no": contract.contract_no, "visit_id": visit_id})
        return
    day = visited_on or clock.today()
    assert contract.starts_on is not None
    if day < contract.starts_on:
        return
    deliver(contract, open_items[0].id, source="follow_up", source_ref=str(visit_id),
            delivered_on=min(day, clock.today()), actor=performed_by or "system")
