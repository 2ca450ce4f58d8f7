"""Evaluate the small Python expressions and scripts that BPMN and DMN models carry, without their escaping.

Models are data that process owners edit in the browser, so their code must not reach the interpreter
(ENGINE_NOTES §1.9: RestrictedPython's `safe_globals` still lets `().__class__.__base__.__subclasses__()` through).
Three layers keep it in:

1. a static check of the syntax tree (no imports, no `_`-attributes, no `__`-names, no classes, functions, lambdas,
   `with`, `global`, `raise`, bare `except`, no `str.format`, no frame/generator/code attributes);
2. a builtins dict that holds only a short whitelist, so `open`, `__import__`, `getattr`, `type`, `eval` do not exist;
3. a wall-clock limit checked on every traced line, plus guards on the operators that build huge values in one
   C call (`**`, `*`, `<<`, `%`-formatting, `range`, `ljust`/`rjust`/`center`/`zfill` widths).

The time limit cannot interrupt a single long C call that the guards do not anticipate: that is why the engine runs
scripts in an OS-limited worker process (`isolation`: memory by RLIMIT_AS, time by a killing timeout), and why
deploying models stays a privileged, audited action.
"""
from __future__ import annotations

import ast
import dataclasses
import datetime as _dt
import functools
import re
import sys
import time
import types
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["CALLABLE_BUILTINS", "DATETIME_MODULE", "SAFE_BUILTINS", "SandboxError", "check", "evaluate", "execute"]

MAX_SEQUENCE = 1_000_000  # items a single `*`, `range` or format width may produce
MAX_INT_BITS = 100_000  # bits a single `**` or `<<` may produce
_GUARD = "__ygt_guard"
_WIDTH = "__ygt_width"
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill"})
_RANGE_NAME = "range"


class Record(dict):
    """A record a site script function returned (namedtuple or dataclass), kept in task data as a JSON-safe dict
    whose fields scripts and conditions still read as attributes (`product.price`)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __reduce__(self):  # pickles as itself across the script worker's socket
        return (Record, (dict(self),))


def as_data(value: Any) -> Any:
    """A namedtuple or dataclass instance as a Record (fields converted the same way); anything else unchanged."""
    if isinstance(value, tuple) and hasattr(value, "_fields") and hasattr(value, "_asdict"):
        return Record({k: as_data(v) for k, v in value._asdict().items()})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return Record({f.name: as_data(getattr(value, f.name)) for f in dataclasses.fields(value)})
    return value


class SandboxError(Exception):
    """A model's script or expression was refused, failed, or ran out of time."""

    def __init__(self, code: str, reason: str, *, lineno: int | None = None, source_line: str | None = None):
        self.code = code
        self.reason = reason
        self.lineno = lineno
        self.source_line = source_line
        where = f"line {lineno}: " if lineno is not None else ""
        super().__init__(f"{code}: {where}{reason}")


class _Timeout(BaseException):
    """Raised by the tracer; a BaseException so that `except Exception` in a script cannot swallow it."""


def _safe_range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_SEQUENCE:
        raise ValueError(f"range of {len(r)} items exceeds the sandbox limit of {MAX_SEQUENCE}")
    return r


def _datetime_module() -> types.ModuleType:
    """`datetime` as SpiffWorkflow scripts see it (spiff-example-cli: `TaskDataEnvironment({"datetime": datetime})`):
    the module, so `datetime.datetime.now()`, `datetime.timedelta(days=1)`, `datetime.date.today()` work. A copy
    holding only the module's public date/time names: the real module also carries `sys`, which must not be
    reachable from a model."""
    module = types.ModuleType("datetime", _dt.__doc__)
    for name in ("date", "datetime", "time", "timedelta", "timezone", "tzinfo", "MINYEAR", "MAXYEAR", "UTC"):
        setattr(module, name, getattr(_dt, name))
    return module


DATETIME_MODULE = _datetime_module()

def _discard_print(*_args: Any, **_kwargs: Any) -> None:
    """`print()` as SpiffWorkflow's own models use it: accepted, and its output goes nowhere (nothing is converted
    to text and no stream is written, so it costs nothing and reaches nothing)."""


