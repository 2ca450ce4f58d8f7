"""Chunked population runs (issue 23.4): the same cases as the single-process cursor run, every chunk once, a chunk
whose worker died is re-run and nothing is opened or counted twice."""
from __future__ import annotations

import itertools
import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, update

from app.core import db
from app.residents.models import Resident
from app.residents.record_models import Observation
from app.screening import batch
from app.screening.models import ScreeningCase, ScreeningRun, ScreeningRunChunk
from app.workflows.models import BatchStart
from tests.helpers import REPO

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
VILLAGES = (("C01T01V01", "/C01/C01T01/C01T01V01/"), ("C01T01V02", "/C01/C01T01/C01T01V02/"),
            ("C01T02V01", "/C01/C01T02/C01T02V01/"))


@pytest.fixture()
def dmn_deployed(app, org_tree):
    from app.workflows.deploy import collect_folder_files, deploy_files
    with app.app_context():
        deploy_files(collect_folder_files(REPO, [REPO / "dmn"]), deployed_by="test", source="folder")


def synthetic_population(app, n: int, seed: int = 3) -> None:
    """n residents of varied age, sex and village with BP (some on several days), glucose, BMI and waist — the
    bench's distributions, so most findings of the decision pack occur."""
    rng = random.Random(seed)
    with app.app_context():
        s = db.session()
        paths = dict(s.execute(select(Resident.org_code, Resident.org_path)).all())
        first = (s.scalar(select(func.max(Resident.id))) or 0) + 1
        residents, observations = [], []
        for i in range(first, first + n):
            code, path = VILLAGES[i % len(VILLAGES)]
            born = date(1936, 1, 1) + timedelta(days=rng.randrange(0, 365 * 60))
            residents.append({"id": i, "name": f"居民{i}", "sex": "M" if i % 2 else "F", "birth_date": born,
                              "id_number_encrypted": "x", "id_number_hash": f"{i:064x}", "id_number_hint": "3X",
                              "org_code": code, "org_path": paths.get(code, path), "created_at": AT,
                              "updated_at": AT})
            for day in range(1 + (i % 3 == 0) * 2):
                at = AT - timedelta(days=rng.randrange(0, 300) + day * 3)
                sbp = max(80, min(240, int(rng.gauss(132, 18))))
                values = [("8480-6", sbp, "mm[Hg]"), ("8462-4", max(45, int(sbp * 0.62 + rng.gauss(0, 6))), "mm[Hg]"),
                          ("1558-6", round(max(3.5, rng.lognormvariate(1.68, 0.18)), 1), "mmol/L"),
                          ("39156-5", round(max(15.0, rng.gauss(24.0, 3.5)), 1), "kg/m2")]
                if i % 4:
                    values.append(("8280-0", round(max(55.0, rng.gauss(84, 10)), 1), "cm"))
                observations += [{"resident_id": i, "code": c, "value_num": v, "unit": u, "effective_at": at,
                                  "source": "his", "recorded_at": at, "recorded_by": "test"} for c, v, u in values]
        s.execute(insert(Resident), residents)
        s.execute(insert(Observation), observations)
        s.commit()


def snapshot(app) -> list[tuple]:
    """Everything a case says, without ids, times and the run that opened it."""
    with app.app_context():
        db.remove_session()
        rows = db.session().scalars(select(ScreeningCase)).all()
        return sorted((c.resident_id, c.org_code, c.township_code, c.disease, c.kind, c.track, c.status, c.open_key,
                       repr(sorted(c.evidence.items())), c.decision_id, c.reason, repr(sorted(c.versions.items())),
                       c.referral_flag, c.source) for c in rows)


def forget_runs(app) -> None:
    with app.app_context():
        s = db.session()
        s.execute(ScreeningCase.__table__.delete())
        s.execute(ScreeningRunChunk.__table__.delete())
        s.execute(ScreeningRun.__table__.delete())
        s.commit()


