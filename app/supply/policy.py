"""Reorder point, safety stock and stock alerts (wave2.md §3.4, standard inventory theory):

    d̄  = mean daily demand (issues + uses) over the last 90 days, or since the item's first movement in the store if
         later; days that opened with no stock and had no demand are stock-out days and are left out
    σd = population standard deviation of the daily demand over the same days
    L  = lead time in days: the supplier's (`Item.lead_time_days`) for a 一级库, the 一级→二级 transfer time
         (`Store.transfer_lead_days`) for a 二级库
    z  = 1.65 (95 % service level), 2.33 for rescue drugs (`Item.rescue`, e.g. vitamin K1, protamine)
    SS  (安全库存) = ceil(z × σd × √L)
    ROP (请领点)   = ceil(d̄ × L + SS)
    MAX (上限)     = ROP + ceil(d̄ × R), R = review period (`Item.review_period_days`)

An item with demand is `below_rop` when usable stock (unexpired on hand − reserved) ≤ ROP and `below_safety` (critical)
when it is ≤ SS; a replenishment request of MAX − available (available = usable + on order) is then owed to the SPD
unless one is already open. A lot is `near_expiry` within 90 days (drugs) or 180 days (consumables) of its expiry.
An alert notifies the store's keepers (pharmacists of the store's organisation) once and closes by itself when the
condition is gone."""
from __future__ import annotations

import math
import statistics
import uuid
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from app.auth.queries import candidate_users
from app.core import clock
from app.core.db import session, unit_of_work
from app.notifications.services import notify

from .models import Alert, Item, Lot, Movement, Recall, Replenishment, Store

WINDOW_DAYS = 90
Z_DEFAULT, Z_RESCUE = 1.65, 2.33
NEAR_EXPIRY_DAYS = {"drug": 90, "consumable": 180}
DEMAND_KINDS = ("issue", "use")
KEEPER_ROLE = "pharmacist"
KIND_LABELS = {"below_rop": "低于请领点", "below_safety": "低于安全库存", "near_expiry": "近效期",
               "recalled_stock": "召回批次在库"}


@dataclass(frozen=True)
class StockPolicy:
    mean_daily: float
    sd_daily: float
    lead_days: int
    z: float
    review_days: int
    safety_stock: int
    reorder_point: int
    max_stock: int
    on_hand: int
    usable: int
    reserved: int
    on_order: int
    available: int
    days_of_supply: float | None
    observed_days: int
    stockout_days: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def compute(st: Store, it: Item, *, today: date | None = None) -> StockPolicy:
    """The stock policy of one item in one store, from its movements (formula in the module docstring)."""
    today = today or clock.today()
    lots = list(session().scalars(select(Lot).where(Lot.store_id == st.id, Lot.item_id == it.id)))
    on_hand = sum(lot.on_hand for lot in lots)
    usable = sum(lot.on_hand for lot in lots if lot.expiry_on is None or lot.expiry_on >= today)
    reserved = sum(lot.reserved for lot in lots)
    on_order = session().scalar(select(func.coalesce(func.sum(Replenishment.quantity), 0)).where(
        Replenishment.store_id == st.id, Replenishment.item_id == it.id, Replenishment.status == "open")) or 0
    demand, stockouts = daily_demand(st.id, it.id, on_hand=on_hand, today=today)
    mean = sum(demand) / len(demand) if demand else 0.0
    sd = statistics.pstdev(demand) if len(demand) > 1 else 0.0
    lead = st.transfer_lead_days if st.level == "secondary" else it.lead_time_days
    z = Z_RESCUE if it.rescue else Z_DEFAULT
    ss = math.ceil(z * sd * math.sqrt(lead) - 1e-9)
    rop = math.ceil(mean * lead + ss - 1e-9)
    top = rop + math.ceil(mean * it.review_period_days - 1e-9)
    return StockPolicy(mean_daily=round(mean, 3), sd_daily=round(sd, 3), lead_days=lead, z=z,
                       review_days=it.review_period_days, safety_stock=ss, reorder_point=rop, max_stock=top,
                       on_hand=on_hand, usable=usable, reserved=reserved, on_order=int(on_order),
                       available=usable - reserved + int(on_order),
                       days_of_supply=round(usable / mean, 1) if mean else None, observed_days=len(demand),
                       stockout_days=stockouts)


