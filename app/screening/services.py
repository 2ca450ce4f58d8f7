"""Use cases of screening: open cases from findings (idempotently), screen one resident on new data, start the
`screening` / `cancer_screening` process per case, and the case transitions the processes' service tasks call."""
from __future__ import annotations

import json
import operator
from collections import namedtuple
from datetime import date, datetime
from typing import Any

import psycopg
from sqlalchemy import select, update
from sqlalchemy.dialects import sqlite

from app.core import clock, logs
from app.core.db import is_postgres, session, unit_of_work
from app.core.errors import NotFound
from app.jobs.queue import enqueue_after_commit
from app.org.models import Organization
from app.residents.management import enrol
from app.residents.models import Resident
from app.vocabulary import CaseKind, Disease
from app.workflows import batch as workflow_batch
from app.workflows.deploy import latest_process_versions
from app.workflows.runner import Actor, start_instance

from .bulk import BulkEvaluator
from .features import Features, gather
from .models import ScreeningCase
from .rules import Finding, findings

log = logs.get("screening")
PROCESS_OF_TRACK = {"case": "screening", "cancer": "cancer_screening"}


def township_codes() -> dict[str, str | None]:
    """Organization code -> its township code (one query; villages map to their parent)."""
    rows = session().execute(select(Organization.code, Organization.level, Organization.parent_code)).all()
    out: dict[str, str | None] = {}
    for code, level, parent in rows:
        out[code] = code if level == "township" else parent if level == "village" else None
    return out


def case_rows(features: Features, found: list[Finding], *, source: str, run_id: int | None,
              townships: dict[str, str | None], now: datetime | None = None) -> list[dict[str, Any]]:
    """The case rows of one resident's findings; `now` (flagged_at, updated_at): a batch chunk passes its own once,
    so every row of the chunk shares one instant and the COPY text formats it once (not a clock read and a
    timestamp's text per resident)."""
    now = now or clock.now()
    return [{"resident_id": features.resident_id, "org_code": features.org_code, "org_path": features.org_path,
             "township_code": townships.get(features.org_code), "disease": f.disease, "kind": f.kind,
             "track": f.track, "status": "prevention" if f.track == "prevention" else "flagged",
             "open_key": f"{features.resident_id}:{f.disease}:{f.track}", "evidence": f.evidence,
             "decision_id": f.decision_id, "reason": f.reason, "versions": f.versions,
             "referral_flag": features.referral_flag, "source": source, "run_id": run_id, "flagged_at": now,
             "updated_at": now} for f in found]


