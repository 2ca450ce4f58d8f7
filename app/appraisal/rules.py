"""Scoring rules of an appraisal scheme (domain/wave2.md §6.5), pure functions over the peers' values.

* `interval` — P10/P90 over the peers (app.quality.scoring): ≤ P10 → 50, ≥ P90 → 100, linear between; inverted when
  lower is better; 100 for all when the peers do not spread.
* `max` — value ÷ the peers' best value × 100 (lower is better: best ÷ value × 100); 100 for all when the best is 0
  (higher) or for a value of 0 (lower).
* `max_type` — the maximum-type indicator of §6.5: the peers' worst value → 50, a value at or beyond the reference
  (`reference: "p90"`, the default: the peers' P90, or P10 when lower is better; `"best"`: the peers' best value)
  → 100, linear between; 100 for all when the reference is no better than the worst value (no spread).
* `target` — against the indicator's target in the thresholds configuration: full marks (100) at or beyond the target;
  below it `below: "zero"` gives 0 and `below: "linear"` (default) gives value ÷ target × 100 (lower is better:
  target ÷ value × 100).

A subject without a value (an empty denominator) has no score for that indicator. Its weighted total is taken over
the indicators it has scores for (Σ weight × score ÷ Σ those weights): an institution without T2DM patients is not
marked down for them; without any score it is not ranked. Scores and totals have one decimal; ranking is competition
ranking (1, 2, 2, 4) of the totals.
"""
from __future__ import annotations

from typing import Any

from app.quality import scoring

RULES = {"interval": "区间法 (P10/P90)", "max": "最大值比例法", "max_type": "最大值型 (最差值 50 分)",
         "target": "目标达成法"}
BELOW = {"zero": "未达目标得 0 分", "linear": "未达目标按比例得分"}
REFERENCE = {"p90": "达到 P90 得满分", "best": "达到最优值得满分"}
PARAMS: dict[str, dict[str, tuple[str, ...]]] = {"interval": {}, "max": {}, "max_type": {"reference": tuple(REFERENCE)},
                                                 "target": {"below": tuple(BELOW)}}
PARAM_LABELS = {**BELOW, **REFERENCE}
FULL = 100.0


def _clip(x: float) -> float:
    return round(min(FULL, max(0.0, x)), 1)


def peer_stats(rule: str, values: list[float | None], *, higher: bool, target: float | None,
               reference: str = "p90") -> dict[str, Any]:
    """What the rule compares each value with: P10/P90, the peers' best value, or the target."""
    present = [v for v in values if v is not None]
    if rule == "interval":
        p10, p90 = scoring.p10_p90(present) if present else (None, None)
        return {"p10": p10, "p90": p90}
    if rule == "max":
        return {"best": (max(present) if higher else min(present)) if present else None}
    if rule == "max_type":
        if not present:
            return {"worst": None, "reference": None}
        worst = min(present) if higher else max(present)
        if reference == "best":
            ref = max(present) if higher else min(present)
        else:
            p10, p90 = scoring.p10_p90(present)
            ref = p90 if higher else p10
        return {"worst": worst, "reference": ref}
    return {"target": target}


def score(rule: str, params: dict[str, Any], value: float | None, stats: dict[str, Any], *,
          higher: bool) -> float | None:
    """The score (0 … 100) of one value under a rule, given the peer statistics of `peer_stats`."""
    if value is None:
        return None
    if rule == "interval":
        if stats["p10"] is None:
            return None
        return scoring.interval_score(value, stats["p10"], stats["p90"], higher_is_better=higher)
    if rule == "max":
        best = stats["best"]
        if best is None:
            return None
        if higher:
            return FULL if best <= 0 else _clip(FULL * value / best)
        return FULL if value <= 0 else _clip(FULL * best / value)
    if rule == "max_type":
        worst, ref = stats["worst"], stats["reference"]
        if worst is None:
            return None
        span = (ref - worst) if higher else (worst - ref)
        if span <= 0 or ((value >= ref) if higher else (value <= ref)):
            return FULL
        return _clip(50.0 + 50.0 * ((value - worst) if higher else (worst - value)) / span)
    target = stats["target"]
    if target is None:
        return None
    if (value >= target) if higher else (value <= target):
        return FULL
    if params.get("below", "linear") == "zero":
        return 0.0
    if higher:
        return 0.0 if target <= 0 else _clip(FULL * value / target)
    return _clip(FULL * target / value)


def score_all(rule: str, params: dict[str, Any], values: list[float | None], *, higher: bool,
              target: float | None) -> tuple[dict[str, Any], list[float | None]]:
    stats = peer_stats(rule, values, higher=higher, target=target, reference=params.get("reference", "p90"))
    return stats, [score(rule, params, v, stats, higher=higher) for v in values]


def weighted_total(weights: list[float], scores: list[float | None]) -> float | None:
    """Σ weight × score ÷ Σ weight over the scored indicators (None when nothing is scored)."""
    pairs = [(w, s) for w, s in zip(weights, scores, strict=True) if s is not None]
    if not pairs:
        return None
    return round(sum(w * s for w, s in pairs) / sum(w for w, _ in pairs), 1)


def ranks(totals: list[float | None]) -> list[int | None]:
    """Competition ranks of the totals in the order given; no rank without a total."""
    scored = [t for t in totals if t is not None]
    ranked = iter(scoring.rank(scored))
    return [next(ranked) if t is not None else None for t in totals]
