"""Use cases of supply: the catalogue of stores and items, stock movements (receipt, issue/transfer, use, return,
consignment), UDI scanning on a patient case, recalls and the drug-shortage register.

Stock never goes negative: every decrement is one conditional UPDATE (`on_hand = on_hand - q WHERE on_hand -
reserved >= q`), so of two concurrent issues of the last unit exactly one succeeds, on PostgreSQL and SQLite alike;
a CHECK constraint backs it. Reservations for a patient case (耗材预留) hold stock of a lot: reserved stock stays on
hand but is not available to anyone else; the case's UDI scan consumes it, cancelling releases it (see
`reserve_for_case`). Movements that take stock call `app.supply.policy.evaluate` after commit (alerts)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.auth.principal import Principal
from app.core import clock
from app.core.db import rowcount, session, unit_of_work
from app.org.queries import get_org
from app.residents.queries import get_resident

from . import policy
from . import udi as udi_codes
from .errors import InsufficientStock, ItemNotFound, MovementInvalid, SerialAlreadyUsed, StoreNotFound, UdiRefused
from .models import Item, Lot, Movement, Recall, Reservation, Shortage, Store, UdiUse

IN_KINDS = {"receipt": 1, "transfer_in": 1, "return": 1}
OUT_KINDS = {"issue": -1, "use": -1, "return_supplier": -1}
NO_LOT = ""


# -- catalogue ---------------------------------------------------------------------------------------------------

def create_store(code: str, name: str, *, org_code: str, level: str, parent_code: str | None = None,
                 transfer_lead_days: int = 1) -> Store:
    """Add a store of an organisation: `primary` (一级库) or `secondary` (二级库, replenished from `parent_code`)."""
    if level not in ("primary", "secondary"):
        raise MovementInvalid("库房级别只能是一级库或二级库", code="invalid_store_level", level=level)
    org = get_org(org_code)
    if parent_code is not None:
        store(parent_code)
    with unit_of_work() as s:
        row = Store(code=code, name=name, org_code=org.code, org_path=org.path, level=level, parent_code=parent_code,
                    transfer_lead_days=transfer_lead_days, created_at=clock.now())
        s.add(row)
    return row


def create_item(code: str, name: str, *, kind: str, unit: str, gtin: str | None = None, **fields: Any) -> Item:
    """Add a stocked item (drug or consumable); a consumable's `gtin` (UDI-DI) must carry a valid check digit."""
    if kind not in ("drug", "consumable"):
        raise MovementInvalid("品类只能是药品或耗材", code="invalid_item_kind", kind=kind)
    if gtin is not None:
        gtin = udi_codes.parse(f"(01){gtin.zfill(14)}").gtin
    with unit_of_work() as s:
        row = Item(code=code, name=name, kind=kind, unit=unit, gtin=gtin, **fields)
        s.add(row)
    return row


def store(code: str) -> Store:
    row = session().scalar(select(Store).where(Store.code == code))
    if row is None:
        raise StoreNotFound(f"库房 {code} 不存在", store_code=code)
    return row


def item(code: str) -> Item:
    row = session().scalar(select(Item).where(Item.code == code))
    if row is None:
        raise ItemNotFound(f"物资 {code} 不存在", item_code=code)
    return row


def item_by_gtin(gtin: str) -> Item | None:
    return session().scalar(select(Item).where(Item.gtin == gtin))


# -- movements ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One line of a movement request."""
    item_code: str
    quantity: int
    lot_no: str | None = None
    expiry_on: date | None = None


