"""Quality dashboards benchmark (issue 20.3): a county of N residents, the refresh of its materialized figures, and
the dashboard / findings API calls that read them.

    python bench/quality.py --residents 20000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/quality.py --residents 1000000 --months 12 --database-url …      # the issue's county

PostgreSQL only (the county is written with set-based `INSERT … SELECT … FROM generate_series`). A scratch database
is created and dropped (`--keep` keeps it and prints its URL). The county: 1 county hospital, `--townships` townships
(default 20) of `--villages` villages each (default 20), one village doctor per village; every resident belongs to a
village and its doctor. 25 % are enrolled with hypertension and 8 % with type 2 diabetes (enrolled 1–3 years ago),
graded LOW … VERY_HIGH, each with a 90-day follow-up schedule and a visit due every 90 days over the last 13 months
(about 9 in 10 done, up to 11 days late, BP/FPG spread around the targets; pseudo-random per visit with
`hashtext`, so villages differ by chance only).

Timed: the live overview before any figures exist (`--live`), the refresh of this month and of `--months` − 1 closed
months (each one `app.quality.refresh.refresh`), then — through the HTTP API with a supervisor's token, `--repeat`
times each, median — the county overview, a township's overview, breakdowns by disease, doctor, age band and sex,
a 12-month trend, the P10/P90 scores of townships and of villages, the quarterly cohorts, and the findings; and the
threshold-alert sweep (`services.check_thresholds`).

`--fill-months`: after refreshing `--months` months, copy the oldest refreshed month's figures to the months before
it up to 24 in all (reading cost does not depend on the values), so the 12-month trend and the findings read
figures at 1,000,000 residents without a dozen refreshes. `--short`: 2,000 residents, 2 townships × 3 villages,
2 months, one repeat (CI: tests/integration/test_benchmarks.py).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scratch  # bench/scratch.py, beside this script


def scratch_url(server: str) -> tuple[str, callable]:
    return scratch.scratch_url(server, "ygt_bench_q")


COUNTY = [
    # organisations: county, townships, villages (codes C01, C01Tnn, C01TnnVnn)
    """INSERT INTO organizations (code, name, level, parent_code, path)
       VALUES ('C01', '基准县人民医院', 'county', NULL, '/C01/')""",
    """INSERT INTO organizations (code, name, level, parent_code, path)
       SELECT 'C01T' || lpad(t::text, 2, '0'), '第' || t || '镇卫生院', 'township', 'C01',
              '/C01/C01T' || lpad(t::text, 2, '0') || '/' FROM generate_series(1, :townships) t""",
    """INSERT INTO organizations (code, name, level, parent_code, path)
       SELECT 'C01T' || lpad(t::text, 2, '0') || 'V' || lpad(v::text, 2, '0'), '第' || t || '镇' || v || '村卫生室',
              'village', 'C01T' || lpad(t::text, 2, '0'),
              '/C01/C01T' || lpad(t::text, 2, '0') || '/C01T' || lpad(t::text, 2, '0') || 'V' || lpad(v::text, 2, '0')
              || '/'
       FROM generate_series(1, :townships) t, generate_series(1, :villages) v""",
    # one village doctor per village
    """INSERT INTO users (username, display_name, org_code, active, failed_login_count, created_at)
       SELECT 'doc_' || code, '医生' || code, code, true, 0, now() FROM organizations WHERE level = 'village'""",
    """CREATE TEMPORARY TABLE bench_villages AS
       SELECT o.code, o.path, u.id AS doctor_id, (row_number() OVER (ORDER BY o.code)) - 1 AS idx
       FROM organizations o JOIN users u ON u.org_code = o.code WHERE o.level = 'village'""",
    # residents, round-robin over the villages
    """INSERT INTO residents (id, name, sex, birth_date, id_number_encrypted, id_number_hash, id_number_hint,
                              org_code, org_path, family_doctor_user_id, created_at, updated_at)
       SELECT g, '居民' || g, CASE WHEN g % 2 = 0 THEN 'M' ELSE 'F' END,
              date '1935-01-01' + (g * 37 % 25000), 'bench', md5(g::text) || md5('x' || g::text),
              lpad((g % 100)::text, 2, '0'), v.code, v.path, v.doctor_id, now(), now()
       FROM generate_series(1, :residents) g JOIN bench_villages v ON v.idx = g % :nvillages""",
    """SELECT setval(pg_get_serial_sequence('residents', 'id'), :residents)""",
    # chronic patients: 25 % hypertension, 8 % type 2 diabetes
    """CREATE TEMPORARY TABLE bench_patients AS
       SELECT r.id AS rid, d.disease, r.org_code, r.org_path, r.family_doctor_user_id AS doctor_id,
              (ARRAY['LOW','MODERATE','HIGH','VERY_HIGH'])[1 + r.id % 4] AS risk,
              current_date - (365 + (r.id * 13 % 730))::int AS enrolled_on
       FROM residents r JOIN (VALUES ('htn', 4, 0), ('t2dm', 12, 1)) AS d(disease, modulo, rest)
         ON r.id % d.modulo = d.rest""",
    """INSERT INTO disease_enrolments (resident_id, disease, icd10, diagnosed_on, village_code, source, enrolled_at,
                                       enrolled_by, managing_doctor_user_id)
       SELECT rid, disease, CASE disease WHEN 'htn' THEN 'I10' ELSE 'E11' END, enrolled_on, org_code, 'bench',
              enrolled_on + time '10:00', 'bench', doctor_id FROM bench_patients""",
    """INSERT INTO risk_levels (resident_id, disease, level, decision_id, versions, reason, trace, inputs,
                                assessed_at, basis, source)
       SELECT rid, disease, risk, 'bench', '{}', '', '[]', '{}', enrolled_on + time '10:00', '{}', 'bench'
       FROM bench_patients""",
    """INSERT INTO follow_up_schedules (resident_id, disease, risk_level, org_code, org_path, interval_days,
                                        next_due_on, consecutive_uncontrolled, cycle_no, status, updated_at,
                                        responsible_user_id)
       SELECT rid, disease, risk, org_code, org_path, 90, current_date + (rid % 90)::int, 0, 5, 'active', now(),
              doctor_id FROM bench_patients""",
    # a visit due every 90 days over the last 13 months; ~9 in 10 done, some late, values spread around targets
    """INSERT INTO follow_up_visits (schedule_id, resident_id, disease, cycle_no, due_on, status, visited_on,
                                     visit_type, sbp, dbp, fpg, created_at, record)
       SELECT s.id, s.resident_id, s.disease, k, d.due,
              CASE WHEN d.h % 10 = 0 THEN 'scheduled' ELSE 'done' END,
              CASE WHEN d.h % 10 = 0 THEN NULL ELSE d.due + (d.h / 10 % 12)::int END,
              (ARRAY['outpatient','home','phone'])[1 + d.h / 100 % 3],
              CASE WHEN s.disease = 'htn' THEN 112 + d.h / 1000 % 50 END,
              CASE WHEN s.disease = 'htn' THEN 68 + d.h / 50000 % 30 END,
              CASE WHEN s.disease = 't2dm' THEN 5.0 + (d.h / 1000 % 40) / 10.0 END,
              d.due + time '08:00', '{}'
       FROM follow_up_schedules s, generate_series(1, 5) k,
            LATERAL (SELECT current_date - (k * 90 - (s.resident_id % 90))::int AS due,
                            abs(hashtext(s.resident_id || ':' || k)) AS h) d
       WHERE d.due < current_date""",
    "ANALYZE",
]


def build_county(residents: int, townships: int, villages: int) -> dict[str, float]:
    from sqlalchemy import func, select, text

    from app.core.db import session, unit_of_work
    from app.follow_up.models import FollowUpVisit
    from app.residents.record_models import DiseaseEnrolment
    params = {"residents": residents, "townships": townships, "villages": villages,
              "nvillages": townships * villages}
    t0 = time.perf_counter()
    with unit_of_work() as s:
        for sql in COUNTY:
            s.execute(text(sql), {k: v for k, v in params.items() if f":{k}" in sql})
    took = time.perf_counter() - t0
    return {"seconds": took, "patients": session().scalar(select(func.count()).select_from(DiseaseEnrolment)),
            "visits": session().scalar(select(func.count()).select_from(FollowUpVisit))}


def fill(oldest: str, months: int) -> int:
    """Copy one month's figures (and its run record) to the `months` months before it."""
    from sqlalchemy import text

    from app.core.db import unit_of_work
    from app.quality import queries
    targets = queries.previous_periods(oldest, months + 1)[:-1]
    copied = 0
    with unit_of_work() as s:
        for period in targets:
            copied += s.execute(text(
                """INSERT INTO quality_aggregates (period, indicator_id, org_code, dim, dim_value, numerator,
                                                   denominator, value)
                   SELECT :p, indicator_id, org_code, dim, dim_value, numerator, denominator, value
                   FROM quality_aggregates WHERE period = :src"""), {"p": period, "src": oldest}).rowcount
            s.execute(text(
                """INSERT INTO quality_aggregate_runs (period, status, as_of, window_end, started_at, finished_at,
                                                       rows, seconds)
                   SELECT :p, status, as_of, :end, started_at, finished_at, rows, seconds
                   FROM quality_aggregate_runs WHERE period = :src"""),
                {"p": period, "src": oldest, "end": queries.month_end(period).isoformat()})
    return copied


