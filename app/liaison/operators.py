"""Service-task operators of `specialty_plan` (each idempotent per plan/milestone: a retry records nothing twice)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core.db import session
from app.workflows.bindings import operator
from app.workflows.models import HumanTask

from . import plans


def _by(instance_id: int, element_id: str) -> str | None:
    """Who completed the latest `element_id` task of the instance (the username recorded with the decision)."""
    return session().scalars(select(HumanTask.completed_by).where(
        HumanTask.instance_id == instance_id, HumanTask.element_id == element_id,
        HumanTask.status == "completed").order_by(HumanTask.id.desc())).first()


@operator("liaison/record_decision")
def record_decision(*, idempotency_key: str, instance_id: int, plan_id: int, decision: str,
                    comment: str = "") -> dict[str, Any]:
    return plans.record_decision(int(plan_id), decision=decision, comment=comment or "",
                                 by=_by(instance_id, "approve_plan"))


@operator("liaison/resubmit")
def resubmit(*, idempotency_key: str, instance_id: int, plan_id: int, goals: Any = None,
             activities: Any = None) -> dict[str, Any]:
    return plans.resubmit(int(plan_id), changes={"goals": goals, "activities": activities})


@operator("liaison/next_milestone")
def next_milestone(*, idempotency_key: str, instance_id: int, plan_id: int) -> dict[str, Any]:
    return plans.next_milestone(int(plan_id))


@operator("liaison/load_review")
def load_review(*, idempotency_key: str, instance_id: int, plan_id: int, milestone_id: int) -> dict[str, Any]:
    return plans.load_review(int(plan_id), int(milestone_id))


@operator("liaison/record_review")
def record_review(*, idempotency_key: str, instance_id: int, plan_id: int, milestone_id: int,
                  values: Any = None, note: str = "") -> dict[str, Any]:
    return plans.record_review(int(plan_id), int(milestone_id), values=list(values or []), note=note or "",
                               by=_by(instance_id, "review_milestone"))


@operator("liaison/close_plan")
def close_plan(*, idempotency_key: str, instance_id: int, plan_id: int, rating: str,
               summary: str) -> dict[str, Any]:
    return plans.close(int(plan_id), rating=rating, summary=summary, by=_by(instance_id, "closing_evaluation"))
