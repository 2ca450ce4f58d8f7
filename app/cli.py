"""`ygt` — the command line. Every command reads the same settings as the app (DATA_DIR, DATABASE_URL, REDIS_URL).

Each command imports what it runs inside its body, on purpose: `ygt --help` and a mistyped option answer without
loading the application, and `ygt migrate` runs before the tables the models describe exist."""
from __future__ import annotations

import gc
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import click

from app import cli_people, create_app
from app.config import ROOT, Settings
from app.core.db import unit_of_work
from app.screening import cli as screening_cli
from app.workflows import cli as workflows_cli
from connectors.hl7v2 import cli as hl7v2_cli


def _app():
    return create_app(Settings.from_env(scheduler_enabled=False))


@click.group()
def main() -> None:
    """yigongti 医共体流程平台."""


@main.command()
def migrate() -> None:
    """Apply database migrations (Alembic) up to the latest revision."""
    from app.core.migrate import VacuumFailed, upgrade  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    settings = Settings.from_env()
    where = settings.database_url.split('@')[-1]
    try:
        vacuumed = upgrade(settings.database_url)
    except VacuumFailed as exc:     # committed migrations, tables a rerun would not vacuum: say which, fail the command
        click.echo(json.dumps({"code": "vacuum_failed", "message": f"migrated {where}, but {exc}; run VACUUM "
                               "(ANALYZE) on them by hand before reopening the inbox",
                               "details": {"tables": exc.tables}}, ensure_ascii=False), err=True)
        sys.exit(1)
    click.echo(f"migrated {where}" + (f"; vacuumed and analyzed the rewritten {', '.join(vacuumed)}" if vacuumed
                                      else ""))


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--by", default="cli", help="who deploys (recorded in the audit trail)")
def deploy(paths: tuple[Path, ...], by: str) -> None:
    """Deploy BPMN/DMN/forms from the repository folders (default: bpmn/ dmn/ forms/)."""
    from app.workflows import DefinitionError  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    from app.workflows.deploy import collect_folder_files, deploy_files  # noqa: PLC0415 - lazy CLI
    app = _app()
    with app.app_context():
        files = collect_folder_files(ROOT, list(paths) or None)
        try:
            with unit_of_work():          # the deployment and its audit entry commit together (issue 15.4)
                result = deploy_files(files, deployed_by=by, source="folder")
                _audit_deploy(result, by)
        except DefinitionError as exc:
            click.echo(json.dumps({"code": exc.code, "message": exc.message,
                                   "details": {k: v for k, v in exc.details.items() if v is not None}},
                                  ensure_ascii=False), err=True)
            sys.exit(2)
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))


def _audit_deploy(result, by: str) -> None:
    from app.audit.services import record  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    record("definition.deploy", object_type="deployment", object_id=str(result.deployment_id),
           details={"by": by, **result.to_dict()})


@main.command()
def openapi() -> None:
    """Print the API's OpenAPI document (what `make types` turns into the UI's TypeScript types)."""
    from app.extensions import api  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    with tempfile.TemporaryDirectory() as data_dir:
        create_app(Settings.from_env(data_dir=data_dir, database_url=f"sqlite:///{data_dir}/spec.db",
                                     redis_url=None, jobs_mode="eager", scheduler_enabled=False))
        click.echo(json.dumps(api.spec.to_dict(), ensure_ascii=False, indent=1, sort_keys=True))


@main.command("check-assets")
def check_assets() -> None:
    """Check models: one form per user task, every form used, decisions and operators exist, no default ids."""
    from app.workflows.assets import check  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    problems = check(ROOT)
    for p in problems:
        click.echo(f"{p['file']}: {p.get('element_id') or '-'}: {p['reason']}", err=True)
    if problems:
        sys.exit(1)
    click.echo("assets ok")


