"""Reads of personal health data: who may read them (least privilege) and the audit row every read leaves.

    from app.audit.reads import phi_read

    @blp.route("/care-plans/<int:care_plan_id>")
    class CarePlan(MethodView):
        @phi_read("care_plan")                 # outermost: sees the final status of the response
        @blp.response(200, CarePlanSchema)
        def get(self, care_plan_id): ...

* Roles that do not treat patients (`trainer`, `process_owner`) get 403 `forbidden` (see `PHI_READERS`); which
  rows a reader sees is still decided by the query layer's data scope.
* A successful (2xx) read appends one `phi.read` audit entry: object type, the id from the URL, the path and the
  *names* of the query parameters (never their values, so no ID number lands in the log), and how many items a
  list returned. A refused or failed read writes nothing. When the request wrote nothing else, its transaction
  commits without waiting for the WAL flush (`app.core.db.relax_commit`; `YGT_READ_AUDIT_SYNC=1` waits as a change
  does): a database crash in the next few hundred ms could lose the entry, and it saves a read 3-4 ms.
* The operation is marked `x-phi: true` in the OpenAPI document; `tests/api/test_read_audit.py` walks the document
  and fails for any GET that returns personal data without an audit row.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, request
from flask_smorest.utils import get_appcontext

from app.auth.access import PHI_READERS, check_roles, document_roles, require_principal

from .services import entry, record_all

ACTION = "phi.read"
_DUMPED = "result_dump"         # where flask-smorest's response wrapper keeps what it dumped (flask_smorest.response)
# A read's entry commits without waiting for the WAL flush when the request wrote nothing else (app.core.db.
# relax_commit: a database crash within a few hundred ms could lose the entry, never a change); 1 waits as a change does
READ_AUDIT_SYNC = os.environ.get("YGT_READ_AUDIT_SYNC") == "1"


def phi_read(object_type: str, *, roles: tuple[str, ...] = PHI_READERS, audit: bool = True) -> Callable:
    """Allow the view to `roles` only and audit every successful read (`audit=False`: the service audits it)."""
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = require_principal()
            check_roles(principal, *roles)
            if audit:
                get_appcontext().pop(_DUMPED, None)     # what flask-smorest dumps from here on is this view's
            response = view(*args, **kwargs)
            if audit and 200 <= _status(response) < 300:
                record_all([entry(ACTION, object_type=object_type, object_id=_object_id(kwargs), principal=principal,
                                  details=_details(response))],     # one Core INSERT, no unit-of-work flush
                           relaxed=not READ_AUDIT_SYNC)
            return response
        document_roles(wrapper, roles, extra={"x-phi": True})
        return wrapper
    return decorator


def _status(response: Any) -> int:
    if isinstance(response, Response):
        return response.status_code
    if isinstance(response, tuple) and len(response) > 1 and isinstance(response[1], int):
        return response[1]
    return 200


def _object_id(kwargs: dict[str, Any]) -> str | None:
    ids = [f"{k}={v}" for k, v in kwargs.items() if k.endswith("_id") or k in ("number", "a", "b")]
    return ",".join(ids)[:120] or None


def _details(response: Any) -> dict[str, Any]:
    details: dict[str, Any] = {"path": request.path, "params": sorted(request.args.keys())}
    count = _count(response)
    if count is not None:
        details["count"] = count
    return details


def _count(response: Any) -> int | None:
    if not isinstance(response, Response) or not response.is_json or response.direct_passthrough:
        return None
    # a list flask-smorest's `response` wrapper just serialized (its dump, kept for ETags) is counted in the dump,
    # without parsing the JSON made of it again (issue 23.2: an inbox page of 25 tasks); anything else as before
    body = get_appcontext().get(_DUMPED)
    if not (type(body) is dict and (type(body.get("items")) is list or
                                    ("items" not in body and type(body.get("entry")) is list))):
        try:
            body = json.loads(response.get_data())
        except ValueError:
            return None
    if isinstance(body, dict) and isinstance(body.get("items"), list):
        return len(body["items"])
    if isinstance(body, dict) and isinstance(body.get("entry"), list):
        return len(body["entry"])
    return None
