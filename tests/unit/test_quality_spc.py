"""Control-chart and funnel limits of quality findings (app/quality/spc.py), checked against limits computed by hand.

p-chart: p̄ = Σnum ÷ Σden, σᵢ = √(p̄(1−p̄)/nᵢ); funnel: p₀ ± z·√(p₀(1−p₀)/n), z = 1.959964 and 3.090232."""
from __future__ import annotations

import pytest

from app.quality import spc

approx = pytest.approx


def test_p_chart_centre_and_per_month_limits():
    # Σnum 135 ÷ Σden 225 = 0.6; n=100: σ = √(0.24/100) = 0.04899; n=25: σ = 0.09798
    chart = spc.p_chart([("m1", 55, 100), ("m2", 65, 100), ("m3", 15, 25), ("empty", 0, 0)])
    assert chart is not None
    assert chart.centre == approx(0.6)
    assert [p.label for p in chart.points] == ["m1", "m2", "m3"]          # a month without a denominator is left out
    m1, _m2, m3 = chart.points
    assert (m1.lcl, m1.ucl) == (approx(0.45303, abs=1e-5), approx(0.74697, abs=1e-5))
    assert (m1.lwl, m1.uwl) == (approx(0.50202, abs=1e-5), approx(0.69798, abs=1e-5))
    assert (m3.lcl, m3.ucl) == (approx(0.30606, abs=1e-5), approx(0.89394, abs=1e-5))
    assert spc.p_chart([("a", 0, 0)]) is None
    assert spc.p_chart([("a", 10, 10), ("b", 5, 5)]) is None             # a centre of 100 %: nothing to judge


def test_a_month_beyond_three_sigma():
    # 11 × 60/100 and 40/100: p̄ = 700/1200 = 0.58333, σ = 0.04930, LCL = 0.43543 > 0.40
    chart = spc.p_chart([(f"m{i}", 60, 100) for i in range(11)] + [("last", 40, 100)])
    assert chart.points[-1].lcl == approx(0.43543, abs=1e-5)
    assert [(s.rule, s.side) for s in spc.signals(chart)] == [("beyond_3sigma", -1)]


def test_eight_months_on_one_side_but_not_seven():
    # 4 × 70/100 then 8 × 55/100: p̄ = 720/1200 = 0.6; every later month below it, none beyond 2σ (LWL 0.50202)
    chart = spc.p_chart([(f"h{i}", 70, 100) for i in range(4)] + [(f"l{i}", 55, 100) for i in range(8)])
    assert chart.centre == approx(0.6)
    assert [(s.rule, s.side, s.months) for s in spc.signals(chart)] == [("run_8", -1, 8)]
    seven = spc.p_chart([(f"h{i}", 68, 100) for i in range(5)] + [(f"l{i}", 55, 100) for i in range(7)])
    assert spc.signals(seven) == []


def test_two_of_three_beyond_two_sigma():
    # 9 × 60/100, then 47, 60, 47: p̄ = 694/1200 = 0.57833, σ = 0.04939, LWL = 0.47956 > 0.47 > LCL = 0.43019
    chart = spc.p_chart([(f"m{i}", 60, 100) for i in range(9)] + [("a", 47, 100), ("b", 60, 100), ("c", 47, 100)])
    last = chart.points[-1]
    assert (last.lwl, last.lcl) == (approx(0.47956, abs=1e-5), approx(0.43019, abs=1e-5))
    assert [(s.rule, s.side) for s in spc.signals(chart)] == [("two_of_three", -1)]


def test_funnel_limits_and_bands():
    # p₀ = 0.6, n = 25: σ = 0.09798 → 95 %: 0.40796 … 0.79204; 99.8 %: 0.29722 … 0.90278
    point = spc.funnel_point(0.6, 7, 25)
    assert (point.lo95, point.hi95) == (approx(0.40796, abs=1e-5), approx(0.79204, abs=1e-5))
    assert (point.lo998, point.hi998) == (approx(0.29722, abs=1e-5), approx(0.90278, abs=1e-5))
    assert point.band == -2                                               # 0.28 below the 99.8 % limit
    assert spc.funnel_point(0.6, 10, 25).band == -1                       # 0.40: below 95 %, inside 99.8 %
    assert spc.funnel_point(0.6, 20, 25).band == 1                        # 0.80
    assert spc.funnel_point(0.6, 15, 25).band == 0
    assert spc.funnel_point(0.6, 44, 100).band == -2                      # n = 100: 99.8 % lower limit 0.44861
    assert spc.funnel_point(0.95, 5, 5).hi95 == 1.0                       # clipped to [0, 1]


def test_funnel_curve_narrows_with_the_denominator():
    curve = spc.funnel_curve(0.6, 100)
    assert curve[0]["n"] == 1 and curve[-1]["n"] == 100
    assert curve[-1]["lo998"] == approx(0.44861, abs=1e-5)
    widths = [c["hi95"] - c["lo95"] for c in curve if c["lo95"] > 0 and c["hi95"] < 1]
    assert widths == sorted(widths, reverse=True)


def test_the_normal_approximation_needs_five_expected_events_each_way():
    assert spc.normal_ok(0.6, 20) and spc.normal_ok(0.75, 20)            # 15 and 5
    assert not spc.normal_ok(0.8, 20)                                     # 4 expected non-events
    assert not spc.normal_ok(0.001, 1000)                                 # 1 expected event
