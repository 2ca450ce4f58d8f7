"""Appraisal scoring of one indicator over peer institutions (domain/wave2.md §6.5, 基层医疗卫生机构绩效评价).

Interval scoring: P10 and P90 of the peers' values; a value at or below P10 scores 50, at or above P90 100, and
linearly between (`50 + 50 × (x − P10) ÷ (P90 − P10)`); for lower-is-better indicators the scale is inverted. When
the peers do not spread (P10 = P90) every peer scores 100. Percentiles are the inclusive (linear) deciles of
`statistics.quantiles`.
"""
from __future__ import annotations

import statistics

FLOOR, TOP = 50.0, 100.0


def p10_p90(values: list[float]) -> tuple[float, float]:
    """The 10th and 90th percentiles (one value: both are that value)."""
    if len(values) == 1:
        return values[0], values[0]
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return deciles[0], deciles[8]


def interval_score(x: float, p10: float, p90: float, *, higher_is_better: bool = True) -> float:
    """50 … 100 between P10 and P90 (inverted when lower is better), rounded to one decimal."""
    if p90 <= p10:
        return TOP
    share = (x - p10) / (p90 - p10) if higher_is_better else (p90 - x) / (p90 - p10)
    return round(FLOOR + (TOP - FLOOR) * min(1.0, max(0.0, share)), 1)


def rank(scores: list[float]) -> list[int]:
    """Competition ranking (1, 2, 2, 4) of scores, highest first, in the order given."""
    ordered = sorted(scores, reverse=True)
    return [ordered.index(s) + 1 for s in scores]
