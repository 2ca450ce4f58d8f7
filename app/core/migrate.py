"""Apply Alembic migrations programmatically (used by `ygt migrate`, `make run` and tests).

A migration that makes PostgreSQL rewrite a table (adding a stored generated column, say) names it in a module
attribute `vacuum_after = ("table", …)`: the rewrite leaves the table's visibility map empty, so until a vacuum
every index-only scan of it visits the table too. `upgrade` vacuums and analyzes those tables after the migrations
ran (VACUUM cannot run inside their transaction) — only the tables of the revisions it applied.
"""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

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
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                quote = conn.dialect.identifier_preparer.quote
                for table in tables:
                    conn.execute(text(f"VACUUM (ANALYZE) {quote(table)}"))
        finally:
            engine.dispose()
    return tables


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
