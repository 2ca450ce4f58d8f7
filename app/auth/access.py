"""Decorators for views of any blueprint: who may call.

    from app.auth.access import login_required, require_roles

    @blp.route("/things")
    class Things(MethodView):
        @require_roles("county_admin", "supervisor")
        def get(self): ...

401 `unauthorized` when nobody is signed in, 403 `forbidden` when the caller lacks every listed role. Scope of
rows is not decided here but in the query layer (`app.org.scope`), where out-of-scope rows are simply absent.
"""
from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from functools import wraps
from typing import TypeVar

from flask_smorest.utils import deepupdate

from app.core.errors import Forbidden, Unauthorized

from .principal import NON_TREATING_ROLES, ROLES, Principal, current_principal, reads_phi  # noqa: F401

F = TypeVar("F", bound=Callable)

PHI_READERS = tuple(r for r in ROLES if r not in NON_TREATING_ROLES)


def require_principal() -> Principal:
    """The signed-in principal, or Unauthorized (for use inside a view)."""
    principal = current_principal()
    if principal is None:
        raise Unauthorized("请先登录 (authentication required)")
    return principal


def check_roles(principal: Principal, *roles: str) -> None:
    if roles and not principal.has_role(*roles):
        raise Forbidden("无权执行此操作 (forbidden)", required_roles=list(roles))


def document_roles(view, roles: tuple[str, ...], extra: dict | None = None) -> None:
    """Note the security requirement and the 401/403 answers in the view's OpenAPI doc (flask-smorest)."""
    apidoc = deepcopy(getattr(view, "_apidoc", {}))
    responses = {"401": {"description": "未登录 (unauthorized)"}}
    if roles:
        responses["403"] = {"description": "角色不符 (forbidden); requires one of: " + ", ".join(roles)}
    apidoc["manual_doc"] = deepupdate(apidoc.get("manual_doc", {}),
                                      {"security": [{"bearer": []}], "responses": responses, **(extra or {})})
    view._apidoc = apidoc


_document = document_roles


def require_roles(*roles: str) -> Callable[[F], F]:
    """Let the view run only for a signed-in principal holding at least one of `roles` (any role if none)."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            check_roles(require_principal(), *roles)
            return view(*args, **kwargs)
        _document(wrapper, roles)
        return wrapper  # type: ignore[return-value]
    return decorator


def login_required(view: F) -> F:
    """Let the view run only for a signed-in principal (any role)."""
    return require_roles()(view)