def receive(store_code: str, item_code: str, *, quantity: int, lot_no: str, expiry_on: date | None, actor: str,
            consignment: bool = False, supplier: str = "", source_key: str | None = None,
            kind: str = "receipt", note: str = "", request_no: str | None = None,
            at: datetime | None = None) -> Movement:
    """Put stock into a store (receipt 入库, return 退库 from a ward/patient, or a transfer_in from a 一级库)."""
    if kind not in IN_KINDS:
        raise MovementInvalid("不是入库类动作", code="invalid_movement_kind", kind=kind)
    _positive(quantity)
    repeat = _by_source_key(source_key)
    if repeat is not None:
        return repeat
    st, it = store(store_code), item(item_code)
    with unit_of_work() as s:
        lot = _lot(s, st, it, lot_no or NO_LOT, consignment=consignment, expiry_on=expiry_on, supplier=supplier)
        s.execute(update(Lot).where(Lot.id == lot.id).values(on_hand=Lot.on_hand + quantity))
        movement = _movement(s, kind, st, it, lot, quantity, actor=actor, counterpart=supplier or None,
                             source_key=source_key, note=note, at=at)
    if kind != "return":
        policy.close_replenishments(st.id, it.id, request_no=request_no)
    _after_stock_change(st.id, it.id)
    return movement


def take(store_code: str, item_code: str, *, quantity: int, kind: str, actor: str, lot_no: str | None = None,
         resident_id: int | None = None, case_ref: str | None = None, counterpart: str | None = None,
         source_key: str | None = None, note: str = "", at: datetime | None = None) -> list[Movement]:
    """Take stock out (issue 出库, use 使用 on a patient, return_supplier 退货): from the named lot, else first-expiry-
    first-out over unexpired lots. Refused whole with 409 `insufficient_stock` when the store holds less."""
    if kind not in OUT_KINDS:
        raise MovementInvalid("不是出库类动作", code="invalid_movement_kind", kind=kind)
    _positive(quantity)
    if kind == "use" and resident_id is None:
        raise MovementInvalid("使用必须登记患者", code="patient_required")
    repeat = _by_source_key(source_key)
    if repeat is not None:
        return [repeat]
    st, it = store(store_code), item(item_code)
    with unit_of_work() as s:
        moved = _take_fefo(s, st, it, quantity, kind=kind, actor=actor, lot_no=lot_no, resident_id=resident_id,
                           case_ref=case_ref, counterpart=counterpart, source_key=source_key, note=note, at=at)
    _after_stock_change(st.id, it.id)
    return moved


def transfer(from_store: str, to_store: str, item_code: str, *, quantity: int, actor: str,
             source_key: str | None = None, at: datetime | None = None) -> list[Movement]:
    """Move stock from a 一级库 to a 二级库 in one transaction (issue there, transfer_in here, lots kept)."""
    src, dst, it = store(from_store), store(to_store), item(item_code)
    if src.id == dst.id:
        raise MovementInvalid("调出和调入不能是同一库房", code="same_store")
    _positive(quantity)
    with unit_of_work() as s:
        out = _take_fefo(s, src, it, quantity, kind="issue", actor=actor, counterpart=dst.name,
                         source_key=source_key, at=at)
        for movement in out:
            lot = s.get(Lot, movement.lot_id)
            assert lot is not None
            into = _lot(s, dst, it, lot.lot_no, consignment=lot.consignment, expiry_on=lot.expiry_on,
                        supplier=lot.supplier)
            s.execute(update(Lot).where(Lot.id == into.id).values(on_hand=Lot.on_hand + movement.quantity))
            _movement(s, "transfer_in", dst, it, into, movement.quantity, actor=actor, counterpart=src.name, at=at)
    policy.close_replenishments(dst.id, it.id)
    _after_stock_change(src.id, it.id)
    _after_stock_change(dst.id, it.id)
    return out


def _take_fefo(s, st: Store, it: Item, quantity: int, *, kind: str, actor: str, lot_no: str | None = None,
               resident_id: int | None = None, case_ref: str | None = None, counterpart: str | None = None,
               source_key: str | None = None, note: str = "", at: datetime | None = None) -> list[Movement]:
    today = clock.today()
    query = select(Lot).where(Lot.store_id == st.id, Lot.item_id == it.id, Lot.on_hand > 0)
    if lot_no is not None:
        query = query.where(Lot.lot_no == lot_no)
    elif kind != "return_supplier":
        query = query.where((Lot.expiry_on.is_(None)) | (Lot.expiry_on >= today))
    lots = list(s.scalars(query.order_by(Lot.expiry_on.is_(None), Lot.expiry_on, Lot.id)))
    left, moved = quantity, list[Movement]()
    for lot in lots:
        if left == 0:
            break
        s.refresh(lot)
        part = min(left, lot.on_hand - lot.reserved)
        if part <= 0 or not _decrement(s, lot.id, part):
            continue
        key = source_key if not moved else (f"{source_key}#{len(moved)}" if source_key else None)
        moved.append(_movement(s, kind, st, it, lot, part, actor=actor, resident_id=resident_id, case_ref=case_ref,
                               counterpart=counterpart, source_key=key, note=note, at=at))
        left -= part
    if left:
        raise InsufficientStock(f"{st.name}的{it.name}库存不足", store_code=st.code, item_code=it.code,
                                requested=quantity, available=quantity - left)
    return moved


