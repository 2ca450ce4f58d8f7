"""Use cases of authentication: users, login with throttling, API tokens, integration clients.

Services know nothing of Flask; they own their transaction and raise typed errors from `app.auth.errors`.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
import secrets
import time
from datetime import timedelta

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session as OrmSession

from app.audit.services import record
from app.core import clock
from app.core.db import engine as db_engine
from app.core.db import relax_commit, session, unit_of_work
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.org.models import Organization
from app.org.queries import find_org, root_org

from . import throttle
from .crypto import decrypt_field, encrypt_field
from .errors import InvalidRole
from .models import ApiToken, IntegrationClient, User, UserRole, UserSession
from .passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from .principal import CLIENT_ID_PREFIX, ROLES, Principal

TOKEN_PREFIX = "ygt_"
TOKEN_TOUCH_INTERVAL = timedelta(minutes=1)   # last_used_at / last_seen_at are refreshed at most once a minute
SESSION_LIFETIME = timedelta(hours=12)        # a browser sign-in lasts one working day


# --- users -----------------------------------------------------------------------------------------------------

def get_user(user_id: int) -> User:
    user = session().get(User, user_id)
    if user is None:
        raise NotFound("用户不存在 (user not found)", user_id=user_id)
    return user


def find_user(username: str) -> User | None:
    return session().scalars(select(User).where(User.username == username)).first()


def _check_roles(roles: list[str] | tuple[str, ...]) -> list[str]:
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        raise InvalidRole("未知角色 (unknown role)", roles=unknown, allowed=list(ROLES))
    return sorted(set(roles))


# the roles that hold 处方权 at their organisation by default (a doctor's privilege can be withdrawn)
PRESCRIBING_ROLES = ("village_doctor", "township_doctor", "county_specialist")


def create_user(username: str, *, password: str | None, roles: list[str] | tuple[str, ...],
                org_code: str | None = None, display_name: str = "", resident_id: int | None = None,
                password_hash: str | None = None) -> User:
    """Create a user in `org_code` (default: the root organization) holding `roles`."""
    role_codes = _check_roles(roles)
    if password is not None and len(password) < MIN_LENGTH:
        raise Invalid(f"密码至少 {MIN_LENGTH} 位", code="weak_password")
    with unit_of_work() as s:
        org = find_org(org_code) if org_code else root_org()
        if org is None:
            raise Invalid("机构不存在：请先创建机构或运行 ygt seed-demo", code="invalid_org_code", org_code=org_code)
        if find_user(username):
            raise Conflict("用户名已存在", code="duplicate_user", username=username)
        user = User(username=username, display_name=display_name or username, org_code=org.code,
                    password_hash=password_hash or (hash_password(password) if password else None),
                    resident_id=resident_id, active=True, failed_login_count=0, created_at=clock.now(),
                    prescribing_privilege=bool(set(role_codes) & set(PRESCRIBING_ROLES)),
                    roles=[UserRole(role=r) for r in role_codes])
        s.add(user)
        s.flush()
        record("user.create", object_type="user", object_id=user.id,
               details={"username": username, "roles": role_codes, "org_code": org.code})
        return user


def set_prescribing_privilege(user_id: int, *, granted: bool, reason: str | None, principal: Principal) -> User:
    """Grant or withdraw a doctor's 处方权 at their organisation (R6a `rx_legality` reads it on the next prescription):
    a county administrator for the network. Only prescribing roles hold it (422 `not_prescribing_role`); a withdrawal
    needs a reason (422 `reason_required`). Audited `user.prescribing_privilege` with who, when and why."""
    reason = (reason or "").strip() or None
    with unit_of_work() as s:
        user = s.get(User, user_id)
        org = find_org(user.org_code) if user is not None else None
        if user is None or org is None or _client_or_patient(user):
            raise NotFound("用户不存在 (user not found)", user_id=user_id)
        if not principal.county_wide and not org.path.startswith(principal.org_path or "\0"):
            raise Forbidden("该用户不在您的管理范围内", code="out_of_scope", user_id=user_id)
        if not set(user.role_codes) & set(PRESCRIBING_ROLES):
            raise Invalid("该用户不是可开具处方的角色（村医、乡镇医生、县级专科医生）", code="not_prescribing_role",
                          roles=user.role_codes, allowed=list(PRESCRIBING_ROLES))
        if not granted and reason is None:
            raise Invalid("撤销处方权须填写原因", code="reason_required")
        before = bool(user.prescribing_privilege)
        user.prescribing_privilege = granted
        record("user.prescribing_privilege", object_type="user", object_id=user.id, principal=principal,
               details={"username": user.username, "granted": granted, "was": before, "reason": reason,
                        "org_code": user.org_code})
        return user


def _client_or_patient(user: User) -> bool:
    return bool({"patient", "integration"} & set(user.role_codes))


def set_phone(user_id: int, phone: str | None) -> None:
    """Store (encrypted) or clear a staff member's mobile number, used for SMS notices."""
    if phone is not None and not re.fullmatch(r"1[3-9]\d{9}", phone):
        raise Invalid("手机号格式不正确 (11 位中国大陆手机号)", code="invalid_phone")
    with unit_of_work() as s:
        user = s.get(User, user_id)
        if user is None:
            raise NotFound("用户不存在", user_id=user_id)
        user.phone_encrypted = encrypt_field(phone) if phone else None
        record("user.phone", object_type="user", object_id=user.id, details={"set": bool(phone)})