def insert_cases(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Insert cases in one statement; an open case for the same resident+disease+track is left alone.

    Returns how many were created, per "<disease>:<kind>", and the ids that start a process."""
    out: dict[str, Any] = {"count": 0, "by_kind": {}, "start": []}
    if not rows:
        return out
    if is_postgres():
        created = _copy_cases(rows)
    else:
        stmt = sqlite.insert(ScreeningCase).on_conflict_do_nothing(index_elements=["open_key"]).returning(
            ScreeningCase.id, ScreeningCase.track, ScreeningCase.disease, ScreeningCase.kind)
        with unit_of_work() as s:
            created = [r for row in rows for r in s.execute(stmt.values(**row)).all()]
    for r in created:
        key = f"{r.disease}:{r.kind}"
        out["by_kind"][key] = out["by_kind"].get(key, 0) + 1
        if r.track in PROCESS_OF_TRACK:
            out["start"].append(r.id)
    out["count"] = len(created)
    return out


CASE_COLUMNS = ("resident_id", "org_code", "org_path", "township_code", "disease", "kind", "track", "status",
                "open_key", "evidence", "decision_id", "reason", "versions", "referral_flag", "source", "run_id",
                "flagged_at", "updated_at")


# json.dumps(value, ensure_ascii=False, default=str) builds an encoder per call, and so does JSONEncoder.encode (its
# C encoder): one C encoder for every row, the same text (no check for cycles: evidence and versions are trees)
_make_c_encoder = getattr(json.encoder, "c_make_encoder", None)     # None where the C accelerator is missing
_c_encode = _make_c_encoder(None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False, True) \
    if _make_c_encoder is not None else None
_py_encode = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _to_json(value: Any) -> str:
    return "".join(_c_encode(value, 0)) if _c_encode is not None else _py_encode(value)


Created = namedtuple("Created", "id track disease kind")
_COPY_ORDER = operator.itemgetter(*CASE_COLUMNS)


def _copy_cases(rows: list[dict[str, Any]]) -> list:
    """PostgreSQL: COPY the rows straight into `screening_cases` with ids taken from its sequence first. The chunk
    read its residents' open cases and the rules skipped those, so a conflict on `open_key` means another
    transaction (a re-screen on new data) opened one meanwhile: then the COPY is rolled back to its savepoint and
    the rows go the older way, a temporary table and `INSERT … ON CONFLICT (open_key) DO NOTHING RETURNING`. The
    direct COPY is a multi-row heap insert without speculative insertion, the temporary table's writes and the
    RETURNING rows (issue 23, ~20 % of PostgreSQL's CPU per case row)."""
    with unit_of_work() as s:
        raw = s.connection().connection.driver_connection
        assert raw is not None  # a checked-out connection always holds its driver connection
        cursor = raw.cursor()
        # the sequence looked up once (an InitPlan): `nextval(pg_get_serial_sequence(…))` ran the catalog look-up
        # for every id, 3.9 of its 4.4 µs of backend CPU (issue 23.4)
        cursor.execute("SELECT nextval((SELECT pg_get_serial_sequence('screening_cases', 'id')::regclass)) "
                       "FROM generate_series(1, %s)", (len(rows),))
        ids = [r[0] for r in cursor.fetchall()]
        cursor.execute("SAVEPOINT screening_cases_copy")
        try:
            _copy(cursor, "screening_cases", rows, ids)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT screening_cases_copy")
            return _copy_on_conflict(cursor, rows)
        cursor.execute("RELEASE SAVEPOINT screening_cases_copy")
        return [Created(i, row["track"], row["disease"], row["kind"]) for i, row in zip(ids, rows)]


def _copy(cursor, table: str, rows: list[dict[str, Any]], ids: list[int] | None = None) -> None:
    columns = ("id, " if ids is not None else "") + ", ".join(CASE_COLUMNS)
    with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for start in range(0, len(rows), _COPY_BLOCK):
            copy.write(_copy_text(rows[start:start + _COPY_BLOCK], None if ids is None else ids[start:]))


_COPY_BLOCK = 2000
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escaped(value: str) -> str:
    """A text value as COPY's text format reads it: backslash, tab, newline and carriage return escaped."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _copy_text(rows: list[dict[str, Any]], ids: list[int] | None) -> str:
    """COPY text lines of case rows, formatted here rather than by psycopg's per-value dumpers (with the JSON, ~a
    quarter of a warm chunk's CPU, py-spy, issue 23.4). A chunk's rows repeat most texts (organisations, diseases,
    reasons, decisions, the time), so each is escaped once; `versions` is the decision result's own dict, shared by
    every case of its class, so its JSON is built once per dict."""
    null = "\\N"
    memo: dict[Any, str] = {None: null}
    versions_json: dict[int, str] = {}

    def text(value: Any) -> str:
        out = memo[value] = _escaped(value if isinstance(value, str) else str(value))
        return out
    t = memo.get        # `t(v) or text(v)`: a hit costs one C call (a text is never escaped to "")
    lines = []
    for n, row in enumerate(rows):
        (resident_id, org_code, org_path, township_code, disease, kind, track, status, open_key, evidence, decision_id,
         reason, versions, referral_flag, source, run_id, flagged_at, updated_at) = _COPY_ORDER(row)
        versions_text = versions_json.get(id(versions))
        if versions_text is None:
            versions_text = versions_json[id(versions)] = _escaped(_to_json(versions))
        line = (f"{resident_id}\t{t(org_code) or text(org_code)}\t{t(org_path) or text(org_path)}\t"
                f"{t(township_code) or text(township_code)}\t{t(disease) or text(disease)}\t{t(kind) or text(kind)}\t"
                f"{t(track) or text(track)}\t{t(status) or text(status)}\t{_escaped(open_key)}\t"
                f"{_escaped(_to_json(evidence))}\t{t(decision_id) or text(decision_id)}\t{t(reason) or text(reason)}\t"
                f"{versions_text}\t{'t' if referral_flag else 'f'}\t{t(source) or text(source)}\t"
                f"{null if run_id is None else run_id}\t{t(flagged_at) or text(flagged_at)}\t"
                f"{t(updated_at) or text(updated_at)}\n")
        lines.append(line if ids is None else f"{ids[n]}\t{line}")
    return "".join(lines)


def _copy_on_conflict(cursor, rows: list[dict[str, Any]]) -> list:
    """COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING RETURNING (some rows are open)."""
    cursor.execute("CREATE TEMP TABLE IF NOT EXISTS screening_cases_in "
                   "(LIKE screening_cases INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
    _copy(cursor, "screening_cases_in", rows)
    columns = ", ".join(CASE_COLUMNS)
    cursor.execute(f"INSERT INTO screening_cases ({columns}) SELECT {columns} FROM screening_cases_in "
                   f"ON CONFLICT (open_key) DO NOTHING RETURNING id, track, disease, kind")
    created = [Created(*r) for r in cursor.fetchall()]
    cursor.execute("DELETE FROM screening_cases_in")
    return created


def screen_one(resident_id: int, *, evaluator=None) -> list[int]:
    """Re-screen one resident now (new data arrived): open new cases, start their processes, re-grade."""
    with unit_of_work() as s:
        features = gather(0, 0, as_of=clock.today(), ids=[resident_id]).get(resident_id)
        if features is None:
            return []
        evaluator = evaluator or BulkEvaluator(s)
        found = findings(features, evaluator.evaluate)
        if hasattr(evaluator, "flush_samples"):
            evaluator.flush_samples()
        ids = insert_cases(case_rows(features, found, source="new_data", run_id=None,
                                     townships=township_codes()))["start"]
        if ids:
            enqueue_after_commit(s, "app.screening.jobs.start_case_processes", ids,
                                 job_id=f"cases-{resident_id}-{ids[0]}")
        if features.enrolled:
            enqueue_after_commit(s, "app.screening.jobs.regrade_resident", resident_id,
                                 job_id=f"regrade-{resident_id}-{clock.now().timestamp()}")
        return ids


def process_data(case: ScreeningCase, *, doctors: dict[int, int | None] | None = None) -> dict[str, Any]:
    """The start data of a case's process; `doctors` (resident id -> family doctor) when many are read at once."""
    doctor = doctors.get(case.resident_id) if doctors is not None else _family_doctor(case.resident_id)
    evidence = case.evidence or {}
    shown = {k: v for k, v in evidence.items() if k != "outputs"}
    return {"case_id": case.id, "resident_id": case.resident_id, "disease": case.disease,
            "disease_name": Disease.label_of(case.disease), "kind": case.kind, "kind_label": CaseKind(case.kind).label,
            "evidence": shown, "reason": case.reason, "referral_flag": case.referral_flag,
            "township_code": case.township_code or case.org_code, "village_code": case.org_code,
            "priority": 1 if case.referral_flag else 2 if case.kind == "confirmed" else 3,
            # the forms' fields, so every service-task parameter is defined whichever path the case takes
            "icd10": Disease(case.disease).icd10 if case.disease in Disease.codes() else None, "diagnosed_on": None,
            "managing_doctor_user_id": doctor, "reject_reason": None, "test": None,
            "hospital": None, "exam": None, "outcome": None}


def _family_doctor(resident_id: int) -> int | None:
    resident = session().get(Resident, resident_id)
    return resident.family_doctor_user_id if resident else None


def start_case_process(case_id: int) -> int | None:
    """Start the case's process once (idempotent: a case with an instance is left alone)."""
    with unit_of_work() as s:
        case = s.execute(select(ScreeningCase).where(ScreeningCase.id == case_id).with_for_update()
                         ).scalar_one_or_none() if is_postgres() else s.get(ScreeningCase, case_id)
        if case is None or case.instance_id is not None or case.open_key is None:
            return None
        process_id = PROCESS_OF_TRACK.get(case.track)
        if process_id is None:
            return None
        try:
            inst = start_instance(process_id, data=process_data(case), business_key=f"screening_case:{case.id}",
                                  actor=Actor("screening"), resident_id=case.resident_id,
                                  org_code=case.org_code)
        except NotFound:
            log.warning("process not deployed; case waits", extra={"job": process_id})
            return None
        case.instance_id, case.status, case.updated_at = inst.id, "verifying", clock.now()
        return inst.id


BATCH_KIND = "screening_cases"
BATCH_CHUNK = 500


def start_case_batch(case_ids: list[int]) -> list[int]:
    """Start the processes of many new cases (a screening chunk's) through the batch-start service
    (`app.workflows.batch`, issue 23.3): one batch per process, chunked across the workers, the data of each case
    computed when its chunk runs (`prepare_batch`). Idempotent like `start_case_process`: a case with an instance
    (or a closed one) is skipped, a business key already started is skipped by the batch. A process not deployed:
    its cases wait for the `start_pending_cases` sweep. Returns the batch ids."""
    with unit_of_work() as s:
        deployed = latest_process_versions(s)
        rows = s.execute(select(ScreeningCase.id, ScreeningCase.track, ScreeningCase.resident_id,
                                ScreeningCase.org_code).where(
            ScreeningCase.id.in_([int(i) for i in case_ids]), ScreeningCase.instance_id.is_(None),
            ScreeningCase.open_key.is_not(None)).order_by(ScreeningCase.id)).all()
    by_process: dict[str, list[workflow_batch.StartItem]] = {}
    for case_id, track, resident_id, org_code in rows:
        process_id = PROCESS_OF_TRACK.get(track)
        if process_id is None:
            continue
        by_process.setdefault(process_id, []).append(workflow_batch.StartItem(
            ref=str(case_id), business_key=f"screening_case:{case_id}", resident_id=resident_id, org_code=org_code))
    batches = []
    for process_id, items in by_process.items():
        if process_id not in deployed:
            log.warning("process not deployed; cases wait", extra={"job": process_id})
            continue
        batches.append(workflow_batch.create_batch(
            BATCH_KIND, process_id, items, created_by="screening", chunk_size=BATCH_CHUNK,
            label=f"人群筛查：{'癌症筛查' if process_id == 'cancer_screening' else '核实'} {len(items)} 例"))
    return batches


def prepare_batch(s, items: list[workflow_batch.StartItem]) -> dict[str, workflow_batch.StartItem | None]:
    """The batch source of screening cases: lock the chunk's cases (one started meanwhile, singly or by an earlier
    batch, or closed, is skipped) and compute each process's data as `start_case_process` does."""
    ids = [int(i.ref) for i in items]
    query = select(ScreeningCase).where(ScreeningCase.id.in_(ids)).order_by(ScreeningCase.id)
    cases = {c.id: c for c in s.scalars(query.with_for_update() if is_postgres() else query)}
    doctors = dict(s.execute(select(Resident.id, Resident.family_doctor_user_id).where(
        Resident.id.in_({c.resident_id for c in cases.values()}))).all())
    out: dict[str, workflow_batch.StartItem | None] = {}
    for item in items:
        case = cases.get(int(item.ref))
        if case is None or case.instance_id is not None or case.open_key is None:
            out[item.ref] = None
            continue
        out[item.ref] = workflow_batch.StartItem(ref=item.ref, business_key=f"screening_case:{case.id}",
                                                 data=process_data(case, doctors=doctors),
                                                 resident_id=case.resident_id, org_code=case.org_code)
    return out


def batch_started(s, started: dict[str, int]) -> None:
    """The batch wrote the instances: record them on their cases (one executemany UPDATE), as a single start does."""
    if started:
        now = clock.now()
        s.execute(update(ScreeningCase), [{"id": int(ref), "instance_id": inst_id, "status": "verifying",
                                           "updated_at": now} for ref, inst_id in started.items()])


def start_pending_cases(limit: int = 200) -> int:
    """Scheduler sweep: start processes for flagged cases that have none yet (e.g. deployed later)."""
    with unit_of_work() as s:
        ids = list(s.scalars(select(ScreeningCase.id).where(
            ScreeningCase.status == "flagged", ScreeningCase.instance_id.is_(None),
            ScreeningCase.track.in_(tuple(PROCESS_OF_TRACK))).order_by(ScreeningCase.id).limit(limit)))
    started = sum(1 for i in ids if start_case_process(i) is not None)
    return started


# -- transitions the processes' service tasks call --------------------------------------------------------------

def get_case(case_id: int) -> ScreeningCase:
    with unit_of_work() as s:
        return _case(s, case_id)


def _case(s, case_id: int) -> ScreeningCase:
    case = s.get(ScreeningCase, int(case_id))
    if case is None:
        raise NotFound("筛查个案不存在 (screening case not found)", case_id=case_id)
    return case


def mark_verified(case_id: int) -> dict[str, Any]:
    with unit_of_work() as s:
        case = _case(s, case_id)
        if case.verified_at is None:
            case.verified_at = clock.now()
        case.status, case.updated_at = "verified", clock.now()
        return {"case_id": case.id, "status": case.status}


def mark_test_ordered(case_id: int, test: str | None) -> dict[str, Any]:
    with unit_of_work() as s:
        case = _case(s, case_id)
        case.status, case.updated_at = "needs_test", clock.now()
        case.evidence = {**(case.evidence or {}), "test_ordered": test, "test_ordered_at": clock.now().isoformat()}
        return {"case_id": case.id, "test": test}


def close_case(case_id: int, *, status: str, reason: str | None = None) -> dict[str, Any]:
    """Close a case (rejected, enrolled, diagnosed, closed): it no longer blocks a new case for the disease."""
    with unit_of_work() as s:
        case = _case(s, case_id)
        now = clock.now()
        if case.open_key is None:
            return {"case_id": case.id, "status": case.status}
        case.status, case.open_key, case.closed_at, case.updated_at = status, None, now, now
        if status == "rejected":
            case.rejected_at, case.reject_reason = now, reason
        if status == "enrolled":
            case.enrolled_at = now
        return {"case_id": case.id, "status": status}


def close_prevention_case(resident_id: int, disease: str) -> None:
    """A resident enrolled for a disease leaves its prevention list."""
    with unit_of_work() as s:
        now = clock.now()
        s.execute(update(ScreeningCase).where(
            ScreeningCase.resident_id == resident_id, ScreeningCase.disease == disease,
            ScreeningCase.track == "prevention", ScreeningCase.open_key.is_not(None))
            .values(open_key=None, status="closed", closed_at=now, updated_at=now))


def enrol_case(case_id: int, *, icd10: str | None, diagnosed_on: str | None, managing_doctor_user_id: int | None,
               village_code: str | None, actor: str) -> dict[str, Any]:
    """建档: enrol the resident for the case's disease, record the diagnosis, close the case."""
    with unit_of_work() as s:
        case = _case(s, case_id)
        enrolment = enrol(case.resident_id, disease=case.disease, icd10=icd10,
                          diagnosed_on=date.fromisoformat(diagnosed_on) if diagnosed_on else clock.today(),
                          managing_doctor_user_id=managing_doctor_user_id, village_code=village_code or case.org_code,
                          screening_case_id=case.id, source="screening", actor=actor)
        close_case(case.id, status="enrolled")
        close_prevention_case(case.resident_id, case.disease)
        return {"enrolment_id": enrolment.id, "resident_id": case.resident_id, "disease": case.disease,
                "icd10": enrolment.icd10}
