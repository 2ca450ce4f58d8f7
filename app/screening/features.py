"""Gather screening features for a range of residents with a few set-based queries (no per-resident SQL).

Per resident: sex, age on the run date, managing organization; the latest value per LOINC code; the number of
different days with a raised office BP or a glucose value at a diagnostic cut-off; confirmed diagnoses; risk-factor
answers; enrolled diseases; open and recently closed cases; referral flags.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import text

from app.core import clock
from app.core.db import is_postgres, session
from app.residents.sources import CLINICAL_SQL
from app.vocabulary import loinc

FEATURE_CODES = ("8480-6", "8462-4", "1558-6", "2339-0", "20438-8", "4548-4", "2160-0", "14959-1", "9318-7",
                 "39156-5", "8280-0", "29463-7", "8302-2", "2093-3", "13457-7", "2089-1", "2085-9", "19926-5",
                 "29771-3", "13965-9")
# day-count cut-offs (the tables then decide what the counts mean):
RAISED_SBP, RAISED_DBP = 140, 90            # T06 row 1: 首次发现 SBP≥140 和/或 DBP≥90, 非同日3次
DM_FPG, DM_OGTT, DM_HBA1C = 7.0, 11.1, 6.5  # T07 核实: FPG≥7.0, OGTT 2hPG≥11.1, HbA1c≥6.5%


@dataclass(slots=True)
class Features:
    resident_id: int
    sex: str
    birth_date: date
    org_code: str
    org_path: str
    age: int = 0
    values: dict[str, Any] = field(default_factory=dict)        # canonical code -> latest value
    latest_data_at: datetime | None = None
    raised_bp_days: int = 0
    dm_abnormal_days: int = 0
    conditions: set[str] = field(default_factory=set)           # confirmed ICD-10 codes
    factors: dict[str, Any] = field(default_factory=dict)
    enrolled: set[str] = field(default_factory=set)
    open_keys: set[str] = field(default_factory=set)
    closed_at: dict[str, datetime] = field(default_factory=dict)  # "<disease>:<track>" -> last closed
    referral_flag: bool = False

    def value(self, code: str) -> Any:
        return self.values.get(code)


def _day(column: str) -> str:
    return f"CAST(({column} AT TIME ZONE '{clock.tz_name()}') AS DATE)" if is_postgres() else \
        f"date({column}, '{clock.utc_offset_minutes():+d} minutes')"


def _range(where: str) -> str:
    return where.replace("{col}", "resident_id")


def gather(lo: int, hi: int, *, as_of: date, ids: list[int] | None = None) -> dict[int, Features]:
    """Features of residents with lo < id <= hi (or exactly `ids`), keyed by resident id."""
    s = session()
    params: dict[str, Any] = {"lo": lo, "hi": hi}
    where = "{col} > :lo AND {col} <= :hi"
    if ids is not None:
        where = "{col} IN (" + ",".join(str(int(i)) for i in ids) + ")" if ids else "1 = 0"
    out: dict[int, Features] = {}
    on = (as_of.year, as_of.month, as_of.day)       # clock.age inlined: this loop runs once per resident
    for rid, sex, born, org_code, org_path in _fetch(s, "SELECT id, sex, birth_date, org_code, org_path FROM "
                                                     "residents WHERE " + where.replace("{col}", "id") + " ORDER BY id",
                                                     params):
        if not isinstance(born, date):
            born = date.fromisoformat(str(born))
        out[rid] = Features(rid, sex, born, org_code, org_path,
                            age=on[0] - born.year - ((on[1], on[2]) < (born.month, born.day)))
    if not out:
        return out
    _latest_values(s, out, _range(where), params)
    _day_counts(s, out, _range(where), params)
    _rows(s, out, _range(where), params)
    return out


def _fetch(s, sql: str, params: dict[str, Any]) -> list[tuple]:
    """The rows of a read as plain tuples, in the session's transaction. On PostgreSQL straight from the session's
    DBAPI cursor: building SQLAlchemy's result rows was ~15 % of a warm chunk's CPU (py-spy, issue 23) and the
    values are the driver's either way (text() has no result types)."""
    if not is_postgres():
        return s.execute(text(sql), params).tuples().all()
    raw = s.connection().connection.driver_connection
    cursor = raw.cursor()
    cursor.execute(_PARAM.sub(r"%(\1)s", sql.replace("%", "%%")), params)
    return cursor.fetchall()


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")      # :name (not a ::cast), as text() reads it


TEXT_CODES = ("29771-3",)


def _pivot_columns() -> tuple[list[str], list[str]]:
    """One column per canonical code (its synonyms coalesced in), so each resident is one row."""
    canon: dict[str, list[str]] = {}
    for code in FEATURE_CODES:
        canon.setdefault(loinc.canonical_code(code), []).append(code)
    names, columns = [], []
    for n, (code, codes) in enumerate(canon.items()):
        field = "value_text" if code in TEXT_CODES else "value_num"
        parts = [f"max({field}) FILTER (WHERE code = '{c}')" for c in sorted(codes, key=lambda c: c != code)]
        columns.append(f"COALESCE({', '.join(parts)}) AS c{n}" if len(parts) > 1 else f"{parts[0]} AS c{n}")
        names.append(code)
    return names, columns