def test_chunked_run_opens_exactly_the_cases_of_the_cursor_run(app, dmn_deployed):
    synthetic_population(app, 300)
    with app.app_context():
        cursor_run = batch.run(batch.create_run(started_by="test", chunk_size=70).id)
        old_counts, old_created = cursor_run.counts, cursor_run.cases_created
    old = snapshot(app)
    assert len(old) > 200 and old_created == len(old)        # a sick population: most tables find something
    assert {row[3] for row in old} >= {"htn", "t2dm", "stroke"}
    forget_runs(app)
    with app.app_context():
        run = batch.create_chunked_run(started_by="test", chunk_size=37)   # eager jobs: the chunks run at commit
        run = db.session().get(ScreeningRun, run.id)
        db.session().refresh(run)
        assert (run.status, run.total_chunks, run.done_chunks, run.failed_chunks) == ("completed", 9, 9, 0)
        assert run.processed == run.total == 300
        assert (run.cases_created, run.counts) == (old_created, old_counts)
        chunks = db.session().scalars(select(ScreeningRunChunk).order_by(ScreeningRunChunk.seq)).all()
        assert [c.attempts for c in chunks] == [1] * 9 and sum(c.processed for c in chunks) == 300
        assert all(c.cpu_s is not None and c.wall_s is not None for c in chunks)
    assert snapshot(app) == old


def test_chunk_bounds_cover_every_resident_once(app, dmn_deployed):
    synthetic_population(app, 25)
    with app.app_context():
        bounds = batch.chunk_bounds(db.session(), 10)
        ids = db.session().scalars(select(Resident.id).order_by(Resident.id)).all()
    assert [sum(1 for i in ids if lo < i <= hi) for lo, hi in bounds] == [10, 10, 5]
    assert bounds[0][0] == 0 and all(a[1] == b[0] for a, b in itertools.pairwise(bounds))


def test_a_chunk_whose_worker_died_is_screened_again_once(app, dmn_deployed, monkeypatch):
    synthetic_population(app, 60)
    with app.app_context():
        run = batch.create_chunked_run(started_by="test", chunk_size=20, enqueue=False)
        run_id = run.id
        assert batch.screen_chunk(run_id, 0)
        # the worker on chunk 1 dies after claiming it: its transaction never commits, the claim stays
        assert batch._claim(run_id, 1) is not None
        assert batch.screen_chunk(run_id, 1) is False            # claimed: nobody else takes it meanwhile
        assert batch.sweep_chunks() == 0                         # the lease has not expired
        db.session().execute(update(ScreeningRunChunk).where(ScreeningRunChunk.seq == 1).values(
            lease_until=AT - timedelta(days=1)))
        db.session().commit()
        assert batch.sweep_chunks() == 1                         # eager jobs: the chunk is re-run at once, and
        assert batch.screen_chunk(run_id, 2) is False            # its job went on with the pending chunk 2
        db.remove_session()
        run = db.session().get(ScreeningRun, run_id)
        chunks = db.session().scalars(select(ScreeningRunChunk).order_by(ScreeningRunChunk.seq)).all()
        cases = db.session().scalar(select(func.count()).select_from(ScreeningCase))
        assert [(c.status, c.attempts) for c in chunks] == [("done", 1), ("done", 2), ("done", 1)]
        assert (run.status, run.processed, run.done_chunks, run.cases_created) == ("completed", 60, 3, cases)


def test_a_worker_whose_claim_was_taken_over_discards_its_work(app, dmn_deployed):
    synthetic_population(app, 30)
    with app.app_context():
        run_id = batch.create_chunked_run(started_by="test", chunk_size=30, enqueue=False).id
        original = batch._claim

        def claim_then_lose(run_id, seq):               # the lease expires and another worker re-claims meanwhile
            claimed = original(run_id, seq)
            db.session().execute(update(ScreeningRunChunk).values(status="pending"))
            db.session().commit()
            assert original(run_id, seq) is not None
            return claimed
        batch._claim = claim_then_lose
        try:
            assert batch.screen_chunk(run_id, 0) is False
        finally:
            batch._claim = original
        db.remove_session()
        run = db.session().get(ScreeningRun, run_id)
        assert (run.processed, run.done_chunks, run.cases_created) == (0, 0, 0)
        assert db.session().scalar(select(func.count()).select_from(ScreeningCase)) == 0


