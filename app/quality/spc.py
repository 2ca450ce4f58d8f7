"""Statistical process control for findings (issue 20.6): p-charts with run rules, and funnel-plot limits.

Both treat a rate as a binomial proportion p = numerator ÷ denominator (the denominator's patients or tasks are the
trials), so they apply to the library's plain rates only (unit %, no `scale`d estimate of a denominator).

**p-chart** (Shewhart; Montgomery, *Introduction to Statistical Quality Control*, §7.2): over the months with a
denominator, the centre line is p̄ = Σ numerators ÷ Σ denominators, and each month i has its own limits
p̄ ± k·σᵢ with σᵢ = √(p̄(1 − p̄) ÷ nᵢ), clipped to [0, 1]; k = 3 are the control limits, k = 2 the warning lines.
Rules read at the latest month (what changed now, not what was already old news):

- `beyond_3sigma`: the latest month lies outside its 3σ limits;
- `two_of_three`: 2 of the latest 3 months lie beyond 2σ on the same side (one of them the latest);
- `run_8`: the latest 8 months all lie strictly on one side of the centre line.

**Funnel plot** (Spiegelhalter, *Funnel plots for comparing institutional performance*, Stat Med 2005): each peer
(organisation or doctor) is a point (nᵢ, pᵢ) against the network's rate p₀; its limits at denominator n are the
normal approximation p₀ ± z·√(p₀(1 − p₀) ÷ n), z = 1.959964 (95 %) and z = 3.090232 (99.8 %), clipped to [0, 1].

Both use the normal approximation of the binomial, which is too narrow when few events are expected: a month or a
peer is judged only when n·p ≥ 5 and n·(1 − p) ≥ 5 (p the centre line or the network rate, `normal_ok`), the usual
rule of thumb. A rare event (a rate near 0 % or 100 %) in a small organisation is therefore never a finding.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import sqrt

Z95 = 1.959964
Z998 = 3.090232
RUN = 8
MIN_EXPECTED = 5


def normal_ok(p: float, n: float) -> bool:
    """Whether the normal approximation is fair: at least 5 expected events and 5 expected non-events."""
    return n * p >= MIN_EXPECTED and n * (1 - p) >= MIN_EXPECTED


def sigma(p: float, n: float) -> float:
    """Binomial standard error of a proportion p over n trials."""
    return sqrt(p * (1 - p) / n)


def _clip(x: float) -> float:
    return min(1.0, max(0.0, x))


def limits(p: float, n: float, z: float) -> tuple[float, float]:
    """Lower and upper limits p ± z·σ at denominator n, clipped to [0, 1]."""
    s = sigma(p, n)
    return _clip(p - z * s), _clip(p + z * s)


@dataclass(frozen=True)
class ChartPoint:
    label: str
    numerator: int
    denominator: int
    p: float
    lcl: float          # p̄ − 3σᵢ
    ucl: float          # p̄ + 3σᵢ
    lwl: float          # p̄ − 2σᵢ
    uwl: float          # p̄ + 2σᵢ

    def side(self, centre: float) -> int:
        return (self.p > centre) - (self.p < centre)


@dataclass(frozen=True)
class PChart:
    centre: float
    points: tuple[ChartPoint, ...]


def p_chart(series: list[tuple[str, int, int]]) -> PChart | None:
    """The p-chart of (label, numerator, denominator) months; months without a denominator are left out. None
    when nothing is left or the centre line is 0 or 1 (no variation to judge)."""
    kept = [(label, num, den) for label, num, den in series if den > 0]
    total = sum(den for _l, _n, den in kept)
    if not total:
        return None
    centre = sum(num for _l, num, _d in kept) / total
    if centre in (0.0, 1.0):
        return None
    points = []
    for label, num, den in kept:
        lcl, ucl = limits(centre, den, 3)
        lwl, uwl = limits(centre, den, 2)
        points.append(ChartPoint(label, num, den, num / den, lcl, ucl, lwl, uwl))
    return PChart(centre, tuple(points))


@dataclass(frozen=True)
class Signal:
    rule: str           # beyond_3sigma | two_of_three | run_8
    side: int           # +1 above the centre line, -1 below
    months: int         # months the rule looked at


def signals(chart: PChart) -> list[Signal]:
    """The run rules that fire at the chart's latest month (strongest first)."""
    pts, c = chart.points, chart.centre
    if not pts:
        return []
    last, out = pts[-1], []
    if last.p > last.ucl or last.p < last.lcl:
        out.append(Signal("beyond_3sigma", last.side(c), 1))
    recent = pts[-3:]
    if len(recent) == 3 and last.side(c):
        beyond = [q for q in recent if (q.p > q.uwl if last.side(c) > 0 else q.p < q.lwl)]
        if len(beyond) >= 2 and last in beyond:
            out.append(Signal("two_of_three", last.side(c), 3))
    run = pts[-RUN:]
    if len(run) == RUN and last.side(c) and all(q.side(c) == last.side(c) for q in run):
        n = RUN
        while n < len(pts) and pts[-n - 1].side(c) == last.side(c):
            n += 1
        out.append(Signal("run_8", last.side(c), n))
    return out


@dataclass(frozen=True)
class FunnelPoint:
    numerator: int
    denominator: int
    p: float
    lo95: float
    hi95: float
    lo998: float
    hi998: float

    @property
    def band(self) -> int:
        """+2/−2 beyond the 99.8 % limits, +1/−1 beyond 95 %, 0 inside."""
        if self.p > self.hi998:
            return 2
        if self.p < self.lo998:
            return -2
        if self.p > self.hi95:
            return 1
        if self.p < self.lo95:
            return -1
        return 0


def funnel_point(p0: float, numerator: int, denominator: int) -> FunnelPoint:
    lo95, hi95 = limits(p0, denominator, Z95)
    lo998, hi998 = limits(p0, denominator, Z998)
    return FunnelPoint(numerator, denominator, numerator / denominator, lo95, hi95, lo998, hi998)


def funnel_curve(p0: float, n_max: int, steps: int = 24) -> list[dict[str, float]]:
    """The limit curves sampled from n = 1 to n_max (for drawing the funnel)."""
    ns = sorted({max(1, round(1 + (n_max - 1) * i / (steps - 1))) for i in range(steps)}) if n_max > 1 else [1]
    out = []
    for n in ns:
        lo95, hi95 = limits(p0, n, Z95)
        lo998, hi998 = limits(p0, n, Z998)
        out.append({"n": n, "lo95": lo95, "hi95": hi95, "lo998": lo998, "hi998": hi998})
    return out
