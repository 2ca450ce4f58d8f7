"""Typed errors of the DMN engine: deploy-time definition problems, bad inputs, evaluation failures."""
from __future__ import annotations

from typing import Any


class DmnDefinitionError(Exception):
    """A decision model cannot be deployed (bad XML, cell, hit policy, reference, overlap or gap)."""

    code = "invalid_definition"

    def __init__(self, reason: str, *, file: str | None = None, element_id: str | None = None):
        self.reason = reason
        self.file = file
        self.element_id = element_id
        where = ":".join(p for p in (file, element_id) if p)
        super().__init__(f"{where}: {reason}" if where else reason)


class DmnInputError(Exception):
    """An input is missing or outside its type or allowed values (answered as 422 naming the field)."""

    def __init__(self, code: str, field: str, reason: str, *, decision_id: str | None = None):
        assert code in ("missing_input", "invalid_input"), code
        self.code = code
        self.field = field
        self.reason = reason
        self.decision_id = decision_id
        super().__init__(f"{code}: {field}: {reason}")


class DmnEvaluationError(Exception):
    """A decision could not produce an answer for valid inputs (no rule, several rules, a failing cell)."""

    def __init__(self, code: str, reason: str, *, decision_id: str, details: dict[str, Any] | None = None):
        assert code in ("unique_violation", "any_conflict", "no_rule_matched", "evaluation_error"), code
        self.code = code
        self.reason = reason
        self.decision_id = decision_id
        self.details = details or {}
        super().__init__(f"{code}: {decision_id}: {reason}")
