"""CLI of people and organizations: `ygt create-user`, `ygt create-client`, `ygt create-org`, `ygt seed-demo`.

`app/cli.py` calls `register(main)`. Commands run inside the current Flask app context if there is one (tests),
else in a fresh app built from the same settings as the web app (DATA_DIR, DATABASE_URL). Like every command of
app/cli.py, each imports what it runs inside its body, so `ygt --help` does not load the application.
"""
from __future__ import annotations

import json
import time
from contextlib import contextmanager

import click
from flask import current_app, has_app_context

from app import create_app
from app.config import Settings
from app.core.errors import DomainError


@contextmanager
def _app_context():
    if has_app_context():
        yield current_app
        return
    app = create_app(Settings.from_env(scheduler_enabled=False))
    with app.app_context():
        yield app


def _fail(exc: DomainError) -> None:
    raise click.ClickException(json.dumps(exc.to_dict(), ensure_ascii=False))


@click.command("create-user")
@click.argument("username")
@click.option("--password", required=True, help="at least 8 characters")
@click.option("--role", "roles", multiple=True, required=True, help="role code (repeatable)")
@click.option("--org", "org_code", default=None, help="organization code (default: the root organization)")
@click.option("--name", "display_name", default="", help="display name")
def create_user(username: str, password: str, roles: tuple[str, ...], org_code: str | None,
                display_name: str) -> None:
    """Create a user with one or more roles."""
    from app.auth import services  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    with _app_context():
        try:
            user = services.create_user(username, password=password, roles=list(roles), org_code=org_code,
                                        display_name=display_name)
        except DomainError as exc:
            _fail(exc)
        click.echo(json.dumps({"id": user.id, "username": user.username, "roles": user.role_codes,
                               "org_code": user.org_code}, ensure_ascii=False))


@click.command("create-client")
@click.argument("name")
def create_client(name: str) -> None:
    """Register an integration client; prints {"client_id","secret"} (the secret is shown only now)."""
    from app.auth import services  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    with _app_context():
        try:
            client, secret = services.create_client(name)
        except DomainError as exc:
            _fail(exc)
        click.echo(json.dumps({"client_id": client.client_id, "secret": secret}))


@click.command("create-org")
@click.argument("code")
@click.argument("name")
@click.option("--level", required=True, type=click.Choice(["county", "department", "township", "village"]))
@click.option("--parent", "parent_code", default=None, help="parent organization code")
@click.option("--address", default=None)
def create_org(code: str, name: str, level: str, parent_code: str | None, address: str | None) -> None:
    """Create an organization (the county root first, then departments, townships and villages)."""
    from app.org import services  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    with _app_context():
        try:
            org = services.create_org(code, name, level=level, parent_code=parent_code, address=address)
        except DomainError as exc:
            _fail(exc)
        click.echo(json.dumps({"code": org.code, "path": org.path}, ensure_ascii=False))


@click.command("seed-demo")
@click.option("--residents", default=2000, show_default=True, help="number of synthetic residents")
@click.option("--no-migrate", is_flag=True, help="do not apply migrations first")
def seed_demo(residents: int, no_migrate: bool) -> None:
    """Build the demo county (idempotent): orgs, staff in every role, synthetic residents; password demo12345."""
    from app.seed import demo  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    with _app_context() as app:
        if not no_migrate:
            from app.core.migrate import upgrade  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
            upgrade(app.config["YGT"].database_url)
        started = time.perf_counter()
        added = demo.seed_demo(residents=residents)
        click.echo(json.dumps({"added": added, "total": demo.counts(),
                               "seconds": round(time.perf_counter() - started, 2)}, ensure_ascii=False))


def register(cli_group: click.Group) -> None:
    for command in (create_user, create_client, create_org, seed_demo):
        cli_group.add_command(command)
