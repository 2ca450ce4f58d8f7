"""Who may read a resident's network record (全网记录), and where its documents come from.

Inside the caller's data scope the usual rule decides. Outside it, a capability that links the caller's
organisation to the resident for a while (an open referral today, a remote consult tomorrow) answers through a
provider plugged in by `app.wiring`:

    network_access_provider("referral")(referral_queries.open_referral_of)   # (principal, resident_id) -> grant|None
    network_access_provider("consult")(consult_queries.open_consult_of)      # the same shape

A grant is `{"ref": <id>, "label": <Chinese text shown with the record>}`. No grant → 404, as if the resident did
not exist. Documents the connectors hold (PACS studies, ECGs, EMR discharge summaries) come through
`documents_provider`, since connectors sit above the capabilities.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.auth.principal import Principal, reads_phi
from app.core.db import session
from app.core.errors import NotFound
from app.residents.models import Resident
from app.residents.queries import get_resident

AccessProvider = Callable[[Principal, int], dict[str, Any] | None]
DocumentsProvider = Callable[[int], list[dict[str, Any]]]
_access: dict[str, AccessProvider] = {}
_documents: list[DocumentsProvider] = []
KIND_LABELS = {"scope": "本机构管辖", "referral": "转诊", "consult": "远程会诊"}


def network_access_provider(kind: str) -> Callable[[AccessProvider], AccessProvider]:
    """Register who else may read a resident's network record while something of `kind` is open."""
    def register(fn: AccessProvider) -> AccessProvider:
        _access[kind] = fn
        return fn
    return register


def documents_provider(fn: DocumentsProvider) -> DocumentsProvider:
    """Register a source of a resident's linked documents (the shape of `connectors.pacs.sync.links_of`)."""
    if fn not in _documents:
        _documents.append(fn)
    return fn


def linked_documents(resident_id: int) -> list[dict[str, Any]]:
    return [item for fn in _documents for item in fn(resident_id)]


def grant_for(principal: Principal, resident_id: int) -> tuple[Resident | None, dict[str, Any]]:
    """(the resident row if in scope, the grant) for reading the network record; 404 `resident_not_found` when the
    caller has neither scope nor an open referral/consult for this resident."""
    resident = get_resident(resident_id, principal)
    if resident is not None:
        return resident, {"kind": "scope", "ref": None, "label": KIND_LABELS["scope"]}
    if reads_phi(principal) and not principal.has_role("patient"):
        for kind, provider in _access.items():
            grant = provider(principal, resident_id)
            if grant:
                return None, {"kind": kind, "ref": grant.get("ref"), "label": grant.get("label") or KIND_LABELS.get(kind, kind)}
    raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)


def resident_name(resident: Resident | None, resident_id: int) -> str | None:
    """The name shown over the record: a granted reader outside the scope knows the patient from the referral or
    consult, so the name (and nothing else of the resident row) is shown to them too."""
    row = resident if resident is not None else session().get(Resident, resident_id)
    return row.name if row is not None else None
