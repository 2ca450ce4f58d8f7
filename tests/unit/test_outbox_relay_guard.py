"""The push after a commit never pushes an outbox row without its key (app.jobs.outbox.relay_after_commit): the
key of a deferred INSERT is handed over once written (issue 23); a row still at 0 is left to the relay's sweep,
never pushed and marked as row 0 (which the sweep would not recognise, so the job would run twice)."""
from __future__ import annotations

from datetime import UTC, datetime

from app.jobs import outbox


def _row(id_: int) -> outbox.Added:
    return outbox.Added(id_, "app.tasks.jobs.announce", [7], {}, "task-new-7", 3, [2, 10, 60], 0.0,
                        datetime(2026, 12, 6, tzinfo=UTC))


def test_a_row_without_its_key_is_left_to_the_relay(monkeypatch):
    pushed = []
    monkeypatch.setattr(outbox.backend, "push", pushed.append)
    monkeypatch.setattr(outbox, "_paused_until", 0.0)
    outbox.relay_after_commit(_row(0))
    assert pushed == []
    outbox.relay_after_commit(_row(41))
    assert len(pushed) == 1 and pushed[0].mark[0] == outbox.sent_key(41, _row(41).created_at)