def _decrement(s, lot_id: int, quantity: int) -> bool:
    """The one place free stock goes down: conditional, so it never passes zero (nor into what is reserved for a
    case) under concurrency."""
    result = s.execute(update(Lot).where(Lot.id == lot_id, Lot.on_hand - Lot.reserved >= quantity)
                       .values(on_hand=Lot.on_hand - quantity))
    return rowcount(result) == 1


def _lot(s, st: Store, it: Item, lot_no: str, *, consignment: bool, expiry_on: date | None, supplier: str) -> Lot:
    row = s.scalar(select(Lot).where(Lot.store_id == st.id, Lot.item_id == it.id, Lot.lot_no == lot_no,
                                     Lot.consignment == consignment))
    if row is None:
        row = Lot(store_id=st.id, item_id=it.id, lot_no=lot_no, expiry_on=expiry_on, consignment=consignment,
                  supplier=supplier, on_hand=0, reserved=0)
        s.add(row)
        s.flush()
    elif expiry_on is not None and row.expiry_on is None:
        row.expiry_on = expiry_on
    return row


def _movement(s, kind: str, st: Store, it: Item, lot: Lot, quantity: int, *, actor: str,
              resident_id: int | None = None, case_ref: str | None = None, counterpart: str | None = None,
              source_key: str | None = None, note: str = "", at: datetime | None = None) -> Movement:
    sign = IN_KINDS.get(kind) or OUT_KINDS[kind]
    row = Movement(kind=kind, store_id=st.id, item_id=it.id, lot_id=lot.id, quantity=quantity, delta=sign * quantity,
                   consignment=lot.consignment, resident_id=resident_id, case_ref=case_ref, counterpart=counterpart,
                   source_key=source_key, actor=actor, note=note, at=at or clock.now())
    s.add(row)
    s.flush()
    return row


def _positive(quantity: int) -> None:
    if not isinstance(quantity, int) or quantity <= 0:
        raise MovementInvalid("数量必须是正整数", code="invalid_quantity", quantity=quantity)


def _by_source_key(source_key: str | None) -> Movement | None:
    if source_key is None:
        return None
    return session().scalar(select(Movement).where(Movement.source_key == source_key))


def _after_stock_change(store_id: int, item_id: int) -> None:
    policy.evaluate(store_id=store_id, item_id=item_id)


# -- UDI ---------------------------------------------------------------------------------------------------------

def check_udi(code: str, *, store_code: str | None = None) -> dict[str, Any]:
    """Read a scanned UDI and say whether it may be used (no stock change): the item, lot, expiry, serial and the
    reason it would be refused, if any (`refusal`: {code, message})."""
    parsed = udi_codes.parse(code)
    it = item_by_gtin(parsed.gtin)
    answer: dict[str, Any] = {**parsed.as_dict(), "item": _item_view(it) if it else None, "refusal": None}
    try:
        _usable(parsed, it, store(store_code) if store_code else None)
    except (UdiRefused, SerialAlreadyUsed, InsufficientStock) as exc:
        answer["refusal"] = {"code": exc.code, "message": exc.message, **exc.details}
    return answer


