"""Send pre-review results back to the HIS (issue 18.1). Same REST shape as the other connectors:

    POST {base}/prescriptions/results  ← {"rx_id", "version", "outcome": passed|refused|withdrawn, "note",
                                          "findings": [{code, grade, message}], …}

configured by `YGT_HIS_URL` / `YGT_HIS_TOKEN` (no URL: nothing is sent, the results stay `pending` and are shown on
`GET /api/v1/prescriptions/{id}`). Each result is sent once; a failed post leaves it pending, is retried with
backoff and reported to the county administrators when it keeps failing (app.integrations.pushes)."""
from __future__ import annotations

from app.core import logs
from app.integrations import pushes
from app.pharmacy import services
from connectors.rest import RestClient

SYSTEM = "his"
log = logs.get("his")


def push(system: str = SYSTEM, limit: int = 200) -> int:
    """Send pending results (the scheduler's `his.prescription_results`); the number sent."""
    client = RestClient.for_system(system)
    if client is None:
        return 0
    rows = services.pending_results(limit, owed=lambda id_column: pushes.outstanding(system, "rx_result", id_column))

    def send(row):
        answer = client.post("/prescriptions/results", row.payload)
        services.mark_result_sent(row.id)
        return answer
    return pushes.push_each(system, "rx_result", rows, key=lambda row: str(row.id), send=send)
