"""Fixtures of the SpiffWorkflow/SpiffArena compatibility tests: a process owner, a signed integration client,
the clock control switched on (as `make run` does for the demo), and the scenario driver."""
from __future__ import annotations

import io
from pathlib import Path

import pytest

from app.core import ratelimit
from tests.compat.harness import Platform

MODELS = Path(__file__).resolve().parent / "models"


def model(*names: str) -> dict[str, bytes]:
    return {name: (MODELS / name).read_bytes() for name in names}


def clinical(name: str, table: str) -> bytes:
    """A model DMN made clinical: its table declares a guideline provenance (the pack's strict gate applies)."""
    return (MODELS / name).read_bytes().replace(
        b'<decisionTable', b'<extensionElements><ygt:provenance xmlns:ygt="https://yigongti.dev/dmn/1.0" '
                           b'table="' + table.encode() + b'" source="guideline"/></extensionElements><decisionTable')


def upload(api, name: str, data: bytes):
    return api.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(data), name)]},
                    content_type="multipart/form-data")


@pytest.fixture()
def clock_control(app):
    settings = app.config["YGT"]
    settings.extra["clock_control"] = True
    yield
    settings.extra.pop("clock_control", None)


@pytest.fixture()
def integration_creds(app, county):
    from app.auth.services import create_client
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=50, burst=200).reset()
        client, secret = create_client("县医院 LIS")
    return {"client_id": client.client_id, "secret": secret}


@pytest.fixture()
def platform(login_as, client, integration_creds, clock_control):
    return Platform(login_as("process_owner", "county_admin"), client, integration_creds)
