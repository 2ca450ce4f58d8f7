"""Every reaction one part of the platform has to another, plugged in once at start-up (`create_app` calls
`wire()`).

Capabilities do not register anything by being imported: each offers plain functions, and this file says which
function runs when. To find what happens when a care plan is approved, or which function adds business fields to a
new task, read this file. Process-model operators (`@operator`) are listed in `app.workflows.bindings`; HTTP routes
in `app.blueprints`; schedules in `app.schedules`.
"""
from __future__ import annotations

from typing import Any

from app.anticoag import checks as anticoag_checks
from app.anticoag import services as anticoag
from app.auth import queries as auth_queries
from app.auth import services as auth_services
from app.care_plans import providers as care_plan_providers
from app.care_plans import queries as care_plan_queries
from app.care_plans import routing as care_plan_routing
from app.care_plans import safety as care_plan_safety
from app.consult import queries as consult_queries
from app.consult import services as consult_services
from app.contracting import checks as contract_checks
from app.contracting import ledger as contract_ledger
from app.contracting import services as contract_services
from app.core import logs, metrics
from app.education import services as education
from app.follow_up import queries as follow_up_queries
from app.follow_up import reminders as follow_up_reminders
from app.follow_up import scheduling as follow_up_scheduling
from app.intervention import queries as intervention_queries
from app.liaison import plans as liaison_plans
from app.notifications import jobs as notification_jobs
from app.notifications import services as notifications
from app.org import queries as org_queries
from app.portal import consent as portal_consent
from app.portal import services as portal_services
from app.processes import batches as process_batches
from app.quality import breakdowns as quality_breakdowns
from app.quality import queries as quality_queries
from app.recognition import access as recognition_access
from app.referral import exchange as referral_exchange
from app.referral import queries as referral_queries
from app.research import services as research
from app.residents import context as resident_context
from app.residents.matching import REVIEW_PROCESS
from app.residents.record_queries import summary_provider
from app.screening import jobs as screening_jobs
from app.screening import services as screening_services
from app.tasks import bulk as tasks_bulk
from app.tasks import projection as inbox
from app.tasks.checks import submit_check
from app.training import services as training
from app.workflows import batch as workflow_batch
from app.workflows import hooks, runner, versions
from app.workflows import metrics as workflow_metrics
from connectors.pacs import sync as pacs_sync
from connectors.sms import gateway as sms_gateway

log = logs.get("wiring")
_wired = False


