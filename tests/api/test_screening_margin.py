"""Screening's data path at 1,000,000 residents (issue 23.4): the latest value per code (its read sorts codes
byte-wise), the flagged_at index without prevention cases (the only query on flagged_at leaves them out), and case
rows through the hand-formatted COPY text."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select, text

from app.core import clock, db
from app.residents.models import Resident
from app.residents.record_models import Observation
from app.screening.features import gather
from app.screening.models import ScreeningCase
from tests.api.test_screening_chunks import dmn_deployed, synthetic_population  # noqa: F401 (fixture)

AT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _resident(s, rid: int) -> None:
    s.execute(insert(Resident), [{"id": rid, "name": f"居民{rid}", "sex": "F", "birth_date": date(1960, 5, 1),
                                  "id_number_encrypted": "x", "id_number_hash": f"{rid:064x}", "id_number_hint": "3X",
                                  "org_code": "C01T01V01", "org_path": "/C01/C01T01/C01T01V01/", "created_at": AT,
                                  "updated_at": AT}])


def _obs(rid: int, code: str, value, days_ago: int, *, source: str = "his", recorded_days_ago: int | None = None):
    at = AT - timedelta(days=days_ago)
    recorded = AT - timedelta(days=days_ago if recorded_days_ago is None else recorded_days_ago)
    text_value = value if isinstance(value, str) else None
    return {"resident_id": rid, "code": code, "value_num": None if text_value else value, "value_text": text_value,
            "unit": None, "effective_at": at, "source": source, "recorded_at": recorded, "recorded_by": "test"}


def test_the_latest_value_per_code_a_synonym_filling_in_and_the_newest_record_time(app, org_tree):
    with app.app_context():
        s = db.session()
        for rid in (901, 902, 903, 904):
            _resident(s, rid)
        s.execute(insert(Observation), [
            # 901: an older and a newer SBP (the newer wins), a home value (not clinical: ignored), FIT as text, ACR
            # under both its code and its synonym (the code's own value wins), recorded late for an old measurement
            _obs(901, "8480-6", 150, 30), _obs(901, "8480-6", 128, 3), _obs(901, "8480-6", 190, 1, source="patient"),
            _obs(901, "29771-3", "positive", 10), _obs(901, "14959-1", 12.0, 20), _obs(901, "9318-7", 40.0, 2),
            _obs(901, "8462-4", 80, 40, recorded_days_ago=0),
            # 902: ACR only under its synonym, LDL only under its synonym
            _obs(902, "9318-7", 35.0, 5), _obs(902, "2089-1", 3.1, 6),
            # 903: a value outside the feature codes only (no row)
            _obs(903, "8867-4", 70, 4),
            # 904: only a home reading (no clinical row at all)
            _obs(904, "8480-6", 170, 1, source="home:omron"),
        ])
        s.commit()
        out = gather(900, 904, as_of=clock.today())
        assert out[901].values == {"8480-6": 128, "29771-3": "positive", "14959-1": 12.0, "8462-4": 80}
        assert out[901].latest_data_at == AT                       # the DBP recorded today-of-AT, measured 40 d ago
        assert out[902].values == {"14959-1": 35.0, "13457-7": 3.1}
        assert out[902].latest_data_at == AT - timedelta(days=5)
        assert out[903].values == {} and out[903].latest_data_at is None
        assert out[904].values == {} and out[904].latest_data_at is None
        assert gather(0, 0, as_of=clock.today(), ids=[902])[902].values == out[902].values


def test_the_flagged_at_index_holds_no_prevention_case_and_the_period_counts_still_come_from_it(app, dmn_deployed,  # noqa: F811
                                                                                               login_as):
    synthetic_population(app, 300)
    from app.screening import batch
    with app.app_context():
        run_id = batch.create_chunked_run(started_by="test", chunk_size=100, enqueue=False).id
        for seq in batch.pending_chunks(run_id):
            batch.screen_chunk(run_id, seq)
        s = db.session()
        tracks = dict(s.execute(select(ScreeningCase.track, text("count(*)")).group_by(ScreeningCase.track)).all())
        assert tracks.get("prevention") and tracks.get("case")
        if db.is_postgres():
            definition = s.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_screening_cases_flagged_at'"))
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(s.scalars(text(
                "EXPLAIN SELECT count(*) FROM screening_cases WHERE track <> 'prevention' AND flagged_at >= now() - "
                "interval '1 day'")))
            assert "ix_screening_cases_flagged_at" in plan
        else:
            definition = s.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'ix_screening_cases_flagged_at'"))
        assert "prevention" in definition and "WHERE" in definition.upper()
        s.rollback()
    client = login_as("supervisor")
    today = clock.today()
    period = client.get(f"/api/v1/screening/stats?from={today - timedelta(days=1)}&to={today}").get_json()
    everything = client.get("/api/v1/screening/stats").get_json()
    assert period["totals"] == everything["totals"] and everything["totals"]["flagged"] > 0
    none = client.get(f"/api/v1/screening/stats?from={today + timedelta(days=1)}").get_json()
    assert none["totals"]["flagged"] == 0


def test_case_rows_keep_every_character_through_the_copy_text(app, org_tree):
    """The COPY text is formatted by hand on PostgreSQL: tabs, newlines, backslashes, quotes and non-ASCII in texts
    and JSON, a missing township and run, and shared `versions` dicts come back exactly (SQLite inserts them)."""
    from app.screening.services import insert_cases
    now = clock.now()
    shared = {"htn_screening": 3}
    rows = []
    for rid, reason, evidence, township, run_id in (
            (911, "tab\there, line\nbreak, cr\r, back\\slash", {"note": 'quote " and \\ and \t and 中文', "x": 1.5},
             "C01T01", 7),
            (912, "普通理由 (plain)", {"list": [1, None, True], "nested": {"a": "b\nc"}}, None, None)):
        with app.app_context():
            _resident(db.session(), rid)
            db.session().commit()
        for disease in ("htn", "t2dm"):
            rows.append({"resident_id": rid, "org_code": "C01T01V01", "org_path": "/C01/C01T01/C01T01V01/",
                         "township_code": township, "disease": disease, "kind": "suspected", "track": "case",
                         "status": "flagged", "open_key": f"{rid}:{disease}:case", "evidence": evidence,
                         "decision_id": "htn_screening", "reason": reason, "versions": shared,
                         "referral_flag": rid == 911, "source": "batch", "run_id": run_id, "flagged_at": now,
                         "updated_at": now})
    with app.app_context():
        created = insert_cases(rows)
        assert created["count"] == 4
        db.remove_session()
        stored = {(c.resident_id, c.disease): c for c in db.session().scalars(select(ScreeningCase))}
        for row in rows:
            case = stored[(row["resident_id"], row["disease"])]
            assert {k: getattr(case, k) for k in row} == row
