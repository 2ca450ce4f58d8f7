"""The one list of API blueprints (explicit beats discovery): registered in this order, which is also the order of
the OpenAPI document's tags. A new capability adds its `api` module to the imports and to `BLUEPRINTS`."""
from __future__ import annotations

from app.anticoag import api as anticoag_api
from app.appraisal import api as appraisal_api
from app.audit import api as audit_api
from app.auth import api as auth_api
from app.auth import users_api
from app.care_plans import api as care_plans_api
from app.consult import api as consult_api
from app.contracting import api as contracting_api
from app.decisions import api as decisions_api
from app.education import api as education_api
from app.follow_up import api as follow_up_api
from app.integrations import api as integrations_api
from app.intervention import api as intervention_api
from app.liaison import api as liaison_api
from app.live import api as live_api
from app.mobile import api as mobile_api
from app.notifications import api as notifications_api
from app.org import api as org_api
from app.pharmacy import api as pharmacy_api
from app.portal import api as portal_api
from app.processes import api as processes_api
from app.quality import api as quality_api
from app.recognition import api as recognition_api
from app.referral import api as referral_api
from app.report_builder import api as report_builder_api
from app.research import api as research_api
from app.residents import api as residents_api
from app.screening import api as screening_api
from app.screening import reassessment_api
from app.supply import api as supply_api
from app.tasks import api as tasks_api
from app.training import api as training_api
from app.vocabulary import api as vocabulary_api
from app.webhooks import api as webhooks_api
from connectors import external_records_api
from connectors.devices import api as devices_api
from connectors.fhir import api as fhir_api
from connectors.hl7v2 import api as hl7v2_api

BLUEPRINTS = (
    auth_api,
    vocabulary_api,
    org_api,
    residents_api,
    reassessment_api,
    screening_api,
    processes_api,
    tasks_api,
    notifications_api,
    decisions_api,
    audit_api,
    users_api,
    care_plans_api,
    follow_up_api,
    referral_api,
    quality_api,
    appraisal_api,
    pharmacy_api,
    anticoag_api,
    live_api,
    contracting_api,
    recognition_api,
    consult_api,
    intervention_api,
    liaison_api,
    education_api,
    training_api,
    research_api,
    report_builder_api,
    supply_api,
    portal_api,
    webhooks_api,
    mobile_api,
    integrations_api,
    external_records_api,
    hl7v2_api,
    devices_api,
    fhir_api,
)


def register_blueprints(app, api) -> None:
    for module in BLUEPRINTS:
        api.register_blueprint(module.blp)
        if hasattr(module, "init_app"):
            module.init_app(app)
