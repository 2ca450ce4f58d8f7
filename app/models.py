"""Import every models module so `Base.metadata` knows all tables (Alembic and tests rely on this list)."""
from __future__ import annotations

from importlib import import_module

from app.core.db import Base

MODEL_MODULES = (
    "app.workflows.models",
    "app.org.models",
    "app.auth.models",
    "app.residents.models",
    "app.audit.models",
    "app.tasks.models",
    "app.notifications.models",
    "app.integrations.models",
    "connectors.notify.models",
    "connectors.insurance.models",
    "connectors.pacs.models",
    "app.residents.record_models",
    "app.screening.models",
    "app.care_plans.models",
    "app.follow_up.models",
    "app.education.models",
    "app.referral.models",
    "app.training.models",
    "app.jobs.models",
    "app.quality.models",
    "app.pharmacy.models",
    "app.anticoag.models",
    "app.live.models",
    "connectors.sms.models",
    "app.portal.models",
    "app.contracting.models",
    "app.mobile.models",
    "app.recognition.models",
    "app.consult.models",
    "app.intervention.models",
    "app.liaison.models",
    "app.research.models",
    "app.report_builder.models",
    "connectors.devices.models",
    "app.supply.models",
    "app.appraisal.models",
    "app.reports.models",
)


def load_all() -> type[Base]:
    for path in MODEL_MODULES:
        import_module(path)
    return Base