def _latest_values(s, out, where, params) -> None:
    codes = ",".join(f"'{c}'" for c in FEATURE_CODES)
    if is_postgres():
        # code COLLATE "C": DISTINCT ON only needs equal codes together, and the database's collation (C.UTF-8, not
        # "C" to PostgreSQL's sort) compared them through the locale: ~a third of this read's backend CPU (issue 23.4;
        # the same rows: which one is latest does not depend on the order of codes)
        latest = (f"SELECT DISTINCT ON (resident_id, code COLLATE \"C\") resident_id, code, value_num, value_text, "
                  f"recorded_at FROM observations WHERE {where} AND {CLINICAL_SQL} AND code IN ({codes}) "
                  f"ORDER BY resident_id, code COLLATE \"C\", effective_at DESC, id DESC")
    else:
        latest = (f"SELECT * FROM (SELECT resident_id, code, value_num, value_text, recorded_at, ROW_NUMBER() "
                  f"OVER (PARTITION BY resident_id, code ORDER BY effective_at DESC, id DESC) AS n FROM "
                  f"observations WHERE {where} AND {CLINICAL_SQL} AND code IN ({codes})) AS ranked WHERE n = 1")
    names, columns = _pivot_columns()
    sql = (f"SELECT resident_id, max(recorded_at) AS recorded_at, {', '.join(columns)} FROM ({latest}) AS latest "
           f"GROUP BY resident_id")
    for row in _fetch(s, sql, params):
        f = out.get(row[0])
        if f is None:
            continue
        f.latest_data_at = _aware(row[1])
        f.values = {code: value for code, value in zip(names, row[2:]) if value is not None}


def _aware(value) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _day_counts(s, out, where, params) -> None:
    day = _day("effective_at")
    sql = (f"SELECT resident_id, "
           f"COUNT(DISTINCT CASE WHEN (code = '8480-6' AND value_num >= {RAISED_SBP}) OR (code = '8462-4' AND "
           f"value_num >= {RAISED_DBP}) THEN {day} END) AS bp_days, "
           f"COUNT(DISTINCT CASE WHEN (code = '1558-6' AND value_num >= {DM_FPG}) OR (code = '20438-8' AND "
           f"value_num >= {DM_OGTT}) OR (code = '4548-4' AND value_num >= {DM_HBA1C}) THEN {day} END) AS dm_days "
           f"FROM observations WHERE {where} AND {CLINICAL_SQL} "
           f"AND code IN ('8480-6', '8462-4', '1558-6', '20438-8', '4548-4') "
           f"AND ((code = '8480-6' AND value_num >= {RAISED_SBP}) OR (code = '8462-4' AND value_num >= "
           f"{RAISED_DBP}) OR (code = '1558-6' AND value_num >= {DM_FPG}) OR (code = '20438-8' AND value_num >= "
           f"{DM_OGTT}) OR (code = '4548-4' AND value_num >= {DM_HBA1C})) GROUP BY resident_id")
    for resident_id, bp_days, dm_days in _fetch(s, sql, params):
        f = out.get(resident_id)
        if f is not None:
            f.raised_bp_days, f.dm_abnormal_days = int(bp_days), int(dm_days)


def _json(value: Any) -> Any:
    """JSON columns read through text(): parsed on PostgreSQL (psycopg), a string on SQLite."""
    return json.loads(value) if isinstance(value, str) and not is_postgres() else value


def _rows(s, out, where, params) -> None:
    for resident_id, icd10 in _fetch(s, f"SELECT resident_id, icd10 FROM conditions WHERE {where} "
                                        f"AND status = 'confirmed'", params):
        if resident_id in out:
            out[resident_id].conditions.add(icd10)
    for resident_id, diagnoses in _fetch(s, f"SELECT resident_id, diagnoses FROM encounters WHERE {where}", params):
        if resident_id in out and diagnoses:
            out[resident_id].conditions.update(_json(diagnoses))
    for resident_id, factor, value in _fetch(s, f"SELECT resident_id, factor, value FROM risk_factors WHERE {where}",
                                             params):
        if resident_id in out:
            out[resident_id].factors[factor] = _json(value)
    for resident_id, disease in _fetch(s, f"SELECT resident_id, disease FROM disease_enrolments WHERE {where}",
                                       params):
        if resident_id in out:
            out[resident_id].enrolled.add(disease)
    for resident_id, disease, track, open_key, closed_at in _fetch(
            s, f"SELECT resident_id, disease, track, open_key, closed_at FROM screening_cases WHERE {where}", params):
        f = out.get(resident_id)
        if f is None:
            continue
        key = f"{disease}:{track}"
        if open_key is not None:
            f.open_keys.add(key)
        elif closed_at is not None:
            closed = _aware(closed_at)
            f.closed_at[key] = max(f.closed_at.get(key, closed), closed)
    for (resident_id,) in _fetch(s, f"SELECT resident_id FROM referral_flags WHERE {where} AND flagged = :yes",
                                 {**params, "yes": True}):
        if resident_id in out:
            out[resident_id].referral_flag = True