def phone_of(user_id: int) -> str | None:
    """A staff member's mobile number, decrypted (the notify connector's SMS delivery)."""
    user = session().get(User, user_id)
    return decrypt_field(user.phone_encrypted) if user is not None and user.phone_encrypted else None


# --- login -----------------------------------------------------------------------------------------------------

def authenticate(username: str, password: str) -> User:
    """Check a username and password. Wrong or unknown: InvalidCredentials; too many failures: LoginThrottled."""
    failure: Exception | None = None
    with unit_of_work() as s:
        user = s.scalars(select(User).where(User.username == username).with_for_update()).first()
        if user is None or not user.active:
            verify_password(None, password)                      # same cost as a real check
            failure = throttle.fail_unknown(username)
        elif user.locked_until and user.locked_until > clock.now():
            failure = throttle.locked(user)
        elif not verify_password(user.password_hash, password):
            failure = throttle.fail_user(user)
        else:
            _login_succeeded(user, password)
        record("user.login_failed" if failure else "user.login", object_type="user",
               object_id=user.id if user else None, details={"username": username},
               principal=principal_for(user) if user is not None and not failure else None)
    if failure:
        raise failure
    assert user is not None  # no failure means the user was found and the password verified
    return user


def _login_succeeded(user: User, password: str) -> None:
    user.failed_login_count = 0
    user.locked_until = None
    user.last_login_at = clock.now()
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)


# --- principals --------------------------------------------------------------------------------------------------

def principal_for(user: User, *, token_id: int | None = None) -> Principal:
    """The Principal of an (active) user: roles, organization path, and own resident id for patients."""
    org = find_org(user.org_code)
    return Principal(user_id=user.id, username=user.username, roles=frozenset(user.role_codes),
                     org_code=user.org_code, display_name=user.display_name, org_path=org.path if org else "",
                     resident_id=user.resident_id, token_id=token_id)


def principal_for_user_id(user_id: int) -> Principal | None:
    """The principal of a session's user, or None when the user is gone or deactivated."""
    user = session().get(User, user_id)
    return principal_for(user) if user is not None and user.active else None


# A token's principal is kept for a moment per worker (issue 23.2: the lookup was a query and a transaction of its
# own on every API call). Any change to a token, user, role or organization written through the ORM in this process
# forgets every entry at once (at flush and again at commit), so a revocation, deactivation or role change stops
# the old principal on the very next request of this worker; other workers notice within TOKEN_CACHE_S.
TOKEN_CACHE_S = float(os.environ.get("YGT_TOKEN_CACHE_S", "2"))
_TOKEN_CACHE_MAX = 10_000
_token_cache: dict[tuple[int, str], tuple[float, Principal]] = {}
_PRINCIPAL_MODELS = (ApiToken, User, UserRole, Organization)


