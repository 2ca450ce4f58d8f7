"""`ygt batch list|show|resume`: the batch starts (app.workflows.batch) from the command line."""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import click
from flask import Flask


def _line(p: dict) -> str:
    return (f"batch {p['id']} {p['kind']} ({p['process_id']}): {p['status']} {p['percent']}% — "
            f"{p['started']} started, {p['skipped']} skipped, {p['failed']} failed, {p['pending']} pending "
            f"of {p['total']}")


def register(main: click.Group, make_app: Callable[[], Flask]) -> None:
    """Add `ygt batch` to `main`; `make_app` builds the app the command runs in (app/cli.py passes its own)."""
    @main.group()
    def batch() -> None:
        """Batch starts: many instances of one process started as one set operation."""

    @batch.command("list")
    @click.option("--kind", default=None)
    def list_(kind: str | None) -> None:
        """The latest batches with their progress."""
        from app.workflows import batch as service  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
        with make_app().app_context():
            for p in service.list_batches(kind=kind):
                click.echo(_line(p))

    @batch.command()
    @click.argument("batch_id", type=int)
    @click.option("--watch", is_flag=True, help="print progress every 2 s until the batch is done")
    def show(batch_id: int, watch: bool) -> None:
        """A batch's progress and its first failures (JSON)."""
        from app.core.db import session  # noqa: PLC0415
        from app.workflows import batch as service  # noqa: PLC0415
        with make_app().app_context():
            p = service.progress(batch_id)
            while watch and p["status"] == "running":
                click.echo(_line(p), err=True)
                time.sleep(2)
                session().rollback()
                p = service.progress(batch_id)
            click.echo(json.dumps(p, ensure_ascii=False, indent=1, default=str))

    @batch.command()
    @click.argument("batch_id", type=int)
    def resume(batch_id: int) -> None:
        """Re-enqueue the chunks with pending items (after a worker was killed); starts nothing twice."""
        from app.workflows import batch as service  # noqa: PLC0415
        with make_app().app_context():
            n = service.resume(batch_id)
            click.echo(f"{n} chunks enqueued")
            click.echo(_line(service.progress(batch_id)))
