"""A scratch PostgreSQL database for one benchmark run, made on the server the benchmark is given and dropped after
(`bench/*.py` import it as `scratch`: a benchmark runs as a script, so its folder is on the import path)."""
from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def _admin(server_url: str):
    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    return url, create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


def create_database(server_url: str, prefix: str = "ygt_bench") -> tuple[str, str]:
    """Create `<prefix>_<hex>` on the server; its URL and name."""
    url, admin = _admin(server_url)
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False), name


def database_url(server_url: str, name: str) -> str:
    """The URL of an existing database on the server (a kept benchmark database)."""
    url, _admin_engine = _admin(server_url)
    _admin_engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    """Drop it (its connections are closed by force)."""
    _url, admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def scratch_url(server_url: str, prefix: str) -> tuple[str, Callable[[], None]]:
    """A new database's URL and the function that drops it after closing the platform's own connections."""
    url, name = create_database(server_url, prefix)

    def drop() -> None:
        from app.core import db  # the platform is imported by the benchmark after its database exists
        db.engine().dispose()
        drop_database(server_url, name)
    return url, drop
