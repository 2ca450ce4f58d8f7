"""TTR by the Rosendaal method (Rosendaal FR, Cannegieter SC, van der Meer FJ, Briët E. A method to determine the
optimal intensity of oral anticoagulant therapy. Thromb Haemost 1993;69:236–239): the INR is interpolated linearly
day by day between consecutive tests, and TTR = interpolated time inside [lo, hi] ÷ all interpolated time. Gaps
longer than 56 days are not interpolated (wave2 §3.5). The worked examples below carry their arithmetic."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.anticoag.ttr import ImplausibleInr, organisation_ttr, rosendaal

D0 = date(2026, 1, 1)


def day(n: int) -> date:
    return D0 + timedelta(days=n)


def test_the_worked_example_of_three_intervals():
    # target 2.0–3.0; INR 1.5 (day 0), 2.5 (day 10), 3.5 (day 24), 2.5 (day 31)
    # interval 1: 1.5 → 2.5 over 10 d rises 0.1/d; it reaches 2.0 on day 5 → days 5–10 in range = 5.0 d
    # interval 2: 2.5 → 3.5 over 14 d rises 1/14 per day; it reaches 3.0 after 0.5 × 14 = 7 d → 7.0 d in range
    # interval 3: 3.5 → 2.5 over 7 d falls 1/7 per day; it is back at 3.0 after 0.5 × 7 = 3.5 d → 3.5 d in range
    # in range 5.0 + 7.0 + 3.5 = 15.5 d of 10 + 14 + 7 = 31 d → TTR = 15.5 / 31 = 50.0 %
    got = rosendaal([(day(0), 1.5), (day(10), 2.5), (day(24), 3.5), (day(31), 2.5)], 2.0, 3.0)
    assert got.days_in_range == pytest.approx(15.5)
    assert got.days_total == pytest.approx(31)
    assert got.ttr == pytest.approx(50.0)
    assert got.days_below == pytest.approx(5.0) and got.days_above == pytest.approx(10.5)


def test_a_single_interval_leaving_the_range():
    # 2.0 (day 0) → 4.0 (day 10), target 2–3:
    # the line rises 0.2/d and leaves the range at 3.0 on day 5 → 5 of 10 days in range = 50 %
    got = rosendaal([(day(0), 2.0), (day(10), 4.0)], 2.0, 3.0)
    assert (got.days_in_range, got.days_total, got.ttr) == (pytest.approx(5), pytest.approx(10), pytest.approx(50))


def test_a_gap_longer_than_56_days_is_not_interpolated_and_unsorted_input_is_sorted():
    # 2.5 (day 0) → 2.5 (day 28): 28 d in range; then 60 d without a test (excluded); 2.5 → 1.5 over days 88–98:
    # falls 0.1/d, leaves 2.0 after 5 d → 5 d in range; TTR = (28 + 5) / (28 + 10) = 86.84 %
    got = rosendaal([(day(98), 1.5), (day(0), 2.5), (day(88), 2.5), (day(28), 2.5)], 2.0, 3.0)
    assert got.days_total == pytest.approx(38) and got.days_in_range == pytest.approx(33)
    assert got.ttr == pytest.approx(86.842, abs=0.001)
    assert got.gaps_excluded == 1


def test_one_test_gives_no_ttr_and_implausible_values_are_refused():
    assert rosendaal([(day(0), 2.4)], 2.0, 3.0).ttr is None
    with pytest.raises(ImplausibleInr) as e:
        rosendaal([(day(0), 2.4), (day(7), 30)], 2.0, 3.0)
    assert e.value.code == "implausible_inr"


def test_an_organisations_ttr_pools_patient_days_and_bands_the_patients():
    a = rosendaal([(day(0), 1.5), (day(10), 2.5), (day(24), 3.5), (day(31), 2.5)], 2.0, 3.0)   # 15.5 / 31
    b = rosendaal([(day(0), 2.5), (day(28), 2.5)], 2.0, 3.0)                                   # 28 / 28
    got = organisation_ttr([a, b, rosendaal([(day(0), 2.0)], 2.0, 3.0)])
    # pooled: (15.5 + 28) / (31 + 28) = 43.5 / 59 = 73.73 %; mean of patients (50 + 100) / 2 = 75 %
    assert got["pooled_ttr"] == pytest.approx(73.729, abs=0.001)
    assert got["mean_ttr"] == pytest.approx(75.0)
    assert got["patients"] == 2
    assert got["bands"] == {"<50": 0, "50-65": 1, ">=65": 1}
