"""The production server's settings (app.serving) and the web processes' statement timeout (app.core.db)."""
from __future__ import annotations

import os

import pytest
from gunicorn.workers.gthread import ThreadWorker

from app.core import db
from app.serving import gunicorn_options, web_process_environment


def test_gunicorn_runs_threaded_workers():
    options = gunicorn_options("127.0.0.1:0", 2, 6)
    assert (options["workers"], options["threads"]) == (2, 6)
    assert issubclass(options["worker_class"], ThreadWorker)     # gunicorn's gthread (app/gunicorn_worker.py)
    assert options["keepalive"] == 5 and options["timeout"] == 60
    assert gunicorn_options("127.0.0.1:0", 1, 0)["threads"] == 1


def test_a_web_process_gets_its_name_and_statement_timeout_unless_the_operator_chose(monkeypatch):
    for name in ("YGT_APP_NAME", "YGT_DB_STATEMENT_TIMEOUT_S"):
        # setenv first: monkeypatch then puts back what was there, absence included (a bare delenv of an absent
        # variable records nothing, and what web_process_environment sets leaked into every later test: a gunicorn
        # started by tests/integration/test_web_server.py inherited a 50 s statement timeout instead of its 2 s)
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    web_process_environment()
    assert os.environ["YGT_APP_NAME"] == "ygt-web"
    assert db.statement_timeout_ms() == 50_000
    monkeypatch.setenv("YGT_DB_STATEMENT_TIMEOUT_S", "0")
    web_process_environment()
    assert db.statement_timeout_ms() == 0


@pytest.mark.parametrize("raw,ms", [("", 0), ("0", 0), ("2", 2000), ("0.5", 500), ("-3", 0)])
def test_statement_timeout_from_the_environment(monkeypatch, raw, ms):
    monkeypatch.setenv("YGT_DB_STATEMENT_TIMEOUT_S", raw)
    assert db.statement_timeout_ms() == ms


def test_a_statement_timeout_that_is_not_a_number_stops_start_up(monkeypatch):
    monkeypatch.setenv("YGT_DB_STATEMENT_TIMEOUT_S", "fifty")
    with pytest.raises(RuntimeError, match="YGT_DB_STATEMENT_TIMEOUT_S"):
        db.statement_timeout_ms()


def test_workers_are_forks_of_the_application_the_master_loaded():
    options = gunicorn_options("127.0.0.1:0", 2)
    assert options["preload_app"] is True
    assert callable(options["pre_fork"])
    assert (options["max_requests"], options["max_requests_jitter"]) == (2000, 200)
