"""The network's unified supply chain (医共体统一供应链 / SPD) is the source of truth for deliveries and stock
movements: its messages arrive by signed webhook (`spd_movement`, app.webhooks) and are applied here, once per SPD
message id; the replenishment requests and consignment uses owed to it are read here and sent by
`connectors.spd.outbound` through the outbound-push mechanism (failures recorded, retried, reported).

Message types: `delivery` (供应商/SPD 送货入库 into `store_code`, optionally answering `request_no`), `distribution`
(SPD moves stock from `store_code` to `to_store_code`, 一级→二级), `return_supplier` (退货出库), `return` (退库 back
into a store). Items are named by our `item_code` or the SPD's `spd_code`."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session, unit_of_work

from . import services
from .errors import ItemNotFound, MovementInvalid
from .models import Item, Movement, Replenishment, SpdMessage, Store, UdiUse

TYPES = ("delivery", "distribution", "return_supplier", "return")


def apply_message(payload: dict[str, Any], *, client_id: str) -> dict[str, Any]:
    """Apply one SPD message in one transaction; a repeated `message_id` answers the first result and acts once."""
    key = f"{client_id}:{payload['message_id']}"[:160]
    done = session().scalar(select(SpdMessage).where(SpdMessage.message_key == key))
    if done is not None:
        return {**done.result, "repeat": True}
    kind = payload["type"]
    if kind not in TYPES:
        raise MovementInvalid(f"未知的 SPD 消息类型 {kind}", code="invalid_movement_kind", type=kind)
    with unit_of_work() as s:
        lines = [_line(s, key, kind, payload, i, line) for i, line in enumerate(payload["lines"], start=1)]
        result = {"message_id": payload["message_id"], "type": kind, "store_code": payload["store_code"],
                  "lines": lines}
        s.add(SpdMessage(message_key=key, kind=kind, result=result, received_at=clock.now()))
    return {**result, "repeat": False}


def _line(s, key: str, kind: str, payload: dict[str, Any], number: int, line: dict[str, Any]) -> dict[str, Any]:
    it = _item(line)
    source_key = f"spd:{key}:{number}"
    actor = f"SPD:{payload.get('operator') or 'spd'}"
    expiry = date.fromisoformat(line["expiry_on"]) if line.get("expiry_on") else None
    if kind in ("delivery", "return"):
        services.receive(payload["store_code"], it.code, quantity=line["quantity"], lot_no=line.get("lot_no", ""),
                         expiry_on=expiry, actor=actor, consignment=bool(line.get("consignment")),
                         supplier=payload.get("supplier", ""), source_key=source_key,
                         kind="receipt" if kind == "delivery" else "return", request_no=payload.get("request_no"))
    elif kind == "distribution":
        if not payload.get("to_store_code"):
            raise MovementInvalid("配送消息缺少调入库房 to_store_code", code="to_store_required")
        services.transfer(payload["store_code"], payload["to_store_code"], it.code, quantity=line["quantity"],
                          actor=actor, source_key=source_key)
    else:
        services.take(payload["store_code"], it.code, quantity=line["quantity"], kind="return_supplier",
                      actor=actor, lot_no=line.get("lot_no"), counterpart=payload.get("supplier"),
                      source_key=source_key)
    return {"line": number, "item_code": it.code, "quantity": line["quantity"], "lot_no": line.get("lot_no", "")}


def _item(line: dict[str, Any]) -> Item:
    if line.get("item_code"):
        return services.item(line["item_code"])
    row = session().scalar(select(Item).where(Item.spd_code == line.get("spd_code")))
    if row is None:
        raise ItemNotFound(f"SPD 编码 {line.get('spd_code')} 未对照到院内物资", code="unknown_spd_item",
                           spd_code=line.get("spd_code"))
    return row


# -- what is owed to the SPD ------------------------------------------------------------------------------------

def pending_replenishments(limit: int, owed: Callable[[Any], Any]) -> list[Replenishment]:
    """Open replenishment requests not yet accepted by the SPD (and due for a retry)."""
    return list(session().scalars(select(Replenishment).where(Replenishment.status == "open",
                                                              owed(Replenishment.id))
                                  .order_by(Replenishment.id).limit(limit)))


def replenishment_payload(row: Replenishment) -> dict[str, Any]:
    st, it = session().get(Store, row.store_id), session().get(Item, row.item_id)
    assert st is not None and it is not None
    return {"request_no": row.request_no, "store_code": st.code, "store_name": st.name,
            "supply_from": st.parent_code, "org_code": st.org_code, "item_code": it.code, "spd_code": it.spd_code,
            "item_name": it.name, "unit": it.unit, "quantity": row.quantity, "reason": row.reason,
            "requested_at": row.requested_at.isoformat()}


def pending_consignment_uses(limit: int, owed: Callable[[Any], Any]) -> list[Movement]:
    """Uses of consignment stock (寄售) the SPD has not yet been told of: each triggers 补货 + 结算 there."""
    return list(session().scalars(select(Movement).where(Movement.kind == "use", Movement.consignment.is_(True),
                                                         owed(Movement.id))
                                  .order_by(Movement.id).limit(limit)))


def consignment_payload(row: Movement) -> dict[str, Any]:
    st, it = session().get(Store, row.store_id), session().get(Item, row.item_id)
    assert st is not None and it is not None
    use = session().scalar(select(UdiUse).where(UdiUse.movement_id == row.id))
    return {"use_id": row.id, "store_code": st.code, "item_code": it.code, "spd_code": it.spd_code,
            "gtin": it.gtin, "quantity": row.quantity, "lot_no": use.lot_no if use else None,
            "serial": use.serial if use else None, "case_ref": row.case_ref, "used_at": row.at.isoformat()}
