"""Helpers shared by tests (importable, unlike conftest)."""
from __future__ import annotations

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
