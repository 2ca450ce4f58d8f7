"""The application class (app.dispatch.App): Flask's hooks in Flask's order, decided once per blueprint."""
from __future__ import annotations

import pytest
from flask import Blueprint, Flask, after_this_request, g

from app.dispatch import App


def _built(cls: type[Flask], calls: list[str]) -> Flask:
    """An app with hooks at every level of a nested blueprint chain, each noting when it runs."""
    app = cls(__name__)
    outer, inner = Blueprint("outer", __name__), Blueprint("inner", __name__)

    def note(name: str, stop: bool = False):
        def before():
            calls.append(name)
            return "stopped" if stop and g.get("stop") else None

        def after(response):
            calls.append(name)
            response.headers[name] = "1"
            return response
        return before, after

    for level, hooks in (("app", app), ("outer", outer), ("inner", inner)):
        for n in (1, 2):
            before, after = note(f"{level}:{n}", stop=level == "outer" and n == 1)
            hooks.before_request(before)
            hooks.after_request(after)

    @inner.route("/leaf")
    def leaf():
        calls.append("view")
        return "leaf"

    @app.route("/top")
    def top():
        @after_this_request
        def once(response):
            calls.append("after_this_request")
            return response
        calls.append("view")
        return "top"

    @app.before_request
    def stopper():
        g.stop = g.get("stop") or False

    outer.register_blueprint(inner, url_prefix="/inner")
    app.register_blueprint(outer, url_prefix="/outer")
    return app


@pytest.mark.parametrize("path", ["/outer/inner/leaf", "/top", "/nowhere"])
def test_hooks_run_in_flasks_order_on_every_request(path):
    flask_calls: list[str] = []
    ours: list[str] = []
    flask_app, app = _built(Flask, flask_calls), _built(App, ours)
    for _ in range(3):                  # the first request walks Flask's way, the later ones the kept chains
        flask_calls.clear()
        ours.clear()
        expected, got = flask_app.test_client().get(path), app.test_client().get(path)
        assert ours == flask_calls
        assert (got.status_code, got.data, sorted(got.headers.items())) == \
            (expected.status_code, expected.data, sorted(expected.headers.items()))
    assert "view" in ours or path == "/nowhere"


def test_a_before_hook_that_answers_stops_the_chain_as_in_flask():
    flask_calls: list[str] = []
    ours: list[str] = []
    flask_app, app = _built(Flask, flask_calls), _built(App, ours)
    for which in (flask_app, app):
        which.before_request_funcs[None].insert(0, lambda: setattr(g, "stop", True))
    for _ in range(3):
        flask_calls.clear()
        ours.clear()
        expected, got = flask_app.test_client().get("/outer/inner/leaf"), app.test_client().get("/outer/inner/leaf")
        assert got.data == expected.data == b"stopped"
        assert ours == flask_calls and "view" not in ours


def test_an_async_view_is_handed_to_flasks_ensure_sync():
    """No coroutine is called as if it were a plain function: Flask's own answer (here: asgiref is not installed)."""
    for cls in (Flask, App):
        app = cls(__name__)

        @app.route("/")
        async def view():
            return "async"

        with app.test_request_context("/"), pytest.raises(RuntimeError, match="async"):
            app.ensure_sync(view)


def test_the_chains_are_kept_per_blueprint_after_the_first_request():
    app = _built(App, [])
    client = app.test_client()
    client.get("/top")
    client.get("/outer/inner/leaf")
    assert set(app._before) == set(app._after) == {None, "outer.inner"}


# --- a MethodView's method called straight (App.dispatch_request) -------------------------------------------------

