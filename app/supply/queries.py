"""Read side of supply: stock by store, open alerts, recall search (which patients got a lot), the shortage
register, replenishments owed to the SPD and the supply indicators. Scoped: a caller sees the stores of the
organisations in their scope (county-wide roles see all)."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.residents.queries import get_resident

from . import policy
from .models import Alert, Item, Lot, Recall, Replenishment, Reservation, Shortage, Store, UdiUse

KIND_LABELS = {"drug": "药品", "consumable": "耗材"}
LEVEL_LABELS = {"primary": "一级库", "secondary": "二级库"}


def visible_stores(principal: Principal | None) -> list[Store]:
    if principal is None:
        return []
    query = select(Store).order_by(Store.level, Store.code)
    if not principal.county_wide:
        query = query.where(Store.org_path.startswith(principal.org_path or "/-none-/"))
    return list(session().scalars(query))


def store_view(st: Store) -> dict[str, Any]:
    return {"code": st.code, "name": st.name, "org_code": st.org_code, "level": st.level,
            "level_label": LEVEL_LABELS[st.level], "parent_code": st.parent_code}


def stock(st: Store) -> list[dict[str, Any]]:
    """Each item the store holds or has moved: quantities, the stock policy (ROP/SS/MAX) and its lots."""
    item_ids = list(session().scalars(select(Lot.item_id).where(Lot.store_id == st.id).distinct()))
    rows = []
    for it in session().scalars(select(Item).where(Item.id.in_(item_ids)).order_by(Item.kind, Item.name)):
        pol = policy.compute(st, it)
        lots = session().scalars(select(Lot).where(Lot.store_id == st.id, Lot.item_id == it.id, Lot.on_hand > 0)
                                 .order_by(Lot.expiry_on)).all()
        rows.append({"item": item_view(it), "policy": pol.as_dict(),
                     "status": "critical" if pol.mean_daily and pol.usable - pol.reserved <= pol.safety_stock
                     else "low" if pol.mean_daily and pol.usable - pol.reserved <= pol.reorder_point else "ok",
                     "lots": [{"lot_no": lot.lot_no, "expiry_on": lot.expiry_on.isoformat() if lot.expiry_on else None,
                               "on_hand": lot.on_hand, "reserved": lot.reserved,
                               "available": lot.on_hand - lot.reserved, "consignment": lot.consignment,
                               "supplier": lot.supplier} for lot in lots],
                     "reservations": reservations(st, it, {lot.id: lot.lot_no for lot in lots})})
    return rows


def reservations(st: Store, it: Item, lot_nos: dict[int, str]) -> list[dict[str, Any]]:
    """The units of an item held in a store for booked cases (耗材预留), per case and lot."""
    rows = session().scalars(select(Reservation).where(Reservation.store_id == st.id, Reservation.item_id == it.id,
                                                       Reservation.status == "active").order_by(Reservation.id))
    return [{"case_ref": r.case_ref, "lot_no": lot_nos.get(r.lot_id, ""), "quantity": r.quantity - r.consumed,
             "reserved_at": r.created_at.isoformat()} for r in rows]


def item_view(it: Item) -> dict[str, Any]:
    return {"code": it.code, "name": it.name, "kind": it.kind, "kind_label": KIND_LABELS[it.kind], "unit": it.unit,
            "gtin": it.gtin, "high_value": it.high_value, "supervised": it.supervised, "rescue": it.rescue,
            "unit_price_fen": it.unit_price_fen, "category": it.category}


def alerts(principal: Principal | None) -> list[dict[str, Any]]:
    stores = {st.id: st for st in visible_stores(principal)}
    rows = session().scalars(select(Alert).where(Alert.status == "open", Alert.store_id.in_(list(stores)))
                             .order_by(Alert.raised_at.desc(), Alert.id.desc())).all()
    return [{"id": a.id, "kind": a.kind, "kind_label": policy.KIND_LABELS[a.kind],
             "store_code": stores[a.store_id].code, "store_name": stores[a.store_id].name,
             "item_name": a.details.get("item_name"), "details": a.details, "raised_at": a.raised_at.isoformat()}
            for a in rows]


def recall_search(gtin: str, lot_no: str, *, principal: Principal) -> dict[str, Any]:
    """Who received an item of this product lot (UDI-DI + lot; empty lot = every lot) and which stores still hold it.
    Patients outside the caller's scope are counted, not named."""
    query = select(UdiUse).where(UdiUse.gtin == gtin)
    if lot_no:
        query = query.where(UdiUse.lot_no == lot_no)
    uses, hidden = [], 0
    for use in session().scalars(query.order_by(UdiUse.used_at)):
        resident = get_resident(use.resident_id, principal)
        if resident is None:
            hidden += 1
            continue
        uses.append({"resident_id": use.resident_id, "resident_name": resident.name, "case_ref": use.case_ref,
                     "serial": use.serial, "lot": use.lot_no, "used_at": use.used_at.isoformat(),
                     "used_by": use.used_by})
    it = session().scalar(select(Item).where(Item.gtin == gtin))
    in_stock = []
    if it is not None:
        lots = select(Lot).where(Lot.item_id == it.id, Lot.on_hand > 0)
        if lot_no:
            lots = lots.where(Lot.lot_no == lot_no)
        for lot in session().scalars(lots.order_by(Lot.store_id)):
            st = session().get(Store, lot.store_id)
            assert st is not None
            in_stock.append({"store_code": st.code, "store_name": st.name, "lot": lot.lot_no, "on_hand": lot.on_hand})
    recall = session().scalar(select(Recall).where(Recall.gtin == gtin, Recall.lot_no.in_(["", lot_no])).limit(1))
    return {"gtin": gtin, "lot": lot_no, "item": item_view(it) if it else None, "uses": uses, "hidden_uses": hidden,
            "in_stock": in_stock, "recall": recall_view(recall) if recall else None}


