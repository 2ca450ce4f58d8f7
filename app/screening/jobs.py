"""Jobs of screening: take ids, idempotent, enqueued after commit."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.care_plans.services import request_plan
from app.core.db import session
from app.core.errors import NotFound
from app.jobs.queue import enqueue_after_commit

from . import batch, services, stratify

SCREEN_JOB = "app.screening.jobs.screen_resident"
SCREENED_RECORDS = ("observation", "condition", "encounter")   # what screening reads; a prescription alone is not


def screen_resident(resident_id: int) -> None:
    """Re-screen one resident after new data (the on-new-data path)."""
    services.screen_one(resident_id)


def rescreen_on_new_facts(*, resident_id: int, recorded: Sequence[Any], rescreen: bool, **_: Any) -> None:
    """New clinical facts (`hooks.RESIDENT_FACTS_RECORDED`, from `app.residents.intake`): re-screen the resident
    after commit, unless the submission asked for none (an enrolment's diagnosis, the seed) or brought only
    prescriptions."""
    first = next((item for item in recorded if item.record_type in SCREENED_RECORDS), None)
    if rescreen and first is not None:
        request_rescreen(resident_id, key=f"{first.record_type}.create-{first.row.id}")


def request_rescreen(resident_id: int, *, key: str) -> bool:
    """Queue one re-screen of the resident after the transaction commits — once per transaction: the facts of one
    submission (a follow-up visit's BP, heart rate, weight and glucose; a lab message's results) are one unit and
    re-screen (and so re-grade) their resident once, seeing all of them; so are the submissions of one transaction
    (a FHIR transaction bundle). True when this call queued it."""
    s = session()
    pending = s.info.setdefault("after_commit", [])
    owner, queued = s.info.get("rescreen_queued", (None, set()))
    if owner is not pending:             # a new transaction (its after-commit list is a new object)
        queued = set()
        s.info["rescreen_queued"] = (pending, queued)
    if resident_id in queued:
        return False
    queued.add(resident_id)
    enqueue_after_commit(s, SCREEN_JOB, resident_id, job_id=f"screen-{resident_id}-{key}")
    return True


def start_case_processes(case_ids: list[int]) -> None:
    """Start the verification (or cancer) process of each new case; a case with an instance is skipped."""
    for case_id in case_ids:
        services.start_case_process(case_id)


def start_case_batch(case_ids: list[int]) -> None:
    """Start the processes of a screening chunk's new cases through the batch-start service (one batch per process)."""
    services.start_case_batch(case_ids)


def regrade_resident(resident_id: int) -> None:
    """Re-grade the resident's enrolled diseases whose inputs changed."""
    stratify.regrade_resident(resident_id)


def run_batch(run_id: int) -> None:
    """Run (or resume) a population batch from its cursor."""
    batch.run(run_id)


def screen_chunk(run_id: int, seq: int) -> None:
    """Screen one chunk of a chunked population run (issue 23.4), then its next pending chunks for a while."""
    batch.screen_chunks(run_id, seq)


def sweep_chunks() -> int:
    """Scheduler sweep: chunks whose worker died (lease expired) are put back and queued again."""
    return batch.sweep_chunks()


def start_pending_cases() -> int:
    """Scheduler sweep: start processes for flagged cases without one (e.g. the model was deployed later)."""
    return services.start_pending_cases()


def request_care_plan(resident_id: int, disease: str, risk_level: str | None) -> None:
    """After grading, ask the care-plan capability for a plan (idempotent there: same level → unchanged)."""
    try:
        request_plan(resident_id, disease, risk_level, requested_by="stratify")
    except NotFound:            # care_plan not deployed here: nothing to ask
        return

