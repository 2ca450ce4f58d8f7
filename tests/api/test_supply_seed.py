"""The demo stock (`app/seed/supply.py`) shows every capability: a low-stock alert with a replenishment request, a
near-expiry lot, a recalled lot that the recall search traces to a patient, a shortage entry; it runs once."""
from __future__ import annotations

from app.auth.principal import SYSTEM
from app.seed.supply import BALLOON_GTIN, seed_supply
from app.supply import queries
from tests.test_follow_up_support import make_resident

ORGS = (("C01", "青溪县人民医院", "county", None), ("C01D03", "药剂科", "department", "C01"),
        ("C01D04", "微创介入中心", "department", "C01"), ("C01T02", "石门镇中心卫生院", "township", "C01"),
        ("C01T02V01", "东坞村卫生室", "village", "C01T02"))


def test_the_demo_stock_shows_alerts_a_recall_and_a_shortage(app):
    from app.org.services import create_org
    with app.app_context():
        for code, name, level, parent in ORGS:
            create_org(code, name, level=level, parent_code=parent)
    make_resident(app, org="C01T02V01", seed=1)
    make_resident(app, org="C01T02V01", name="李秀英", sex="F", seed=2)
    with app.app_context():
        added = seed_supply()
        assert added["supply_udi_uses"] == 2
        alerts = {(a["kind"], a["item_name"]) for a in queries.alerts(SYSTEM)}
        assert ("below_rop", "华法林钠片 2.5mg×60片") in alerts
        assert ("near_expiry", "那屈肝素钙注射液 0.4ml:4100IU") in alerts
        assert ("recalled_stock", "冠脉球囊扩张导管 2.5×15mm") in alerts
        assert len(queries.replenishments()) >= 1
        assert [u["case_ref"] for u in queries.recall_search(BALLOON_GTIN, "B2406", principal=SYSTEM)["uses"]] == \
            ["IC-DEMO-0002"]
        assert [s["item"]["code"] for s in queries.shortages()] == ["PROT-50"]
        assert seed_supply() == {}