# Names every script and expression sees (SpiffWorkflow's `TaskDataEnvironment` gives Python's builtins plus the
# environment's globals; here a whitelist of the harmless ones). `date` and `timedelta` are platform shortcuts;
# `datetime` is the module, as in SpiffWorkflow (issue 14.9).
CALLABLE_BUILTINS: dict[str, Any] = {
    "abs": abs, "all": all, "any": any, "bool": bool, "dict": dict, "enumerate": enumerate, "float": float,
    "int": int, "len": len, "list": list, "max": max, "min": min, "range": _safe_range, "round": round,
    "set": set, "sorted": sorted, "str": str, "sum": sum, "tuple": tuple, "zip": zip, "isinstance": isinstance,
    "date": _dt.date, "datetime": DATETIME_MODULE, "timedelta": _dt.timedelta, "Decimal": Decimal,
    "reversed": reversed, "divmod": divmod, "map": map, "filter": filter, "chr": chr, "ord": ord,
    "print": _discard_print,
}
# Exception classes may be named in `except` clauses but not called (no `raise`; use `assert`).
_EXCEPTIONS: dict[str, Any] = {
    "Exception": Exception, "ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError,
    "IndexError": IndexError, "ZeroDivisionError": ZeroDivisionError, "ArithmeticError": ArithmeticError,
    "LookupError": LookupError, "AssertionError": AssertionError,
}
_INTERNAL_IMPORTS = frozenset({"_strptime", "time"})


def _internal_import(name: str, *args: Any, **kwargs: Any) -> Any:
    """C code imports through the calling frame's builtins (`datetime.strptime` needs `_strptime`). Scripts cannot
    name `__import__` (the static check refuses `__` names); this serves only those stdlib modules."""
    if name not in _INTERNAL_IMPORTS:
        raise ImportError(f"import of {name} is not allowed")
    return __import__(name, *args, **kwargs)


SAFE_BUILTINS: dict[str, Any] = {**CALLABLE_BUILTINS, **_EXCEPTIONS, "True": True, "False": False, "None": None,
                                 "__import__": _internal_import}

_FORBIDDEN_NODES: dict[type, str] = {
    ast.Import: "import is not allowed",
    ast.ImportFrom: "import is not allowed",
    ast.Global: "global is not allowed",
    ast.Nonlocal: "nonlocal is not allowed",
    ast.ClassDef: "class definitions are not allowed",
    ast.FunctionDef: "function definitions are not allowed; call a named helper instead",
    ast.AsyncFunctionDef: "async code is not allowed",
    ast.AsyncFor: "async code is not allowed",
    ast.AsyncWith: "async code is not allowed",
    ast.Await: "async code is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.With: "with is not allowed",
    ast.Raise: "raise is not allowed; use assert",
}
if hasattr(ast, "TryStar"):
    _FORBIDDEN_NODES[ast.TryStar] = "except* is not allowed"
if hasattr(ast, "Match"):
    _FORBIDDEN_NODES[ast.Match] = "match is not allowed"

# Attributes that reach interpreter internals without a leading underscore (frames, code, generators).
_FORBIDDEN_ATTR_PREFIXES = ("gi_", "cr_", "ag_", "f_", "tb_", "co_", "func_", "im_")
# `str.format`/`format_map` resolve "{0.__class__}" inside the string, past the syntax check.
_FORBIDDEN_ATTRS = frozenset({"format", "format_map", "mro", "expandtabs"})
# Python builtins a script might reach for; named so the deploy error says why.
_DANGEROUS_CALLS = frozenset({
    "open", "eval", "exec", "compile", "getattr", "setattr", "delattr", "hasattr", "globals", "locals", "vars",
    "type", "dir", "input", "help", "breakpoint", "memoryview", "object", "super", "classmethod", "staticmethod",
    "property", "format", "iter", "next", "id", "hash", "callable", "exit", "quit",
})
_WIDE_FORMAT = re.compile(r"\d{4,}")
_PERCENT_WIDE = re.compile(r"%[^a-zA-Z%]*(\*|\d{4,})")


