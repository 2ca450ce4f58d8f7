"""Time in therapeutic range by the Rosendaal method (Rosendaal et al., Thromb Haemost 1993;69:236–239).

Between two consecutive INR tests the INR is assumed to change linearly; every day (here: every fraction of a day,
the exact limit of the day-by-day count) of that line is either below, inside or above the target range. TTR =
time inside ÷ all interpolated time × 100. Intervals longer than `MAX_GAP_DAYS` (56 d, wave2 §3.5) are not
interpolated: neither their days in range nor their total count.

    rosendaal([(date(2026, 1, 1), 1.5), (date(2026, 1, 11), 2.5)], 2.0, 3.0).ttr   # 50.0

Pure functions: no database, no clock.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from app.core.errors import Invalid

MAX_GAP_DAYS = 56
INR_PLAUSIBLE = (0.5, 20.0)          # the LOINC 6301-6 plausible range of the record (app.vocabulary.loinc)
BANDS = (("<50", 0.0, 50.0), ("50-65", 50.0, 65.0), (">=65", 65.0, 100.01))


class ImplausibleInr(Invalid):
    code = "implausible_inr"


def check_inr(value: float) -> float:
    """An INR a test can give, or 422 `implausible_inr` (0, 30, … are typing or device errors, never graded)."""
    lo, hi = INR_PLAUSIBLE
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not lo <= float(value) <= hi:
        raise ImplausibleInr(f"INR {value} 不可信（应在 {lo}–{hi} 之间），请复核后重新录入", field="inr",
                             value=value, low=lo, high=hi)
    return float(value)


@dataclass(frozen=True)
class Ttr:
    days_in_range: float
    days_below: float
    days_above: float
    days_total: float
    gaps_excluded: int
    tests: int

    @property
    def ttr(self) -> float | None:
        return round(self.days_in_range / self.days_total * 100, 3) if self.days_total > 0 else None

    def as_dict(self) -> dict[str, Any]:
        return {"ttr": self.ttr, "days_in_range": round(self.days_in_range, 2),
                "days_below": round(self.days_below, 2), "days_above": round(self.days_above, 2),
                "days_total": round(self.days_total, 2), "gaps_excluded": self.gaps_excluded, "tests": self.tests}


def _split(a: float, b: float, days: float, lo: float, hi: float) -> tuple[float, float, float]:
    """(below, inside, above) time of the line from INR `a` to `b` over `days`."""
    if a == b:
        return (days, 0.0, 0.0) if a < lo else ((0.0, days, 0.0) if a <= hi else (0.0, 0.0, days))

    def at(level: float) -> float:          # when the line crosses `level`, clamped to [0, days]
        return min(max((level - a) / (b - a) * days, 0.0), days)
    t_lo, t_hi = at(lo), at(hi)
    inside = abs(t_hi - t_lo)
    if b > a:       # rising: below until t_lo, above after t_hi
        return t_lo, inside, days - t_hi
    return days - t_lo, inside, t_hi    # falling: above until t_hi, below after t_lo


def rosendaal(readings: Iterable[tuple[date, float]], lo: float, hi: float,
              max_gap_days: int = MAX_GAP_DAYS) -> Ttr:
    """TTR of one patient from `(test date, INR)` pairs (any order; same-day repeats keep the last one)."""
    by_day: dict[date, float] = {}
    for on, value in readings:
        by_day[on] = check_inr(value)
    points = sorted(by_day.items())
    below = inside = above = total = 0.0
    gaps = 0
    for (d1, a), (d2, b) in pairwise(points):
        days = float((d2 - d1).days)
        if days > max_gap_days:
            gaps += 1
            continue
        x, y, z = _split(a, b, days, lo, hi)
        below, inside, above, total = below + x, inside + y, above + z, total + days
    return Ttr(inside, below, above, total, gaps, len(points))


def band(ttr: float) -> str:
    return next(name for name, low, high in BANDS if low <= ttr < high)


def organisation_ttr(patients: Sequence[Ttr]) -> dict[str, Any]:
    """An organisation's TTR over its patients with a TTR: pooled (all in-range days ÷ all days), the mean of the
    patients' TTRs, and how many patients fall in each band (<50 %, 50–65 %, ≥65 %: ≥60–65 % is often called good)."""
    counted = [p for p in patients if p.ttr is not None]
    days = sum(p.days_total for p in counted)
    bands = {name: 0 for name, _, _ in BANDS}
    for p in counted:
        bands[band(p.ttr or 0.0)] += 1
    return {"patients": len(counted),
            "pooled_ttr": round(sum(p.days_in_range for p in counted) / days * 100, 3) if days else None,
            "mean_ttr": round(sum(p.ttr or 0.0 for p in counted) / len(counted), 3) if counted else None,
            "bands": bands}
