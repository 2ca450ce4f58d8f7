"""Jobs of screening: take ids, idempotent, enqueued after commit."""
from __future__ import annotations


def screen_resident(resident_id: int) -> None:
    """Re-screen one resident after new data (the on-new-data path)."""
    from . import services
    services.screen_one(resident_id)


def start_case_processes(case_ids: list[int]) -> None:
    """Start the verification (or cancer) process of each new case; a case with an instance is skipped."""
    from . import services
    for case_id in case_ids:
        services.start_case_process(case_id)


def regrade_resident(resident_id: int) -> None:
    """Re-grade the resident's enrolled diseases whose inputs changed."""
    from . import stratify
    stratify.regrade_resident(resident_id)


def run_batch(run_id: int) -> None:
    """Run (or resume) a population batch from its cursor."""
    from . import batch
    batch.run(run_id)


def start_pending_cases() -> int:
    """Scheduler sweep: start processes for flagged cases without one (e.g. the model was deployed later)."""
    from . import services
    return services.start_pending_cases()


def request_care_plan(resident_id: int, disease: str, risk_level: str | None) -> None:
    """After grading, ask the care-plan capability for a plan (idempotent there: same level → unchanged)."""
    try:
        from app.care_plans.services import request_plan
    except ModuleNotFoundError:
        return
    from app.core.errors import NotFound
    try:
        request_plan(resident_id, disease, risk_level, requested_by="stratify")
    except NotFound:            # care_plan not deployed here: nothing to ask
        return
