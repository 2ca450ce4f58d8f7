"""The drug catalogue (药品目录): generic name (the code stored in plans), Chinese name, ATC code and class.

Care-plan regimen lines must name a drug of this catalogue; an unknown name is refused with the closest entries as
a pick list. The data lives in `drugs.json` beside this module (one row per drug); dose limits stay in the DMN pack.
"""
from __future__ import annotations

import difflib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("drugs.json")


@lru_cache(maxsize=1)
def catalogue() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(DATA.read_text(encoding="utf-8"))["drugs"])


def find(drug: str | None) -> dict[str, Any] | None:
    """The catalogue entry for a generic name, or None."""
    return next((d for d in catalogue() if d["drug"] == drug), None)


def generic_names() -> list[str]:
    return [d["drug"] for d in catalogue()]


def search(q: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Entries whose generic name, Chinese name or ATC code contains `q` (all when empty)."""
    q = (q or "").strip().lower()
    if not q:
        return list(catalogue())[:limit]
    return [d for d in catalogue() if q in d["drug"] or q in d["name_zh"] or q in d["atc"].lower()][:limit]


def suggestions(text: str | None, *, name: str | None = None, limit: int = 5) -> list[dict[str, Any]]:
    """The closest entries to an unknown generic name (or to the Chinese name on the same line): the pick list."""
    found = search(name)[:limit] if name and search(name) else []
    close = difflib.get_close_matches((text or "").lower(), generic_names(), n=limit, cutoff=0.5)
    for drug in close:
        entry = find(drug)
        if entry and entry not in found:
            found.append(entry)
    return found[:limit] or list(catalogue())[:limit]
