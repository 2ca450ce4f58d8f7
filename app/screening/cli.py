"""`ygt screen`: run the population batch from the command line (same settings as the app), with a progress bar.

With rq (`JOBS_MODE=rq`) the run's chunks go to the queue and every worker of every machine takes some; the command
watches the run (sweeping chunks whose worker died) until it ends. Otherwise it screens the chunks itself.
"""
from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import click
from flask import Flask

from app.screening.queries import stored_run

WIDTH = 30


def bar(p: dict[str, Any]) -> str:
    """`筛查进度 [#########---------] 45.0% 450/1000 居民 · 块 9/20 · 失败 0 · 312 例`"""
    filled = int(WIDTH * p["percent"] / 100)
    return (f"筛查进度 [{'#' * filled}{'-' * (WIDTH - filled)}] {p['percent']:5.1f}% {p['processed']}/{p['total']} 居民"
            f" · 块 {p['done_chunks']}/{p['total_chunks']} · 失败 {p['failed_chunks']} · {p['cases_created']} 例")


def register(main: click.Group, make_app: Callable[[], Flask]) -> None:
    """Add `ygt screen` to `main`; `make_app` builds the app the command runs in (app/cli.py passes its own)."""
    @main.command()
    @click.option("--resume", is_flag=True, help="continue the last unfinished run (its pending chunks)")
    @click.option("--chunk", default=5000, show_default=True, help="residents per chunk (one job, one transaction)")
    @click.option("--by", default="cli", help="who starts the run (recorded on it)")
    @click.option("--queue/--here", "use_queue", default=None,
                  help="chunks to the rq workers (default with JOBS_MODE=rq) or screened by this process")
    @click.option("--cursor", is_flag=True, help="the older single-process cursor run (no chunk jobs)")
    def screen(resume: bool, chunk: int, by: str, use_queue: bool | None, cursor: bool) -> None:
        """Screen the whole population (resumable, idempotent) with a progress bar."""
        from app.core.db import remove_session  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
        from app.jobs import queue  # noqa: PLC0415
        from app.screening import batch  # noqa: PLC0415
        app = make_app()
        with app.app_context():
            queued = queue.mode() == "rq" if use_queue is None else use_queue
            run = batch.resumable_run() if resume else None
            if resume and run is None:
                click.echo("no unfinished run to resume", err=True)
            if cursor or (run is not None and not run.total_chunks):
                run = run or batch.create_run(started_by=by, chunk_size=chunk)
                done = batch.run(run.id, on_chunk=lambda run_id: None)
                click.echo(json.dumps(batch.progress(done), ensure_ascii=False, indent=1))
                return
            if run is not None:
                run = batch.resume_run(run.id, enqueue=queued)
            else:
                run = batch.create_chunked_run(started_by=by, chunk_size=chunk, enqueue=queued)
            run_id, total = run.id, run.total
            click.echo(f"run {run_id}: {total} residents in {run.total_chunks} chunks "
                       f"({'rq workers' if queued else 'this process'})", err=True)
            tty = sys.stderr.isatty()

            def advance() -> str:
                remove_session()
                p = batch.progress(stored_run(run_id))
                click.echo(("\r" if tty else "") + bar(p), nl=not tty, err=True)
                return p["status"]
            if queued:
                swept = time.monotonic()
                while advance() == "running":
                    time.sleep(1)
                    if time.monotonic() - swept > 30:
                        batch.sweep_chunks()
                        swept = time.monotonic()
            else:
                for seq in batch.pending_chunks(run_id):
                    batch.screen_chunk(run_id, seq)
                    advance()
                advance()
            if tty:
                click.echo(err=True)
            remove_session()
            click.echo(json.dumps(batch.progress(stored_run(run_id)), ensure_ascii=False, indent=1))
