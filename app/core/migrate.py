"""Apply Alembic migrations programmatically (used by `ygt migrate`, `make run` and tests).

A migration that makes PostgreSQL rewrite a table (adding a stored generated column, say) names it in a module
attribute `vacuum_after = ("table", …)`: the rewrite leaves the table's visibility map empty, so until a vacuum
every index-only scan of it visits the table too. `upgrade` vacuums and analyzes those tables after the migrations
ran (VACUUM cannot run inside their transaction) — only the tables of the revisions it applied. A vacuum that fails
raises `VacuumFailed` naming the tables: the migrations are committed by then, and a second `upgrade` applies
nothing and so vacuums nothing, so the caller must say which tables still need it.
"""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from app.config import ROOT


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> list[str]:
    """Migrate up to `revision`; returns the tables vacuumed afterwards (PostgreSQL; none on SQLite)."""
    cfg = alembic_config(url)
    postgres = url.startswith("postgresql")
    before = _current(url) if postgres else None
    command.upgrade(cfg, revision)
    if not postgres:
        return []
    tables = rewritten_tables(cfg, before, _current(url))
    if tables:
        vacuum(url, tables)
    return tables


class VacuumFailed(Exception):
    """The migrations are applied, but these tables were not vacuumed (`VACUUM (ANALYZE)` them by hand)."""

    def __init__(self, tables: list[str], cause: Exception) -> None:
        super().__init__(f"VACUUM (ANALYZE) failed for {', '.join(tables)}: {cause}")
        self.tables = tables


def vacuum(url: str, tables: list[str]) -> None:
    """`VACUUM (ANALYZE)` each table in turn (PostgreSQL, outside a transaction); `VacuumFailed` names the table that
    failed and those after it."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            quote = conn.dialect.identifier_preparer.quote
            for n, table in enumerate(tables):
                try:
                    conn.execute(text(f"VACUUM (ANALYZE) {quote(table)}"))
                except DBAPIError as exc:
                    raise VacuumFailed(tables[n:], exc) from exc
    finally:
        engine.dispose()


def rewritten_tables(cfg: Config, lower: str | None, upper: str | None) -> list[str]:
    """The `vacuum_after` tables of the revisions after `lower` up to `upper` (None: the base), oldest first."""
    if upper is None or upper == lower:
        return []
    revisions = reversed(list(ScriptDirectory.from_config(cfg).iterate_revisions(upper, lower or "base")))
    tables: list[str] = []
    for rev in revisions:
        tables += [t for t in getattr(rev.module, "vacuum_after", ()) if t not in tables]
    return tables


def _current(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
