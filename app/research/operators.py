"""Service-task operators of `research_extract` (run as jobs through the outbox; each idempotent)."""
from __future__ import annotations

from typing import Any

from app.workflows.bindings import operator

from . import services


@operator("research/build_extract")
def build_extract(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """The committee approved: build the de-identified extract and report its k-anonymity and suppression."""
    return services.build_extract(int(project_id))


@operator("research/reload_request")
def reload_request(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """The requester resubmitted: the committee's task shows the request as it now stands."""
    return services.reload_request(int(project_id))


@operator("research/open_round")
def open_round(*, idempotency_key: str, instance_id: int, project_id: int, requester: str) -> dict[str, Any]:
    """Before every vote: the round's members (never the requester), its chair, reminder and due times."""
    return services.open_round(int(project_id), requester)


@operator("research/tally_votes")
def tally_votes(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """Every member voted: the counts and shares the decision table `research_committee_decision` reads."""
    return services.tally(int(project_id))


@operator("research/record_decision")
def record_decision(*, idempotency_key: str, instance_id: int, project_id: int, decision: str,
                    decision_rule: str, tally: dict[str, Any]) -> dict[str, Any]:
    """The decision table decided: the result goes on the project and into its audit."""
    return services.record_decision(int(project_id), decision, decision_rule, tally or {})


@operator("research/escalate_votes")
def escalate_votes(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """The vote deadline passed: the votes cast so far are counted (inquorate: the chair decides)."""
    return services.escalate(int(project_id), instance_id)


@operator("research/remind_votes")
def remind_votes(*, idempotency_key: str, instance_id: int, project_id: int) -> dict[str, Any]:
    """Before the vote deadline: members who have not voted are reminded."""
    return services.remind_voters(int(project_id))
