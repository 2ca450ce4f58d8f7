"""Personal data at rest: no column holds an ID number or a phone number in clear, message bodies are encrypted,
and bodies are purged after the retention period while idempotency keeps working."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import String, Text, create_engine, inspect, select, text
from sqlalchemy.types import JSON

from app.core import clock, ratelimit
from app.integrations import retention
from app.integrations.models import InboundEvent

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
LI_ID, LI_PHONE = "330127196208013783", "13900005678"          # in the HL7 ADT fixture
FHIR_ID = "330127196208013783"


@pytest.fixture(autouse=True)
def _fresh_rate_limits(app):
    with app.app_context():
        ratelimit.configure(redis_url=app.config["YGT"].redis_url, rate=50, burst=500).reset()


@pytest.fixture()
def integration(app, org_tree):
    from app.auth.services import create_client, create_token
    with app.app_context():
        client, _secret = create_client("县医院 HIS")
        _, raw = create_token(client.user_id, name="his")
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return api


def _hl7(api, name="adt_a01_admit.hl7"):
    return api.post("/api/v1/connectors/hl7v2", data=(FIXTURES / "hl7" / name).read_bytes(),
                    headers={"Content-Type": "x-application/hl7-v2+er7"})


def _clear_text_hits(app, needles: list[str]) -> list[str]:
    """Every (table.column) whose raw stored value contains one of `needles`."""
    hits = []
    with app.app_context():
        from app.core import db
        db.remove_session()
        with db.engine().connect() as conn:
            insp = inspect(conn)
            for table in insp.get_table_names():
                for col in insp.get_columns(table):
                    if not isinstance(col["type"], (String, Text, JSON)) and "JSON" not in str(col["type"]):
                        continue
                    expr = f'CAST("{col["name"]}" AS TEXT)'
                    for needle in needles:
                        found = conn.execute(text(f'SELECT 1 FROM "{table}" WHERE {expr} LIKE :n LIMIT 1'),
                                             {"n": f"%{needle}%"}).first()
                        if found:
                            hits.append(f"{table}.{col['name']} holds {needle[:4]}…")
    return hits


def test_no_column_holds_an_id_number_or_phone_in_clear(app, integration, client_as, new_id_number):
    registered_id = new_id_number()
    doctor = client_as("village_doctor", org="C01T01V01")
    created = doctor.post("/api/v1/residents", json={"id_number": registered_id, "name": "赵六", "sex": "F",
                                                     "phone": "13712345678", "org_code": "C01T01V01"})
    assert created.status_code == 201, created.get_json()
    assert "AA" in _hl7(integration).get_data(as_text=True)
    assert _hl7(integration, "oru_r01_hba1c.hl7").status_code == 200
    hits = _clear_text_hits(app, [registered_id, "13712345678", LI_ID, LI_PHONE])
    assert not hits, hits


def test_message_bodies_are_encrypted_but_read_back_in_clear(app, integration):
    _hl7(integration)
    with app.app_context():
        from app.core import db
        raw = db.session().execute(text("SELECT body, response FROM inbound_events")).first()
        event = db.session().execute(select(InboundEvent)).scalars().first()
        assert raw.body.startswith("enc1:") and raw.response.startswith("enc1:")
        assert LI_ID in event.body and event.body_sha256
        assert event.response["body"]
        db.session().rollback()


def test_bodies_are_purged_after_the_retention_period_and_a_repeat_is_still_answered_once(app, integration):
    first = _hl7(integration)
    assert retention.purge_bodies(days=30) == 0                 # too young
    clock.advance(timedelta(days=31))
    with app.app_context():
        assert retention.purge_bodies(days=30) == 1
        from app.core import db
        event = db.session().execute(select(InboundEvent)).scalars().one()
        assert event.body is None and event.result is None and event.purged_at is not None
        assert event.body_sha256 and event.delivery_key == "HIS0001" and event.status == "processed"
        event_id = event.id
        db.session().rollback()
    repeat = _hl7(integration)
    assert repeat.get_data(as_text=True) == first.get_data(as_text=True)
    with app.app_context():
        from app.core import db
        assert db.session().execute(text("SELECT count(*) FROM inbound_events")).scalar_one() == 1
        db.session().rollback()
    admin = app.test_client()
    from app.auth.services import create_token, create_user
    with app.app_context():
        user = create_user("ops_admin", password="secret-pass-1", roles=["county_admin"], org_code="C01")
        _, raw = create_token(user.id, name="t")
    admin.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    detail = admin.get(f"/api/v1/integrations/deliveries/{event_id}").get_json()
    assert detail["body"] is None and detail["purged_at"] and detail["body_sha256"]


def test_retention_zero_keeps_bodies(app, integration):
    _hl7(integration)
    clock.advance(timedelta(days=400))
    with app.app_context():
        assert retention.purge_bodies(days=0) == 0


def test_the_migration_encrypts_existing_rows_and_keeps_the_mask(tmp_path):
    import os
    server = os.environ.get("DATABASE_URL", "")
    from alembic import command

    from app.core.crypto import unseal
    from app.core.migrate import alembic_config
    if server.startswith("postgresql"):
        import uuid

        from sqlalchemy.engine import make_url
        url = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))
        name = f"ygt_mig_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        db_url = url.set(database=name).render_as_string(hide_password=False)
    else:
        db_url, admin, name = f"sqlite:///{tmp_path / 'mig.db'}", None, None
    try:
        cfg = alembic_config(db_url)
        cfg.attributes["field_key"] = "test-key-for-the-migration"
        command.upgrade(cfg, "0011")
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO organizations (code, name, level, parent_code, path) "
                              "VALUES ('C01', '县医院', 'county', NULL, '/C01/')"))
            conn.execute(text(
                "INSERT INTO residents (name, sex, birth_date, id_number_encrypted, id_number_hash, id_number_last4, "
                "id_number_prefix, org_code, org_path, created_at, updated_at) VALUES ('王', 'M', '1956-03-14', "
                "'x', 'h', '2337', '3301', 'C01', '/C01/', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
            conn.execute(text(
                "INSERT INTO inbound_events (client_id, channel, delivery_key, message, body, headers, received_at, "
                "status, attempts, response, result) VALUES ('his', 'hl7v2', 'k1', 'ADT^A01', :body, '{}', "
                "'2026-01-01 00:00:00', 'processed', 1, :response, :result)"),
                {"body": f"PID|1||{LI_ID}||李^秀英||19620801|F|||||{LI_PHONE}",
                 "response": json.dumps({"body": "MSA|AA|k1"}), "result": json.dumps({"resident_id": 1})})
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            row = conn.execute(text("SELECT body, response, result, body_sha256 FROM inbound_events")).one()
            hint = conn.execute(text("SELECT id_number_hint FROM residents")).scalar_one()
        assert LI_ID not in row.body and row.body.startswith("enc1:") and row.body_sha256
        assert LI_ID in unseal(row.body, "test-key-for-the-migration")
        assert json.loads(unseal(row.response, "test-key-for-the-migration")) == {"body": "MSA|AA|k1"}
        assert hint == "37"
        command.downgrade(cfg, "0011")
        with engine.connect() as conn:
            assert LI_ID in conn.execute(text("SELECT body FROM inbound_events")).scalar_one()
        engine.dispose()
    finally:
        if admin is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
