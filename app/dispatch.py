"""The application class: Flask's request dispatch with its per-request decisions made once (issue 23.2).

For every request Flask walks the blueprint chain through `before_request_funcs` and `after_request_funcs` (dict
lookups per blueprint name, a `reversed` list of after-request functions), and asks `inspect.iscoroutinefunction`
of each hook, the view and a MethodView's method before calling it (`ensure_sync`). None of that can change once
the first request has been served (Flask refuses a hook added after it), so `App` decides it once per blueprint
and per function:

* the before- and after-request functions of a request's blueprint chain, in Flask's order, each already through
  `ensure_sync`, are kept per `request.blueprint` from the first request on (before it, Flask's own walk);
* `ensure_sync` remembers per function (a bound method: per its function) whether it is a coroutine function.

Everything else, in particular what runs when a hook returns a value or raises, is Flask's own code.
URL value preprocessors (none are registered) take Flask's walk. tests/unit/test_dispatch.py holds the order and the
short-circuit equal to Flask's.
"""
from __future__ import annotations

import inspect
from collections.abc import Callable
from types import FunctionType, MethodType
from typing import Any

from flask import Flask, Response, request
from flask.globals import request_ctx

Hooks = tuple[Callable[..., Any], ...]


class App(Flask):
    """Flask with the blueprint chain's hooks and `ensure_sync`'s answers kept (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], bool] = {}
        self._before: dict[str | None, Hooks] = {}
        self._after: dict[str | None, Hooks] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        kind = type(func)
        if kind is FunctionType or kind is MethodType:
            key = func.__func__ if kind is MethodType else func  # type: ignore[attr-defined]
            sync = self._sync.get(key)
            if sync is None:
                sync = self._sync[key] = not inspect.iscoroutinefunction(func)
            if sync:
                return func
        return super().ensure_sync(func)

    def preprocess_request(self) -> Any:
        if not self._got_first_request or self.url_value_preprocessors:
            return super().preprocess_request()
        blueprint = request.blueprint
        hooks = self._before.get(blueprint)
        if hooks is None:
            names = (None, *reversed(request.blueprints))
            hooks = self._before[blueprint] = tuple(self.ensure_sync(f) for name in names
                                                    for f in self.before_request_funcs.get(name, ()))
        for hook in hooks:
            rv = hook()
            if rv is not None:
                return rv
        return None

    def process_response(self, response: Response) -> Response:
        if not self._got_first_request:
            return super().process_response(response)
        ctx = request_ctx._get_current_object()  # type: ignore[attr-defined]
        for func in ctx._after_request_functions:
            response = self.ensure_sync(func)(response)
        blueprint = request.blueprint
        hooks = self._after.get(blueprint)
        if hooks is None:
            names = (*request.blueprints, None)
            hooks = self._after[blueprint] = tuple(self.ensure_sync(f) for name in names
                                                   for f in reversed(self.after_request_funcs.get(name, ())))
        for hook in hooks:
            response = hook(response)
        if not self.session_interface.is_null_session(ctx._session):
            self.session_interface.save_session(self, ctx._session, response)
        return response
