"""OperationOutcome errors: every FHIR failure is one of these, with the FHIRPath of what was wrong."""
from __future__ import annotations

from typing import Any

from app.core.errors import DomainError

CONTENT_TYPE = "application/fhir+json"


class FhirError(DomainError):
    """Answered as an OperationOutcome; `issues` are (code, diagnostics, expression) with FHIR issue-type codes."""

    code = "fhir_error"

    def __init__(self, issues: list[tuple[str, str, str | None]], *, status: int = 422) -> None:
        super().__init__(issues[0][1], status=status, code=issues[0][0])
        self.issues = issues

    def outcome(self) -> dict[str, Any]:
        return operation_outcome(self.issues)


def operation_outcome(issues: list[tuple[str, str, str | None]], severity: str = "error") -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [
        {"severity": severity, "code": code, "diagnostics": text, **({"expression": [expr]} if expr else {})}
        for code, text, expr in issues]}


def from_domain(exc: DomainError) -> dict[str, Any]:
    """A platform error (401 unauthorized, 404 not_found, …) as an OperationOutcome (details in diagnostics)."""
    if isinstance(exc, FhirError):
        return exc.outcome()
    kind = {401: "login", 403: "forbidden", 404: "not-found", 409: "conflict", 429: "throttled"}.get(
        exc.status, "invalid" if exc.status < 500 else "exception")
    return operation_outcome([(kind, f"{exc.message} [{exc.code}]", None)])
