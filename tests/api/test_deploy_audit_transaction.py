"""A deployment and its audit entry are written in one transaction (issue 15.4): no deployment without its entry."""
from __future__ import annotations

import io
from collections import defaultdict

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.bpmn_builder import chain, definitions, process, script


@pytest.fixture
def commits():
    """The classes of the rows each committed transaction inserted, in commit order."""
    pending: dict[int, set[str]] = defaultdict(set)
    done: list[set[str]] = []

    def flushed(session, _context):
        pending[id(session)].update(type(obj).__name__ for obj in session.new)

    def committed(session):
        done.append(pending.pop(id(session), set()))

    def rolled_back(session):
        pending.pop(id(session), None)

    hooks = (("after_flush", flushed), ("after_commit", committed), ("after_rollback", rolled_back))
    for name, fn in hooks:
        event.listen(Session, name, fn)
    yield done
    for name, fn in hooks:
        event.remove(Session, name, fn)


def test_a_deployment_commits_with_its_audit_entry(login_as, commits):
    owner = login_as("process_owner")
    bpmn = definitions(process("atomic_audit", chain(script("atomic_audit_s", "x = 1"))))
    answer = owner.post("/api/v1/process-definitions", data={"file": [(io.BytesIO(bpmn), "atomic_audit.bpmn")]},
                        content_type="multipart/form-data")
    assert answer.status_code == 201, answer.json
    [deploying] = [rows for rows in commits if "Deployment" in rows]
    assert "AuditEntry" in deploying