def wire() -> None:
    """Plug every reaction in (once per process: a second app in the same process reuses them)."""
    global _wired
    if _wired:
        return
    _wired = True

    # --- a token, user, role or organization changed: the workers' token → principal cache forgets (issue 23.2) ---
    auth_services.watch_principal_changes()
    # ... and the organization facts, process display names and a start's own history events (issue 23.2)
    org_queries.watch_org_changes()
    versions.watch_deploys()
    runner.watch_started_events()

    # --- a care-plan version comes into force (in the approving transaction) ---
    hooks.subscribe(hooks.CARE_PLAN_APPROVED, schedule_follow_up)
    hooks.subscribe(hooks.LIVE_ALARM, consult_services.log_alarm)
    hooks.subscribe(hooks.LIVE_ROOM_EXPIRED, consult_services.room_expired)
    hooks.subscribe(hooks.CARE_PLAN_APPROVED, push_education)
    hooks.subscribe(hooks.BATCH_FAILURES, notify_batch_failures)

    # --- clinical facts entered the record (one event per intake submission, in its transaction) ---
    hooks.subscribe(hooks.RESIDENT_FACTS_RECORDED, screening_jobs.rescreen_on_new_facts)
    # an INR/creatinine from the LIS or a new interacting medicine goes into the patient's anticoagulant episode
    hooks.subscribe(hooks.RESIDENT_FACTS_RECORDED, anticoag.on_facts_recorded)

    # --- a supervised prescription passed pre-review: start or continue the anticoagulant episode (issue 18.3) ---
    hooks.subscribe(hooks.PRESCRIPTION_RELEASED, anticoag.on_prescription_released)

    # --- a follow-up visit was completed: it counts against the resident's contracted package (issue 21.4) ---
    hooks.subscribe(hooks.FOLLOW_UP_RECORDED, contract_ledger.on_follow_up_recorded)
    # --- a contract's 解约 notice reaches the resident's phone through the portal's SMS gateway (issue 21) ---
    contract_services.resident_notifier(portal_services.sms_notice)

    # --- what a care plan shows from capabilities built on it (medication review, printed plan) ---
    care_plan_providers.provide(last_done_visit=follow_up_queries.last_done_visit,
                                next_due_on=follow_up_queries.next_due_on,
                                education_pushes=education.pushes_for)

    # --- a workflow instance starts or a task opens: who the resident is, how the task is routed ---
    hooks.resident_context_provider(resident_context.resident_context)
    hooks.resident_contexts_provider(resident_context.resident_contexts)          # batch starts: many at once
    workflow_batch.register_source(follow_up_scheduling.BATCH_KIND, prepare=follow_up_scheduling.prepare_batch,
                                   started=follow_up_scheduling.batch_started)
    workflow_batch.register_source(screening_services.BATCH_KIND, prepare=screening_services.prepare_batch,
                                   started=screening_services.batch_started)
    process_batches.register_item_residents(follow_up_scheduling.BATCH_KIND, follow_up_queries.visit_residents)
    hooks.inbox_writer(project=inbox.project, complete=inbox.complete)      # app.tasks is the one writer of tasks
    hooks.task_enricher(care_plan_routing.route_to_township_without_village)
    hooks.task_enricher(notification_jobs.announce_new_task)
    hooks.batch_chunk_finisher(notification_jobs.announce_batch)     # a batch start's chunk: one announcement job
    hooks.batch_chunk_finisher(tasks_bulk.insert_chunk_tasks)        # … and one INSERT of its new tasks

    # --- a patient is reminded (follow-up due, education pushed) only under their portal reminder consent ---
    follow_up_reminders.consent_check(portal_consent.reminders_allowed)
    anticoag.patient_reminder(remind_anticoag_patient_by_sms)

    # --- a user task is completed (in the completing transaction) ---
    hooks.on_task_completed(training.PROCESS_ID, "confirm_enrolment")(training.on_enrolment_confirmed)
    hooks.on_task_completed(training.PROCESS_ID, "approve_session")(training.on_session_approved)
    hooks.on_task_completed(training.PROCESS_ID, "revise_session")(training.on_session_revised)
    hooks.on_task_completed(training.PROCESS_ID, "write_summary")(training.on_summary_written)
    # the data/ethics committee answers a research request; the requester resubmits or withdraws (issue 20.7):
    # each member's vote, the chair's decision after an escalation or an inquorate vote (`review_request` is the
    # single reviewer of instances started before the committee vote)
    hooks.on_task_completed(research.PROCESS, "review_request")(research.on_reviewed)
    hooks.on_task_completed(research.PROCESS, "committee_vote")(research.on_voted)
    hooks.on_task_completed(research.PROCESS, "chair_decide")(research.on_chair_decided)
    hooks.on_task_completed(research.PROCESS, "revise_request")(research.on_revised)
    hooks.on_task_completed(research.PROCESS, "release_review")(research.on_release_reviewed)
    # an inbound referral summary held for an identity review continues once the reviewer answers
    hooks.on_task_completed(REVIEW_PROCESS, "review_match")(referral_exchange.on_identity_reviewed)

    # --- an instance is terminated by an operator ---
    hooks.on_instance_terminated("care_plan")(care_plan_routing.close_version_of_terminated_instance)

    # --- a task form is submitted: checks a form names with x-submit-check ---
    submit_check("care_plan_regimen")(care_plan_safety.check_submission)
    submit_check("contract_selection")(contract_checks.check_selection)
    submit_check("contract_signature")(contract_checks.check_signature)
    submit_check("anticoag_entry")(anticoag_checks.check_entry)
    submit_check("anticoag_escalation")(anticoag_checks.check_escalation)
    submit_check("contract_termination")(contract_checks.check_termination)

    # --- the resident record's summary: sections higher capabilities fill ---
    summary_provider("care_plan")(care_plan_queries.plans_for_summary)
    summary_provider("next_follow_up")(follow_up_queries.next_follow_up)
    summary_provider("open_emergencies")(referral_queries.open_emergencies_of)

    # --- the network record (全网记录): who else may read it while linked to the resident, and linked documents ---
    recognition_access.network_access_provider("referral")(referral_queries.open_referral_of)
    recognition_access.network_access_provider("consult")(consult_queries.open_consult_of)
    recognition_access.documents_provider(pacs_sync.links_of)

    # --- a specialty-building milestone measures its indicators from the quality library (issue 21.6) ---
    liaison_plans.indicator_reader(quality_queries.indicator_value, quality_queries.indicator_choices)
    # --- the managers' breakdowns read the interventional centre's discharged cases (cost, use, outcomes) ---
    quality_breakdowns.case_reader(intervention_queries.case_rows)

    # --- /metrics: gauges refreshed just before a scrape ---
    metrics.on_scrape(workflow_metrics.refresh)


