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