def recall_view(r: Recall) -> dict[str, Any]:
    return {"id": r.id, "gtin": r.gtin, "lot": r.lot_no, "level": r.level, "reason": r.reason, "source": r.source,
            "issued_on": r.issued_on.isoformat()}


def recalls() -> list[dict[str, Any]]:
    return [recall_view(r) for r in session().scalars(select(Recall).order_by(Recall.issued_on.desc()))]


def uses_for_case(case_ref: str) -> list[dict[str, Any]]:
    """The UDI-scanned items bound to one patient case (for the interventional centre's operation record)."""
    rows = session().execute(select(UdiUse, Item).join(Item, Item.id == UdiUse.item_id)
                             .where(UdiUse.case_ref == case_ref).order_by(UdiUse.used_at)).all()
    return [{"use_id": u.id, "gtin": u.gtin, "serial": u.serial, "lot": u.lot_no, "used_at": u.used_at.isoformat(),
             "item": item_view(it)} for u, it in rows]


def shortages(*, active_only: bool = True) -> list[dict[str, Any]]:
    query = select(Shortage, Item).join(Item, Item.id == Shortage.item_id)
    if active_only:
        query = query.where(Shortage.status == "active")
    return [{"id": s.id, "item": item_view(it), "org_code": s.org_code, "status": s.status, "reason": s.reason,
             "alternative": s.alternative, "reported_on": s.reported_on.isoformat(),
             "expected_on": s.expected_on.isoformat() if s.expected_on else None}
            for s, it in session().execute(query.order_by(Shortage.reported_on.desc()))]


def replenishments(*, status: str | None = "open") -> list[Replenishment]:
    query = select(Replenishment)
    if status:
        query = query.where(Replenishment.status == status)
    return list(session().scalars(query.order_by(Replenishment.id)))


def indicators(principal: Principal | None, *, today: date | None = None) -> dict[str, Any]:
    """缺货率 (store-item-days with nothing on hand ÷ store-item-days, last 90 days), 近效期金额 (value of lots
    expiring within the alert horizon), open alerts by kind, and the high-value UDI traceability count."""
    today = today or clock.today()
    store_days = stockout_days = 0
    near_value = 0
    for st in visible_stores(principal):
        for it in session().scalars(select(Item).where(Item.id.in_(
                select(Lot.item_id).where(Lot.store_id == st.id)))):
            pol = policy.compute(st, it, today=today)
            store_days += policy.WINDOW_DAYS
            stockout_days += pol.stockout_days
            horizon = today + timedelta(days=policy.NEAR_EXPIRY_DAYS.get(it.kind, 90))
            near_value += (session().scalar(select(func.coalesce(func.sum(Lot.on_hand), 0)).where(
                Lot.store_id == st.id, Lot.item_id == it.id, Lot.expiry_on.is_not(None),
                Lot.expiry_on <= horizon)) or 0) * it.unit_price_fen
    open_by_kind: dict[str, int] = {}
    for a in alerts(principal):
        open_by_kind[a["kind"]] = open_by_kind.get(a["kind"], 0) + 1
    return {"stockout_days": stockout_days, "store_item_days": store_days,
            "stockout_rate": round(stockout_days / store_days, 4) if store_days else None,
            "near_expiry_value_fen": near_value, "open_alerts": open_by_kind,
            "udi_uses": session().scalar(select(func.count()).select_from(UdiUse)) or 0}


def replenishment_views(principal: Principal | None) -> list[dict[str, Any]]:
    stores = {st.id: st for st in visible_stores(principal)}
    rows = []
    for r in replenishments():
        st, it = stores.get(r.store_id), session().get(Item, r.item_id)
        if st is None or it is None:
            continue
        rows.append({"request_no": r.request_no, "store_code": st.code, "store_name": st.name, "item_name": it.name,
                     "unit": it.unit, "quantity": r.quantity, "reason": r.reason,
                     "requested_at": r.requested_at.isoformat()})
    return rows


def store_exists(code: str) -> bool:
    return session().scalar(select(Store.id).where(Store.code == code)) is not None
