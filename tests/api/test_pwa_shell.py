"""The village doctor's offline app at /m/ (issue 22.2): its build's files, its own index for app routes, and cache
headers that let the service worker and the shell update while the hashed assets stay cached."""
from __future__ import annotations

import dataclasses

import pytest


@pytest.fixture
def built(app, tmp_path):
    dist = tmp_path / "ui" / "dist" / "m"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>村医随访</title>", encoding="utf-8")
    (dist / "sw.js").write_text("self.addEventListener('fetch', () => {});")
    (dist / "manifest.webmanifest").write_text('{"name": "村医随访"}', encoding="utf-8")
    (dist / "assets" / "index-Ab12Cd.js").write_text("console.log(1)")
    original = app.config["YGT"]
    app.config["YGT"] = dataclasses.replace(original, asset_root=tmp_path)
    yield dist
    app.config["YGT"] = original


def test_shell_files_and_app_routes(client, built):
    r = client.get("/m")
    assert r.status_code in (301, 302, 308) and r.headers["Location"].endswith("/m/")
    for path in ("/m/", "/m/index.html", "/m/task/812", "/m/sync"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert "村医随访" in r.get_data(as_text=True)
        assert "max-age=0" in r.headers["Cache-Control"]

    sw = client.get("/m/sw.js")
    assert sw.status_code == 200 and "javascript" in sw.mimetype
    assert "max-age=0" in sw.headers["Cache-Control"]          # a new service worker is found at once

    asset = client.get("/m/assets/index-Ab12Cd.js")
    assert "max-age=31536000" in asset.headers["Cache-Control"]  # content-hashed: cached for a year

    manifest = client.get("/m/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"


def test_no_file_outside_the_build(client, built):
    (built.parent / "secret.txt").write_text("no")
    r = client.get("/m/../secret.txt")
    assert "no" != r.get_data(as_text=True)
    r = client.get("/m/%2e%2e/secret.txt")
    assert r.get_data(as_text=True) != "no"


def test_not_built_says_so(client, app, tmp_path):
    original = app.config["YGT"]
    app.config["YGT"] = dataclasses.replace(original, asset_root=tmp_path)
    try:
        r = client.get("/m/")
        assert r.status_code == 503
        assert "尚未构建" in r.get_data(as_text=True)
    finally:
        app.config["YGT"] = original
