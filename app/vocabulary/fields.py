"""A marshmallow field for a vocabulary code: accepts the codes (and old aliases), loads the canonical code.

    disease = Code(Disease)                         # "dm" loads as "t2dm"; "xx" → 422 with the allowed codes
    disease = Code(Disease, only=PLAN_DISEASES)     # a subset
    disease = Code(Disease, extra=("general",))     # plus codes outside the vocabulary
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marshmallow import ValidationError, fields

from . import Term


class Code(fields.Str):
    def __init__(self, vocabulary: type[Term], *, only: Iterable[Term] | None = None, extra: Iterable[str] = (),
                 **kwargs: Any) -> None:
        self.vocabulary = vocabulary
        self.allowed = tuple(str(t) for t in (only if only is not None else vocabulary)) + tuple(extra)
        metadata = {"enum": list(self.allowed), **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            code = str(self.vocabulary(text)) if text not in self.allowed else text
        except ValueError:
            code = None
        if code not in self.allowed:
            raise ValidationError(f"Must be one of: {', '.join(self.allowed)}.")
        return code
