"""Set up a batch start with one failed item and one still pending for the 批量启动 browser story; print JSON on the
last line.

    DATA_DIR=… python tests/e2e/batch_setup.py   → {"batch_id", "resident_name"}

Two follow-up starts of two demo residents of village C01T01V01, one chunk each. The first chunk is run here with a
source that refuses its item in words (居民档案不全…), as a capability's source does; the second chunk is left
pending (as after a worker was killed), so 继续 has something to start: the server starts it from the item's data.
"""
from __future__ import annotations

import json

REASON = "居民档案不全：缺少联系电话，无法安排随访"


def main() -> None:
    from sqlalchemy import select

    from app import create_app
    from app.config import Settings
    from app.core import clock
    from app.core.db import session
    from app.residents.models import Resident
    from app.workflows import batch
    app = create_app(Settings.from_env(scheduler_enabled=False))
    with app.app_context():
        residents = session().execute(select(Resident.id, Resident.name).where(Resident.org_code == "C01T01V01")
                                      .order_by(Resident.id).limit(2)).all()
        due = clock.today().isoformat()
        stamp = clock.now().strftime("%Y%m%d%H%M%S%f")

        def data(rid: int) -> dict:
            return {"resident_id": rid, "disease": "htn", "risk_level": "HIGH", "high_risk": True, "cycle_no": 1,
                    "due_on": due, "due_at": f"{due}T15:59:59+00:00", "plan": {}, "last": {}, "device": {},
                    "age": 70, "prev_uncontrolled": False}
        items = [batch.StartItem(ref=f"e2e-{stamp}-{n}", business_key=f"e2e-batch:{stamp}:{n}", data=data(rid),
                                 resident_id=rid) for n, (rid, _name) in enumerate(residents)]
        batch_id = batch.create_batch("manual", "follow_up", items, created_by="system", chunk_size=1, run=False)
        session().commit()
        batch.register_source("manual", prepare=lambda s, its: {i.ref: REASON for i in its})
        try:
            batch.run_chunk(batch_id, 1, 1)
        finally:
            batch._sources.pop("manual", None)
        print(json.dumps({"batch_id": batch_id, "resident_name": residents[0].name, "reason": REASON},
                         ensure_ascii=False))


if __name__ == "__main__":
    main()
