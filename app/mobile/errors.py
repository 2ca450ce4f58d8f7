"""Typed errors of the mobile API (HTTP mapping: app.core.errors)."""
from __future__ import annotations

from app.core.errors import Conflict, Forbidden, Invalid


class DeviceIdRequired(Invalid):
    code = "device_id_required"


class DeviceRevoked(Forbidden):
    """The device was revoked (lost phone): the client must wipe its local store."""
    code = "device_revoked"


class DeviceAlreadyRevoked(Conflict):
    code = "device_already_revoked"


class IdempotencyKeyReused(Invalid):
    code = "idempotency_key_reused"


class CompletionConflict(Conflict):
    """A completion that cannot be applied any more; `details.reason` says why (the facts were kept)."""
    code = "completion_conflict"


class CompletionNotInConflict(Conflict):
    """A conflict action on a completion that was applied (or never conflicted)."""
    code = "completion_not_in_conflict"


class ConflictAlreadyResolved(Conflict):
    """The doctor already discarded this conflicted completion; nothing more is done with it."""
    code = "conflict_already_resolved"


class NoOpenTaskForNote(Conflict):
    """attach_as_note, but no one holds open work for the resident to read the note (record the visit instead)."""
    code = "no_open_task_for_note"