def consume_udi(code: str, *, store_code: str, resident_id: int, case_ref: str, used_by: str,
                at: datetime | None = None) -> dict[str, Any]:
    """Record one scanned high-value item as used on a patient case (术中扫码): parse the UDI, refuse a bad check
    digit, an unknown product, an expired or recalled lot, a serial already used, or no stock of that lot in the
    store; otherwise take one unit of the lot from the store and bind (GTIN, serial) to the patient and case. A unit
    reserved for this case is used first (the scanned lot's reservation, else one unit of another lot's reservation
    is released and the scanned lot's free stock is taken).

    Returns {use_id, movement_id, gtin, lot, serial, expiry_on, item: {code, name, unit_price_fen, …}, case_ref}.
    Raises UdiRefused (422, code names the reason), SerialAlreadyUsed (409 udi_serial_used), InsufficientStock
    (409)."""
    parsed = udi_codes.parse(code)
    it = item_by_gtin(parsed.gtin)
    st = store(store_code)
    _usable(parsed, it, st)
    assert it is not None
    try:
        with unit_of_work() as s:
            movement = _use_reserved(s, st, it, parsed.lot or NO_LOT, resident_id=resident_id, case_ref=case_ref,
                                     actor=used_by, note=parsed.raw[:200], at=at)
            if movement is None:
                [movement] = _take_fefo(s, st, it, 1, kind="use", actor=used_by, lot_no=parsed.lot or NO_LOT,
                                        resident_id=resident_id, case_ref=case_ref, note=parsed.raw[:200], at=at)
            use = UdiUse(gtin=parsed.gtin, serial=parsed.serial, lot_no=parsed.lot, expiry_on=parsed.expiry_on,
                         item_id=it.id, store_id=st.id, movement_id=movement.id, resident_id=resident_id,
                         case_ref=case_ref, raw=parsed.raw[:200], used_by=used_by, used_at=at or clock.now())
            s.add(use)
            s.flush()
    except IntegrityError as exc:
        raise SerialAlreadyUsed("该序列号的耗材已使用过, 不能重复使用", gtin=parsed.gtin,
                                serial=parsed.serial) from exc
    _after_stock_change(st.id, it.id)
    return use_view(use, it)


def _usable(parsed: udi_codes.Udi, it: Item | None, st: Store | None) -> None:
    if it is None:
        raise UdiRefused("院内目录中没有该产品 (UDI-DI 未登记)", code="udi_unknown_item", gtin=parsed.gtin)
    if it.high_value and not parsed.serial:
        raise UdiRefused("高值耗材条码缺少序列号 (21)", code="udi_serial_missing", gtin=parsed.gtin)
    if parsed.expiry_on is not None and parsed.expiry_on < clock.today():
        raise UdiRefused(f"已过有效期 ({parsed.expiry_on.isoformat()}), 禁止使用", code="udi_expired",
                         expiry_on=parsed.expiry_on.isoformat())
    recall = recall_for(parsed.gtin, parsed.lot)
    if recall is not None:
        raise UdiRefused(f"该批次已召回: {recall.reason}", code="udi_recalled", recall_id=recall.id)
    if parsed.serial and session().scalar(select(UdiUse.id).where(UdiUse.gtin == parsed.gtin,
                                                                  UdiUse.serial == parsed.serial)):
        raise SerialAlreadyUsed("该序列号的耗材已使用过, 不能重复使用", gtin=parsed.gtin, serial=parsed.serial)
    if st is not None:
        held = session().scalar(select(Lot.on_hand).where(Lot.store_id == st.id, Lot.item_id == it.id,
                                                          Lot.lot_no == (parsed.lot or NO_LOT), Lot.on_hand > 0)
                                .limit(1))
        if not held:
            raise InsufficientStock(f"{st.name}没有该批次的库存", store_code=st.code, item_code=it.code,
                                    lot=parsed.lot, requested=1, available=0)


def use_view(use: UdiUse, it: Item) -> dict[str, Any]:
    return {"use_id": use.id, "movement_id": use.movement_id, "gtin": use.gtin, "lot": use.lot_no,
            "serial": use.serial, "expiry_on": use.expiry_on.isoformat() if use.expiry_on else None,
            "case_ref": use.case_ref, "resident_id": use.resident_id, "used_by": use.used_by,
            "used_at": use.used_at.isoformat(), "item": _item_view(it)}


