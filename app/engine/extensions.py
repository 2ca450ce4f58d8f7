"""Site script functions: trusted operator-installed modules whose functions every model script may call.

A site names importable modules in `YGT_SCRIPT_EXTENSIONS` (comma separated). Each exposes
`SCRIPT_FUNCTIONS: dict[str, callable]`; the functions join the helpers of every script task, pre-/post-script,
gateway condition and expression (as an application adds functions to SpiffWorkflow's `PythonScriptEngine`
environment). The functions themselves are not sandboxed (the operator installed them); model scripts still are.
A namedtuple or dataclass a script keeps in task data is stored as a `sandbox.Record` (JSON-safe, attribute access
kept), so `product.price` works in later scripts and conditions, across saves and restarts.
"""
from __future__ import annotations

import keyword
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any


class ScriptExtensionError(Exception):
    """A site script module that cannot be used; `code` is stable, the message names the module."""

    def __init__(self, code: str, module: str, reason: str):
        super().__init__(f"{code}: script extension module '{module}': {reason}")
        self.code = code
        self.module = module


def load_script_functions(modules: Iterable[str], reserved: Mapping[str, Any] | None = None
                          ) -> dict[str, Callable[..., Any]]:
    """Import each module and collect its SCRIPT_FUNCTIONS; a missing module, a missing or malformed
    SCRIPT_FUNCTIONS, or a name clashing with `reserved` (the platform's helpers) or another module raises
    ScriptExtensionError naming the module."""
    functions: dict[str, Callable[..., Any]] = {}
    owner: dict[str, str] = {}
    for name in modules:
        try:
            module = import_module(name)
        except Exception as exc:
            raise ScriptExtensionError("script_extension_import", name, f"{type(exc).__name__}: {exc}") from exc
        table = getattr(module, "SCRIPT_FUNCTIONS", None)
        if not isinstance(table, Mapping):
            raise ScriptExtensionError("script_extension_invalid", name, "has no SCRIPT_FUNCTIONS dict")
        for fn_name, fn in table.items():
            if not (isinstance(fn_name, str) and fn_name.isidentifier() and not fn_name.startswith("_")
                    and not keyword.iskeyword(fn_name)):
                raise ScriptExtensionError("script_extension_invalid", name, f"'{fn_name}' is not a usable name")
            if not callable(fn):
                raise ScriptExtensionError("script_extension_invalid", name, f"'{fn_name}' is not callable")
            if reserved and fn_name in reserved:
                raise ScriptExtensionError("script_extension_clash", name,
                                           f"'{fn_name}' is already a platform script helper")
            if fn_name in functions and functions[fn_name] is not fn:
                raise ScriptExtensionError("script_extension_clash", name,
                                           f"'{fn_name}' is also defined by '{owner[fn_name]}'")
            functions[fn_name] = fn
            owner[fn_name] = name
    return functions
