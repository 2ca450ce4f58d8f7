"""De-identification of an extract, as pure functions (no database): pseudonyms, date shifts, age bands, k-anonymity
and local suppression.

* `pseudonym(secret, resident_id)`: HMAC-SHA256 under the project's own secret, so one resident has the same id in
  every row and rebuild of a project, and unlinkable ids across projects.
* `date_offset(secret, resident_id, max_days)`: a per-patient offset in [-max_days, +max_days] (never 0), derived
  from the same secret: every date of one patient moves by the same number of days, so intervals stay true.
* `suppress(rows, qis, k)`: rows whose equivalence class over the quasi-identifiers (age band, sex, township) is
  smaller than k first lose their township, then their age band (cell set to `*`); rows still in a class under k
  are removed. The report says how many cells and rows went and the extract's k before and after.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

SUPPRESSED = "*"
# quasi-identifiers in the order their cells are given up (the most identifying first)
QUASI_IDENTIFIERS = ("township", "age_band", "sex")
AGE_BANDS = ((0, 18, "0-17"), (18, 35, "18-34"), (35, 45, "35-44"), (45, 55, "45-54"), (55, 65, "55-64"),
             (65, 75, "65-74"), (75, 85, "75-84"), (85, 200, "≥85"))


def _mac(secret: str, message: str) -> bytes:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()


def pseudonym(secret: str, resident_id: int) -> str:
    """The project-stable research id of a resident, e.g. `R3f9a0c21d4e7b8a6`."""
    return "R" + _mac(secret, f"resident:{resident_id}").hex()[:16]


def date_offset(secret: str, resident_id: int, max_days: int) -> int:
    """The resident's date shift in days: in [-max_days, +max_days], never 0 (unless max_days is 0)."""
    if max_days <= 0:
        return 0
    n = int.from_bytes(_mac(secret, f"shift:{resident_id}")[:8], "big") % (2 * max_days)
    return n - max_days if n < max_days else n - max_days + 1


def generalise_date(day: date | None, *, mode: str, offset: int) -> str | None:
    """`shift`: the date moved by the patient's offset (ISO); `month`: only its month (YYYY-MM)."""
    if day is None:
        return None
    if mode == "month":
        return f"{day.year:04d}-{day.month:02d}"
    return (day + timedelta(days=offset)).isoformat()


def age_band(age: int | None) -> str | None:
    if age is None:
        return None
    return next((label for low, high, label in AGE_BANDS if low <= age < high), None)


def classes(rows: Sequence[dict[str, Any]], qis: Sequence[str]) -> Counter:
    """Equivalence classes: how many rows share each combination of quasi-identifier values."""
    return Counter(tuple(r.get(q) for q in qis) for r in rows)


def k_anonymity(rows: Sequence[dict[str, Any]], qis: Sequence[str]) -> int | None:
    """The smallest equivalence class (None for no rows; every row is one class when there are no QIs)."""
    if not rows:
        return None
    return min(classes(rows, qis).values())


def suppress(rows: list[dict[str, Any]], qis: Sequence[str], k: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Local suppression to reach k: (kept rows, report). `suppressed_cells`: quasi-identifier cells shown as `*` in
    the kept rows; `suppressed_rows`: rows removed; `k_before` / `k_anonymity`: the smallest class before and after."""
    out = [dict(r) for r in rows]
    report: dict[str, Any] = {"k_before": k_anonymity(out, qis)}
    for qi in (q for q in QUASI_IDENTIFIERS if q in qis):
        counts = classes(out, qis)
        for r in out:
            if counts[tuple(r.get(q) for q in qis)] < k:
                r[qi] = SUPPRESSED
    counts = classes(out, qis)
    kept = [r for r in out if counts[tuple(r.get(q) for q in qis)] >= k]
    report["suppressed_cells"] = sum(1 for r in kept for q in qis if r.get(q) == SUPPRESSED)
    report["suppressed_rows"] = len(out) - len(kept)
    report["k_anonymity"] = k_anonymity(kept, qis)
    return kept, report
