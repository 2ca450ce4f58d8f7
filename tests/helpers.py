"""Helpers shared by tests (importable, unlike conftest)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "tests" / "fixtures" / "models"


def model_files(*names: str) -> list[tuple[str, bytes]]:
    """Fixture models as (upload name, bytes): a BPMN file, or a folder of forms `<process>/<task>.json`."""
    out = []
    for name in names:
        path = MODELS / name
        if path.is_dir():
            out += [(f"{f.relative_to(MODELS).as_posix()}", f.read_bytes()) for f in sorted(path.rglob("*.json"))]
        else:
            out.append((path.name, path.read_bytes()))
    return out


class ApiClient:
    """The Flask test client with a bearer token: `api.get(url)`, `api.post(url, json=...)`."""

    def __init__(self, client, token: str, user):
        self.client, self.token, self.user = client, token, user

    def _headers(self, headers):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, url, **kw):
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url, **kw):
        return self.client.post(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, url, **kw):
        return self.client.put(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, url, **kw):
        return self.client.patch(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url, **kw):
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


def move_to_changed_approval_form(app, instance_id: int, *, maximum: int = 1000) -> None:
    """Deploy `approval` v2 whose task_a caps `amount` at `maximum`, and move the instance to it (as an instance
    migration would): the open task's form definition changes under a client that saw the old one."""
    import json

    from sqlalchemy import select, update

    from app.core import db
    from app.workflows.deploy import deploy_files
    from app.workflows.models import ProcessInstance, ProcessVersion
    changed = json.loads((MODELS / "approval" / "task_a.json").read_text())
    changed["schema"]["properties"]["amount"]["maximum"] = maximum
    files = {"bpmn/approval.bpmn": (MODELS / "approval.bpmn").read_bytes(),
             "forms/approval/task_a.json": json.dumps(changed).encode(),
             "forms/approval/task_b.json": (MODELS / "approval" / "task_b.json").read_bytes()}
    with app.app_context():
        deploy_files(files, deployed_by="test", source="folder")
        with db.unit_of_work() as s:
            v2 = s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == "approval",
                                                          ProcessVersion.version == 2))
            s.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(process_version_id=v2))


STATE_LIMIT = 50_000        # bytes of serialized engine state per instance (issue 23.7)


def state_bytes(state) -> int:
    """The size of an instance's stored state: its JSON as the database receives it."""
    import json
    return len(json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode())


@contextmanager
def statements_sent(app=None) -> Iterator[list[str]]:
    """The SQL statements sent to the database while the block runs, as sent (a list filled as they go; each caller
    normalises what it reads). `app`: the application whose engine to watch, when the caller is outside its context."""
    from sqlalchemy import event

    from app.core import db
    if app is not None:
        with app.app_context():
            engine = db.engine()
    else:
        engine = db.engine()
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_a):
        seen.append(statement)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def assert_same_result(a, b) -> None:
    """Two results are the same: the same JSON text and, value by value, the same Python types (a compiled dump or
    load against marshmallow's own, tests/unit/test_compiled_dumps.py and test_compiled_loads.py)."""
    assert json.dumps(a, default=repr, ensure_ascii=False) == json.dumps(b, default=repr, ensure_ascii=False)
    assert _types(a) == _types(b)


def _types(value):
    if isinstance(value, dict):
        return [(type(value).__name__, k, _types(v)) for k, v in value.items()]
    if isinstance(value, list | tuple):
        return [_types(v) for v in value]
    return type(value).__name__


def start_approval(api, org: str) -> int:
    """Start the approval model (tests/fixtures/models/approval.bpmn) at `org` through the API; the instance id."""
    resp = api.post("/api/v1/process-instances", json={"process_id": "approval", "org_code": org, "data": {}})
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def pages_by_cursor(api, url: str, per_page: int) -> list[tuple[list[int], int]]:
    """Every page of an inbox list `url` by cursor: [(task ids, total)] per page."""
    out, cursor = [], None
    for _ in range(60):
        body = api.get(f"{url}&per_page={per_page}" + (f"&cursor={cursor}" if cursor else "")).json
        out.append(([t["id"] for t in body["items"]], body["total"]))
        cursor = body["next_cursor"]
        if cursor is None:
            return out
    raise AssertionError("the cursor does not move on")
