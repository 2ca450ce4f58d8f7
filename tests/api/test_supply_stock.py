"""Stock movements of supply (issue 18.4): receipt, issue/transfer, use, return, consignment; stock never negative;
UDI scans bound to a patient case; one serial used once; expired and recalled lots blocked; recall finds patients."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from app.auth.principal import SYSTEM
from app.core import clock
from app.core.db import session
from app.supply import queries, services
from app.supply.errors import InsufficientStock, SerialAlreadyUsed, UdiRefused
from app.supply.models import Lot, Movement
from tests.supply_support import STENT_BAD, STENT_GTIN, stent_udi, stores  # noqa: F401  (fixture)
from tests.test_follow_up_support import make_resident


def on_hand(store_code: str, item_code: str) -> int:
    st, it = services.store(store_code), services.item(item_code)
    return session().scalar(select(func.coalesce(func.sum(Lot.on_hand), 0)).where(
        Lot.store_id == st.id, Lot.item_id == it.id))


def test_receipt_then_issue_first_expiry_first_out(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "WARF-25", quantity=10, lot_no="W2", expiry_on=clock.today() + timedelta(days=300),
                         actor="keeper")
        services.receive("PH-C01", "WARF-25", quantity=5, lot_no="W1", expiry_on=clock.today() + timedelta(days=200),
                         actor="keeper")
        moved = services.take("PH-C01", "WARF-25", quantity=7, kind="issue", actor="keeper", counterpart="心内科病区")
        assert [(m.quantity, session().get(Lot, m.lot_id).lot_no) for m in moved] == [(5, "W1"), (2, "W2")]
        assert on_hand("PH-C01", "WARF-25") == 8


def test_an_issue_larger_than_the_stock_is_refused_whole(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "WARF-25", quantity=3, lot_no="W1", expiry_on=None, actor="keeper")
        with pytest.raises(InsufficientStock) as err:
            services.take("PH-C01", "WARF-25", quantity=4, kind="issue", actor="keeper")
        assert err.value.details["available"] == 3
        assert on_hand("PH-C01", "WARF-25") == 3
        assert session().scalar(select(func.count()).select_from(Movement).where(Movement.kind == "issue")) == 0


def test_expired_lots_are_not_issued(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "VITK1", quantity=4, lot_no="OLD", expiry_on=clock.today() - timedelta(days=1),
                         actor="keeper")
        with pytest.raises(InsufficientStock):
            services.take("PH-C01", "VITK1", quantity=1, kind="issue", actor="keeper")


def test_transfer_moves_the_lot_from_primary_to_secondary_store(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "WARF-25", quantity=10, lot_no="W1", expiry_on=None, actor="keeper")
        services.transfer("PH-C01", "PH-T01", "WARF-25", quantity=4, actor="keeper")
        assert (on_hand("PH-C01", "WARF-25"), on_hand("PH-T01", "WARF-25")) == (6, 4)


def test_a_repeated_source_key_acts_once(app, stores):  # noqa: F811
    with app.app_context():
        for _ in range(2):
            services.receive("PH-C01", "WARF-25", quantity=10, lot_no="W1", expiry_on=None, actor="spd",
                             source_key="spd:DLV-1:1")
        assert on_hand("PH-C01", "WARF-25") == 10


def test_use_on_a_patient_needs_the_patient(app, stores):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "WARF-25", quantity=1, lot_no="W1", expiry_on=None, actor="keeper")
        with pytest.raises(Exception) as err:
            services.take("PH-C01", "WARF-25", quantity=1, kind="use", actor="nurse")
        assert getattr(err.value, "code", "") == "patient_required"


# -- UDI --------------------------------------------------------------------------------------------------------

@pytest.fixture()
def stocked(app, stores):  # noqa: F811
    """Two stents of lot L2301 (consignment) in the centre's store, and a patient."""
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=2, lot_no="L2301", consignment=True, supplier="某医疗器械公司",
                         expiry_on=clock.today() + timedelta(days=400), actor="keeper")
    return make_resident(app, org="C01T01V01")


def test_a_scanned_stent_is_bound_to_the_patient_case(app, stocked):
    with app.app_context():
        use = services.consume_udi(stent_udi("SN0001"), store_code="IC-C01", resident_id=stocked,
                                   case_ref="IC-2026-001", used_by="dr_li")
        assert use["item"]["code"] == "STENT-DES" and use["serial"] == "SN0001" and use["lot"] == "L2301"
        assert on_hand("IC-C01", "STENT-DES") == 1
        movement = session().get(Movement, use["movement_id"])
        assert (movement.kind, movement.resident_id, movement.consignment) == ("use", stocked, True)


def test_a_serial_is_used_once(app, stocked):
    with app.app_context():
        services.consume_udi(stent_udi("SN0001"), store_code="IC-C01", resident_id=stocked, case_ref="A",
                             used_by="dr_li")
        with pytest.raises(SerialAlreadyUsed) as err:
            services.consume_udi(stent_udi("SN0001"), store_code="IC-C01", resident_id=stocked, case_ref="B",
                                 used_by="dr_li")
        assert err.value.code == "udi_serial_used"
        assert on_hand("IC-C01", "STENT-DES") == 1


def test_a_wrong_check_digit_is_refused_and_nothing_moves(app, stocked):
    with app.app_context():
        with pytest.raises(UdiRefused) as err:
            services.consume_udi(stent_udi("SN0002", gtin=STENT_BAD), store_code="IC-C01", resident_id=stocked,
                                 case_ref="A", used_by="dr_li")
        assert err.value.code == "udi_bad_check_digit"
        assert on_hand("IC-C01", "STENT-DES") == 2


def test_an_expired_item_is_blocked(app, stocked):
    with app.app_context():
        with pytest.raises(UdiRefused) as err:
            services.consume_udi(stent_udi("SN0003", expiry=clock.today() - timedelta(days=1)), store_code="IC-C01",
                                 resident_id=stocked, case_ref="A", used_by="dr_li")
        assert err.value.code == "udi_expired"


def test_a_recalled_lot_is_blocked_and_the_recall_finds_the_patients(app, stocked):
    with app.app_context():
        services.consume_udi(stent_udi("SN0001"), store_code="IC-C01", resident_id=stocked, case_ref="IC-1",
                             used_by="dr_li")
        services.record_recall(STENT_GTIN, lot_no="L2301", reason="输送系统断裂风险", source="国家药监局",
                               issued_on=date(2026, 12, 1), recorded_by="keeper")
        with pytest.raises(UdiRefused) as err:
            services.consume_udi(stent_udi("SN0004"), store_code="IC-C01", resident_id=stocked, case_ref="IC-2",
                                 used_by="dr_li")
        assert err.value.code == "udi_recalled"
        found = queries.recall_search(STENT_GTIN, "L2301", principal=SYSTEM)
        assert [(u["resident_id"], u["serial"], u["case_ref"]) for u in found["uses"]] == [(stocked, "SN0001", "IC-1")]
        assert [s["store_code"] for s in found["in_stock"]] == ["IC-C01"]


def test_check_udi_previews_without_moving_stock(app, stocked):
    with app.app_context():
        answer = services.check_udi(stent_udi("SN0009"), store_code="IC-C01")
        assert answer["refusal"] is None and answer["item"]["name"].startswith("药物洗脱")
        bad = services.check_udi(stent_udi("SN0009", lot="NOPE"), store_code="IC-C01")
        assert bad["refusal"]["code"] == "insufficient_stock"
        assert on_hand("IC-C01", "STENT-DES") == 2