def daily_demand(store_id: int, item_id: int, *, on_hand: int, today: date) -> tuple[list[int], int]:
    """Demand of each observed day of the window (oldest first) and the number of days that closed with no stock.
    The closing balance of each day is rebuilt backwards from today's stock and the movements."""
    first = session().scalar(select(func.min(Movement.at)).where(Movement.store_id == store_id,
                                                                 Movement.item_id == item_id))
    if first is None:
        return [], 0
    start = max(today - timedelta(days=WINDOW_DAYS - 1), clock.date_of(first))
    rows = session().execute(select(Movement.at, Movement.kind, Movement.quantity, Movement.delta).where(
        Movement.store_id == store_id, Movement.item_id == item_id,
        Movement.at >= clock.start_of_day(start))).all()
    demand_by_day: dict[date, int] = {}
    delta_by_day: dict[date, int] = {}
    for at, kind, quantity, delta in rows:
        day = clock.date_of(at)
        delta_by_day[day] = delta_by_day.get(day, 0) + delta
        if kind in DEMAND_KINDS:
            demand_by_day[day] = demand_by_day.get(day, 0) + quantity
    observed: list[int] = []
    stockouts = 0
    closing = on_hand
    day = today
    while day >= start:
        opening = closing - delta_by_day.get(day, 0)
        demand = demand_by_day.get(day, 0)
        if closing <= 0:
            stockouts += 1
        if not (opening <= 0 and demand == 0):
            observed.append(demand)
        closing, day = opening, day - timedelta(days=1)
    observed.reverse()
    return observed, stockouts


# -- alerts ------------------------------------------------------------------------------------------------------

def evaluate(*, store_id: int, item_id: int) -> list[Alert]:
    """Raise or close the stock-level and near-expiry alerts of one item in one store; owe a replenishment when
    stock is at or below the reorder point. Returns the alerts open afterwards."""
    st, it = session().get(Store, store_id), session().get(Item, item_id)
    if st is None or it is None:
        return []
    policy = compute(st, it)
    stock = policy.usable - policy.reserved
    low = policy.mean_daily > 0 and stock <= policy.reorder_point
    critical = policy.mean_daily > 0 and stock <= policy.safety_stock
    details = {**policy.as_dict(), "item_name": it.name, "store_name": st.name, "unit": it.unit}
    with unit_of_work():
        _set(st, it, "below_rop", low and not critical, details)
        _set(st, it, "below_safety", critical, details)
        if low and policy.on_order == 0 and policy.max_stock - policy.available > 0:
            _request(st, it, policy.max_stock - policy.available, "below_safety" if critical else "below_rop")
        _near_expiry(st, it)
    return open_alerts(store_id=store_id, item_id=item_id)


def _near_expiry(st: Store, it: Item) -> None:
    today = clock.today()
    horizon = today + timedelta(days=NEAR_EXPIRY_DAYS.get(it.kind, 90))
    for lot in session().scalars(select(Lot).where(Lot.store_id == st.id, Lot.item_id == it.id)):
        near = lot.on_hand > 0 and lot.expiry_on is not None and lot.expiry_on <= horizon
        details = {"item_name": it.name, "store_name": st.name, "lot_no": lot.lot_no, "on_hand": lot.on_hand,
                   "expiry_on": lot.expiry_on.isoformat() if lot.expiry_on else None,
                   "expired": bool(lot.expiry_on and lot.expiry_on < today),
                   "value_fen": lot.on_hand * it.unit_price_fen, "unit": it.unit}
        _set(st, it, "near_expiry", near, details, lot=lot)


def raise_recall_alerts(recall: Recall) -> int:
    """A `recalled_stock` alert for every store still holding the recalled lot; the number raised."""
    it = session().scalar(select(Item).where(Item.gtin == recall.gtin))
    if it is None:
        return 0
    query = select(Lot).where(Lot.item_id == it.id, Lot.on_hand > 0)
    if recall.lot_no:
        query = query.where(Lot.lot_no == recall.lot_no)
    raised = 0
    with unit_of_work():
        for lot in session().scalars(query):
            st = session().get(Store, lot.store_id)
            assert st is not None
            _set(st, it, "recalled_stock", True, {"item_name": it.name, "store_name": st.name,
                                                  "lot_no": lot.lot_no, "on_hand": lot.on_hand, "unit": it.unit,
                                                  "reason": recall.reason, "recall_id": recall.id}, lot=lot)
            raised += 1
    return raised