def timed(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--residents", type=int, default=20_000)
    ap.add_argument("--townships", type=int, default=20)
    ap.add_argument("--villages", type=int, default=20, help="villages per township")
    ap.add_argument("--months", type=int, default=12, help="months refreshed (this one and the closed before it)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--live", action="store_true", help="also time the live overview before the refresh")
    ap.add_argument("--keep", action="store_true", help="keep the scratch database (its name is printed first)")
    ap.add_argument("--database", help="reuse a database kept by an earlier --keep run: no county, no refresh, "
                                       "only the timed views (and the alert sweep unless --no-alerts)")
    ap.add_argument("--no-alerts", action="store_true", help="skip the threshold-alert sweep")
    ap.add_argument("--fill-months", action="store_true", help="copy figures to the older months (see above)")
    ap.add_argument("--short", action="store_true", help="tiny county for CI")
    ap.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = ap.parse_args()
    if args.short:
        args.residents, args.townships, args.villages, args.months, args.repeat = 2000, 2, 3, 2, 1
    if not (args.database_url or "").startswith("postgresql"):
        sys.exit("PostgreSQL only: --database-url postgresql+psycopg://…")
    if args.database:
        from sqlalchemy.engine import make_url
        url = make_url(args.database_url).set(database=args.database).render_as_string(hide_password=False)
        args.keep = True

        def drop() -> None:
            pass
    else:
        url, drop = scratch_url(args.database_url)
    if args.keep:
        print(f"database: {url}", flush=True)
    from app import create_app
    from app.config import Settings
    from app.core.migrate import upgrade
    upgrade(url)
    app = create_app(Settings.from_env(database_url=url, jobs_mode="eager", scheduler_enabled=False,
                                       data_dir=tempfile.mkdtemp()))
    try:
        with app.app_context():
            from app.auth.services import create_token, create_user, find_user
            from app.quality import queries, refresh
            if not args.database:
                built = build_county(args.residents, args.townships, args.villages)
                print(f"county: {args.residents:,} residents, {args.townships} townships × {args.villages} villages, "
                      f"{built['patients']:,} chronic patients, {built['visits']:,} visits — written in "
                      f"{built['seconds']:.1f} s", flush=True)
            user = find_user("bench_supervisor") if args.database else None
            if user is None:
                user = create_user("bench_supervisor", password="bench-pass-123", roles=["supervisor"],
                                   org_code="C01", display_name="质控")
            _, token = create_token(user.id, name="bench")
            client = app.test_client()
            headers = {"Authorization": f"Bearer {token}"}

            def get(path: str) -> dict:
                resp = client.get(path, headers=headers)
                assert resp.status_code == 200, (path, resp.status_code, resp.get_data(as_text=True)[:300])
                return resp.get_json()

            period = queries.current_period()
            if args.live:
                took, data = timed(lambda: get(f"/api/v1/quality/overview?period={period}"), 1)
                print(f"live overview (no figures yet): {took:.2f} s (live={data['freshness']['live']})", flush=True)
            months = queries.previous_periods(period, args.months)
            per_month = []
            if args.database:
                months = []
            for month in reversed(months):
                t0, c0 = time.perf_counter(), time.process_time()
                state = refresh.refresh(month)
                per_month.append(time.perf_counter() - t0)
                print(f"refresh {month}: {per_month[-1]:.1f} s ({time.process_time() - c0:.1f} s CPU in this process; "
                      f"load {os.getloadavg()[0]:.1f})", flush=True)
            from sqlalchemy import func, select

            from app.core.db import session
            from app.quality.models import QualityAggregate
            rows = session().scalar(select(func.count()).select_from(QualityAggregate))
            if months:
                print(f"refresh: {len(months)} months, {rows:,} figure rows, {sum(per_month):.1f} s in all, "
                      f"median {statistics.median(per_month):.1f} s a month (as of {state['as_of']})", flush=True)
            if args.fill_months and months:
                print(f"filled {fill(months[0], 24 - len(months)):,} figure rows into the older months", flush=True)
            township = f"C01T{1:02d}"
            calls = {
                "overview (county)": f"/api/v1/quality/overview?period={period}",
                "overview (township)": f"/api/v1/quality/overview?period={period}&org_code={township}",
                "breakdown by disease": f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?by=disease&period={period}",
                "breakdown by doctor": f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?by=doctor&period={period}",
                "breakdown by age band": f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?by=age_band&period={period}",
                "breakdown by sex": f"/api/v1/quality/indicators/htn_bp_control_rate/breakdown?by=sex&period={period}",
                "trend, 12 months": f"/api/v1/quality/indicators/htn_bp_control_rate/trend?period={period}",
                "scores, townships": f"/api/v1/quality/indicators/htn_bp_control_rate/scores?level=township&period={period}",
                "scores, villages": f"/api/v1/quality/indicators/htn_bp_control_rate/scores?level=village&period={period}",
                "cohorts (county)": f"/api/v1/quality/cohorts?period={period}",
                "findings (county)": f"/api/v1/quality/findings?period={period}",
                **{f"分析 breakdowns, {section}": f"/api/v1/quality/breakdowns?section={section}&period={period}"
                   for section in ("population", "disease", "cost", "resources", "outcomes")},
            }
            for label, path in calls.items():
                took, data = timed(lambda path=path: get(path), args.repeat)
                fresh = data.get("freshness") or {}
                print(f"{label}: {took * 1000:.0f} ms (median of {args.repeat}; live={fresh.get('live')})",
                      flush=True)
            from app.quality import services
            if args.no_alerts:
                print(f"load average: {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f} / "
                      f"{os.getloadavg()[2]:.1f}")
                return
            took, raised = timed(lambda: services.check_thresholds(period=period), 1)
            print(f"threshold alerts sweep: {took * 1000:.0f} ms ({raised} raised)", flush=True)
            took, raised = timed(lambda: services.check_thresholds(period=period), 1)
            print(f"threshold alerts sweep again: {took * 1000:.0f} ms ({raised} raised)", flush=True)
            print(f"load average: {os.getloadavg()[0]:.1f} / {os.getloadavg()[1]:.1f} / {os.getloadavg()[2]:.1f}")
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            drop()


if __name__ == "__main__":
    main()
