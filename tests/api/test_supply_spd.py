"""The SPD connector (医共体统一供应链 is the source of truth): deliveries and distributions arrive by signed webhook
and are applied once per SPD message id; replenishment requests and consignment uses go out through the outbound
push mechanism, so a failing SPD is recorded and retried, never silent."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.core import clock
from app.core.db import session
from app.integrations.models import ExternalPush
from app.supply import policy, queries, services
from app.supply.models import Lot
from tests.api.test_connectors import _server
from tests.api.test_webhooks import integration_client, signed_post  # noqa: F401  (fixture)
from tests.supply_support import stent_udi, stores  # noqa: F401  (fixture)
from tests.test_follow_up_support import make_resident


def delivery(message_id: str = "SPD-DLV-1", **extra) -> dict:
    return {"message_id": message_id, "type": "delivery", "store_code": "PH-C01", "supplier": "国药控股",
            "lines": [{"item_code": "WARF-25", "quantity": 40, "lot_no": "W7",
                       "expiry_on": (clock.today() + timedelta(days=500)).isoformat()}], **extra}


def stock(app, store: str) -> int:
    with app.app_context():
        st = services.store(store)
        return session().scalar(select(func.coalesce(func.sum(Lot.on_hand), 0)).where(Lot.store_id == st.id))


def test_a_delivery_is_applied_once_per_spd_message_id(app, client, stores, integration_client):  # noqa: F811
    first = signed_post(client, integration_client, "spd_movement", delivery())
    assert first.status_code == 200, first.json
    assert first.json["lines"] == [{"line": 1, "item_code": "WARF-25", "quantity": 40, "lot_no": "W7"}]
    again = signed_post(client, integration_client, "spd_movement", delivery())      # new webhook-id, same message
    assert again.status_code == 200 and again.json["repeat"] is True
    assert stock(app, "PH-C01") == 40


def test_a_distribution_moves_stock_to_the_secondary_store(app, client, stores, integration_client):  # noqa: F811
    signed_post(client, integration_client, "spd_movement", delivery())
    moved = signed_post(client, integration_client, "spd_movement",
                        {"message_id": "SPD-DST-1", "type": "distribution", "store_code": "PH-C01",
                         "to_store_code": "PH-T01", "lines": [{"item_code": "WARF-25", "quantity": 15}]})
    assert moved.status_code == 200, moved.json
    assert (stock(app, "PH-C01"), stock(app, "PH-T01")) == (25, 15)


def test_a_distribution_beyond_the_stock_is_refused_whole(app, client, stores, integration_client):  # noqa: F811
    signed_post(client, integration_client, "spd_movement", delivery())
    refused = signed_post(client, integration_client, "spd_movement",
                          {"message_id": "SPD-DST-2", "type": "distribution", "store_code": "PH-C01",
                           "to_store_code": "PH-T01", "lines": [{"item_code": "WARF-25", "quantity": 10},
                                                                {"item_code": "WARF-25", "quantity": 31}]})
    assert refused.status_code == 409 and refused.json["code"] == "insufficient_stock"
    assert (stock(app, "PH-C01"), stock(app, "PH-T01")) == (40, 0)


def test_an_unknown_spd_item_is_refused(app, client, stores, integration_client):  # noqa: F811
    body = delivery("SPD-DLV-9")
    body["lines"] = [{"spd_code": "SPD-NOPE", "quantity": 1}]
    refused = signed_post(client, integration_client, "spd_movement", body)
    assert refused.status_code == 404 and refused.json["code"] == "unknown_spd_item"


def test_a_delivery_answering_a_request_closes_it(app, client, stores, integration_client):  # noqa: F811
    with app.app_context():
        services.receive("PH-C01", "WARF-25", quantity=50, lot_no="W1", expiry_on=None, actor="keeper")
        for quantity in (2, 4, 2, 4, 2, 4, 2, 4, 2, 4):
            clock.advance(timedelta(days=1))
            services.take("PH-C01", "WARF-25", quantity=quantity, kind="issue", actor="keeper")
        [request] = queries.replenishments()
        request_no = request.request_no
    answer = signed_post(client, integration_client, "spd_movement", delivery("SPD-DLV-2", request_no=request_no))
    assert answer.status_code == 200
    with app.app_context():
        assert queries.replenishments() == [] and policy.open_alerts() == []


def test_replenishments_and_consignment_uses_are_pushed_and_failures_recorded(app, monkeypatch, stores):  # noqa: F811
    from connectors.spd import outbound
    resident = make_resident(app)
    with app.app_context():
        services.receive("IC-C01", "STENT-DES", quantity=1, lot_no="L2301", consignment=True, actor="keeper",
                         expiry_on=clock.today() + timedelta(days=400))
        services.consume_udi(stent_udi("SN0001"), store_code="IC-C01", resident_id=resident, case_ref="IC-1",
                             used_by="dr")
        services.receive("PH-C01", "WARF-25", quantity=50, lot_no="W1", expiry_on=None, actor="keeper")
        for quantity in (2, 4, 2, 4, 2, 4, 2, 4, 2, 4):
            clock.advance(timedelta(days=1))
            services.take("PH-C01", "WARF-25", quantity=quantity, kind="issue", actor="keeper")
    def refuse(handler):
        return 503, {"error": "维护中"}
    server = _server(monkeypatch, "spd", {"/replenishments": refuse, "/consignment-uses": (201, {"id": "S-1"})})
    try:
        with app.app_context():
            # the consignment use went out; both requests (the used stent, the warfarin) failed
            assert outbound.push() == 1
            rows = session().scalars(select(ExternalPush).where(ExternalPush.system == "spd")
                                     .order_by(ExternalPush.object_type, ExternalPush.id)).all()
            assert [(r.object_type, r.status) for r in rows] == [("consignment_use", "sent"),
                                                                  ("replenishment", "failed"),
                                                                  ("replenishment", "failed")]
            assert "503" in rows[1].last_error and rows[1].next_attempt_at is not None
            assert outbound.push() == 0                    # nothing again before the retry time
    finally:
        server.close()
