"""Races on the last unit through the real database (threads, one connection each): of simultaneous issues of the
last unit exactly one succeeds and stock never goes negative; of two simultaneous scans of one serial exactly one
binds it."""
from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import func, select

from app.core import clock, db
from app.supply import services
from app.supply.errors import InsufficientStock, SerialAlreadyUsed
from app.supply.models import Lot, Movement, Reservation, UdiUse
from tests.supply_support import stent_udi, stores  # noqa: F401  (fixture)
from tests.test_follow_up_support import make_resident


def race(app, n, action):
    """Run `action(i)` in n threads released at the same moment; each result is 'ok' or the error code."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def run(i):
        with app.app_context():
            barrier.wait()
            try:
                action(i)
                results[i] = "ok"
            except (InsufficientStock, SerialAlreadyUsed) as exc:
                results[i] = exc.code
            finally:
                db.remove_session()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_of_concurrent_issues_of_the_last_unit_exactly_one_succeeds(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "VITK1", quantity=1, lot_no="K1", expiry_on=None, actor="keeper")
    results = race(app, 4, lambda i: services.take("PH-C01", "VITK1", quantity=1, kind="issue", actor=f"k{i}"))
    assert sorted(results) == ["insufficient_stock"] * 3 + ["ok"], results
    with app.app_context():
        assert db.session().scalar(select(Lot.on_hand)) == 0
        assert db.session().scalar(select(func.count()).select_from(Movement).where(Movement.kind == "issue")) == 1


def test_of_two_concurrent_scans_of_one_serial_exactly_one_binds_it(app, stores):  # noqa: F811
    resident = make_resident(app)
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=2, lot_no="L2301", actor="keeper",
                         expiry_on=clock.today() + timedelta(days=400))
    code = stent_udi("SN0100")
    results = race(app, 2, lambda i: services.consume_udi(code, store_code="IC-C01", resident_id=resident,
                                                          case_ref=f"IC-{i}", used_by="dr"))
    assert sorted(results) == ["ok", "udi_serial_used"], results
    with app.app_context():
        assert db.session().scalar(select(func.count()).select_from(UdiUse)) == 1
        assert db.session().scalar(select(func.sum(Lot.on_hand))) == 1


def test_of_two_reservations_racing_for_the_last_unit_exactly_one_wins(app, stores):  # noqa: F811
    """Two booked cases reserve the last stent at the same moment (lots read FOR UPDATE on PostgreSQL, the hold a
    conditional UPDATE): one holds it, the other is refused `insufficient_stock`; on hand is untouched."""
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=1, lot_no="L2301", actor="keeper",
                         expiry_on=clock.today() + timedelta(days=400))
        gtin = services.item("STENT-DES").gtin
    results = race(app, 2, lambda i: services.reserve_for_case("IC-C01", f"JR-{i}", [services.Need(gtin, 1)],
                                                               actor=f"dr{i}"))
    assert sorted(results) == ["insufficient_stock", "ok"], results
    with app.app_context():
        lot = db.session().scalars(select(Lot)).one()
        assert (lot.on_hand, lot.reserved) == (1, 1)
        assert db.session().scalar(select(func.count()).select_from(Reservation)
                                   .where(Reservation.status == "active")) == 1


def test_a_reservation_and_an_issue_racing_for_the_last_unit_exactly_one_wins(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=1, lot_no="L2301", actor="keeper",
                         expiry_on=clock.today() + timedelta(days=400))
        gtin = services.item("STENT-DES").gtin

    def act(i):
        if i == 0:
            services.reserve_for_case("IC-C01", "JR-0", [services.Need(gtin, 1)], actor="dr")
        else:
            services.take("IC-C01", "STENT-DES", quantity=1, kind="issue", actor="keeper")
    results = race(app, 2, act)
    assert sorted(results) == ["insufficient_stock", "ok"], results
    with app.app_context():
        lot = db.session().scalars(select(Lot)).one()
        assert lot.on_hand - lot.reserved == 0 and lot.reserved in (0, 1) and lot.on_hand >= lot.reserved