def _item_view(it: Item) -> dict[str, Any]:
    return {"code": it.code, "name": it.name, "kind": it.kind, "unit": it.unit, "gtin": it.gtin,
            "high_value": it.high_value, "unit_price_fen": it.unit_price_fen, "insurance_code": it.insurance_code}


# -- reservations (耗材预留) --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Need:
    """One line of a case's reservation: a product by its UDI-DI (GTIN) and how many units."""
    gtin: str
    quantity: int


def reserve_for_case(store_code: str, case_ref: str, needs: Sequence[Need], *, actor: str,
                     resident_id: int | None = None) -> list[dict[str, Any]]:
    """Hold stock of the store for a patient case, per lot, first-expiring first (unexpired, not recalled lots).
    All or nothing: a product not in the catalogue is refused (422 `udi_unknown_item`), more than is available
    (on hand − already reserved) is refused whole (409 `insufficient_stock`, with `available`). Reserving again
    for the same case replaces its earlier reservation (the step may be repeated).

    The lots are read `FOR UPDATE` (PostgreSQL) in id order and each hold is a conditional UPDATE
    (`reserved = reserved + q WHERE on_hand - reserved >= q`), so two cases racing for the last unit: exactly one
    gets it."""
    st = store(store_code)
    wanted: dict[int, tuple[Item, int]] = {}
    for need in needs:
        _positive(need.quantity)
        gtin = udi_codes.parse(f"(01){need.gtin.strip().zfill(14)}").gtin
        it = item_by_gtin(gtin)
        if it is None:
            raise UdiRefused("院内目录中没有该产品 (UDI-DI 未登记)", code="udi_unknown_item", gtin=gtin)
        prior = wanted.get(it.id)
        wanted[it.id] = (it, need.quantity + (prior[1] if prior else 0))
    today, now = clock.today(), clock.now()
    with unit_of_work() as s:
        _release(s, case_ref, now)
        held: list[Reservation] = []
        for it, quantity in wanted.values():
            lots = list(s.scalars(select(Lot).where(
                Lot.store_id == st.id, Lot.item_id == it.id, Lot.on_hand > Lot.reserved,
                (Lot.expiry_on.is_(None)) | (Lot.expiry_on >= today)).order_by(Lot.id).with_for_update()))
            lots = [lot for lot in lots if recall_for(it.gtin or "", lot.lot_no) is None]
            lots.sort(key=lambda lot: (lot.expiry_on is None, lot.expiry_on or today, lot.id))
            left = quantity
            for lot in lots:
                if left == 0:
                    break
                s.refresh(lot)
                part = min(left, lot.on_hand - lot.reserved)
                if part <= 0 or rowcount(s.execute(update(Lot).where(
                        Lot.id == lot.id, Lot.on_hand - Lot.reserved >= part)
                        .values(reserved=Lot.reserved + part))) != 1:
                    continue
                row = Reservation(case_ref=case_ref, resident_id=resident_id, store_id=st.id, item_id=it.id,
                                  lot_id=lot.id, quantity=part, consumed=0, status="active", actor=actor,
                                  created_at=now)
                s.add(row)
                held.append(row)
                left -= part
            if left:
                raise InsufficientStock(f"{st.name}的{it.name}可用库存不足（可用 {quantity - left}，预留 {quantity}）",
                                        store_code=st.code, item_code=it.code, requested=quantity,
                                        available=quantity - left)
        s.flush()
        out = [reservation_view(r) for r in held]
    for item_id in {it.id for it, _ in wanted.values()}:
        _after_stock_change(st.id, item_id)
    return out


def release_for_case(case_ref: str) -> int:
    """Give back what is still reserved for a case (cancelled, or the operation is over); returns the units freed."""
    with unit_of_work() as s:
        freed = _release(s, case_ref, clock.now())
    return freed


def _release(s, case_ref: str, now: datetime) -> int:
    freed = 0
    for r in s.scalars(select(Reservation).where(Reservation.case_ref == case_ref, Reservation.status == "active")
                       .order_by(Reservation.lot_id).with_for_update()):
        left = r.quantity - r.consumed
        if left > 0:
            s.execute(update(Lot).where(Lot.id == r.lot_id, Lot.reserved >= left).values(reserved=Lot.reserved - left))
            freed += left
        r.status, r.closed_at = "released", now
    return freed


