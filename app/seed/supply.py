"""Demo stock (`库存与耗材`): the county pharmacy's 一级库, the interventional centre's and 石门镇's 二级库, supervised
anticoagulants with their antidotes and high-value consumables with UDI-DIs; 30 days of receipts and issues so the
township's warfarin sits below its reorder point (an alert and a replenishment request owed to the SPD), a
low-molecular-weight heparin lot near expiry, a stent used on a demo patient, a recalled balloon lot used on another
patient (the recall search finds them), and a drug-shortage entry. Everything goes through the supply services."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.org.queries import find_org
from app.residents.models import Resident
from app.supply import queries as supply_queries
from app.supply import services as supply
from app.supply.udi import element_string

STENT_GTIN, BALLOON_GTIN, WIRE_GTIN = "06901234567892", "06901234500011", "06901234500028"
STORES = (("C01-PH", "县医院药库", "C01D03", "primary", None, 1),
          ("C01-IC", "微创介入中心二级库", "C01D04", "secondary", "C01-PH", 1),
          ("C01T02-PH", "石门镇中心卫生院药房", "C01T02", "secondary", "C01-PH", 2))
ITEMS = (
    ("WARF-25", "华法林钠片 2.5mg×60片", "drug", "盒", None, {"supervised": True, "category": "anticoagulant",
                                                         "unit_price_fen": 1850, "lead_time_days": 7}),
    ("RIVA-20", "利伐沙班片 20mg×7片", "drug", "盒", None, {"supervised": True, "category": "anticoagulant",
                                                       "unit_price_fen": 6830, "lead_time_days": 7}),
    ("NADRO-4100", "那屈肝素钙注射液 0.4ml:4100IU", "drug", "支", None, {"supervised": True, "category": "anticoagulant",
                                                              "unit_price_fen": 3260, "lead_time_days": 5}),
    ("VITK1-10", "维生素K1注射液 1ml:10mg", "drug", "支", None, {"rescue": True, "category": "antidote",
                                                          "unit_price_fen": 320, "lead_time_days": 3}),
    ("PROT-50", "硫酸鱼精蛋白注射液 5ml:50mg", "drug", "支", None, {"rescue": True, "category": "antidote",
                                                           "unit_price_fen": 2450, "lead_time_days": 5}),
    ("STENT-DES", "药物洗脱冠脉支架 3.0×18mm", "consumable", "个", STENT_GTIN,
     {"high_value": True, "category": "stent", "unit_price_fen": 580000, "lead_time_days": 5,
      "insurance_code": "C0302010010000007890123", "spd_code": "SPD-HV-0001"}),
    ("BALLOON-25", "冠脉球囊扩张导管 2.5×15mm", "consumable", "根", BALLOON_GTIN,
     {"high_value": True, "category": "balloon", "unit_price_fen": 198000, "lead_time_days": 5,
      "spd_code": "SPD-HV-0002"}),
    ("WIRE-014", "PTCA 导引导丝 0.014in", "consumable", "根", WIRE_GTIN,
     {"high_value": True, "category": "guidewire", "unit_price_fen": 86000, "lead_time_days": 5}),
)
KEEPER = "pharmacist"


def seed_supply() -> dict[str, int]:
    """Create the demo stock once (nothing when the stores exist or the demo county is missing)."""
    if supply_queries.store_exists("C01-PH") or not _org_exists("C01D04"):
        return {}
    for code, name, org, level, parent, lead in STORES:
        supply.create_store(code, name, org_code=org, level=level, parent_code=parent, transfer_lead_days=lead)
    for code, name, kind, unit, gtin, fields in ITEMS:
        supply.create_item(code, name, kind=kind, unit=unit, gtin=gtin, **fields)
    movements = _history()
    patients = list(session().scalars(select(Resident).where(Resident.org_code.like("C01T02%"))
                                      .order_by(Resident.id).limit(2)))
    uses = _cases(patients) if len(patients) == 2 else 0
    supply.record_recall(BALLOON_GTIN, lot_no="B2406", reason="球囊爆破压低于标称值, 企业主动召回", source="生产企业 / 省药监局",
                         issued_on=clock.today() - timedelta(days=2), recorded_by=KEEPER, level="II")
    supply.report_shortage("PROT-50", org_code="C01", reason="生产企业停产, 省集中采购平台暂停供货",
                           alternative="介入中心保留 4 支备用; 需要时从市人民医院调剂", reported_by=KEEPER,
                           expected_on=clock.today() + timedelta(days=45))
    return {"supply_stores": len(STORES), "supply_items": len(ITEMS), "supply_movements": movements,
            "supply_udi_uses": uses}


def _org_exists(code: str) -> bool:
    return find_org(code) is not None


def _history() -> int:
    """30 days: deliveries into the 一级库, transfers to the 二级库, daily issues (warfarin at 石门镇 runs low)."""
    today, count = clock.today(), 0
    start = clock.now() - timedelta(days=30)
    for item, qty, lot, days in (("WARF-25", 200, "W2410", 540), ("RIVA-20", 120, "R2409", 600),
                                 ("NADRO-4100", 80, "N2403", 45), ("NADRO-4100", 60, "N2411", 500),
                                 ("VITK1-10", 60, "K2408", 400), ("PROT-50", 4, "P2402", 300)):
        supply.receive("C01-PH", item, quantity=qty, lot_no=lot, expiry_on=today + timedelta(days=days),
                       supplier="国药控股浙江有限公司", actor="SPD:demo", at=start)
        count += 1
    for item, qty, lot, consignment in (("STENT-DES", 6, "S2411", True), ("BALLOON-25", 5, "B2406", True),
                                        ("BALLOON-25", 4, "B2410", True), ("WIRE-014", 10, "G2409", True)):
        supply.receive("C01-IC", item, quantity=qty, lot_no=lot, expiry_on=today + timedelta(days=420),
                       consignment=consignment, supplier="某医疗器械有限公司", actor="SPD:demo", at=start)
        count += 1
    supply.transfer("C01-PH", "C01T02-PH", "WARF-25", quantity=36, actor="SPD:demo", at=start + timedelta(hours=2))
    supply.transfer("C01-PH", "C01T02-PH", "VITK1-10", quantity=10, actor="SPD:demo", at=start + timedelta(hours=2))
    count += 2
    for day in range(29, 0, -1):
        at = clock.now() - timedelta(days=day)
        quantity = 1 + (day % 3)                       # 1, 2, 3 … a day: the township's warfarin demand
        if day <= 16:
            supply.take("C01T02-PH", "WARF-25", quantity=quantity, kind="issue", actor=KEEPER,
                        counterpart="门诊药房", at=at)
            count += 1
        supply.take("C01-PH", "RIVA-20", quantity=2, kind="issue", actor=KEEPER, counterpart="心内科病区", at=at)
        count += 1
    return count


def _cases(patients: list[Resident]) -> int:
    """A stent used on one patient's PCI, a balloon of the later-recalled lot on another's."""
    today = clock.today()
    first, second = patients
    supply.consume_udi(element_string(STENT_GTIN, expiry_on=today + timedelta(days=420), lot="S2411", serial="DES0001"),
                       store_code="C01-IC", resident_id=first.id, case_ref="IC-DEMO-0001", used_by="specialist_mic",
                       at=clock.now() - timedelta(days=5))
    supply.consume_udi(element_string(BALLOON_GTIN, expiry_on=today + timedelta(days=420), lot="B2406",
                                      serial="BL0007"),
                       store_code="C01-IC", resident_id=second.id, case_ref="IC-DEMO-0002", used_by="specialist_mic",
                       at=clock.now() - timedelta(days=4))
    return 2