class _Checker(ast.NodeVisitor):
    def __init__(self, lines: list[str]):
        self.lines = lines

    def refuse(self, node: ast.AST, reason: str) -> None:
        lineno = getattr(node, "lineno", None)
        line = self.lines[lineno - 1] if lineno and lineno <= len(self.lines) else None
        raise SandboxError("script_forbidden", reason, lineno=lineno, source_line=line)

    def generic_visit(self, node: ast.AST) -> None:
        reason = _FORBIDDEN_NODES.get(type(node))
        if reason:
            self.refuse(node, reason)
        super().generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        name = node.attr
        if name.startswith("_"):
            self.refuse(node, f"attribute '{name}' is not allowed (names starting with '_' are private)")
        if name in _FORBIDDEN_ATTRS or name.startswith(_FORBIDDEN_ATTR_PREFIXES):
            self.refuse(node, f"attribute '{name}' is not allowed")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id.startswith("__"):
            self.refuse(node, f"name '{node.id}' is not allowed")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name):
            if func.id in _DANGEROUS_CALLS or func.id in _EXCEPTIONS:
                self.refuse(node, f"{func.id}() is not available in scripts")
        elif not isinstance(func, ast.Attribute):
            self.refuse(node, "only named functions and methods of values may be called")
        self.generic_visit(node)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None:
            self.refuse(node, "a bare 'except:' is not allowed; name the exception")
        self.generic_visit(node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> None:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if any(not isinstance(p, ast.Constant) for p in parts):
                self.refuse(node, "computed format specs are not allowed in f-strings")
            if any(_WIDE_FORMAT.search(str(p.value)) for p in parts if isinstance(p, ast.Constant)):
                self.refuse(node, "format width too large")
        self.generic_visit(node)


def _parse(source: str, mode: str, filename: str) -> ast.AST:
    if mode not in ("exec", "eval"):
        raise ValueError(f"mode must be 'exec' or 'eval', not {mode!r}")
    try:
        tree = ast.parse(source, filename=filename, mode=mode)
    except SyntaxError as exc:
        raise SandboxError("script_error", f"SyntaxError: {exc.msg}", lineno=exc.lineno,
                           source_line=(exc.text or "").rstrip("\n") or None) from None
    _Checker(source.splitlines()).visit(tree)
    return tree


def check(source: str, mode: str = "exec", *, filename: str = "<script>") -> None:
    """Validate a script or expression statically (at deploy time); raise SandboxError naming line and reason."""
    _parse(source, mode, filename)


# --- runtime guards on value-amplifying operators -------------------------------------------------------------

def _guard(op: str, left: Any, right: Any) -> Any:
    if op == "pow":
        big = isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 0
        if big and abs(left).bit_length() * right > MAX_INT_BITS:
            raise ValueError("power result too large for the sandbox")
        return left ** right
    if op == "mul":
        for seq, n in ((left, right), (right, left)):
            sequence = isinstance(seq, (str, bytes, list, tuple)) and isinstance(n, int)
            if sequence and len(seq) * n > MAX_SEQUENCE:
                raise ValueError("repeated sequence too large for the sandbox")
        return left * right
    if op == "lshift":
        if isinstance(right, int) and right > MAX_INT_BITS:
            raise ValueError("shift too large for the sandbox")
        return left << right
    if op == "mod":
        if isinstance(left, str) and _PERCENT_WIDE.search(left):
            raise ValueError("format width too large for the sandbox")
        return left % right
    raise AssertionError(op)


def _width(n: Any) -> Any:
    if isinstance(n, int) and n > MAX_SEQUENCE:
        raise ValueError("padding width too large for the sandbox")
    return n


_GUARDED_OPS = {ast.Pow: "pow", ast.Mult: "mul", ast.LShift: "lshift", ast.Mod: "mod"}


class _GuardOperators(ast.NodeTransformer):
    """Route `**`, `*`, `<<` and `%` through `_guard` so a single operation cannot build a huge value."""

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        op = _GUARDED_OPS.get(type(node.op))
        if op is None:
            return node
        return ast.copy_location(ast.Call(
            func=ast.Name(id=_GUARD, ctx=ast.Load()),
            args=[ast.Constant(op), node.left, node.right], keywords=[]), node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """`s.ljust(n)`, `rjust`, `center`, `zfill`: one C call that builds a string of width n."""
        self.generic_visit(node)
        if isinstance(node.func, ast.Attribute) and node.func.attr in _WIDTH_METHODS and node.args:
            node.args[0] = ast.copy_location(ast.Call(func=ast.Name(id=_WIDTH, ctx=ast.Load()),
                                                      args=[node.args[0]], keywords=[]), node.args[0])
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        op = _GUARDED_OPS.get(type(node.op))
        if op is None:
            return node
        load = _as_load(node.target)
        call = ast.Call(func=ast.Name(id=_GUARD, ctx=ast.Load()), args=[ast.Constant(op), load, node.value],
                        keywords=[])
        return ast.copy_location(ast.Assign(targets=[node.target], value=call), node)


def _as_load(target: ast.expr) -> ast.expr:
    clone = ast.parse(ast.unparse(target), mode="eval").body
    return ast.copy_location(clone, target)


@functools.lru_cache(maxsize=2048)
def _compile(source: str, mode: str, filename: str) -> types.CodeType:
    tree = _GuardOperators().visit(_parse(source, mode, filename))
    ast.fix_missing_locations(tree)
    return compile(tree, filename, mode)


# --- running -----------------------------------------------------------------------------------------------------

def _tracer_until(timeout_s: float) -> Callable[..., Any]:
    """Stop the code once it has used `timeout_s` of its thread's CPU time. The wall clock is the cheap first check
    (a vDSO read per traced line); only past it is the thread's CPU time read, and a thread that was merely kept off
    the CPU (a busy machine, another thread holding the GIL) gets the rest of its budget instead of a false
    `script_timeout` — which once failed a clinical table's own conformance cases at deploy time."""
    cpu_start = time.thread_time()
    deadline = time.monotonic() + timeout_s

    def trace(frame: types.FrameType, event: str, arg: Any) -> Callable[..., Any]:
        nonlocal deadline
        now = time.monotonic()
        if now > deadline:
            used = time.thread_time() - cpu_start
            if used >= timeout_s:
                raise _Timeout()
            deadline = now + (timeout_s - used)
        return trace

    return trace


def _run(code: types.CodeType, env: dict[str, Any], mode: str, source: str, filename: str,
         timeout_s: float) -> Any:
    previous = sys.gettrace()
    sys.settrace(_tracer_until(timeout_s))
    try:
        if mode == "eval":
            return eval(code, env)  # checked code, whitelisted builtins only
        exec(code, env)  # noqa: S102 — checked code, whitelisted builtins only
        return None
    except _Timeout:
        raise SandboxError("script_timeout", f"script ran longer than {timeout_s:g} s") from None
    except SandboxError:
        raise
    except Exception as exc:  # noqa: BLE001 — any failure of model code is reported as script_error
        raise _runtime_error(exc, source, filename) from None
    finally:
        sys.settrace(previous)


def _runtime_error(exc: Exception, source: str, filename: str) -> SandboxError:
    lineno = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    lines = source.splitlines()
    line = lines[lineno - 1].strip() if lineno and lineno <= len(lines) else None
    return SandboxError("script_error", f"{type(exc).__name__}: {exc}", lineno=lineno, source_line=line)


def _environment(names: Mapping[str, Any], helpers: Mapping[str, Callable[..., Any]]) -> dict[str, Any]:
    env: dict[str, Any] = dict(names)
    env.update(helpers)
    env[_GUARD] = _guard
    env[_WIDTH] = _width
    env["__builtins__"] = SAFE_BUILTINS
    return env


def evaluate(expression: str, names: Mapping[str, Any], *, helpers: Mapping[str, Callable[..., Any]] = {},
             timeout_s: float = 1.0) -> Any:
    """Evaluate one checked expression over `names`, with whitelisted builtins and `helpers`."""
    filename = "<expression>"
    code = _compile(expression.strip(), "eval", filename)
    return _run(code, _environment(names, helpers), "eval", expression.strip(), filename, timeout_s)


def execute(source: str, names: dict[str, Any], *, helpers: Mapping[str, Callable[..., Any]] = {},
            timeout_s: float = 2.0) -> None:
    """Run one checked script; variables it assigns (data only) are written back into `names`."""
    filename = "<script>"
    code = _compile(source, "exec", filename)
    env = _environment(names, helpers)
    _run(code, env, "exec", source, filename, timeout_s)
    original = dict(names)
    names.clear()
    for key, value in env.items():
        if _is_data(key, value, helpers):
            names[key] = as_data(value)
        elif key in original and key in helpers and value is helpers[key]:
            names[key] = original[key]  # data that a helper's name shadowed during the run is kept, not lost


def _is_data(key: str, value: Any, helpers: Mapping[str, Any]) -> bool:
    if key in ("__builtins__", _GUARD, _WIDTH) or (key in helpers and helpers[key] is value):
        return False
    if isinstance(value, (types.ModuleType, type, Iterator)) or callable(value):
        return False
    return not isinstance(value, (types.CodeType, types.FrameType, types.TracebackType))
