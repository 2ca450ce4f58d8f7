"""Jobs of screening: take ids, idempotent, enqueued after commit."""
from __future__ import annotations

from app.care_plans.services import request_plan
from app.core.errors import NotFound
from app.jobs.queue import enqueue_after_commit

from . import batch, services, stratify


def screen_resident(resident_id: int) -> None:
    """Re-screen one resident after new data (the on-new-data path)."""
    services.screen_one(resident_id)


def start_case_processes(case_ids: list[int]) -> None:
    """Start the verification (or cancer) process of each new case; a case with an instance is skipped."""
    for case_id in case_ids:
        services.start_case_process(case_id)


def regrade_resident(resident_id: int) -> None:
    """Re-grade the resident's enrolled diseases whose inputs changed."""
    stratify.regrade_resident(resident_id)


def run_batch(run_id: int) -> None:
    """Run (or resume) a population batch from its cursor."""
    batch.run(run_id)


def start_pending_cases() -> int:
    """Scheduler sweep: start processes for flagged cases without one (e.g. the model was deployed later)."""
    return services.start_pending_cases()


def request_care_plan(resident_id: int, disease: str, risk_level: str | None) -> None:
    """After grading, ask the care-plan capability for a plan (idempotent there: same level → unchanged)."""
    try:
        request_plan(resident_id, disease, risk_level, requested_by="stratify")
    except NotFound:            # care_plan not deployed here: nothing to ask
        return


def rescreen_after_commit(*, session, resident_id: int, key: str) -> None:
    """New facts of the resident: re-screen them once the transaction that wrote the facts commits."""
    enqueue_after_commit(session, "app.screening.jobs.screen_resident", resident_id,
                         job_id=f"screen-{resident_id}-{key}")
