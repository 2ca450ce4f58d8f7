"""De-identification of an extract, as pure functions (no database): pseudonyms, date shifts, age bands, k-anonymity
and local suppression.

* `pseudonym(secret, resident_id)`: HMAC-SHA256 under the project's own secret, so one resident has the same id in
  every row and rebuild of a project, and unlinkable ids across projects.
* `date_offset(secret, resident_id, max_days)`: a per-patient offset in [-max_days, +max_days] (never 0), derived
  from the same secret: every date of one patient moves by the same number of days, so intervals stay true.
* `suppress(rows, qis, k)`: rows whose equivalence class over the quasi-identifiers (age band, sex, township) is
  smaller than k first lose their township, then their age band (cell set to `*`); rows still in a class under k
  are removed. The report says how many cells and rows went and the extract's k before and after.
* `l_diversity(rows, qis, sensitive)` / `suppress(…, l=, sensitive=)`: distinct l-diversity beside k — every
  equivalence class must hold at least l distinct values of each sensitive attribute (risk level, diagnoses; a
  missing value counts as one value, 未记录), else everyone in the class learns the attribute. A class below l is
  treated like a class below k (its quasi-identifier cells are given up in the same order, merging classes), and
  rows still in a class below k or l are removed; the report lists the classes that were below l before.
"""
from __future__ import annotations

import hashlib
import hmac
from collections import Counter, defaultdict
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


def _values(rows: Sequence[dict[str, Any]], qis: Sequence[str], attribute: str) -> dict[tuple, set]:
    """The distinct values of one sensitive attribute per equivalence class (None is a value of its own)."""
    out: dict[tuple, set] = defaultdict(set)
    for r in rows:
        out[tuple(r.get(q) for q in qis)].add(r.get(attribute))
    return out


def l_diversity(rows: Sequence[dict[str, Any]], qis: Sequence[str], sensitive: Sequence[str]) -> int | None:
    """The smallest number of distinct values of any sensitive attribute in any class (None: no rows or no
    sensitive attribute)."""
    if not rows or not sensitive:
        return None
    return min(len(v) for a in sensitive for v in _values(rows, qis, a).values())


def classes_below_l(rows: Sequence[dict[str, Any]], qis: Sequence[str], sensitive: Sequence[str],
                    l: int) -> list[dict[str, Any]]:
    """Every (class, attribute) with fewer than l distinct values: the class's quasi-identifier values, its size,
    the attribute and how many distinct values it has (largest classes first)."""
    counts, out = classes(rows, qis), []
    for a in sensitive:
        for key, values in _values(rows, qis, a).items():
            if len(values) < l:
                out.append({"class": dict(zip(qis, key, strict=True)), "size": counts[key], "attribute": a,
                            "distinct": len(values)})
    return sorted(out, key=lambda c: (-c["size"], c["attribute"], str(c["class"])))


def suppress(rows: list[dict[str, Any]], qis: Sequence[str], k: int, *, l: int = 1,
             sensitive: Sequence[str] = ()) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Local suppression to reach k (and l when sensitive attributes are given): (kept rows, report).
    `suppressed_cells`: quasi-identifier cells shown as `*` in the kept rows; `suppressed_rows`: rows removed;
    `k_before` / `k_anonymity`: the smallest class before and after. With sensitive attributes also `l_before` /
    `l_diversity`, `below_l` (the classes under l before suppression, see `classes_below_l`) and
    `suppressed_rows_l` (rows removed although their class reached k: only for l)."""
    out = [dict(r) for r in rows]
    active = list(sensitive) if l > 1 else []
    report: dict[str, Any] = {"k_before": k_anonymity(out, qis)}

    def failing(rs: list[dict[str, Any]]) -> tuple[Counter, set[tuple]]:
        counts = classes(rs, qis)
        bad = {key for key, n in counts.items() if n < k}
        for a in active:
            bad |= {key for key, values in _values(rs, qis, a).items() if len(values) < l}
        return counts, bad

    for qi in (q for q in QUASI_IDENTIFIERS if q in qis):
        _, bad = failing(out)
        for r in out:
            if tuple(r.get(q) for q in qis) in bad:
                r[qi] = SUPPRESSED
    counts, bad = failing(out)
    kept = [r for r in out if tuple(r.get(q) for q in qis) not in bad]
    report["suppressed_cells"] = sum(1 for r in kept for q in qis if r.get(q) == SUPPRESSED)
    report["suppressed_rows"] = len(out) - len(kept)
    report["k_anonymity"] = k_anonymity(kept, qis)
    if sensitive:
        report["l_before"] = l_diversity(rows, qis, sensitive)
        report["below_l"] = classes_below_l(rows, qis, sensitive, l)
        report["suppressed_rows_l"] = sum(1 for r in out if tuple(r.get(q) for q in qis) in bad
                                          and counts[tuple(r.get(q) for q in qis)] >= k)
        report["l_diversity"] = l_diversity(kept, qis, sensitive)
    return kept, report
