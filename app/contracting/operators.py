"""Service-task operators of `fd_contract` (run through the outbox; each step idempotent on the contract's state)."""
from __future__ import annotations

from typing import Any

from app.workflows.bindings import operator

from . import services


@operator("contract/assess")
def assess(*, idempotency_key: str, instance_id: int, contract_id: int, assessment: dict[str, Any]) -> dict[str, Any]:
    """Keep the team's assessment (F6.1) on the contract."""
    return services.record_assessment(int(contract_id), dict(assessment or {}))


@operator("contract/recommend")
def recommend(*, idempotency_key: str, instance_id: int, contract_id: int,
              packages: list[str] | str | None) -> dict[str, Any]:
    """Record R9's recommendation with names and the resident's share for the selection task."""
    return services.record_recommendation(int(contract_id), packages)


@operator("contract/select")
def select(*, idempotency_key: str, instance_id: int, contract_id: int, packages: list[str],
           disclosure_ack: bool) -> dict[str, Any]:
    """Freeze the chosen package versions, the amount due and the offer deadline."""
    return services.select_packages(int(contract_id), list(packages or []), bool(disclosure_ack))


@operator("contract/paid")
def paid(*, idempotency_key: str, instance_id: int, contract_id: int) -> dict[str, Any]:
    return services.payment_applied(int(contract_id))


@operator("contract/void")
def void(*, idempotency_key: str, instance_id: int, contract_id: int) -> dict[str, Any]:
    return services.void_offer(int(contract_id))


@operator("contract/activate")
def activate(*, idempotency_key: str, instance_id: int, contract_id: int, moved: bool = False) -> dict[str, Any]:
    """Uniqueness, the cycle's dates and the service schedule."""
    return services.activate(int(contract_id), bool(moved))


@operator("contract/checkpoint")
def checkpoint(*, idempotency_key: str, instance_id: int, contract_id: int, after: str | None = None
               ) -> dict[str, Any]:
    return services.next_checkpoint(int(contract_id), after)


@operator("contract/status")
def status(*, idempotency_key: str, instance_id: int, contract_id: int) -> dict[str, Any]:
    """Whether the contract is still active when a checkpoint fires (a move may have ended it meanwhile)."""
    return services.still_active(int(contract_id))


@operator("contract/progress")
def progress(*, idempotency_key: str, instance_id: int, contract_id: int) -> dict[str, Any]:
    return services.progress_check(int(contract_id))


@operator("contract/renewal")
def renewal(*, idempotency_key: str, instance_id: int, contract_id: int, decision: str,
            note: str | None = None) -> dict[str, Any]:
    return services.record_renewal(int(contract_id), decision, note)


@operator("contract/expire")
def expire(*, idempotency_key: str, instance_id: int, contract_id: int) -> dict[str, Any]:
    return services.expire(int(contract_id))


@operator("contract/satisfaction")
def satisfaction(*, idempotency_key: str, instance_id: int, contract_id: int, score: int,
                 comment: str | None = None) -> dict[str, Any]:
    return services.record_satisfaction(int(contract_id), int(score), comment)


@operator("contract/terminate")
def terminate(*, idempotency_key: str, instance_id: int, contract_id: int, informed_how: str,
              informed: bool, note: str | None = None) -> dict[str, Any]:
    """The old team's 解约 confirmed: how the resident was told, the ledger as it stood."""
    return services.confirm_termination(int(contract_id), informed_how, bool(informed), note)
