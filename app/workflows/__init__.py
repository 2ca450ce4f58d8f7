"""Persistence and orchestration of workflows: the only user of `app.engine`.

models.py (definitions, instances with optimistic version, projections, events, outbox) · deploy.py (store new
versions) · runner.py (start/complete/correlate/fire under a row lock, in one transaction) · bindings.py
(service-task operators and script helpers by name) · jobs.py (outbox and timer jobs)
"""

from app.engine.errors import DefinitionError, EngineError

__all__ = ["DefinitionError", "EngineError"]