def _use_reserved(s, st: Store, it: Item, lot_no: str, *, resident_id: int, case_ref: str, actor: str, note: str,
                  at: datetime | None) -> Movement | None:
    """A scan of a unit reserved for this case: consume the scanned lot's reservation (on hand and reserved go down
    together), or release one unit of another lot's reservation so the scanned lot's free stock can be taken.
    None when the case holds no reservation of the item (or only another lot's: then the caller takes free stock)."""
    rows = list(s.scalars(select(Reservation).where(
        Reservation.case_ref == case_ref, Reservation.store_id == st.id, Reservation.item_id == it.id,
        Reservation.status == "active").order_by(Reservation.id).with_for_update()))
    if not rows:
        return None
    lot = s.scalar(select(Lot).where(Lot.store_id == st.id, Lot.item_id == it.id, Lot.lot_no == lot_no,
                                     Lot.on_hand > 0).limit(1))
    same = next((r for r in rows if lot is not None and r.lot_id == lot.id), None)
    r = same or rows[0]
    if same is not None and lot is not None:
        if rowcount(s.execute(update(Lot).where(Lot.id == lot.id, Lot.on_hand >= 1, Lot.reserved >= 1)
                              .values(on_hand=Lot.on_hand - 1, reserved=Lot.reserved - 1))) != 1:
            return None
        movement: Movement | None = _movement(s, "use", st, it, lot, 1, actor=actor, resident_id=resident_id,
                                              case_ref=case_ref, note=note, at=at)
    else:
        s.execute(update(Lot).where(Lot.id == r.lot_id, Lot.reserved >= 1).values(reserved=Lot.reserved - 1))
        movement = None
    r.consumed += 1
    if r.consumed >= r.quantity:
        r.status, r.closed_at = "consumed", clock.now()
    s.flush()
    return movement


def reservations_for(case_ref: str) -> list[dict[str, Any]]:
    """A case's reservations (every state), oldest first."""
    return [reservation_view(r) for r in session().scalars(
        select(Reservation).where(Reservation.case_ref == case_ref).order_by(Reservation.id))]


def reservation_view(r: Reservation) -> dict[str, Any]:
    it, lot, st = session().get(Item, r.item_id), session().get(Lot, r.lot_id), session().get(Store, r.store_id)
    return {"id": r.id, "case_ref": r.case_ref, "store_code": st.code if st else "", "item_code": it.code if it else "",
            "item_name": it.name if it else "", "gtin": it.gtin if it else None, "lot_no": lot.lot_no if lot else "",
            "expiry_on": lot.expiry_on.isoformat() if lot and lot.expiry_on else None, "quantity": r.quantity,
            "consumed": r.consumed, "status": r.status, "status_label": RESERVATION_LABELS[r.status]}


RESERVATION_LABELS = {"active": "已预留", "consumed": "已使用", "released": "已释放"}


# -- recalls and shortages ---------------------------------------------------------------------------------------

def recall_for(gtin: str, lot_no: str | None) -> Recall | None:
    return session().scalar(select(Recall).where(Recall.gtin == gtin, Recall.lot_no.in_(["", lot_no or ""]))
                            .limit(1))


def record_recall(gtin: str, *, lot_no: str = "", reason: str, source: str, issued_on: date, recorded_by: str,
                  level: str = "II") -> Recall:
    """Register a recall of a product lot (UDI-DI + lot); further scans of it are refused and every store holding
    it gets a `recalled_stock` alert. A repeat of the same recall answers the first."""
    gtin = udi_codes.parse(f"(01){gtin.zfill(14)}").gtin
    existing = session().scalar(select(Recall).where(Recall.gtin == gtin, Recall.lot_no == lot_no))
    if existing is not None:
        return existing
    with unit_of_work() as s:
        row = Recall(gtin=gtin, lot_no=lot_no, reason=reason, source=source, issued_on=issued_on, level=level,
                     recorded_by=recorded_by, recorded_at=clock.now())
        s.add(row)
    policy.raise_recall_alerts(row)
    return row


