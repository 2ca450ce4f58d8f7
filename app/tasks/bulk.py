"""The inbox's bulk writes: the open tasks a batch start's chunk projected, inserted in one statement.

`projection.project` builds and enriches each new task row as for a single start; inside a batch chunk
(`app.workflows.batch`) the rows are then taken out of the session's unit of work and written here with one COPY
(PostgreSQL) or one Core multi-row INSERT of the values the unit of work would have sent (`batch.insert_new`),
instead of the ORM's flush.
The tasks package stays the one writer of `human_tasks`.
"""
from __future__ import annotations

from typing import Any

from app.workflows import batch
from app.workflows.models import HumanTask


def insert_chunk_tasks(session, collected: dict[str, Any] | None = None) -> int:
    """Insert the new task rows a batch chunk projected (a chunk finisher, `hooks.batch_chunk_finisher`); returns
    how many. Nothing reads their ids in the chunk; the rows leave the session."""
    return batch.insert_new(session, HumanTask)
