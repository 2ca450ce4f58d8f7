"""Send the SPD what it is owed (issue 18.4). Same REST shape as the other connectors:

    POST {base}/replenishments     ← {"request_no", "store_code", "supply_from", "item_code", "spd_code",
                                      "quantity", "reason", "requested_at", …}
    POST {base}/consignment-uses   ← {"use_id", "store_code", "item_code", "gtin", "lot_no", "serial",
                                      "quantity", "case_ref", "used_at"}

configured by `YGT_SPD_URL` / `YGT_SPD_TOKEN` (no URL: nothing is sent, requests stay listed as open on the 库存与
耗材 page). Each record is sent once; a failed post is recorded with its error, retried with backoff and reported
to the county administrators when it keeps failing (app.integrations.pushes) — never silent."""
from __future__ import annotations

from app.integrations import pushes
from app.supply import spd
from connectors.rest import RestClient

SYSTEM = "spd"


def push(system: str = SYSTEM, limit: int = 200) -> int:
    """Send open replenishment requests and consignment uses (the scheduler's `spd.push`); the number sent."""
    client = RestClient.for_system(system)
    if client is None:
        return 0
    requests = spd.pending_replenishments(limit, owed=lambda c: pushes.outstanding(system, "replenishment", c))
    sent = pushes.push_each(system, "replenishment", requests, key=lambda row: str(row.id),
                            send=lambda row: client.post("/replenishments", spd.replenishment_payload(row)))
    uses = spd.pending_consignment_uses(limit, owed=lambda c: pushes.outstanding(system, "consignment_use", c))
    return sent + pushes.push_each(system, "consignment_use", uses, key=lambda row: str(row.id),
                                   send=lambda row: client.post("/consignment-uses", spd.consignment_payload(row)))
