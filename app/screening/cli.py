"""`ygt screen`: run the population batch from the command line (same settings as the app)."""
from __future__ import annotations

import json
from collections.abc import Callable

import click
from flask import Flask

from app.screening.queries import stored_run


def register(main: click.Group, make_app: Callable[[], Flask]) -> None:
    """Add `ygt screen` to `main`; `make_app` builds the app the command runs in (app/cli.py passes its own)."""
    @main.command()
    @click.option("--resume", is_flag=True, help="continue the last unfinished run from its cursor")
    @click.option("--chunk", default=5000, show_default=True, help="residents per transaction")
    @click.option("--by", default="cli", help="who starts the run (recorded on it)")
    def screen(resume: bool, chunk: int, by: str) -> None:
        """Screen the whole population (resumable, idempotent); prints progress per chunk."""
        from app.screening import batch  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
        app = make_app()
        with app.app_context():
            run = batch.resumable_run() if resume else None
            if resume and run is None:
                click.echo("no unfinished run to resume", err=True)
            run = run or batch.create_run(started_by=by, chunk_size=chunk)

            def report(run_id: int) -> None:
                with app.app_context():
                    p = batch.progress(stored_run(run_id))
                    click.echo(f"run {run_id}: {p['processed']}/{p['total']} ({p['percent']}%), "
                               f"{p['cases_created']} cases", err=True)
            done = batch.run(run.id, on_chunk=report)
            click.echo(json.dumps(batch.progress(done), ensure_ascii=False, indent=1))
