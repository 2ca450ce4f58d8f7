"""Jobs and schedules of follow-up (see app/schedules.py): generate due cycles, start their instances, remind,
escalate. Each takes ids or nothing, and is idempotent."""
from __future__ import annotations

from . import reminders, scheduling


def generate_due_cycles() -> int:
    """Schedule `follow_up.generate_due_cycles`: create due visits (set-based) and enqueue their instance starts."""
    made = scheduling.generate_due_cycles()
    started = scheduling.enqueue_starts()
    return made + started


def start_cycle(visit_id: int) -> int | None:
    """Start the `follow_up` instance of one visit (once)."""
    return scheduling.start_cycle(visit_id)


def send_due_reminders() -> int:
    """Schedule `follow_up.send_due_reminders`."""
    return reminders.send_due_reminders()


def escalate_overdue() -> int:
    """Schedule `follow_up.escalate_overdue`."""
    return reminders.escalate_overdue()
