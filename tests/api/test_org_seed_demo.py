"""The demo county (`ygt seed-demo`): its shape, its fixed logins, and idempotency."""
from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.auth.models import User
from app.cli_people import register
from app.core.db import session
from app.org.models import Organization
from app.residents import idcard
from app.residents.models import Resident
from app.seed import demo

FIXED_LOGINS = ("county_admin", "supervisor", "process_owner", "specialist_cardio", "pharmacist", "trainer",
                "township_doctor1", "public_health1", "village_doctor1", "patient1")


@pytest.fixture()
def seeded(app):
    with app.app_context():
        added = demo.seed_demo(residents=60)
        yield added


def test_the_demo_county_has_one_county_seven_departments_twelve_townships_150_villages(seeded):
    by_level = select(Organization.level, func.count()).group_by(Organization.level)
    levels = dict(session().execute(by_level).tuples().all())
    assert levels == {"county": 1, "department": 7, "township": 12, "village": 150}


def test_every_role_but_integration_has_staff(seeded):
    from app.auth.models import UserRole
    from app.auth.principal import ROLES
    roles = set(session().scalars(select(UserRole.role).distinct()))
    assert roles == set(ROLES) - {"integration"}


def test_the_seed_creates_the_requested_number_of_valid_synthetic_residents(app, seeded):
    from app.auth.crypto import decrypt_field
    rows = session().scalars(select(Resident)).all()
    assert len(rows) == 60
    numbers = [decrypt_field(r.id_number_encrypted) for r in rows]
    assert all(idcard.is_valid(n) and n.startswith("330127") for n in numbers)
    assert all(1940 <= r.birth_date.year <= 2005 and r.org_path.endswith(f"/{r.org_code}/") for r in rows)


def test_running_the_seed_twice_changes_nothing(app, seeded):
    before = demo.counts()
    again = demo.seed_demo(residents=60)
    assert again == {"organizations": 0, "users": 0, "residents": 0}
    assert demo.counts() == before


def test_the_documented_demo_logins_work(client, seeded):
    statuses = {username: client.post("/api/v1/auth/login", json={"username": username,
                                                                  "password": demo.DEMO_PASSWORD}).status_code
                for username in FIXED_LOGINS}
    assert statuses == dict.fromkeys(FIXED_LOGINS, 200)


def test_village_doctor1_works_in_village_1_of_township_1_and_patient1_lives_there(client, seeded):
    doctor = session().scalars(select(User).where(User.username == "village_doctor1")).one()
    patient = session().scalars(select(User).where(User.username == "patient1")).one()
    resident = session().get(Resident, patient.resident_id)
    assert doctor.org_code == "C01T01V01" and resident.org_code == "C01T01V01"
    assert resident.family_doctor_user_id == doctor.id


def test_seed_demo_command_reports_what_it_added(app):
    import click

    @click.group()
    def cli():
        pass
    register(cli)
    with app.app_context():
        result = CliRunner().invoke(cli, ["seed-demo", "--residents", "5", "--no-migrate"])
    assert result.exit_code == 0, result.output
    assert '"residents": 5' in result.output