def test_a_failing_chunk_is_retried_then_failed_and_resume_finishes_the_run(app, dmn_deployed, monkeypatch, login_as):
    synthetic_population(app, 40)
    admin = login_as("county_admin")
    with app.app_context():
        run_id = batch.create_chunked_run(started_by=admin.user.username, chunk_size=20, enqueue=False).id
        real_gather = batch.gather

        def broken(lo, hi, **kw):
            if lo > 0:
                raise RuntimeError("database went away")
            return real_gather(lo, hi, **kw)
        monkeypatch.setattr(batch, "gather", broken)
        assert batch.screen_chunk(run_id, 0)
        with pytest.raises(RuntimeError):
            batch.screen_chunk(run_id, 1)             # eager: the re-queued attempts run (and fail) inline too
        db.remove_session()
        run = db.session().get(ScreeningRun, run_id)
        chunk = db.session().get(ScreeningRunChunk, (run_id, 1))
        assert (chunk.status, chunk.attempts) == ("failed", batch.MAX_ATTEMPTS)
        assert (run.status, run.done_chunks, run.failed_chunks) == ("failed", 1, 1)
        assert "database went away" in run.error
        monkeypatch.setattr(batch, "gather", real_gather)
    told = [n for n in admin.get("/api/v1/notifications").json["items"] if n["kind"] == "screening_run_failed"]
    assert len(told) == 1 and "继续" in told[0]["body"]            # the one who started it is told, in words
    with app.app_context():
        batch.resume_run(run_id)
        db.remove_session()
        run = db.session().get(ScreeningRun, run_id)
        assert (run.status, run.processed, run.done_chunks, run.failed_chunks) == ("completed", 40, 2, 0)


def test_the_cli_screens_chunk_by_chunk_with_a_progress_bar(app, dmn_deployed):
    import click
    from click.testing import CliRunner

    from app.screening.cli import register

    @click.group()
    def cli():
        pass
    register(cli, lambda: app)
    synthetic_population(app, 50)
    result = CliRunner().invoke(cli, ["screen", "--here", "--chunk", "20"])
    assert result.exit_code == 0, result.output
    assert "50 residents in 3 chunks (this process)" in result.output
    assert "筛查进度 [" in result.output and "100.0% 50/50 居民 · 块 3/3 · 失败 0" in result.output
    assert '"status": "completed"' in result.output and '"done_chunks": 3' in result.output
    again = CliRunner().invoke(cli, ["screen", "--resume"])
    assert "no unfinished run to resume" in again.output and '"cases_created": 0' in again.output


def test_a_run_over_a_county_without_residents_completes_at_once(login_as, dmn_deployed):
    # found by the API fuzz test: an empty chunk list was sent as one INSERT of nothing and answered 500
    api = login_as("county_admin")
    started = api.post("/api/v1/screening/runs", json={})
    assert started.status_code == 202, started.json
    assert (started.json["status"], started.json["total"], started.json["total_chunks"]) == ("completed", 0, 0)
    again = api.post("/api/v1/screening/runs", json={})
    assert again.status_code == 202 and again.json["id"] != started.json["id"]


@pytest.fixture()
def models_deployed(app, org_tree):
    """The decision pack and the verification/cancer processes with their forms: new cases start instances."""
    from app.workflows.deploy import collect_folder_files, deploy_files
    names = ("screening", "stratify", "cancer_screening", "merge_review")
    paths = [REPO / "bpmn" / f"{p}.bpmn" for p in names] + [REPO / "dmn"] + [REPO / "forms" / p for p in names]
    with app.app_context():
        deploy_files(collect_folder_files(REPO, paths), deployed_by="test", source="folder")