def report_shortage(item_code: str, *, org_code: str, reason: str, reported_by: str, alternative: str = "",
                    expected_on: date | None = None) -> Shortage:
    """Register a drug shortage (短缺药品登记); one active entry per item and organisation."""
    get_org(org_code)
    it = item(item_code)
    existing = session().scalar(select(Shortage).where(Shortage.item_id == it.id, Shortage.org_code == org_code,
                                                       Shortage.status == "active"))
    if existing is not None:
        return existing
    with unit_of_work() as s:
        row = Shortage(item_id=it.id, org_code=org_code, status="active", reason=reason, alternative=alternative,
                       reported_on=clock.today(), expected_on=expected_on, reported_by=reported_by)
        s.add(row)
    return row


def resolve_shortage(shortage_id: int) -> Shortage:
    with unit_of_work() as s:
        row = s.get(Shortage, shortage_id)
        if row is None:
            raise MovementInvalid("短缺登记不存在", code="shortage_not_found", status=404)
        if row.status != "resolved":
            row.status, row.resolved_on = "resolved", clock.today()
    return row


def movements_for(store_id: int, item_id: int, since: datetime) -> Sequence[Movement]:
    return session().scalars(select(Movement).where(Movement.store_id == store_id, Movement.item_id == item_id,
                                                    Movement.at >= since).order_by(Movement.at, Movement.id)).all()


# -- requests from people (scoped) -------------------------------------------------------------------------------

def scoped_store(principal: Principal, code: str) -> Store:
    """The store if the caller may see it (its organisation is in the caller's scope), else 404."""
    st = store(code)
    if not principal.county_wide and not st.org_path.startswith(principal.org_path or "/-none-/"):
        raise StoreNotFound(f"库房 {code} 不存在", store_code=code)
    return st


def record_movement(principal: Principal, store_code: str, *, kind: str, item_code: str, quantity: int,
                    **data: Any) -> list[Movement]:
    """One movement requested by a store keeper (the API's POST …/movements): receipt, return, issue, use,
    return_supplier or transfer (to `to_store_code`). `client_id` makes a repeat act once."""
    st = scoped_store(principal, store_code)
    key = f"api:{data['client_id']}" if data.get("client_id") else None
    actor = principal.username
    if kind in ("receipt", "return"):
        return [receive(st.code, item_code, quantity=quantity, lot_no=data.get("lot_no") or NO_LOT,
                        expiry_on=data.get("expiry_on"), actor=actor, consignment=data.get("consignment", False),
                        supplier=data.get("supplier", ""), source_key=key, kind=kind, note=data.get("note", ""))]
    if kind == "transfer":
        if not data.get("to_store_code"):
            raise MovementInvalid("调拨必须选择调入库房", code="to_store_required")
        return transfer(st.code, scoped_store(principal, data["to_store_code"]).code, item_code, quantity=quantity,
                        actor=actor, source_key=key)
    resident_id = data.get("resident_id")
    if resident_id is not None and get_resident(resident_id, principal) is None:
        raise MovementInvalid("患者不存在或不在您的管理范围", code="resident_not_found", status=404)
    return take(st.code, item_code, quantity=quantity, kind=kind, actor=actor, lot_no=data.get("lot_no"),
                resident_id=resident_id, case_ref=data.get("case_ref"), counterpart=data.get("counterpart"),
                source_key=key, note=data.get("note", ""))


def scan_for_patient(principal: Principal, code: str, *, store_code: str, resident_id: int,
                     case_ref: str) -> dict[str, Any]:
    """`consume_udi` for a signed-in user: the store and the patient must be in the caller's scope."""
    st = scoped_store(principal, store_code)
    if get_resident(resident_id, principal) is None:
        raise MovementInvalid("患者不存在或不在您的管理范围", code="resident_not_found", status=404)
    return consume_udi(code, store_code=st.code, resident_id=resident_id, case_ref=case_ref,
                       used_by=principal.username)
