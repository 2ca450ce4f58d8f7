"""Pull public-health visits and physical exams; push our follow-up visits. Mapping: docs/integration.md.

    GET  {base}/visits?since=C          → {"items": [visit…], "next_cursor": "…"}
    GET  {base}/physical-exams?since=C  → {"items": [exam…], "next_cursor": "…"}
    POST {base}/follow-ups              ← one of our follow-up encounters → {"id": "<remote id>"}
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from app.auth.crypto import decrypt_field
from app.core import clock
from app.core.db import session
from app.integrations import pushes
from app.residents import intake
from app.residents.matching import match_or_create
from app.residents.models import Resident
from app.residents.record_models import Encounter
from app.residents.record_queries import observations
from connectors.rest import RestClient, parse_time, pull_pages

SYSTEMS = ("public_health", "regional")
VISIT_KINDS = {"follow_up": "public_health_visit", "visit": "public_health_visit", "outpatient": "outpatient",
               "inpatient": "inpatient"}


def _resident(item: dict[str, Any], system: str) -> int | None:
    result = match_or_create(id_number=item.get("id_number"), name=item["name"], sex=item["sex"],
                             birth_date=date.fromisoformat(item["birth_date"]), org_code=item.get("org_code"),
                             phone=item.get("phone"), source=system)
    return result.resident_id


def _observations(item: dict[str, Any], *, system: str, key: str, at) -> list[intake.ObservationFact]:
    return [intake.ObservationFact(code=r["code"], value=r["value"], unit=r.get("unit"), effective_at=at,
                                   client_id=f"{system}:{key}:{r['code']}"[:80]) for r in item.get("results", [])]


def take_visit(item: dict[str, Any], *, system: str) -> None:
    """A visit and its results: one intake submission."""
    resident_id = _resident(item, system)
    if resident_id is None:
        return                                     # identity under review; the next pull after review takes it
    at = parse_time(item["visit_at"])
    visit = intake.EncounterFact(kind=VISIT_KINDS.get(item.get("kind", "visit"), "public_health_visit"),
                                 started_at=at, org_code=item.get("org_code"),
                                 client_id=f"{system}:visit:{item['id']}"[:80],
                                 diagnoses=tuple(item.get("diagnoses", [])))
    intake.submit(resident_id, [visit, *_observations(item, system=system, key=f"visit:{item['id']}", at=at)],
                  source=system, actor=system)


def take_exam(item: dict[str, Any], *, system: str) -> None:
    """A physical exam and its results: one intake submission."""
    resident_id = _resident(item, system)
    if resident_id is None:
        return
    at = parse_time(item["exam_on"])
    exam = intake.EncounterFact(kind="exam", started_at=at, org_code=item.get("org_code"),
                                client_id=f"{system}:exam:{item['id']}"[:80])
    intake.submit(resident_id, [exam, *_observations(item, system=system, key=f"exam:{item['id']}", at=at)],
                  source=system, actor=system)


def pull(system: str = "public_health") -> int:
    """Pull new visits and exams from one system; the number of records taken."""
    client = RestClient.for_system(system)
    if client is None:
        return 0
    return (pull_pages(client, "/visits", f"{system}.visits", lambda i: take_visit(i, system=system))
            + pull_pages(client, "/physical-exams", f"{system}.exams", lambda i: take_exam(i, system=system)))


def push_follow_ups(system: str = "public_health", limit: int = 200) -> int:
    """Push our follow-up encounters still owed to this system (each once; failures retried with backoff and
    reported, app.integrations.pushes); the number sent."""
    client = RestClient.for_system(system)
    if client is None:
        return 0
    rows = session().execute(select(Encounter, Resident).join(Resident, Resident.id == Encounter.resident_id)
                             .where(Encounter.kind == "follow_up", pushes.outstanding(system, "encounter", Encounter.id))
                             .order_by(Encounter.id).limit(limit)).all()
    return pushes.push_each(system, "encounter", rows, key=lambda row: str(row[0].id),
                            send=lambda row: client.post("/follow-ups", _follow_up(*row)))


def _follow_up(encounter, resident) -> dict[str, Any]:
    at = encounter.started_at
    day = clock.date_of(at)       # the county's calendar day, not the UTC date
    same_day = [o for o in observations(resident.id, limit=50)
                if clock.date_of(datetime.fromisoformat(o["effective_at"])) == day]
    return {"local_id": str(encounter.id), "id_number": decrypt_field(resident.id_number_encrypted),
            "name": resident.name, "visit_at": at.isoformat(), "org_code": encounter.org_code,
            "diagnoses": encounter.diagnoses, "results": [{"code": o["code"], "value": o["value"], "unit": o["unit"]}
                                                          for o in same_day]}


def pull_all() -> int:
    return sum(pull(s) for s in SYSTEMS)


def push_all() -> int:
    return sum(push_follow_ups(s) for s in SYSTEMS)
