"""A small JSON-over-HTTP client for the pull/push adapters (public health, regional platform, insurance, PACS/EMR).

Base URL and token per system from the environment (`YGT_<SYSTEM>_URL`, `YGT_<SYSTEM>_TOKEN`); unset URL means the
adapter is not configured and its schedule does nothing. Pulls keep a cursor in `sync_cursors`.
"""
from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

from app.auth.principal import SYSTEM
from app.core import clock
from app.core.db import session, unit_of_work
from app.integrations.models import SyncCursor
from app.residents import queries

TIMEOUT_S = 30


class RestClient:
    def __init__(self, base_url: str, token: str = "") -> None:
        self.base_url, self.token = base_url.rstrip("/"), token

    @classmethod
    def for_system(cls, system: str) -> RestClient | None:
        url = os.environ.get(f"YGT_{system.upper()}_URL")
        return cls(url, os.environ.get(f"YGT_{system.upper()}_TOKEN", "")) if url else None

    def _request(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        query = "?" + urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None}) \
            if params else ""
        request = urllib.request.Request(self.base_url + path + query, method=method,
                                         data=json.dumps(body, ensure_ascii=False).encode() if body is not None
                                         else None,
                                         headers={"Content-Type": "application/json", "Accept": "application/json",
                                                  **({"Authorization": f"Bearer {self.token}"} if self.token else {})})
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read() or b"null")

    def get(self, path: str, **params) -> Any:
        return self._request("GET", path, params=params)

    def post(self, path: str, body: Any) -> Any:
        return self._request("POST", path, body=body)


def cursor(name: str) -> str | None:
    row = session().get(SyncCursor, name)
    return row.cursor if row else None


def save_cursor(name: str, value: str | None, *, pulled: int, error: str | None = None) -> None:
    with unit_of_work() as s:
        row = s.get(SyncCursor, name) or SyncCursor(name=name, pulled=0)
        row.cursor = value if value is not None else row.cursor
        row.pulled, row.last_run_at, row.last_error = (row.pulled or 0) + pulled, clock.now(), error
        s.add(row)


def pull_pages(client: RestClient, path: str, name: str, handle, *, max_pages: int = 20) -> int:
    """Follow `{"items": [...], "next_cursor": "..."}` pages from the saved cursor; `handle(item)` each item in its
    own transaction (one bad record is logged on the cursor and skipped, not a stuck sync)."""
    done, errors = 0, []
    since = cursor(name)
    for _ in range(max_pages):
        page = client.get(path, since=since)
        for item in page.get("items", []):
            try:
                with unit_of_work():
                    handle(item)
                done += 1
            except Exception as exc:  # noqa: BLE001  (recorded; the sync goes on)
                session().rollback()
                errors.append(f"{item.get('id') or item.get('case_no') or '?'}: {exc}")
        since = page.get("next_cursor") or since
        save_cursor(name, since, pulled=len(page.get("items", [])), error="; ".join(errors)[-2000:] or None)
        if not page.get("next_cursor") or not page.get("items"):
            break
    return done


def resident_by_id_number(id_number: str | None) -> int | None:
    """The registered resident with this ID number (keyed-hash lookup), or None."""
    if not id_number:
        return None
    found, _ = queries.search_residents(SYSTEM, q=id_number, per_page=1)
    return found[0].id if found else None


def parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return clock.assume_local(parsed)
