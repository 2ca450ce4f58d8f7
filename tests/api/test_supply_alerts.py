"""Reorder point, safety stock and alerts (wave2.md §3.4): a worked example of the formula, the keeper's
notification and the replenishment owed to the SPD, near-expiry lots and recalled stock."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.auth.principal import SYSTEM
from app.core import clock
from app.core.db import session
from app.notifications.models import Notification
from app.supply import policy, queries, services
from tests.supply_support import STENT_GTIN, stores  # noqa: F401  (fixture)

DEMAND = [2, 4, 2, 4, 2, 4, 2, 4, 2, 4]      # mean 3 a day, population σ 1


def run_ten_days(store: str = "PH-C01", item: str = "WARF-25", received: int = 50) -> None:
    services.receive(store, item, quantity=received, lot_no="W1", expiry_on=clock.today() + timedelta(days=700),
                     actor="keeper")
    for quantity in DEMAND:
        clock.advance(timedelta(days=1))
        services.take(store, item, quantity=quantity, kind="issue", actor="keeper")


def test_worked_example_of_safety_stock_and_reorder_point(app, stores):  # noqa: F811
    with app.app_context():
        run_ten_days(received=200)
        pol = policy.compute(services.store("PH-C01"), services.item("WARF-25"))
    # L = 7 d (supplier), z = 1.65: SS = ceil(1.65 × 1 × √7) = ceil(4.37) = 5; ROP = ceil(3 × 7 + 5) = 26;
    # MAX = 26 + ceil(3 × 7) = 47. The receipt day (opened empty, no demand) is a stock-out day, left out.
    assert (pol.mean_daily, pol.sd_daily, pol.lead_days, pol.observed_days) == (3.0, 1.0, 7, 10)
    assert (pol.safety_stock, pol.reorder_point, pol.max_stock) == (5, 26, 47)
    assert pol.on_hand == 170 and pol.days_of_supply == 56.7


def test_rescue_drugs_use_a_higher_service_level(app, stores):  # noqa: F811
    with app.app_context():
        run_ten_days(item="VITK1", received=200)
        pol = policy.compute(services.store("PH-C01"), services.item("VITK1"))
    # z = 2.33, L = 3: SS = ceil(2.33 × √3) = ceil(4.04) = 5; ROP = ceil(9 + 5) = 14
    assert (pol.z, pol.safety_stock, pol.reorder_point) == (2.33, 5, 14)


def test_falling_below_the_reorder_point_alerts_the_keeper_and_owes_a_replenishment(app, stores, login_as):  # noqa: F811
    keeper = login_as("pharmacist", org="C01")
    login_as("pharmacist", org="C01T01")                      # another organisation's pharmacist: not told
    with app.app_context():
        run_ten_days(received=50)                            # stock 26 after day 8 = ROP → alert
        alerts = policy.open_alerts()
        assert [a.kind for a in alerts] == ["below_rop"]
        [request] = queries.replenishments()
        assert (request.quantity, request.reason) == (47 - 26, "below_rop")
        pol = policy.compute(services.store("PH-C01"), services.item("WARF-25"))
        assert (pol.usable, pol.on_order, pol.available) == (20, 21, 41)
        notes = session().scalars(select(Notification).where(Notification.kind == "supply_alert")).all()
        assert [n.user_id for n in notes] == [keeper.user.id]
        assert "华法林" in notes[0].title and "低于请领点" in notes[0].title


def test_the_alert_closes_when_the_delivery_arrives(app, stores):  # noqa: F811
    with app.app_context():
        run_ten_days(received=50)
        [request] = queries.replenishments()
        services.receive("PH-C01", "WARF-25", quantity=request.quantity, lot_no="W2", actor="spd",
                         expiry_on=clock.today() + timedelta(days=700), request_no=request.request_no)
        assert policy.open_alerts() == []
        assert queries.replenishments() == []


def test_stock_at_or_below_safety_stock_is_critical(app, stores):  # noqa: F811
    with app.app_context():
        run_ten_days(received=50)
        services.take("PH-C01", "WARF-25", quantity=16, kind="issue", actor="keeper")   # 4 left ≤ SS
        kinds = {a.kind for a in policy.open_alerts()}
    assert "below_safety" in kinds and "below_rop" not in kinds


def test_a_lot_near_expiry_raises_an_alert_with_its_value(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "WARF-25", quantity=10, lot_no="SOON", actor="keeper",
                         expiry_on=clock.today() + timedelta(days=60))
        [alert] = policy.open_alerts()
        assert alert.kind == "near_expiry" and alert.details["value_fen"] == 10 * 1850
        assert queries.indicators(None)["near_expiry_value_fen"] == 0       # nobody in scope
        assert queries.indicators(SYSTEM)["near_expiry_value_fen"] == 18500


def test_a_recall_alerts_every_store_holding_the_lot(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=2, lot_no="L9", actor="keeper",
                         expiry_on=clock.today() + timedelta(days=600))
        services.record_recall(STENT_GTIN, lot_no="L9", reason="标签错误", source="生产企业",
                               issued_on=date(2026, 12, 1), recorded_by="keeper")
        assert [a.kind for a in policy.open_alerts()] == ["recalled_stock"]


def test_stock_out_days_count_days_that_closed_empty(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "VITK1", quantity=2, lot_no="K1", expiry_on=None, actor="keeper")
        clock.advance(timedelta(days=1))
        services.take("PH-C01", "VITK1", quantity=2, kind="issue", actor="keeper")
        clock.advance(timedelta(days=3))
        pol = policy.compute(services.store("PH-C01"), services.item("VITK1"))
    assert pol.stockout_days == 4          # the issue day closed at 0, then three empty days