def test_a_chunked_run_starts_the_processes_of_its_cases_through_the_batch_start_service(app, models_deployed):
    from app.screening import services
    from app.workflows.models import ProcessInstance
    synthetic_population(app, 90)
    with app.app_context():
        batch.create_chunked_run(started_by="test", chunk_size=30)   # eager jobs: chunks, then the batches
        s = db.session()
        s.expire_all()
        cases = s.scalars(select(ScreeningCase).order_by(ScreeningCase.id)).all()
        to_start = [c for c in cases if c.track in services.PROCESS_OF_TRACK]
        assert to_start and len(to_start) < len(cases)                     # the prevention list starts nothing
        assert all(c.instance_id is not None and c.status == "verifying" for c in to_start)
        assert all(c.instance_id is None and c.status == "prevention" for c in cases if c.track == "prevention")
        instances = {i.id: i for i in s.scalars(select(ProcessInstance).order_by(ProcessInstance.id))}
        assert len(instances) == len(to_start)
        for c in to_start:
            inst = instances[c.instance_id]
            assert (inst.process_id, inst.business_key, inst.resident_id, inst.org_code) == (
                services.PROCESS_OF_TRACK[c.track], f"screening_case:{c.id}", c.resident_id, c.org_code)
        batches = s.scalars(select(BatchStart).where(BatchStart.kind == services.BATCH_KIND)
                            .order_by(BatchStart.id)).all()
        chunks = s.scalars(select(ScreeningRunChunk).order_by(ScreeningRunChunk.seq)).all()
        per_chunk = [{c.track for c in to_start if ch.lo < c.resident_id <= ch.hi} for ch in chunks]
        assert len(batches) == sum(len(tracks) for tracks in per_chunk)      # one batch per chunk and process
        assert sum(b.started for b in batches) == len(to_start)
        assert all((b.status, b.failed) == ("done", 0) for b in batches)
        # again (a start job delivered twice, or the sweep meanwhile): nothing starts twice
        services.start_case_batch([c.id for c in to_start])
        assert services.start_case_process(to_start[0].id) is None
        s.expire_all()
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == len(to_start)


def test_the_batch_source_starts_a_case_with_the_data_a_single_start_gives_it(app, dmn_deployed):
    from app.screening import services
    from app.workflows import batch as workflow_batch
    synthetic_population(app, 30)
    with app.app_context():
        batch.create_chunked_run(started_by="test", chunk_size=30, enqueue=False)
        batch.screen_chunk(db.session().scalar(select(ScreeningRun.id)), 0)  # no process deployed: the cases wait
        assert db.session().scalar(select(func.count()).select_from(BatchStart)) == 0
        s = db.session()
        case = s.scalars(select(ScreeningCase).where(ScreeningCase.track == "case").order_by(ScreeningCase.id)).first()
        assert case is not None
        assert case.instance_id is None
        prepared = services.prepare_batch(s, [workflow_batch.StartItem(ref=str(case.id),
                                                                       business_key=f"screening_case:{case.id}")])
        assert prepared[str(case.id)].data == services.process_data(case)
        s.rollback()


def test_cases_another_transaction_opened_meanwhile_are_left_alone_and_the_rest_inserted(app, dmn_deployed):
    """On PostgreSQL a chunk COPYs its cases straight into the table; a conflict on `open_key` (a re-screen opened
    one after the chunk read its open cases) falls back to INSERT … ON CONFLICT DO NOTHING: the same answer."""
    from app.core import clock
    from app.screening.bulk import BulkEvaluator
    from app.screening.features import gather
    from app.screening.rules import findings
    from app.screening.services import case_rows, insert_cases, township_codes
    synthetic_population(app, 30)
    with app.app_context():
        evaluator = BulkEvaluator(db.session())
        rows = [row for f in gather(0, 10**9, as_of=clock.today()).values()
                for row in case_rows(f, findings(f, evaluator.evaluate), source="batch", run_id=None,
                                     townships=township_codes())]
        assert len(rows) > 10
        meanwhile = insert_cases(rows[3:8])
        db.session().commit()
        created = insert_cases(rows)
        db.session().commit()
        db.remove_session()
        stored = {c.id: c for c in db.session().scalars(select(ScreeningCase))}
    later = rows[:3] + rows[8:]
    assert (meanwhile["count"], created["count"]) == (5, len(later))
    assert sorted(c.open_key for c in stored.values()) == sorted(r["open_key"] for r in rows)
    by_kind: dict[str, int] = {}
    for r in later:
        by_kind[f"{r['disease']}:{r['kind']}"] = by_kind.get(f"{r['disease']}:{r['kind']}", 0) + 1
    assert created["by_kind"] == by_kind
    assert sorted(stored[i].open_key for i in created["start"]) == sorted(
        r["open_key"] for r in later if r["track"] in ("case", "cancer"))