def _set(st: Store, it: Item, kind: str, on: bool, details: dict[str, Any], *, lot: Lot | None = None) -> None:
    key = f"{kind}:{st.id}:{it.id}:{lot.id if lot else ''}"
    s = session()
    row = s.scalar(select(Alert).where(Alert.dedupe_key == key, Alert.status == "open"))
    if row is not None:
        if on:
            row.details = details
        else:
            row.status, row.closed_at = "closed", clock.now()
            row.dedupe_key = f"{key}:closed:{row.id}"
        return
    if not on:
        return
    row = Alert(dedupe_key=key, kind=kind, store_id=st.id, item_id=it.id, lot_id=lot.id if lot else None,
                status="open", details=details, raised_at=clock.now())
    s.add(row)
    s.flush()
    _notify_keepers(st, it, row)


def _notify_keepers(st: Store, it: Item, alert: Alert) -> None:
    label = KIND_LABELS[alert.kind]
    lot = f" 批号 {alert.details['lot_no']}" if alert.details.get("lot_no") else ""
    for user in keepers(st):
        notify(user.id, kind="supply_alert", title=f"{st.name}: {it.name}{lot} {label}",
               body=_alert_body(alert), link=f"/supply?store={st.code}", dedupe_key=f"supply_alert:{alert.id}:{user.id}")


def _alert_body(alert: Alert) -> str:
    d = alert.details
    if alert.kind in ("below_rop", "below_safety"):
        return (f"可用库存 {d['usable'] - d['reserved']} {d['unit']}, 请领点 {d['reorder_point']}, 安全库存 "
                f"{d['safety_stock']}; 日均用量 {d['mean_daily']}。已向统一供应链发起补货。")
    if alert.kind == "near_expiry":
        return f"{d['on_hand']} {d['unit']} 将于 {d['expiry_on']} 到期, 请优先使用或办理退换。"
    return f"在库 {d['on_hand']} {d['unit']} 属于召回批次 ({d['reason']}), 请立即封存。"


def keepers(st: Store) -> list:
    """The store's keepers: pharmacists working at the store's organisation, else at one of its ancestors."""
    users = candidate_users(KEEPER_ROLE, st.org_code)
    codes = [c for c in st.org_path.strip("/").split("/") if c]
    for code in reversed(codes):
        here = [u for u in users if u.org_code == code]
        if here:
            return here
    return users


def _request(st: Store, it: Item, quantity: int, reason: str) -> Replenishment:
    row = Replenishment(request_no=f"RQ{clock.today():%Y%m%d}-{uuid.uuid4().hex[:8].upper()}", store_id=st.id,
                        item_id=it.id, quantity=quantity, reason=reason, status="open", requested_by="system",
                        requested_at=clock.now())
    session().add(row)
    session().flush()
    return row


def close_replenishments(store_id: int, item_id: int, *, request_no: str | None = None) -> int:
    """A delivery arrived: close the open request it answers (by number, else the store's open ones for the item)."""
    query = select(Replenishment).where(Replenishment.store_id == store_id, Replenishment.item_id == item_id,
                                        Replenishment.status == "open")
    if request_no:
        query = query.where(Replenishment.request_no == request_no)
    closed = 0
    with unit_of_work():
        for row in session().scalars(query):
            row.status, row.closed_at = "received", clock.now()
            closed += 1
    return closed


def open_alerts(*, store_id: int | None = None, item_id: int | None = None) -> list[Alert]:
    query = select(Alert).where(Alert.status == "open")
    if store_id is not None:
        query = query.where(Alert.store_id == store_id)
    if item_id is not None:
        query = query.where(Alert.item_id == item_id)
    return list(session().scalars(query.order_by(Alert.id)))


def sweep() -> int:
    """Re-evaluate every item held or used in every store (the scheduler's nightly `supply.stock_alerts`: expiry
    dates approach without any movement). Returns the number of open alerts."""
    pairs = session().execute(select(Lot.store_id, Lot.item_id).distinct()).all()
    for store_id, item_id in pairs:
        evaluate(store_id=store_id, item_id=item_id)
    return len(open_alerts())
