"""Read models of research extraction: a project as the page shows it (never rows of the extract)."""
from __future__ import annotations

from typing import Any

from app.auth.principal import Principal
from app.core import clock

from . import criteria as crit
from . import services
from .models import ResearchProject
from .settings import settings


def project_item(p: Principal, row: ResearchProject, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id, "title": row.title, "purpose": row.purpose, "status": row.status,
        "status_label": services.STATUS_LABELS.get(row.status, row.status), "requester_name": row.requester_name,
        "mine": row.requester_user_id == p.user_id, "cohort_size": row.cohort_size, "k": row.k, "l": row.l,
        "date_mode": row.date_mode, "date_mode_label": crit.DATE_MODES.get(row.date_mode, row.date_mode),
        "created_at": row.created_at, "updated_at": row.updated_at,
        "editable": row.requester_user_id == p.user_id and row.status in services.EDITABLE,
        "criteria_label": services.criteria_label(row)}
    if not detail:
        return out
    ex = services.extract_of(row.id)
    downloads = services.downloads_of(row.id)
    out.update({
        "criteria": row.criteria, "variables": row.variables,
        "variable_labels": [crit.variable_label(v) for v in row.variables],
        "free_text_requested": crit.wants_free_text(row.variables), "free_text_approved": row.free_text_approved,
        "review_comment": row.review_comment, "reviewed_by": row.reviewed_by, "reviewed_at": row.reviewed_at,
        "released_by": row.released_by, "released_at": row.released_at, "expires_at": row.expires_at,
        "download_limit": row.download_limit, "downloads_left": max(0, row.download_limit - len(downloads)),
        "downloads": [{"username": d.username, "format": d.format, "at": d.at, "refresh": d.refresh,
                       "data_until": d.data_until} for d in downloads],
        "extract": services.extract_summary(ex, row.k, row.l) if ex is not None else None,
        "review_round": row.review_round, "committee": committee_view(row),
        "votes": [vote_item(v) for v in services.votes_of(row.id)],
        "committee_result": result_view(row.committee_result),
        "can_download": (row.requester_user_id == p.user_id and row.status == "released"
                         and len(downloads) < row.download_limit
                         and (row.expires_at is None or clock.now() < row.expires_at))})
    return out


def vote_item(v) -> dict[str, Any]:
    return {"round": v.review_round, "voter_name": v.voter_name, "vote": v.vote,
            "vote_label": services.VOTES.get(v.vote, v.vote), "opinion": v.opinion, "at": v.at}


def committee_view(row: ResearchProject) -> list[dict[str, Any]]:
    """The members of the current round and whether (and how) each has voted."""
    votes = {v.user_id: v for v in services.votes_of(row.id, row.review_round)}
    out = []
    for m in row.committee or []:
        v = votes.get(m["user_id"])
        out.append({"name": m["name"], "chair": m["user_id"] == row.chair_user_id,
                    "vote": v.vote if v else None, "vote_label": services.VOTES.get(v.vote, v.vote) if v else "未投票"})
    return out


def result_view(result: dict[str, Any] | None) -> dict[str, Any] | None:
    if not result:
        return None
    t = result.get("tally") or {}
    return {"decision": result.get("decision"),
            "decision_label": services.DECISIONS.get(result.get("decision") or "", result.get("decision") or ""),
            "rule": result.get("rule"), "by": result.get("by"),
            "by_label": "主任委员决定" if result.get("by") == "chair" else "委员会表决",
            "round": result.get("round"),
            "tally_label": (f"{t.get('members', 0)} 位委员中 {t.get('cast', 0)} 位投票：同意 {t.get('approve', 0)}、"
                            f"不同意 {t.get('reject', 0)}、需修改 {t.get('changes', 0)}")}


def committee(p: Principal) -> dict[str, Any]:
    c = services.committee_of(services.county_code_of(p))
    return {**c, "can_edit": p.has_role("county_admin")}


def options() -> dict[str, Any]:
    cfg = settings()
    return {**crit.catalogue(), "default_k": cfg.default_k, "min_k": cfg.min_k, "max_k": cfg.max_k,
            "default_l": cfg.default_l, "max_l": cfg.max_l,
            "sensitive": [{"value": a, "label": crit.variable_label(a)} for a in cfg.sensitive],
            "download_limit": cfg.downloads, "expiry_days": cfg.expiry_days}
