"""Jobs of the decision capability: take ids, idempotent."""
from __future__ import annotations

from . import analyses


def run_analysis(analysis_id: str) -> None:
    """Run one queued decision analysis (a second delivery finds it no longer queued and does nothing)."""
    analyses.run(analysis_id)
