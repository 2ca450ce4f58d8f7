"""The application class: Flask's request dispatch with its per-request decisions made once (issue 23.2).

For every request Flask walks the blueprint chain through `before_request_funcs` and `after_request_funcs` (dict
lookups per blueprint name, a `reversed` list of after-request functions), and asks `inspect.iscoroutinefunction`
of each hook, the view and a MethodView's method before calling it (`ensure_sync`). None of that can change once
the first request has been served (Flask refuses a hook added after it), so `App` decides it once per blueprint
and per function:

* the before- and after-request functions of a request's blueprint chain, in Flask's order, each already through
  `ensure_sync`, are kept per `request.blueprint` from the first request on (before it, Flask's own walk);
* `ensure_sync` remembers per function (a bound method: per its function) whether it is a coroutine function.

* a route served by a `MethodView` class made by Flask's own `as_view` (no class arguments, no class decorators,
  `dispatch_request` not overridden) is dispatched straight to the method: the view class instantiated and its
  method (HEAD falling back to GET) called as `MethodView.dispatch_request` calls it, without the `as_view` closure,
  `dispatch_request` and their two `current_app` and `request` lookups (issue 23.2). Any other view function —
  a plain function, a decorated or parametrized view, a method the class lacks — takes Flask's way.

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
from flask.views import MethodView

Hooks = tuple[Callable[..., Any], ...]


def _as_view_code() -> Any:
    """The code of the view function Flask's `as_view` makes for a class that is instantiated per request."""
    class Probe(MethodView):
        def get(self) -> str:
            return ""
    return Probe.as_view("probe").__code__


_AS_VIEW = _as_view_code()


def method_view_class(view: Callable[..., Any]) -> type[MethodView] | None:
    """The `MethodView` class whose method `view` would call as Flask's `as_view` function of it would, or None
    when `view` is anything else (a plain function, a decorated view, a view class given arguments or with its own
    `dispatch_request`): those take Flask's dispatch."""
    if type(view) is not FunctionType or view.__code__ is not _AS_VIEW:
        return None
    cells = dict(zip(view.__code__.co_freevars, (c.cell_contents for c in view.__closure__ or ()), strict=True))
    cls = getattr(view, "view_class", None)
    if (cells.get("view") is not view or cells.get("class_args") != () or cells.get("class_kwargs") != {}
            or not isinstance(cls, type) or not issubclass(cls, MethodView) or cls.decorators
            or cls.dispatch_request is not MethodView.dispatch_request or not cls.init_every_request):
        return None
    return cls


class App(Flask):
    """Flask with the blueprint chain's hooks and `ensure_sync`'s answers kept (see the module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], bool] = {}
        self._before: dict[str | None, Hooks] = {}
        self._after: dict[str | None, Hooks] = {}
        self._classes: dict[Callable[..., Any], type[MethodView] | None] = {}

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

    def dispatch_request(self) -> Any:
        req = request_ctx.request
        if req.routing_exception is not None:
            return super().dispatch_request()
        rule = req.url_rule
        if getattr(rule, "provide_automatic_options", False) and req.method == "OPTIONS":
            return super().dispatch_request()
        view = self.view_functions[rule.endpoint]  # type: ignore[union-attr]
        try:
            cls = self._classes[view]
        except KeyError:
            cls = self._classes[view] = method_view_class(view)
        if cls is None:
            return super().dispatch_request()
        method = req.method
        obj = cls()
        meth = getattr(obj, method.lower(), None)
        if meth is None and method == "HEAD":
            meth = getattr(obj, "get", None)
        if meth is None:                                # Flask's assertion, from Flask's code
            return super().dispatch_request()
        return self.ensure_sync(meth)(**req.view_args)  # type: ignore[arg-type]

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
