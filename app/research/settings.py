"""Research-extraction settings from the environment (defaults documented in docs/processes/research.md)."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class ResearchSettings:
    default_k: int                  # small cells below k are suppressed (a project may ask for a larger k)
    min_k: int                      # the smallest k a project may ask for; also the smallest cohort size a preview shows
    max_k: int
    downloads: int                  # how many times an approved extract may be downloaded
    expiry_days: int                # and for how long after its release
    shift_days: int                 # date shift: each patient's offset is in [-shift_days, +shift_days]
    review_roles: tuple[str, ...]   # the data/ethics committee: the first role receives the review tasks
    default_l: int                  # distinct l-diversity of the sensitive attributes (1: measured, not enforced)
    max_l: int
    sensitive: tuple[str, ...]      # variables treated as sensitive attributes when a project exports them
    vote_days: int                  # the committee's votes are due this many days after a round opens
    vote_reminder_days: int         # members who have not voted are reminded this many days before
    chair_role: str                 # without a named chair: the county's first user holding this role chairs


def settings() -> ResearchSettings:
    roles = tuple(r.strip() for r in os.environ.get("YGT_RESEARCH_REVIEW_ROLES", "supervisor,county_admin").split(",")
                  if r.strip()) or ("supervisor",)
    return ResearchSettings(default_k=_int("YGT_RESEARCH_K", 5), min_k=_int("YGT_RESEARCH_MIN_K", 3),
                            max_k=_int("YGT_RESEARCH_MAX_K", 50), downloads=_int("YGT_RESEARCH_DOWNLOADS", 3),
                            expiry_days=_int("YGT_RESEARCH_EXPIRY_DAYS", 30),
                            shift_days=_int("YGT_RESEARCH_SHIFT_DAYS", 180), review_roles=roles,
                            default_l=_int("YGT_RESEARCH_L", 2), max_l=_int("YGT_RESEARCH_MAX_L", 10),
                            sensitive=tuple(a.strip() for a in os.environ.get(
                                "YGT_RESEARCH_SENSITIVE", "risk_level,diagnoses").split(",") if a.strip()),
                            vote_days=_int("YGT_RESEARCH_VOTE_DAYS", 7),
                            vote_reminder_days=_int("YGT_RESEARCH_VOTE_REMINDER_DAYS", 2),
                            chair_role=os.environ.get("YGT_RESEARCH_CHAIR_ROLE", "county_admin"))
