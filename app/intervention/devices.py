"""Intra-operative UDI scans. Parsing the UDI (GS1 check digit, expiry, lot, serial), refusing an unknown product,
an expired or recalled lot, a serial already used or an empty store, and taking the unit out of the centre's store
(二级库) belong to the supply chain (`app.supply.services.consume_udi`); this module binds what it consumed to the
case, the patient and the operator. One scan is one unit (each serialised item carries its own code).

The charge is the item's catalogue price; high-value consumables are sold at purchase price (零差率), so the same
price is their cost in the case cost. An item without a 医保耗材编码 is self-pay."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid
from app.supply import services as supply
from app.supply.models import Store

from .models import CaseDevice, InterventionCase

IMPLANT_CATEGORIES = frozenset({"stent", "implant", "valve", "coil", "occluder", "pacemaker", "filter", "graft"})


def centre_store(org_code: str) -> Store:
    """The department's 二级库 (409 `centre_store_not_found` when it has none)."""
    st = session().scalars(select(Store).where(Store.org_code == org_code, Store.level == "secondary")
                           .order_by(Store.id)).first()
    if st is None:
        raise Conflict("本科室没有介入中心二级库，不能扫码使用耗材 (no centre store)", code="centre_store_not_found",
                       status=409, org_code=org_code)
    return st


def scan(case: InterventionCase, udi: str, *, user_id: int, username: str, self_pay: bool = False) -> CaseDevice:
    """Consume the scanned unit from the centre's store and bind it to the case (nothing bound when refused)."""
    udi = (udi or "").strip()
    if not udi:
        raise Invalid("请扫描耗材 UDI 码", code="udi_required", field="udi")
    st = centre_store(case.org_code)
    used = supply.consume_udi(udi, store_code=st.code, resident_id=case.resident_id, case_ref=case.case_no,
                              used_by=username)
    item = supply.item_by_gtin(used["gtin"])
    price = (item.unit_price_fen if item else used["item"].get("unit_price_fen") or 0) / 100
    insurance_code = item.insurance_code if item else used["item"].get("insurance_code")
    with unit_of_work() as s:
        row = CaseDevice(case_id=case.id, udi=udi, gtin=used["gtin"], lot=used.get("lot"), serial=used.get("serial"),
                         expiry=date.fromisoformat(used["expiry_on"]) if used.get("expiry_on") else None,
                         name=item.name if item else used["item"]["name"], quantity=1, unit_price=price,
                         unit_cost=price, insurance_code=insurance_code,
                         high_value=bool(item.high_value if item else used["item"].get("high_value")),
                         implant=bool(item and item.category in IMPLANT_CATEGORIES),
                         self_pay=bool(self_pay or not insurance_code), stock_ref=f"supply-use:{used['use_id']}",
                         scanned_by=user_id, scanned_at=clock.now())
        s.add(row)
        s.flush()
        return row
