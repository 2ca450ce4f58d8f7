"""Referral exchange with the public-health platform (issue 16, M19). Same REST shape as `sync.py`:

    GET  {base}/referrals?since=C  → {"items": [summary…], "next_cursor": "…"}   outside hospitals' discharge/referral
         summaries of residents of this county (or of people from elsewhere who live here): creates or updates the
         resident (an unknown one → the merge-review task, never a duplicate) and starts the down-referral receipt
    POST {base}/referrals          ← an approved out-of-county up-referral (转诊单 + 医保备案号) → {"id": "<remote id>"}

A summary: {"id", "id_number", "name", "sex", "birth_date", "org_code", "phone"?, "hospital", "disease"?,
"discharge_on"?, "discharge_diagnosis", "course_summary"?, "discharge_medication"?, "long_term_plan"?,
"follow_up_requirements"?}."""
from __future__ import annotations

from datetime import date
from typing import Any

from app.integrations import pushes
from app.referral import exchange
from app.residents.matching import match_or_create
from connectors.rest import RestClient, pull_pages

SYSTEM = "public_health"


class IdentityUnderReview(Exception):
    """The summary names nobody we can tell apart and no merge review could be started (model not deployed): the
    summary is noted on the cursor, not turned into a referral for a guessed person."""


def take_summary(item: dict[str, Any], *, system: str = SYSTEM) -> int | None:
    """Start the receipt for a summary; one whose identity goes to merge review waits on that review (kept in its
    data, without the ID number) and continues when the reviewer answers (`exchange.on_identity_reviewed`)."""
    match = match_or_create(id_number=item.get("id_number"), name=item["name"], sex=item["sex"],
                            birth_date=date.fromisoformat(item["birth_date"]), org_code=item.get("org_code"),
                            phone=item.get("phone"), source=system, pending=exchange.pending_summary(item, system))
    if match.resident_id is None:
        if match.review_instance_id is not None:
            return None
        raise IdentityUnderReview(f"居民身份待核对 (identity under review): {item.get('hospital') or ''}")
    return exchange.receive_summary(match.resident_id, item, system=system).id


def pull(system: str = SYSTEM) -> int:
    """Take new summaries; the number taken."""
    client = RestClient.for_system(system)
    if client is None:
        return 0
    return pull_pages(client, "/referrals", f"{system}.referrals", lambda i: take_summary(i, system=system))


def push(system: str = SYSTEM, limit: int = 200) -> int:
    """Send approved out-of-county referrals still owed (each once; failures retried and reported)."""
    client = RestClient.for_system(system)
    if client is None:
        return 0
    rows = exchange.approved_transfers(limit, owed=lambda id_column: pushes.outstanding(system, "referral", id_column))
    return pushes.push_each(system, "referral", rows, key=lambda row: str(row.id),
                            send=lambda row: client.post("/referrals", exchange.transfer_message(row)))


def exchange_all() -> int:
    """The schedule's entry: pull summaries, then push approvals."""
    return pull() + push()
