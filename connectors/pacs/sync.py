"""PACS and EMR: links to images and documents attached to the record (study UID, viewer URL, report text), so a
consult or referral shows them. Nothing is copied but the report text.

    GET {base}/studies?since=C   (PACS) → {"items": [{"study_uid", "id_number", "modality", "description",
                                            "performed_at", "viewer_url", "report_text", "org_code"}], "next_cursor"}
    GET {base}/documents?since=C (EMR)  → {"items": [{"id", "id_number", "title", "created_at", "url", "text"}], …}
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from connectors.rest import RestClient, parse_time, pull_pages, resident_by_id_number

from .models import RecordLink


def _upsert(system: str, external_id: str, resident_id: int, **values: Any) -> None:
    row = session().scalars(select(RecordLink).where(RecordLink.system == system,
                                                     RecordLink.external_id == external_id)).first()
    if row is None:
        row = RecordLink(system=system, external_id=external_id, created_at=clock.now())
        session().add(row)
    row.resident_id, row.updated_at = resident_id, clock.now()
    for key, value in values.items():
        setattr(row, key, value)
    session().flush()


def take_study(item: dict[str, Any]) -> None:
    resident_id = resident_by_id_number(item.get("id_number"))
    if resident_id is None:
        raise LookupError("no resident with this ID number")
    _upsert("pacs", item["study_uid"], resident_id, kind="imaging_study", title=item.get("description", "")[:200],
            modality=item.get("modality"), viewer_url=item.get("viewer_url"), report_text=item.get("report_text"),
            performed_at=parse_time(item["performed_at"]) if item.get("performed_at") else None,
            org_code=item.get("org_code"))


def take_document(item: dict[str, Any]) -> None:
    resident_id = resident_by_id_number(item.get("id_number"))
    if resident_id is None:
        raise LookupError("no resident with this ID number")
    _upsert("emr", str(item["id"]), resident_id, kind="document", title=item.get("title", "")[:200],
            viewer_url=item.get("url"), report_text=item.get("text"),
            performed_at=parse_time(item["created_at"]) if item.get("created_at") else None,
            org_code=item.get("org_code"))


def pull() -> int:
    done = 0
    if (pacs := RestClient.for_system("pacs")) is not None:
        done += pull_pages(pacs, "/studies", "pacs.studies", take_study)
    if (emr := RestClient.for_system("emr")) is not None:
        done += pull_pages(emr, "/documents", "emr.documents", take_document)
    return done


def links_of(resident_id: int) -> list[dict[str, Any]]:
    """The resident's image and document links, newest first (for the record, consults and referrals)."""
    rows = session().scalars(select(RecordLink).where(RecordLink.resident_id == resident_id)
                             .order_by(RecordLink.performed_at.desc(), RecordLink.id.desc()))
    return [{"id": r.id, "kind": r.kind, "system": r.system, "external_id": r.external_id, "title": r.title,
             "modality": r.modality, "viewer_url": r.viewer_url, "report_text": r.report_text,
             "performed_at": r.performed_at.isoformat() if r.performed_at else None, "org_code": r.org_code}
            for r in rows]
