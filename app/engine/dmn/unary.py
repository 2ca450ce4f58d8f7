"""Parse DMN cells: input entries (unary tests) into predicates and value sets, output entries into values.

Input-entry grammar (FEEL-ish and the SpiffArena Python style), `?` standing for the input value:
  `-` or empty                      any value
  `< x` `<= x` `> x` `>= x`         comparison; `= x`, `== x` equality; `!= x` inequality
  `x`                               a literal (number, "string", true/false/True/False, null/None): equality
  `[a..b]` `(a..b)` `]a..b[` `[a..b)` `(a..b]`   intervals (inclusive `[ ]`, exclusive `( )` or outward `] [`)
  `"a","b"` / `in ["a","b"]` / `in [4, 7]`       lists (any of); `not in [...]`
  `not(<any of the above>)`          negation
  `a < ? < b`, `? >= 5`              Spiff style comparisons
  anything else                      a sandboxed expression: with `?` it must be true; without, the input must equal it
Literal-only cells carry a ValueSet used both to match and to prove tables; expression cells are opaque.
"""
from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from app.engine import sandbox
from app.engine.dmn.values import ALL, Interval, ValueSet, is_number, point

INPUT_NAME = "_input"  # what `?` becomes in an expression cell
Helpers = Mapping[str, Callable[..., Any]]
Predicate = Callable[[Any, Mapping[str, Any], Helpers], bool]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "=": operator.eq, "==": operator.eq, "!=": operator.ne,
}
_COMPARISON = re.compile(r"^(<=|>=|==|!=|<|>|=)(?![=<>])\s*(.+)$", re.DOTALL)
_INTERVAL = re.compile(r"^([\[\]\(])\s*([^\[\]\(\),]+?)\s*\.\.\s*([^\[\]\(\),]+?)\s*([\[\]\)])$", re.DOTALL)
_INTERVAL_ANYWHERE = re.compile(r"[\[\]\(]\s*[^\[\]\(\),]+?\s*\.\.\s*[^\[\]\(\),]+?\s*[\[\]\)]")
_IN = re.compile(r"^(not\s+)?in(?=[\s\[\(\{])\s*(.+)$", re.DOTALL)
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_WORDS = {"true": True, "True": True, "false": False, "False": False, "null": None, "None": None}
_MISSING = object()
NO_HELPERS: Helpers = MappingProxyType({})


class EntryError(ValueError):
    """A cell does not parse; the reason says why (the caller adds rule and column)."""


@dataclass(frozen=True)
class UnaryTest:
    """One parsed input entry: `matches(value, context, helpers)`; `value_set` is None when opaque."""

    text: str
    predicate: Predicate = field(repr=False, compare=False)
    value_set: ValueSet | None
    names: frozenset[str] = frozenset()  # context names the cell reads

    @property
    def is_any(self) -> bool:
        return self.value_set == ALL

    def matches(self, value: Any, context: Mapping[str, Any], helpers: Helpers = NO_HELPERS) -> bool:
        return self.predicate(value, context, helpers)


@dataclass(frozen=True)
class OutputValue:
    """One parsed output entry: a literal, or a sandboxed expression over the context."""

    text: str
    is_literal: bool
    literal: Any = None
    names: frozenset[str] = frozenset()

    def value(self, context: Mapping[str, Any], helpers: Helpers = NO_HELPERS) -> Any:
        if self.is_literal:
            return self.literal
        return sandbox.evaluate(self.text, context, helpers=helpers)


# --- literals and expressions -------------------------------------------------------------------------------------

def parse_literal(text: str) -> Any:
    """Return the literal value of `text`, or raise EntryError if it is not a literal."""
    t = text.strip()
    if t in _WORDS:
        return _WORDS[t]
    if _NUMBER.match(t):
        number = float(t)
        return int(t) if re.fullmatch(r"[-+]?\d+", t) else number
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "\"'":
        try:
            value = ast.literal_eval(t)
        except (ValueError, SyntaxError):
            raise EntryError(f"bad string literal {t}") from None
        if isinstance(value, str):
            return value
    raise EntryError(f"not a literal: {t}")


def _try_literal(text: str) -> Any:
    try:
        return parse_literal(text)
    except EntryError:
        return _MISSING


def referenced_names(expression: str) -> frozenset[str]:
    """Names an expression reads from its context (comprehension variables excluded)."""
    tree = ast.parse(expression.strip(), mode="eval")
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    stored = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return frozenset(loaded - stored - {"True", "False", "None"} - set(sandbox.SAFE_BUILTINS))


def check_expression(expression: str) -> frozenset[str]:
    """Statically check an expression for the sandbox; return the names it reads."""
    try:
        sandbox.check(expression.strip(), "eval", filename="<cell>")
    except sandbox.SandboxError as exc:
        raise EntryError(f"{exc.reason} in {expression.strip()!r}") from None
    return referenced_names(expression)