def _views(cls: type[Flask], made: list[str]) -> Flask:
    """Routes of every kind a view function can be: the plain `as_view` of a MethodView (straight to the method) and
    each case that must keep Flask's dispatch."""
    from flask import request
    from flask.views import MethodView, View

    app = cls(__name__)

    class Plain(MethodView):
        def __init__(self):
            made.append(type(self).__name__)

        def get(self, n=None):
            return f"get {n} {request.method}"

        def post(self, n=None):
            return f"post {n}", 201, {"X-Kind": "plain"}

    class Deleting(Plain):          # a subclass: the methods of both, one instance per request
        def delete(self, n=None):
            return "", 204

    class Decorated(Plain):
        decorators = (lambda view: (lambda **kw: "decorated " + view(**kw)),)

    class Given(MethodView):
        def __init__(self, word):
            made.append("Given")
            self.word = word

        def get(self):
            return self.word

    class Own(MethodView):
        def dispatch_request(self, **kwargs):
            return "own dispatch"

        def get(self):
            return "never"

    class Shared(MethodView):
        init_every_request = False

        def get(self):
            return "shared"

    class Failing(MethodView):
        def get(self):
            raise KeyError("boom")

    class Bare(View):
        def dispatch_request(self):
            return "bare"

    app.add_url_rule("/plain", view_func=Plain.as_view("plain"))
    app.add_url_rule("/plain/<int:n>", view_func=Plain.as_view("plain_n"))
    app.add_url_rule("/deleting", view_func=Deleting.as_view("deleting"))
    app.add_url_rule("/decorated", view_func=Decorated.as_view("decorated"))
    app.add_url_rule("/given", view_func=Given.as_view("given", "word"))
    app.add_url_rule("/own", view_func=Own.as_view("own"))
    app.add_url_rule("/shared", view_func=Shared.as_view("shared"))
    app.add_url_rule("/failing", view_func=Failing.as_view("failing"))
    app.add_url_rule("/bare", view_func=Bare.as_view("bare"))
    app.add_url_rule("/function", "function", lambda: "function")
    return app


CALLS = [("GET", "/plain"), ("HEAD", "/plain"), ("POST", "/plain"), ("OPTIONS", "/plain"), ("PUT", "/plain"),
         ("GET", "/plain/7"), ("GET", "/plain/x"), ("DELETE", "/deleting"), ("GET", "/deleting"),
         ("GET", "/decorated"), ("GET", "/given"), ("GET", "/own"), ("GET", "/shared"), ("GET", "/failing"),
         ("GET", "/bare"), ("GET", "/function"), ("GET", "/nowhere")]


@pytest.mark.parametrize(("method", "path"), CALLS)
def test_a_method_view_answers_as_through_flasks_dispatch(method, path):
    flask_made: list[str] = []
    ours: list[str] = []
    flask_app, app = _views(Flask, flask_made), _views(App, ours)
    for _ in range(3):              # the class is decided at the first request to a view, kept after
        flask_made.clear()
        ours.clear()
        expected = flask_app.test_client().open(path, method=method)
        got = app.test_client().open(path, method=method)
        assert (got.status_code, got.data, sorted(got.headers.items())) == \
            (expected.status_code, expected.data, sorted(expected.headers.items()))
        assert ours == flask_made           # one instance of the view class per request, as in Flask


def test_only_the_plain_as_view_of_a_method_view_is_dispatched_straight():
    from app.dispatch import method_view_class

    app = _views(App, [])
    kinds = {name: method_view_class(view) for name, view in app.view_functions.items()}
    straight = {name for name, cls in kinds.items() if cls is not None}
    assert straight == {"plain", "plain_n", "deleting", "failing"}
    assert all(kinds[name] is app.view_functions[name].view_class for name in straight)


def test_the_engine_paths_views_are_dispatched_straight(app):
    """The real app's routes (flask-smorest registers a MethodView with `as_view(endpoint)`): the engine path's
    three views go straight to their methods."""
    from app.dispatch import method_view_class

    for endpoint in ("tasks.Tasks", "tasks.TaskComplete", "processes.Instances"):
        assert method_view_class(app.view_functions[endpoint]) is app.view_functions[endpoint].view_class