def forget_principals() -> None:
    """Drop every cached token → principal (a token, user, role or organization changed)."""
    _token_cache.clear()


def _forget_on_change(s, _flush_context) -> None:
    if any(isinstance(o, _PRINCIPAL_MODELS) for o in (*s.dirty, *s.deleted)):
        forget_principals()
        s.info["auth.principals_changed"] = True


def _forget_on_bulk_change(state) -> None:
    # `session.execute(update(User)...)` / delete(...) bypass the flush; the token's own last-use touch does not count
    if (state.is_update or state.is_delete) and state.bind_mapper is not None \
            and state.bind_mapper.class_ in _PRINCIPAL_MODELS and not state.execution_options.get("ygt_touch"):
        forget_principals()
        state.session.info["auth.principals_changed"] = True


def _forget_after_commit(s) -> None:
    # again after the commit: a request of another thread may have cached the old row between flush and commit
    if s.info.pop("auth.principals_changed", False):
        forget_principals()


_WATCHERS = (("after_flush", _forget_on_change), ("do_orm_execute", _forget_on_bulk_change),
             ("after_commit", _forget_after_commit))


def watch_principal_changes() -> None:
    """Start the token cache: listen for changes to tokens, users, roles and organizations (`app.wiring` calls this
    once at start-up). Until it runs, every token is looked up each time — a cache nobody invalidates is never used."""
    for name, listener in _WATCHERS:
        if not event.contains(OrmSession, name, listener):
            event.listen(OrmSession, name, listener)


def _cache_on() -> bool:
    return TOKEN_CACHE_S > 0 and event.contains(OrmSession, "after_commit", _forget_after_commit)


def principal_for_token(raw_token: str) -> Principal | None:
    """The principal of a bearer token, or None when the token is unknown, revoked, or its user inactive.

    From the worker's short cache (`TOKEN_CACHE_S`) when it was resolved a moment ago; else one round trip: token,
    user, organization path and roles in a single query."""
    key = (id(db_engine()), _token_hash(raw_token))
    cached = _token_cache.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    principal = _principal_for_token_hash(key[1])
    if principal is not None and _cache_on():
        if len(_token_cache) >= _TOKEN_CACHE_MAX:
            _token_cache.clear()
        _token_cache[key] = (time.monotonic() + TOKEN_CACHE_S, principal)
    return principal


def _principal_for_token_hash(token_hash: str) -> Principal | None:
    row = session().execute(
        select(ApiToken.id, ApiToken.last_used_at, User.id, User.username, User.display_name, User.org_code,
               User.resident_id, Organization.path, func.aggregate_strings(UserRole.role, ","))
        .join(User, User.id == ApiToken.user_id)
        .outerjoin(Organization, Organization.code == User.org_code)
        .outerjoin(UserRole, UserRole.user_id == User.id)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None), User.active.is_(True))
        .group_by(ApiToken.id, ApiToken.last_used_at, User.id, User.username, User.display_name, User.org_code,
                  User.resident_id, Organization.path)).first()
    if row is None:
        return None
    token_id, last_used_at, user_id, username, display_name, org_code, resident_id, org_path, roles = row
    if last_used_at is None or clock.now() - last_used_at > TOKEN_TOUCH_INTERVAL:
        with unit_of_work() as s:
            relax_commit(s)         # a last use lost to a crash is harmless: no wait for the WAL flush (app.core.db)
            s.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=clock.now()),
                      execution_options={"ygt_touch": True})
    return Principal(user_id=user_id, username=username, roles=frozenset((roles or "").split(",")) - {""},
                     org_code=org_code, display_name=display_name, org_path=org_path or "",
                     resident_id=resident_id, token_id=token_id)


# --- browser sessions -------------------------------------------------------------------------------------------