def parse_output_entry(text: str | None) -> OutputValue:
    t = (text or "").strip()
    if not t:
        return OutputValue("", True, None)
    literal = _try_literal(t)
    if literal is not _MISSING:
        return OutputValue(t, True, literal)
    return OutputValue(t, False, names=check_expression(t))


def parse_value_list(text: str | None) -> list[Any] | None:
    """Parse an `outputValues`-style list of literals (`"A","B"`); unquoted words are taken as strings."""
    t = (text or "").strip()
    if not t:
        return None
    out = []
    for part in _split_top_level(t):
        literal = _try_literal(part)
        out.append(part.strip() if literal is _MISSING else literal)
    return out


# --- masking strings and intervals so that commas split lists correctly -------------------------------------------

def _mask_strings(text: str) -> tuple[str, list[str]]:
    out, strings, i = [], [], 0
    while i < len(text):
        c = text[i]
        if c in "\"'":
            j = i + 1
            while j < len(text) and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            if j >= len(text):
                raise EntryError("unterminated string")
            strings.append(text[i:j + 1])
            out.append(f"\x00{len(strings) - 1}\x00")
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out), strings


def _unmask(text: str, strings: list[str]) -> str:
    return re.sub("\x00(\\d+)\x00", lambda m: strings[int(m.group(1))], text)


def _split_top_level(text: str) -> list[str]:
    masked, strings = _mask_strings(text)
    intervals: list[str] = []

    def hide(m: re.Match[str]) -> str:
        intervals.append(m.group(0))
        return f"\x01{len(intervals) - 1}\x01"

    masked = _INTERVAL_ANYWHERE.sub(hide, masked)
    parts, depth, cur = [], 0, []
    for c in masked:
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    parts.append("".join(cur))
    restore = lambda s: _unmask(re.sub("\x01(\\d+)\x01", lambda m: intervals[int(m.group(1))], s), strings)
    return [restore(p).strip() for p in parts]


# --- input entries ------------------------------------------------------------------------------------------------

def parse_input_entry(text: str | None) -> UnaryTest:
    """Parse an input entry into a UnaryTest; raise EntryError if it does not parse."""
    t = (text or "").strip()
    if t in ("", "-"):
        return UnaryTest(t or "-", lambda v, c, h: True, ALL)
    parts = _split_top_level(t)
    if any(not p for p in parts):
        raise EntryError(f"empty item in list {t!r}")
    tests = [_parse_single(p) for p in parts]
    if len(tests) == 1:
        return tests[0]
    return _any_of(t, tests)


def _any_of(text: str, tests: list[UnaryTest]) -> UnaryTest:
    sets = [x.value_set for x in tests]
    value_set = None
    if all(s is not None for s in sets):
        value_set = sets[0]
        for s in sets[1:]:
            value_set = value_set.union(s)  # type: ignore[union-attr]
    names = frozenset().union(*(x.names for x in tests))
    return UnaryTest(text, lambda v, c, h: any(x.predicate(v, c, h) for x in tests), value_set, names)


def _parse_single(t: str) -> UnaryTest:
    masked, _ = _mask_strings(t)
    negated = _not_body(t, masked)
    if negated is not None:
        inner = parse_input_entry(negated)
        vs = inner.value_set.complement() if inner.value_set is not None else None
        return UnaryTest(t, lambda v, c, h: not inner.predicate(v, c, h), vs, inner.names)
    if "?" in masked:
        return _question_expression(t)
    m = _IN.match(t)
    if m:
        return _membership(t, m.group(2), negate=bool(m.group(1)))
    m = _COMPARISON.match(t)
    if m:
        return _comparison(t, m.group(1), m.group(2))
    m = _INTERVAL.match(t)
    if m:
        return _interval(t, *m.groups())
    literal = _try_literal(t)
    if literal is not _MISSING:
        return _comparison(t, "=", t)
    names = check_expression(t)
    return UnaryTest(t, lambda v, c, h: _compare("=", v, sandbox.evaluate(t, c, helpers=h)), None, names)


def _not_body(t: str, masked: str) -> str | None:
    m = re.match(r"^not\s*\(", masked)
    if not m or not masked.endswith(")"):
        return None
    depth = 0
    for i, c in enumerate(masked[m.end() - 1:], start=m.end() - 1):
        depth += c == "("
        depth -= c == ")"
        if depth == 0 and i != len(masked) - 1:
            return None  # `not(a) or b`: not a negation of the whole cell
    body = t[t.index("(") + 1: t.rindex(")")].strip()
    if not body:
        raise EntryError("empty not()")
    return body


