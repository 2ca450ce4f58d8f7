"""yigongti: a county medical community (紧密型县域医共体) run as executable BPMN/DMN processes."""
from __future__ import annotations

from flask import Flask

from .config import Settings


def create_app(settings: Settings | None = None) -> Flask:
    """The Flask application (built by `app.factory`; gunicorn runs `app:create_app()`)."""
    # importing any submodule (app.core.db, app.config) runs this package first: it must not pull in every capability
    from .factory import create_app as build  # noqa: PLC0415 - the factory loads only when an app is built
    return build(settings)