@main.command()
@click.option("--burst", is_flag=True, help="exit when the queue is empty")
def worker(burst: bool) -> None:
    """Run an rq worker (production mode; needs REDIS_URL)."""
    settings = Settings.from_env()
    if not settings.redis_url:
        raise click.ClickException("REDIS_URL is not set: the embedded default runs jobs in-process")
    from redis.exceptions import ConnectionError as RedisConnectionError  # noqa: PLC0415 - lazy CLI
    from redis.exceptions import TimeoutError as RedisTimeoutError  # noqa: PLC0415 - lazy CLI
    from rq import Worker  # noqa: PLC0415 - lazy CLI

    from app.jobs.backend import QUEUE_NAME, redis_connection  # noqa: PLC0415 - lazy CLI
    from app.workflows.limits import warm_up  # noqa: PLC0415 - lazy CLI
    os.environ.setdefault("YGT_APP_NAME", "ygt-worker")
    app = _app()
    warm_up()  # the script zygote starts once here; every job process rq forks reuses it
    with app.app_context():
        from app.core.db import engine, remove_session  # noqa: PLC0415 - lazy CLI
        from app.workflows.batch import warm_caches  # noqa: PLC0415 - lazy CLI
        warm_caches()  # the latest versions' setup, decisions and specs: inherited by every job process
        remove_session()
        engine().dispose()  # the warm-up's connection is not kept idle in the parent
    gc.collect()
    gc.freeze()  # what the parent loaded stays out of every job's collections (and its pages shared, not copied)
    backoff = 1.0
    while True:  # Redis went away (restart, network): reconnect with backoff instead of exiting for good
        try:
            with app.app_context():
                Worker([QUEUE_NAME], connection=redis_connection(blocking=True)).work(burst=burst,
                                                                                     with_scheduler=True)
            return
        except (RedisConnectionError, RedisTimeoutError) as exc:
            click.echo(f"worker lost Redis ({type(exc).__name__}); reconnecting in {backoff:.0f} s", err=True)
            time.sleep(backoff)
            backoff = min(15.0, backoff * 2)


@main.command()
@click.option("--once", is_flag=True, help="run every schedule once and exit")
def scheduler(once: bool) -> None:
    """Run the scheduler (one leader among many via a PostgreSQL advisory lock)."""
    from app import schedules  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    os.environ.setdefault("YGT_APP_NAME", "ygt-scheduler")
    app = _app()
    with app.app_context():
        if once:
            click.echo(json.dumps(schedules.run_once()))
            return
        sched, leadership = schedules.build_scheduler(blocking=True)
        click.echo(f"scheduler {leadership.holder} started; one of the running schedulers leads, the others stand by")
        try:
            sched.start()
        finally:
            leadership.release()


@main.command()
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=lambda: int(os.environ.get("PORT", "5000")), type=int)
@click.option("--workers", default=lambda: int(os.environ.get("WEB_CONCURRENCY", "4")), type=int,
              help="gunicorn worker processes (PostgreSQL only; SQLite is served by one waitress process)")
@click.option("--threads", default=None, type=int,
              help="threads: of the waitress process (embedded default; 8), or of each gunicorn worker (WEB_THREADS or 4)")
def serve(host: str, port: int, workers: int, threads: int | None) -> None:
    """Serve the platform with a production WSGI server: waitress on SQLite, gunicorn on PostgreSQL."""
    from app import schedules, serving  # noqa: PLC0415 - lazy CLI: `ygt --help` loads no app
    settings = Settings.from_env()
    mode = "production" if settings.production else "embedded"
    if not settings.is_sqlite:
        threads = threads or serving.WEB_THREADS
        click.echo(f"yigongti on http://{host}:{port}  (mode: {mode}, gunicorn × {workers} × {threads} threads)")
        serving.serve_gunicorn(host, port, workers=workers, make_app=create_app, threads=threads)
        return
    app = create_app(settings)
    if settings.scheduler_enabled:
        schedules.start_embedded(app)
    threads = threads or 8
    click.echo(f"yigongti on http://{host}:{port}  (mode: {mode}, waitress × {threads} threads)")
    serving.serve_waitress(app, host, port, threads=threads)


cli_people.register(main)
screening_cli.register(main, _app)
hl7v2_cli.register(main, _app)
workflows_cli.register(main, _app)
