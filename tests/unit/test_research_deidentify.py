"""De-identification of research extracts (issue 20.7), on hand fixtures: pseudonyms stable within a project and
different across projects, one date shift per patient, age bands, k-anonymity computed by hand, suppression below k."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest

from app.research import deidentify as d

A, B = "a" * 64, "b" * 64


def test_a_pseudonym_is_stable_within_a_project_and_different_across_projects():
    assert d.pseudonym(A, 17) == d.pseudonym(A, 17)
    assert d.pseudonym(A, 17) != d.pseudonym(A, 18)
    assert d.pseudonym(A, 17) != d.pseudonym(B, 17)
    assert d.pseudonym(A, 17).startswith("R") and len(d.pseudonym(A, 17)) == 17
    assert "17" not in d.pseudonym(A, 17)[1:3]       # not the id in clear (weak check; the value is a MAC)
    ids = {d.pseudonym(A, i) for i in range(2000)}
    assert len(ids) == 2000                          # no collisions on a county-sized sample


def test_every_date_of_one_patient_moves_by_the_same_offset_and_intervals_stay_true():
    offset = d.date_offset(A, 42, 180)
    assert offset == d.date_offset(A, 42, 180) and offset != 0 and -180 <= offset <= 180
    visits = [date(2026, 1, 5), date(2026, 4, 2), date(2026, 7, 1)]
    shifted = [date.fromisoformat(d.generalise_date(v, mode="shift", offset=offset)) for v in visits]
    assert [(b - a).days for a, b in itertools.pairwise(shifted)] == [(b - a).days for a, b in itertools.pairwise(visits)]
    assert shifted[0] == visits[0] + timedelta(days=offset)


def test_offsets_spread_over_the_range_and_differ_between_patients_and_projects():
    offsets = [d.date_offset(A, i, 30) for i in range(600)]
    assert 0 not in offsets and min(offsets) == -30 and max(offsets) == 30
    assert len(set(offsets)) == 60
    assert [d.date_offset(A, i, 30) for i in range(20)] != [d.date_offset(B, i, 30) for i in range(20)]
    assert d.date_offset(A, 1, 0) == 0


def test_month_mode_keeps_only_the_month():
    assert d.generalise_date(date(2026, 3, 9), mode="month", offset=99) == "2026-03"
    assert d.generalise_date(None, mode="shift", offset=3) is None


@pytest.mark.parametrize("age,band", [(0, "0-17"), (17, "0-17"), (18, "18-34"), (44, "35-44"), (45, "45-54"),
                                      (64, "55-64"), (65, "65-74"), (84, "75-84"), (85, "≥85"), (None, None)])
def test_ages_are_banded(age, band):
    assert d.age_band(age) == band


# hand fixture: classes over (township, age_band, sex)
#   (甲, 45-54, M) ×3   (甲, 45-54, F) ×2   (乙, 45-54, M) ×1   (乙, 65-74, F) ×1   (丙, 65-74, F) ×1
ROWS = ([{"township": "甲", "age_band": "45-54", "sex": "M"}] * 3 + [{"township": "甲", "age_band": "45-54", "sex": "F"}] * 2
        + [{"township": "乙", "age_band": "45-54", "sex": "M"}, {"township": "乙", "age_band": "65-74", "sex": "F"},
           {"township": "丙", "age_band": "65-74", "sex": "F"}])
QIS = ["township", "age_band", "sex"]


def test_k_is_the_smallest_equivalence_class_over_the_quasi_identifiers():
    assert d.k_anonymity(ROWS, QIS) == 1
    assert d.k_anonymity(ROWS, ["age_band", "sex"]) == 2          # (45-54,F) ×2
    assert d.k_anonymity(ROWS, ["sex"]) == 4                      # M ×4, F ×4
    assert d.k_anonymity(ROWS, []) == 8                           # no quasi-identifier: one class
    assert d.k_anonymity([], QIS) is None


def test_cells_under_k_lose_the_township_first_then_rows_still_under_k_are_removed():
    kept, report = d.suppress(ROWS, QIS, 2)
    # (甲,45-54,F)×2 and (甲,45-54,M)×3 stand; 乙/M/45-54, 乙/F/65-74 and 丙/F/65-74 lose their township:
    # (*,65-74,F)×2 now stands (2 cells shown as *); (*,45-54,M)×1 still does not → its age band, then its sex go
    # too → (*,*,*)×1 is still under k → the row is removed
    assert report == {"k_before": 1, "suppressed_cells": 2, "suppressed_rows": 1, "k_anonymity": 2}
    assert len(kept) == 7 and d.k_anonymity(kept, QIS) == 2
    assert {"township": "*", "age_band": "65-74", "sex": "F"} in kept
    assert ROWS[5] == {"township": "乙", "age_band": "45-54", "sex": "M"}       # the input is not changed


def test_nothing_is_suppressed_when_every_class_reaches_k_and_everything_when_the_cohort_is_under_k():
    kept, report = d.suppress(ROWS[:5], QIS, 2)
    assert kept == ROWS[:5] and report == {"k_before": 2, "suppressed_cells": 0, "suppressed_rows": 0,
                                           "k_anonymity": 2}
    kept, report = d.suppress(ROWS[:3], QIS, 5)
    assert kept == [] and report["suppressed_rows"] == 3 and report["k_anonymity"] is None


# l-diversity hand fixture over (age_band, sex) with the sensitive attribute risk_level:
#   (45-54, M) ×3: 高危, 高危, 中危          → 2 distinct values
#   (45-54, F) ×3: 高危, 高危, 高危          → 1 (everyone in the class is known to be 高危)
#   (65-74, F) ×2: 中危, None (未记录)       → 2 (a missing value counts as a value)
L_ROWS = ([{"age_band": "45-54", "sex": "M", "risk_level": r} for r in ("高危", "高危", "中危")]
          + [{"age_band": "45-54", "sex": "F", "risk_level": "高危"}] * 3
          + [{"age_band": "65-74", "sex": "F", "risk_level": r} for r in ("中危", None)])
L_QIS = ["age_band", "sex"]


def test_l_is_the_smallest_number_of_distinct_sensitive_values_in_a_class():
    assert d.k_anonymity(L_ROWS, L_QIS) == 2
    assert d.l_diversity(L_ROWS, L_QIS, ["risk_level"]) == 1
    assert d.l_diversity(L_ROWS, ["sex"], ["risk_level"]) == 2          # F: 高危, 中危, None → 3; M: 2
    assert d.l_diversity(L_ROWS, [], ["risk_level"]) == 3
    assert d.l_diversity(L_ROWS, L_QIS, []) is None and d.l_diversity([], L_QIS, ["risk_level"]) is None
    assert d.classes_below_l(L_ROWS, L_QIS, ["risk_level"], 2) == [
        {"class": {"age_band": "45-54", "sex": "F"}, "size": 3, "attribute": "risk_level", "distinct": 1}]
    assert len(d.classes_below_l(L_ROWS, L_QIS, ["risk_level"], 3)) == 3


def test_a_class_under_l_is_generalised_into_a_diverse_class_and_the_report_says_what_went():
    kept, report = d.suppress(L_ROWS, L_QIS, 2, l=2, sensitive=["risk_level"])
    # (45-54,F)×3 meets k=2 but holds only 高危 → it loses its age band: (*,F)×3 is still only 高危 → it loses its
    # sex: (*,*)×3 is still only 高危 → the 3 rows are removed (for l alone); the other classes stand untouched
    assert report == {"k_before": 2, "k_anonymity": 2, "suppressed_cells": 0, "suppressed_rows": 3,
                      "l_before": 1, "l_diversity": 2, "suppressed_rows_l": 3,
                      "below_l": [{"class": {"age_band": "45-54", "sex": "F"}, "size": 3, "attribute": "risk_level",
                                   "distinct": 1}]}
    assert len(kept) == 5 and all(r["sex"] == "M" or r["age_band"] == "65-74" for r in kept)


def test_generalising_merges_a_uniform_class_with_a_diverse_one_when_that_reaches_l():
    rows = ([{"age_band": "45-54", "sex": "F", "risk_level": "高危"}] * 2
            + [{"age_band": "55-64", "sex": "F", "risk_level": r} for r in ("低危", "中危")])
    kept, report = d.suppress(rows, L_QIS, 2, l=2, sensitive=["risk_level"])
    # (45-54,F)×2 is uniform → its age band goes: (*,F)×2 is still uniform → its sex goes → (*,*)×2 still uniform
    # → removed; (55-64,F) holds 2 values and stands
    assert report["suppressed_rows_l"] == 2 and report["l_diversity"] == 2 and len(kept) == 2
    # with a third class sharing the sex, the generalised rows join a diverse class instead of being removed
    rows2 = rows + [{"age_band": "65-74", "sex": "F", "risk_level": "低危"}] * 2
    kept, report = d.suppress(rows2, ["age_band", "sex"], 2, l=2, sensitive=["risk_level"])
    assert report["suppressed_rows"] == 0 and report["suppressed_cells"] == 4 and report["l_diversity"] == 2
    assert sum(1 for r in kept if r["age_band"] == "*") == 4     # (45-54,F) and (65-74,F) merged: 高危 + 低危


def test_l_of_one_changes_nothing_but_is_still_measured():
    kept, report = d.suppress(L_ROWS, L_QIS, 2, l=1, sensitive=["risk_level"])
    assert kept == L_ROWS and report["l_before"] == 1 and report["l_diversity"] == 1
    assert report["suppressed_rows"] == 0 and report["suppressed_rows_l"] == 0 and report["below_l"] == []
