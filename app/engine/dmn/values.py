"""Sets of input values: unions of numeric intervals plus finite or co-finite sets of other values.

One representation serves both matching a cell at run time and proving a table at deploy time, so the two can
never disagree about what a cell covers. Numbers (not bools) live on the real line; strings, bools and null are
discrete values. A co-finite discrete part means "every non-number except these" (`!= "a"`, `-`).
"""
from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

INF = math.inf
OTHER_VALUE = "其他值 (any other value)"


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


@dataclass(frozen=True, order=True)
class Interval:
    lo: float
    lo_closed: bool
    hi: float
    hi_closed: bool

    def is_empty(self) -> bool:
        if self.lo < self.hi:
            return False
        return not (self.lo == self.hi and self.lo_closed and self.hi_closed and not math.isinf(self.lo))

    def contains(self, x: Any) -> bool:
        above = x > self.lo or (self.lo_closed and x == self.lo)
        below = x < self.hi or (self.hi_closed and x == self.hi)
        return bool(above and below)

    def intersect(self, other: Interval) -> Interval:
        lo, lo_closed = max((self.lo, not self.lo_closed), (other.lo, not other.lo_closed))
        hi, hi_closed = min((self.hi, self.hi_closed), (other.hi, other.hi_closed))
        return Interval(lo, not lo_closed, hi, hi_closed)

    def sample(self) -> float:
        """Pick a readable point inside: a closed end, the midpoint, or one step in from an open end."""
        if self.lo_closed and not math.isinf(self.lo):
            return self.lo
        if self.hi_closed and not math.isinf(self.hi):
            return self.hi
        if not math.isinf(self.lo) and not math.isinf(self.hi):
            return (self.lo + self.hi) / 2
        if not math.isinf(self.lo):
            return self.lo + 1
        if not math.isinf(self.hi):
            return self.hi - 1
        return 0

    def text(self) -> str:
        lo = "-∞" if math.isinf(self.lo) else _num(self.lo)
        hi = "∞" if math.isinf(self.hi) else _num(self.hi)
        return f"{'[' if self.lo_closed else '('}{lo}..{hi}{']' if self.hi_closed else ')'}"


def _num(x: float) -> Any:
    return int(x) if isinstance(x, float) and x.is_integer() else x


def _integer_span(i: Interval) -> Interval | None:
    first = last = None
    if not math.isinf(i.lo):
        first = math.ceil(i.lo)
        first += 1 if first == i.lo and not i.lo_closed else 0
    if not math.isinf(i.hi):
        last = math.floor(i.hi)
        last -= 1 if last == i.hi and not i.hi_closed else 0
    if first is not None and last is not None and first > last:
        return None
    return Interval(-INF if first is None else first, first is not None,
                    INF if last is None else last + 1, False)


REAL_LINE = Interval(-INF, False, INF, False)


def point(x: float) -> Interval:
    return Interval(x, True, x, True)


def _normalize(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    items = sorted((i for i in intervals if not i.is_empty()), key=lambda i: (i.lo, not i.lo_closed))
    merged: list[Interval] = []
    for cur in items:
        if merged:
            last = merged[-1]
            touches = cur.lo < last.hi or (cur.lo == last.hi and (cur.lo_closed or last.hi_closed))
            if touches:
                hi, hi_closed = max((last.hi, last.hi_closed), (cur.hi, cur.hi_closed))
                merged[-1] = Interval(last.lo, last.lo_closed, hi, hi_closed)
                continue
        merged.append(cur)
    return tuple(merged)


def _complement(intervals: tuple[Interval, ...]) -> tuple[Interval, ...]:
    out: list[Interval] = []
    lo, lo_closed = -INF, False
    for i in intervals:
        out.append(Interval(lo, lo_closed, i.lo, not i.lo_closed))
        lo, lo_closed = i.hi, not i.hi_closed
    out.append(Interval(lo, lo_closed, INF, False))
    return _normalize(out)


@dataclass(frozen=True)
class ValueSet:
    intervals: tuple[Interval, ...] = ()
    discrete: frozenset[Hashable] = frozenset()
    cofinite: bool = False  # True: the discrete part is "every non-number except `discrete`"

    @staticmethod
    def of(intervals: Iterable[Interval] = (), discrete: Iterable[Hashable] = (), cofinite: bool = False
           ) -> ValueSet:
        return ValueSet(_normalize(intervals), frozenset(discrete), cofinite)

    def contains(self, value: Any) -> bool:
        if is_number(value):
            return any(i.contains(value) for i in self.intervals)
        try:
            return (value in self.discrete) != self.cofinite
        except TypeError:  # unhashable (a list): only "any other value" covers it
            return self.cofinite

    def is_empty(self) -> bool:
        return not self.intervals and not self.cofinite and not self.discrete

    def union(self, other: ValueSet) -> ValueSet:
        return (self.complement().intersect(other.complement())).complement()

    def complement(self) -> ValueSet:
        return ValueSet(_complement(self.intervals), self.discrete, not self.cofinite)

    def intersect(self, other: ValueSet) -> ValueSet:
        intervals = _normalize(a.intersect(b) for a in self.intervals for b in other.intervals)
        s, t = self.discrete, other.discrete
        if self.cofinite and other.cofinite:
            return ValueSet(intervals, s | t, True)
        if self.cofinite:
            return ValueSet(intervals, t - s, False)
        if other.cofinite:
            return ValueSet(intervals, s - t, False)
        return ValueSet(intervals, s & t, False)

    def minus(self, other: ValueSet) -> ValueSet:
        return self.intersect(other.complement())

    def integers(self) -> ValueSet:
        """Keep only integer points: each interval becomes [first, last + 1) so neighbours touch exactly."""
        out = [_integer_span(i) for i in self.intervals]
        return ValueSet(_normalize(i for i in out if i is not None), self.discrete, self.cofinite)

    def sample(self, *, integer: bool = False) -> Any:
        """A concrete member, for the example input of a finding."""
        if self.intervals:
            i = self.intervals[0]
            x = i.sample()
            return int(x) if integer or (isinstance(x, float) and x.is_integer()) else x
        if self.cofinite:
            value = OTHER_VALUE
            while value in self.discrete:
                value += "'"
            return value
        return min(self.discrete, key=repr) if self.discrete else None

    def text(self) -> str:
        parts = [i.text() for i in self.intervals]
        values = ", ".join(sorted(_literal_text(v) for v in self.discrete))
        if self.cofinite:
            parts.append(f"not({values})" if values else "any non-number")
        elif values:
            parts.append(values)
        return " ∪ ".join(parts) or "∅"


def _literal_text(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return f'"{v}"' if isinstance(v, str) else repr(v)


ALL = ValueSet((REAL_LINE,), frozenset(), True)
EMPTY = ValueSet()
