"""The parsed decision model: plain frozen data, built by parser.py, read by evaluate.py and analysis.py."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.engine.dmn.unary import OutputValue, UnaryTest


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Any = _Missing()  # "no default declared" (distinct from a default of null)

HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "COUNT", "MIN", "MAX")
NUMBER_TYPES = frozenset({"number", "integer", "double", "long", "decimal", "int", "float"})
INTEGER_TYPES = frozenset({"integer", "long", "int"})


@dataclass(frozen=True)
class Input:
    id: str
    label: str
    expression: str
    type_ref: str | None
    allowed: str | None = None  # inputValues, in the entry grammar
    default: Any = MISSING
    allowed_test: UnaryTest | None = field(default=None, repr=False, compare=False)
    names: frozenset[str] = frozenset()  # context names the expression reads

    @property
    def field_name(self) -> str:
        """The raw input this column reads directly, or its label when it is computed."""
        expression = self.expression.strip()
        return expression if expression.isidentifier() else (self.label or expression)


@dataclass(frozen=True)
class Output:
    id: str
    name: str
    type_ref: str | None
    allowed_values: list[Any] | None = None
    default: Any = MISSING


@dataclass(frozen=True)
class Cell:
    id: str | None
    text: str


@dataclass(frozen=True)
class InputEntry(Cell):
    test: UnaryTest = field(default=None, repr=False, compare=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class OutputEntry(Cell):
    value: OutputValue = field(default=None, repr=False, compare=False)  # type: ignore[assignment]


@dataclass(frozen=True)
class Rule:
    index: int  # 1-based, as people count rows
    id: str | None
    input_entries: tuple[InputEntry, ...]
    output_entries: tuple[OutputEntry, ...]
    annotation: str | None = None


@dataclass(frozen=True)
class Decision:
    id: str
    name: str
    file: str
    hit_policy: str | None  # None for literal expressions
    aggregation: str | None
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    rules: tuple[Rule, ...]
    required: tuple[str, ...]
    kind: str  # 'table' | 'literal'
    literal_expression: str | None = None
    variable_name: str | None = None
    variable_type: str | None = None
    provenance: dict[str, str] = field(default_factory=dict)
    description: str | None = None
    content_hash: str = ""
    table_id: str | None = None
    clinical: bool = False  # the strict dialect: findings block, no match is an error (see parser.is_clinical)

    @property
    def output_names(self) -> tuple[str, ...]:
        if self.kind == "literal":
            return (self.variable_name or self.id,)
        return tuple(o.name for o in self.outputs)

    @property
    def table_code(self) -> str:
        """The guideline table this decision encodes (e.g. "T03"), else its id."""
        return self.provenance.get("table") or self.id


@dataclass(frozen=True)
class InputField:
    """A raw input a caller must (required) or may pass to evaluate a decision."""

    name: str
    type: str | None
    required: bool
    default: Any = MISSING
    allowed: str | None = None
    label: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "type": self.type, "required": self.required, "allowed": self.allowed,
               "label": self.label}
        if self.default is not MISSING:
            out["default"] = self.default
        return out
