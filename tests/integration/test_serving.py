"""`ygt serve` puts a production WSGI server in front of users: waitress on SQLite, gunicorn on PostgreSQL; both
compress responses and refuse oversized requests with a clear answer."""
from __future__ import annotations

import gzip
import json
import os
import subprocess

import brotli
import pytest
import requests

from app.serving import MAX_REQUEST_BYTES
from tests.processes import YGT, Proc, base_env, free_port, wait_http

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgresql")


@pytest.fixture(scope="module")
def waitress_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("serve")
    env = base_env(DATA_DIR=str(data_dir))
    subprocess.run([YGT, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = free_port()
    proc = Proc(["serve", "--port", str(port)], env | {"YGT_SCHEDULER": "0"}, data_dir / "serve.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def gunicorn_server(tmp_path_factory, database_url, app):
    if not ON_POSTGRES:
        pytest.skip("gunicorn serves the PostgreSQL mode (DATABASE_URL)")
    data_dir = tmp_path_factory.mktemp("serve-pg")
    port = free_port()
    proc = Proc(["serve", "--port", str(port), "--workers", "2"],
                base_env(DATA_DIR=str(data_dir), DATABASE_URL=database_url), data_dir / "serve.log")
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.stop()


@pytest.fixture(params=["waitress", "gunicorn"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


def test_the_embedded_default_is_not_served_by_the_development_server(waitress_server):
    base, proc = waitress_server
    r = requests.get(f"{base}/healthz", timeout=5)
    assert r.status_code == 200
    assert "werkzeug" not in r.headers.get("Server", "").lower()
    assert "development server" not in proc.tail().lower()


def test_the_postgresql_mode_is_served_by_gunicorn_worker_processes(gunicorn_server):
    base, proc = gunicorn_server
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    assert "gunicorn" in proc.tail().lower() and "werkzeug" not in proc.tail().lower()


@pytest.mark.parametrize("encoding, decode", [("br", brotli.decompress), ("gzip", gzip.decompress)])
def test_responses_are_compressed_for_clients_that_accept_it(server, encoding, decode):
    base, _ = server
    r = requests.get(f"{base}/api/openapi.json", headers={"Accept-Encoding": encoding}, timeout=10, stream=True)
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == encoding
    raw = r.raw.read(decode_content=False)
    assert json.loads(decode(raw))["info"]["title"]
    assert len(raw) < 0.5 * len(decode(raw))


def test_a_client_without_accept_encoding_gets_plain_json(server):
    base, _ = server
    r = requests.get(f"{base}/api/openapi.json", headers={"Accept-Encoding": "identity"}, timeout=10)
    assert "Content-Encoding" not in r.headers and r.json()["openapi"]


def test_an_oversized_body_is_refused_with_413_before_it_is_read(server):
    base, _ = server
    body = b"{" + b" " * (MAX_REQUEST_BYTES + 10) + b"}"
    r = requests.post(f"{base}/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"},
                      timeout=30)
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"


def test_an_oversized_request_header_is_refused_by_the_server(server):
    base, _ = server
    r = requests.get(f"{base}/healthz", headers={"X-Huge": "a" * 100_000}, timeout=10)
    assert r.status_code in (400, 431)


@pytest.fixture
def built_ui(app, tmp_path, monkeypatch):
    """A built UI in a temporary asset root: index.html and one hashed script with its brotli and gzip twins."""
    assets = tmp_path / "ui" / "dist" / "assets"
    assets.mkdir(parents=True)
    (tmp_path / "ui" / "dist" / "index.html").write_text("<!doctype html><title>医共体</title>" + "<p>x</p>" * 200)
    body = ("export const x = " + json.dumps(["随访"] * 2000) + ";\n").encode()
    (assets / "TaskPage-AbC123.js").write_bytes(body)
    (assets / "TaskPage-AbC123.js.br").write_bytes(brotli.compress(body, quality=11))
    (assets / "TaskPage-AbC123.js.gz").write_bytes(gzip.compress(body, 9))
    (assets / "Plain-XyZ.js").write_bytes(body)
    monkeypatch.setattr(app.config["YGT"], "asset_root", tmp_path)
    return body


@pytest.mark.parametrize("accept, encoding, decode", [
    ("gzip, deflate, br, zstd", "br", brotli.decompress),
    ("gzip", "gzip", gzip.decompress),
    ("br;q=0, gzip", "gzip", gzip.decompress),
])
def test_a_hashed_asset_is_sent_precompressed_and_cached_for_a_year(app, built_ui, accept, encoding, decode):
    r = app.test_client().get("/assets/TaskPage-AbC123.js", headers={"Accept-Encoding": accept})
    assert r.status_code == 200
    assert r.headers["Content-Encoding"] == encoding
    assert decode(r.data) == built_ui
    assert r.mimetype == "text/javascript"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert "Accept-Encoding" in r.headers["Vary"]


def test_a_client_without_compression_gets_the_plain_asset(app, built_ui):
    r = app.test_client().get("/assets/TaskPage-AbC123.js", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in r.headers and r.data == built_ui
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_an_asset_without_twins_is_compressed_on_the_fly(app, built_ui):
    r = app.test_client().get("/assets/Plain-XyZ.js", headers={"Accept-Encoding": "br"})
    assert r.headers["Content-Encoding"] == "br" and brotli.decompress(r.data) == built_ui


def test_the_twins_are_not_addressable_themselves(app, built_ui):
    assert app.test_client().get("/assets/TaskPage-AbC123.js.br").status_code == 404


def test_index_html_is_revalidated_every_time_and_compressed(app, built_ui):
    r = app.test_client().get("/login", headers={"Accept-Encoding": "br"})
    assert r.status_code == 200
    assert "no-cache" in r.headers["Cache-Control"]
    assert r.headers["Content-Encoding"] == "br"
