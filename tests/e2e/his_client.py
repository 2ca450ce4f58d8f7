"""Register an integration client for the hospital's ADT (arrival webhook) of the referral browser story and print
`{"client_id": …, "secret": …}`; the story signs its arrival message with it like any hospital system would.

    DATA_DIR=… python tests/e2e/his_client.py NAME
"""
from __future__ import annotations

import json
import sys


def main(name: str) -> None:
    from app import create_app
    from app.auth.services import create_client
    from app.config import Settings
    app = create_app(Settings.from_env(scheduler_enabled=False))
    with app.app_context():
        client, secret = create_client(name)
        print(json.dumps({"client_id": client.client_id, "secret": secret}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "县人民医院 HIS")
