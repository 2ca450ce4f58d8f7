"""The one list of API blueprints (explicit beats discovery)."""
from __future__ import annotations

from importlib import import_module

BLUEPRINTS = (
    "app.auth.api",
    "app.vocabulary.api",
    "app.org.api",
    "app.residents.api",
    "app.screening.api",
    "app.processes.api",
    "app.tasks.api",
    "app.notifications.api",
    "app.decisions.api",
    "app.audit.api",
    "app.auth.users_api",
    "app.care_plans.api",
    "app.follow_up.api",
    "app.referral.api",
    "app.education.api",
    "app.training.api",
    "app.webhooks.api",
    "app.integrations.api",
    "connectors.hl7v2.api",
    "connectors.fhir.api",
)


def register_blueprints(app, api) -> None:
    for path in BLUEPRINTS:
        module = import_module(path)
        api.register_blueprint(module.blp)
        if hasattr(module, "init_app"):
            module.init_app(app)
