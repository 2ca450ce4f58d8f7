"""Evaluate the deployed DMN decisions for many residents at once, exactly as the processes would.

Every evaluation goes through `app.workflows.decisions.evaluate` (the same code business-rule tasks use); what makes
it bulk is memoisation by *equivalence class*. For a decision whose whole chain reads its raw inputs directly and
whose cells are literal ranges/sets with literal outputs (true of every screening table but CKD staging), the result
depends only on where each input falls between the table's breakpoints: 147 and 152 mmHg are the same to a table
whose SBP cells break at 140 and 160. The key is, per input, which of the chain's cells (and allowed-value tests) the value falls in (its
*signature*): two values with the same signature are indistinguishable to every rule, so one real evaluation
answers a whole class, and a population of a million residents needs a few thousand. Decisions that compute (eGFR from creatinine) are memoised on exact inputs instead.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from app.core.errors import Invalid
from app.decisions import history
from app.workflows import decisions as wf_decisions

Result = dict[str, Any]


class BulkEvaluator:
    """`evaluate(decision_id, inputs)` with the result shape of `app.workflows.decisions.evaluate`."""

    def __init__(self, session, pins: Mapping[str, int] | None = None, *, max_cache: int = 200_000):
        self.pinned = wf_decisions.registry(session, pins)
        self._plans: dict[str, _Plan | None] = {}
        self._cache: dict[tuple, Result | Invalid] = {}
        self.max_cache = max_cache
        self.calls = self.misses = 0
        self.samples: dict[str, list[dict[str, Any]]] = {}    # inputs kept for draft replays (14.14)

    def flush_samples(self) -> None:
        """Keep the sampled inputs for draft replays (14.14; `app.decisions.history`), then start a new sample."""
        samples, self.samples = self.samples, {}
        history.record(samples)

    @property
    def versions(self) -> dict[str, int]:
        return dict(self.pinned.versions)

    def evaluate(self, decision_id: str, inputs: Mapping[str, Any]) -> Result:
        """Outputs, trace, reason and versions; raises `Invalid` for inputs the decision refuses."""
        self.calls += 1
        sampled = self.samples.get(decision_id)
        if sampled is None:
            sampled = self.samples[decision_id] = []
        if len(sampled) < history.SAMPLE_PER_DECISION:
            sampled.append(dict(inputs))
        try:
            plan = self._plans[decision_id]
        except KeyError:
            plan = self._plan(decision_id)
        key = (decision_id, plan.key(inputs) if plan else _exact_key(inputs))
        hit = self._cache.get(key)
        if hit is None:
            self.misses += 1
            try:
                hit = wf_decisions.evaluate(self.pinned, decision_id, inputs)
            except Invalid as exc:
                hit = exc
            if len(self._cache) < self.max_cache:
                self._cache[key] = hit
        if isinstance(hit, Invalid):
            raise hit
        return hit

    def _plan(self, decision_id: str) -> _Plan | None:
        if decision_id not in self._plans:
            self._plans[decision_id] = _Plan.build(self.pinned.registry, decision_id)
        return self._plans[decision_id]


def _exact_key(inputs: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, _hashable(v)) for k, v in inputs.items()))


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class _Plan:
    """Per raw input of a decision chain, every value set its cells test: a value's class is which it is in."""

    def __init__(self, fields: list[str], sets: dict[str, list[Any]], fractional: frozenset[str] = frozenset()):
        self.fields = fields
        self.sets = sets
        self.fractional = fractional        # fields every column reads as a non-integer number: 24.0 ≡ 24.3
        # per field: the value's Python class -> value -> class id (1, 1.0 and True are one dict key, so the value's
        # class picks the dict first; no (class, value) tuple is built and hashed per field and call)
        self._classes: dict[str, dict[type, dict[Any, int]]] = {k: {} for k in fields}
        self._fields_seen = [(name, self._classes[name]) for name in fields]
        self._ids: dict[tuple, int] = {}

    @classmethod
    def build(cls, registry, decision_id: str) -> _Plan | None:
        if decision_id not in registry:
            return None
        chain = [registry.get(d) for d in wf_decisions.closure(registry, [decision_id])]
        raw = [f.name for f in registry.input_fields(decision_id)]
        sets: dict[str, list[Any]] = {name: [] for name in raw}
        types: dict[str, set[str | None]] = {name: set() for name in raw}
        for decision in chain:
            if decision.kind != "table" or not _literal_outputs(decision):
                return None
            for n, column in enumerate(decision.inputs):
                name = column.expression.strip()
                if not name.isidentifier():
                    return None
                cells = [rule.input_entries[n].test for rule in decision.rules]
                if column.allowed_test is not None:
                    cells.append(column.allowed_test)
                if any(cell is None or cell.value_set is None for cell in cells):
                    return None
                if name in sets:
                    sets[name].extend(c.value_set for c in cells if c.value_set not in sets[name])
                    types[name].add(column.type_ref)
        return cls(raw, sets, frozenset(n for n, t in types.items() if t and t <= _FRACTIONAL))

    def key(self, inputs: Mapping[str, Any]) -> tuple:
        """The class of each input, as a tuple of small ints. Runs several times per resident (py-spy, 23.4): the
        common case, every (class, value) already seen, is one comprehension; anything new (or unhashable) takes
        `_key_filling`, which classifies it and remembers it."""
        get = inputs.get
        try:
            return tuple([seen[(value := get(name)).__class__][value] for name, seen in self._fields_seen])
        except (KeyError, TypeError):
            return self._key_filling(inputs)

    def _key_filling(self, inputs: Mapping[str, Any]) -> tuple:
        out = []
        for name, seen in self._fields_seen:
            value = inputs.get(name)
            by_value = seen.get(value.__class__)
            if by_value is None:
                by_value = seen[value.__class__] = {}
            try:
                cls = by_value[value]
            except KeyError:
                cls = by_value[value] = self._class_id(name, value)
            except TypeError:           # unhashable (a list)
                cls = self._class_id(name, value)
            out.append(cls)
        return tuple(out)

    def _class_id(self, name: str, value: Any) -> int:
        """The class as a small number: the memo's keys are tuples of ints, cheap to hash on every call."""
        cls = (name, self._class_of(name, value))
        return self._ids.setdefault(cls, len(self._ids))

    def _class_of(self, name: str, value: Any) -> Any:
        if isinstance(value, bool) or value is None or not isinstance(value, (int, float)):
            return ("v", _hashable(value))
        if isinstance(value, float) and not math.isfinite(value):
            return ("v", value)
        # integer-typed inputs refuse 140.5: keep that apart; a field only ever read as a number does not care, and
        # not splitting it halves its classes per such field (BMI, waist: a cold memo misses 4x less, issue 23)
        integral = name in self.fractional or float(value).is_integer()
        return ("n", tuple(vs.contains(value) for vs in self.sets[name]), integral)


_FRACTIONAL = frozenset({"number", "double", "decimal", "float"})    # the engine's number types that are not integers


def _literal_outputs(decision) -> bool:
    return all(entry.value.is_literal for rule in decision.rules for entry in rule.output_entries)
