"""Set up (or close) a live room for the live-room browser story and print JSON on the last line.

    DATA_DIR=… python tests/e2e/live_room_setup.py open REF USER1 USER2   → {"kind", "ref", "device", "resident_id",
                                                                          "token"} (a monitor gateway's bearer token)
    DATA_DIR=… python tests/e2e/live_room_setup.py close REF             → {"status": "closed"}

The room is ("e2e", REF) with device E2E-MON-REF bound to it; the resident is a demo resident of village C01T01V01.
"""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> None:
    from sqlalchemy import select

    from app import create_app
    from app.auth.models import User
    from app.auth.services import create_client, create_token
    from app.config import Settings
    from app.core.db import session
    from app.live import services as live
    from app.residents.models import Resident
    app = create_app(Settings.from_env(scheduler_enabled=False))
    action, ref = argv[0], int(argv[1])
    with app.app_context():
        if action == "close":
            room = live.close_room("e2e", ref)
            session().commit()
            print(json.dumps({"status": room.status if room else None}))
            return
        users = dict(session().execute(select(User.username, User.id).where(User.username.in_(argv[2:4]))).all())
        resident = session().scalars(select(Resident.id).where(Resident.org_code == "C01T01V01")
                                     .order_by(Resident.id)).first()
        device = f"E2E-MON-{ref}"
        live.open_room("e2e", ref, [users[u] for u in argv[2:4]], "浏览器测试：实时会诊", device_ids=[device])
        client, _secret = create_client(f"监护仪网关（浏览器测试 {ref}）")
        _token, raw = create_token(client.user_id, name="monitor")
        session().commit()
        print(json.dumps({"kind": "e2e", "ref": ref, "device": device, "resident_id": resident, "token": raw}))


if __name__ == "__main__":
    main(sys.argv[1:])
