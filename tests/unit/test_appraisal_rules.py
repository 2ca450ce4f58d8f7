"""Appraisal scoring rules on hand-computed values (app/appraisal/rules.py, domain/wave2.md §6.5)."""
from __future__ import annotations

from app.appraisal import rules


def test_interval_rule_scores_over_the_peers_p10_p90():
    # values 100, 50, 0 → inclusive deciles P10 = 10, P90 = 90; 50 → 50 + 50 × 40 ÷ 80 = 75
    stats, scores = rules.score_all("interval", {}, [100.0, 50.0, 0.0], higher=True, target=None)
    assert (stats["p10"], stats["p90"]) == (10.0, 90.0)
    assert scores == [100.0, 75.0, 50.0]


def test_interval_rule_inverts_for_lower_is_better():
    _stats, scores = rules.score_all("interval", {}, [100.0, 50.0, 0.0], higher=False, target=None)
    assert scores == [50.0, 75.0, 100.0]


def test_interval_rule_gives_full_marks_when_the_peers_do_not_spread():
    assert rules.score_all("interval", {}, [40.0, 40.0], higher=True, target=None)[1] == [100.0, 100.0]


def test_max_rule_divides_by_the_peers_best():
    stats, scores = rules.score_all("max", {}, [80.0, 60.0, 20.0], higher=True, target=None)
    assert stats == {"best": 80.0}
    assert scores == [100.0, 75.0, 25.0]
    # lower is better: best (smallest) ÷ value; 0 is the best possible
    stats, scores = rules.score_all("max", {}, [10.0, 40.0, 25.0], higher=False, target=None)
    assert stats == {"best": 10.0}
    assert scores == [100.0, 25.0, 40.0]
    assert rules.score_all("max", {}, [0.0, 30.0], higher=False, target=None)[1] == [100.0, 0.0]
    assert rules.score_all("max", {}, [0.0, 0.0], higher=True, target=None)[1] == [100.0, 100.0]


def test_target_rule_full_marks_at_target_and_zero_or_linear_below():
    assert rules.score_all("target", {"below": "linear"}, [70.0, 60.0, 45.0], higher=True, target=60)[1] == \
        [100.0, 100.0, 75.0]
    assert rules.score_all("target", {"below": "zero"}, [70.0, 59.9], higher=True, target=60)[1] == [100.0, 0.0]
    # lower is better (overdue share, target 10): 8 ≤ 10 → 100; 40 → 10 ÷ 40 × 100 = 25; zero → 0
    assert rules.score_all("target", {}, [8.0, 40.0], higher=False, target=10)[1] == [100.0, 25.0]
    assert rules.score_all("target", {"below": "zero"}, [8.0, 40.0], higher=False, target=10)[1] == [100.0, 0.0]


def test_missing_values_are_unscored_and_left_out_of_the_peer_statistics():
    stats, scores = rules.score_all("max", {}, [None, 50.0, 25.0], higher=True, target=None)
    assert stats == {"best": 50.0}
    assert scores == [None, 100.0, 50.0]
    assert rules.score_all("interval", {}, [None, None], higher=True, target=None)[1] == [None, None]


def test_weighted_total_redistributes_the_weight_of_missing_indicators():
    assert rules.weighted_total([60, 40], [100.0, 50.0]) == 80.0
    assert rules.weighted_total([60, 40], [None, 50.0]) == 50.0
    assert rules.weighted_total([30, 30, 40], [100.0, None, 75.0]) == round((3000 + 3000) / 70, 1)
    assert rules.weighted_total([60, 40], [None, None]) is None


def test_ties_share_a_rank_and_unscored_subjects_have_none():
    assert rules.ranks([80.0, 90.0, None, 80.0, 70.0]) == [2, 1, None, 2, 4]


def test_max_type_without_spread_or_values():
    stats, scores = rules.score_all("max_type", {"reference": "best"}, [10.0, None, 10.0], higher=True, target=None)
    assert (stats, scores) == ({"worst": 10.0, "reference": 10.0}, [100.0, None, 100.0])
    assert rules.score_all("max_type", {}, [None], higher=True, target=None)[1] == [None]


def test_max_type_scores_worst_50_and_reference_100():
    # values 100, 50, 0: worst 0 → 50, P90 = 90 → 100; 50 → 50 + 50 × 50 ÷ 90 = 77.8; 100 beyond P90 → 100
    stats, scores = rules.score_all("max_type", {"reference": "p90"}, [100.0, 50.0, 0.0], higher=True, target=None)
    assert stats == {"worst": 0.0, "reference": 90.0}
    assert scores == [100.0, 77.8, 50.0]
    # lower is better: worst 100 → 50, P10 = 10 → 100; 50 → 50 + 50 × 50 ÷ 90 = 77.8
    stats, scores = rules.score_all("max_type", {}, [100.0, 50.0, 0.0], higher=False, target=None)
    assert stats == {"worst": 100.0, "reference": 10.0}
    assert scores == [50.0, 77.8, 100.0]
