"""Helpers of the supply tests (no tests here): a county hospital pharmacy (一级库) and the interventional centre's
二级库, a stent with a UDI-DI, warfarin and vitamin K1, and UDIs built for them."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core import clock

STENT_GTIN = "06901234567892"          # valid GS1 check digit
STENT_BAD = "06901234567891"           # same with a wrong check digit


def stent_udi(serial: str, *, lot: str = "L2301", expiry: date | None = None, gtin: str = STENT_GTIN) -> str:
    from app.supply.udi import element_string
    return element_string(gtin, expiry_on=expiry or clock.today() + timedelta(days=400), lot=lot, serial=serial)


@pytest.fixture()
def stores(app, county):
    """Stores and items; returns their codes."""
    from app.supply import services
    with app.app_context():
        services.create_store("PH-C01", "县医院药库", org_code="C01", level="primary")
        services.create_store("IC-C01", "介入中心二级库", org_code="C01D01", level="secondary", parent_code="PH-C01",
                              transfer_lead_days=1)
        services.create_store("PH-T01", "石门镇卫生院药房", org_code="C01T01", level="secondary",
                              parent_code="PH-C01", transfer_lead_days=2)
        services.create_item("STENT-DES", "药物洗脱冠脉支架 3.0×18mm", kind="consumable", unit="个", gtin=STENT_GTIN,
                             high_value=True, unit_price_fen=580000, lead_time_days=5, category="stent")
        services.create_item("WARF-25", "华法林钠片 2.5mg", kind="drug", unit="盒", supervised=True,
                             category="anticoagulant", lead_time_days=7, unit_price_fen=1850)
        services.create_item("VITK1", "维生素K1注射液 10mg", kind="drug", unit="支", rescue=True, category="antidote",
                             lead_time_days=3, unit_price_fen=320)
    return {"primary": "PH-C01", "centre": "IC-C01", "township": "PH-T01"}
