"""Alembic environment: the URL comes from the same settings as the app (DATA_DIR / DATABASE_URL)."""
from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import create_engine

from app.config import Settings
from app.models import load_all

target_metadata = load_all().metadata


def _url() -> str:
    return context.config.attributes.get("url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(_url())
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
    with context.begin_transaction(), warnings.catch_warnings():
        # SQLite cannot reflect an expression index: a comparison leaves the models' expression indexes out and says
        # so. They are PostgreSQL's only (created with `ddl_if`; app/tasks/models.py), so there is nothing to compare
        warnings.filterwarnings("ignore", "autogenerate skipping metadata-specified expression-based index",
                                UserWarning)
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