def schedule_follow_up(*, plan: Any, version: Any, approver: str | None) -> None:
    """The plan's follow-up interval starts (or re-times) the resident's follow-up schedule for that disease."""
    follow_up_scheduling.upsert_schedule(
        plan.resident_id, plan.disease, care_plan_id=plan.id, risk_level=plan.risk_level,
        interval_days=int(version.content.get("follow_up_interval_days") or 90),
        org_code=plan.org_code, org_path=plan.org_path)


def notify_batch_failures(*, batch_id: int, kind: str, process_id: str, failed: int, total: int) -> None:
    """A batch start finished with failed items: the county's administrators and supervisors are told (once), in
    words: the process by its name, and a link to the batch on the page 批量启动 (each failed item by its resident's
    name and reason, and 继续)."""
    root = org_queries.root_org()
    name = versions.process_names([process_id]).get(process_id) or "流程"
    for role in ("county_admin", "supervisor"):
        for user in auth_queries.users_with_role_at(role, [root.code] if root else []):
            notifications.notify(user.id, kind="batch_failures", title=f"批量启动「{name}」：{failed}/{total} 个未能启动",
                                 body=f"第 {batch_id} 批共 {total} 个，其中 {failed} 个未能启动。请在「批量启动」页"
                                      "查看每个未启动的居民和原因，处理后继续启动。",
                                 link=f"/batches/{batch_id}",
                                 dedupe_key=f"batch-failures-{batch_id}-{user.id}")


def push_education(*, plan: Any, version: Any, approver: str | None) -> None:
    """The plan's education topics are pushed to the resident."""
    education.push_for_plan(plan.resident_id, care_plan_id=plan.id, disease=plan.disease,
                            risk_level=plan.risk_level, topics=version.content.get("education_topics") or [],
                            pushed_by=approver or "system")


def remind_anticoag_patient_by_sms(resident_id: int, text: str) -> bool:
    """An anticoagulant check is due: an SMS to the patient's phone, only under their SMS reminder consent."""
    if not portal_consent.allows(resident_id, "reminder", "sms"):
        return False
    phone = anticoag.resident_phone(resident_id)
    if not phone:
        return False
    try:
        sms_gateway.gateway().send(phone=phone, text=text, purpose="anticoag_reminder")
    except sms_gateway.SmsNotSent as exc:
        log.warning("anticoag sms not sent", extra={"status": str(exc)[:60]})
        return False
    return True