def test_a_chunk_pauses_cyclic_garbage_collection_and_restores_it_even_when_it_fails(app, dmn_deployed, monkeypatch):
    import gc
    synthetic_population(app, 20)
    seen = []

    def failing(*args, **kwargs):
        seen.append(gc.isenabled())
        raise RuntimeError("boom")
    with app.app_context():
        run = batch.create_chunked_run(started_by="test", chunk_size=10, enqueue=False)
        assert batch.screen_chunk(run.id, 0) and gc.isenabled()
        monkeypatch.setattr(batch, "findings", failing)
        with pytest.raises(RuntimeError):
            batch.screen_chunk(run.id, 1)
    assert seen and not any(seen) and gc.isenabled()       # every attempt (eager retries) ran without it


def test_a_run_queues_a_few_chunk_jobs_whose_loops_screen_every_chunk(app, dmn_deployed, monkeypatch):
    """Not one job per chunk (most of which would find their chunk done by another job's loop: a work horse forked
    for nothing each): `CHUNK_JOBS` jobs, each going on with the pending chunks; a job whose time is up while chunks
    are left queues the next one, so no chunk is left without a job."""
    synthetic_population(app, 60)
    queued: list[tuple] = []
    monkeypatch.setattr(batch, "CHUNK_JOBS", 2)
    monkeypatch.setattr(batch, "enqueue_after_commit", lambda _s, func, *args, **_kw:
                        queued.append((func, *args)) if func == batch.CHUNK_JOB else None)   # chunk jobs only
    with app.app_context():
        run_id = batch.create_chunked_run(started_by="test", chunk_size=10).id       # 6 chunks
        assert queued == [(batch.CHUNK_JOB, run_id, 0), (batch.CHUNK_JOB, run_id, 1)]
        queued.clear()
        assert batch.screen_chunks(run_id, 0, budget_s=0) == 1       # time up after its own chunk, 5 left:
        assert queued == [(batch.CHUNK_JOB, run_id, 1)]              # the next pending chunk's job is queued
        queued.clear()
        assert batch.screen_chunks(run_id, 1) == 5                   # its loop screens all that are left
        assert queued == []
        assert batch.screen_chunks(run_id, 1) == 0                   # a job queued twice finds nothing to do
        db.remove_session()
        run = db.session().get(ScreeningRun, run_id)
        assert (run.status, run.done_chunks, run.total_chunks, run.processed) == ("completed", 6, 6, 60)
        assert [c.attempts for c in db.session().scalars(select(ScreeningRunChunk))] == [1] * 6   # each once


def test_a_resumed_run_queues_as_many_chunk_jobs_as_a_new_one(app, dmn_deployed, monkeypatch):
    synthetic_population(app, 50)
    queued: list[tuple] = []
    monkeypatch.setattr(batch, "CHUNK_JOBS", 2)
    monkeypatch.setattr(batch, "enqueue_after_commit", lambda _s, func, *args, **_kw:
                        queued.append((func, *args)) if func == batch.CHUNK_JOB else None)
    with app.app_context():
        run_id = batch.create_chunked_run(started_by="test", chunk_size=10, enqueue=False).id     # 5 chunks
        assert batch.screen_chunk(run_id, 1)
        assert queued == []
        batch.resume_run(run_id)
        assert queued == [(batch.CHUNK_JOB, run_id, 0), (batch.CHUNK_JOB, run_id, 2)]     # the first pending ones