def _literal_set(op: str, value: Any) -> ValueSet | None:
    if is_number(value) and not (isinstance(value, float) and math.isnan(value)):
        x = float(value) if not isinstance(value, int) else value
        sets = {"<": Interval(-math.inf, False, x, False), "<=": Interval(-math.inf, False, x, True),
                ">": Interval(x, False, math.inf, False), ">=": Interval(x, True, math.inf, False)}
        if op in sets:
            return ValueSet.of([sets[op]])
        eq = ValueSet.of([point(x)])
    elif op in ("<", "<=", ">", ">="):
        return None  # ordering strings or dates: matched, not analysed
    else:
        eq = ValueSet.of(discrete=[value])
    return eq.complement() if op == "!=" else eq


def _compare(op: str, value: Any, other: Any) -> bool:
    if isinstance(value, bool) != isinstance(other, bool) and not (value is None or other is None):
        return op == "!="
    try:
        return bool(_OPS[op](value, other))
    except TypeError:
        return False


def _comparison(t: str, op: str, operand: str) -> UnaryTest:
    literal = _try_literal(operand)
    if literal is not _MISSING:
        vs = _literal_set(op, literal)
        if vs is not None:
            return UnaryTest(t, lambda v, c, h: vs.contains(v), vs)
        return UnaryTest(t, lambda v, c, h: _compare(op, v, literal), None)
    names = check_expression(operand)
    return UnaryTest(t, lambda v, c, h: _compare(op, v, sandbox.evaluate(operand, c, helpers=h)), None, names)


def _interval(t: str, open_: str, lo_text: str, hi_text: str, close: str) -> UnaryTest:
    lo_closed, hi_closed = open_ == "[", close == "]"
    lo, hi = _try_literal(lo_text), _try_literal(hi_text)
    if is_number(lo) and is_number(hi):
        if lo > hi:
            raise EntryError(f"interval {t} is empty (low end above high end)")
        vs = ValueSet.of([Interval(lo, lo_closed, hi, hi_closed)])
        return UnaryTest(t, lambda v, c, h: vs.contains(v), vs)
    names = frozenset()
    for end, end_value in ((lo_text, lo), (hi_text, hi)):
        if end_value is _MISSING:
            names |= check_expression(end)

    def predicate(v: Any, c: Mapping[str, Any], h: Helpers) -> bool:
        a = lo if lo is not _MISSING else sandbox.evaluate(lo_text, c, helpers=h)
        b = hi if hi is not _MISSING else sandbox.evaluate(hi_text, c, helpers=h)
        return _compare(">=" if lo_closed else ">", v, a) and _compare("<=" if hi_closed else "<", v, b)

    return UnaryTest(t, predicate, None, names)


def _membership(t: str, collection: str, *, negate: bool) -> UnaryTest:
    try:
        items = ast.literal_eval(collection.strip())
    except (ValueError, SyntaxError):
        items = _MISSING
    if isinstance(items, (list, tuple, set, frozenset)):
        tests = [_comparison(repr(x), "=", repr(x)) for x in items]
        if not tests:
            raise EntryError(f"empty list in {t!r}")
        inner = _any_of(t, tests)
    else:
        names = check_expression(collection)

        def contains(v: Any, c: Mapping[str, Any], h: Helpers) -> bool:
            return any(_compare("=", v, x) for x in sandbox.evaluate(collection, c, helpers=h))

        inner = UnaryTest(t, contains, None, names)
    if not negate:
        return inner
    vs = inner.value_set.complement() if inner.value_set is not None else None
    return UnaryTest(t, lambda v, c, h: not inner.predicate(v, c, h), vs, inner.names)


def _question_expression(t: str) -> UnaryTest:
    masked, strings = _mask_strings(t)
    expression = _unmask(masked.replace("?", f" {INPUT_NAME} "), strings).strip()
    names = check_expression(expression) - {INPUT_NAME}
    vs = _question_set(expression)
    if vs is not None:
        return UnaryTest(t, lambda v, c, h: vs.contains(v), vs)

    def predicate(v: Any, c: Mapping[str, Any], h: Helpers) -> bool:
        return sandbox.evaluate(expression, {**c, INPUT_NAME: v}, helpers=h) is True

    return UnaryTest(t, predicate, None, names)


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_AST_OPS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


def _question_set(expression: str) -> ValueSet | None:
    """Recognize `? op literal` chains (`1 < ? <= 9`) as value sets; anything else stays opaque."""
    node = ast.parse(expression, mode="eval").body
    if not isinstance(node, ast.Compare) or any(type(op) not in _AST_OPS for op in node.ops):
        return None
    operands = [node.left, *node.comparators]
    result = ALL
    for (left, right), op in zip(pairwise(operands), node.ops, strict=True):
        symbol = _AST_OPS[type(op)]
        if _is_input(left) and not _is_input(right):
            value, op_text = _constant(right), symbol
        elif _is_input(right) and not _is_input(left):
            value, op_text = _constant(left), _FLIP[symbol]
        else:
            return None
        if value is _MISSING:
            return None
        vs = _literal_set("=" if op_text == "==" else op_text, value)
        if vs is None:
            return None
        result = result.intersect(vs)
    return result


def _is_input(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == INPUT_NAME


def _constant(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        return _MISSING