def start_session(user: User, *, ip: str | None = None, user_agent: str | None = None) -> tuple[str, str]:
    """Open a browser session for a user who just authenticated; returns (session id, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    at = clock.now()
    with unit_of_work() as s:
        s.add(UserSession(sid_hash=_token_hash(sid), user_id=user.id, csrf_token=csrf, created_at=at,
                          expires_at=at + SESSION_LIFETIME, last_seen_at=at, ip=ip,
                          user_agent=(user_agent or "")[:255] or None))
    return sid, csrf


def session_for(sid: str) -> UserSession | None:
    """The live session with this id (not revoked, not expired), or None."""
    row = session().scalars(select(UserSession).where(UserSession.sid_hash == _token_hash(sid))).first()
    if row is None or row.revoked_at is not None or row.expires_at <= clock.now():
        return None
    return row


def principal_for_session(sid: str) -> tuple[Principal, str] | None:
    """The principal and CSRF token of a live session whose user is active, or None."""
    row = session_for(sid)
    user = session().get(User, row.user_id) if row else None
    if row is None or user is None or not user.active:
        return None
    if clock.now() - row.last_seen_at > TOKEN_TOUCH_INTERVAL:
        with unit_of_work():
            row.last_seen_at = clock.now()
    return principal_for(user), row.csrf_token


def carry_sessions(delta: timedelta) -> int:
    """The demo clock has just jumped forward by `delta` (issue 14.12): the browser sessions that were live move
    with it, so a jump signs nobody out (the 平台时钟 page's user included). Returns how many moved."""
    now = clock.now()
    with unit_of_work() as s:
        live = s.scalars(select(UserSession).where(UserSession.revoked_at.is_(None),
                                                   UserSession.expires_at > now - delta)).all()
        for row in live:          # in Python: date arithmetic in SQL differs between SQLite and PostgreSQL
            row.expires_at, row.last_seen_at = row.expires_at + delta, row.last_seen_at + delta
    return len(live)


def end_session(sid: str) -> None:
    """Log out: the session id stops working at once."""
    with unit_of_work():
        row = session_for(sid)
        if row is not None:
            row.revoked_at = clock.now()
            record("user.logout", object_type="user", object_id=row.user_id)


# --- API tokens --------------------------------------------------------------------------------------------------

def _token_hash(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


def create_token(user_id: int, *, name: str) -> tuple[ApiToken, str]:
    """Issue a new API token for the user; the raw token is returned once and only its hash is kept."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work() as s:
        token = ApiToken(token_hash=_token_hash(raw), user_id=user_id, name=name, created_at=clock.now())
        s.add(token)
        s.flush()
        record("token.create", object_type="api_token", object_id=token.id, details={"name": name})
    return token, raw


def list_tokens(user_id: int) -> list[ApiToken]:
    return list(session().scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id)))


def revoke_token(token_id: int, *, user_id: int) -> ApiToken:
    """Revoke one of the user's tokens; it stops working on the very next request."""
    with unit_of_work() as s:
        token = s.get(ApiToken, token_id) if 0 < token_id < 2**63 else None
        if token is None or token.user_id != user_id:
            raise NotFound("令牌不存在 (token not found)", token_id=token_id)
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            record("token.revoke", object_type="api_token", object_id=token.id, details={"name": token.name})
        return token


# --- integration clients -----------------------------------------------------------------------------------------

def create_client(name: str) -> tuple[IntegrationClient, str]:
    """Register an integration client: a user with role `integration` and a `whsec_` webhook secret."""
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
    client_id = CLIENT_ID_PREFIX + secrets.token_hex(8)
    with unit_of_work() as s:
        user = create_user(client_id, password=None, roles=["integration"], display_name=name)
        client = IntegrationClient(client_id=client_id, name=name, secret_encrypted=encrypt_field(secret),
                                   user_id=user.id, active=True, created_at=clock.now())
        s.add(client)
        s.flush()
        record("client.create", object_type="integration_client", object_id=client_id, details={"name": name})
    return client, secret


def client_secret(client_id: str) -> tuple[IntegrationClient, str] | None:
    """An active integration client and its decrypted webhook secret (for verifying signatures), or None."""
    client = session().scalars(select(IntegrationClient).where(IntegrationClient.client_id == client_id)).first()
    if client is None or not client.active:
        return None
    return client, decrypt_field(client.secret_encrypted)
