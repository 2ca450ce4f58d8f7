"""Binding a phone to a resident, portal tokens, and family proxies (家属代办).

Binding: ID number + name + a six-digit SMS code sent to the phone on file (`start_sms` → `verify_sms`), or a
one-time QR the village doctor shows (`issue_qr` → `redeem_qr`), or a patient account already signed in to the
platform (`token_for_patient_login`). Each answers a resident-scoped token (`ygtp_…`): it names one resident (and,
for a family member, the proxy binding it acts under) and nothing else, so every read is of that resident.

Five wrong codes for a resident lock binding for that resident for `LOCK_MINUTES` (429 `binding_locked`, with the
time it opens again), whether the codes came from one phone or several.
"""
from __future__ import annotations

import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from app.audit.services import record as audit
from app.auth.principal import Principal
from app.contracting import services as contracting
from app.core import clock
from app.core.crypto import decrypt_field, encrypt_field, keyed_hash
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.notifications.services import notify
from app.org.models import Organization
from app.residents import idcard
from app.residents.models import Resident
from app.residents.queries import get_resident, id_number_hash
from app.residents.services import mask_phone
from connectors.sms import gateway as sms

from .errors import (
    BindingLocked,
    CodeExpired,
    InvalidPortalToken,
    NoPhoneOnFile,
    NotMatched,
    ProxyNotAllowed,
    ProxyPending,
    SmsTooSoon,
    SmsUnavailable,
    WrongCode,
)
from .models import PortalBooking, PortalChallenge, PortalLock, PortalProxy, PortalSurvey, PortalToken

TOKEN_PREFIX = "ygtp_"
CODE_TTL = timedelta(minutes=5)
QR_TTL = timedelta(minutes=10)
RESEND_AFTER = timedelta(seconds=60)
MAX_FAILURES = 5
LOCK_MINUTES = 30
TOKEN_LIFETIME = timedelta(days=30)
PHONE = re.compile(r"1[3-9]\d{9}")
RELATIONS = ("配偶", "子女", "父母", "兄弟姐妹", "孙子女", "其他亲属")


@dataclass(frozen=True)
class PortalCaller:
    """Who calls the portal API: the resident themselves, or a family member under an approved proxy."""
    token_id: int
    resident_id: int
    proxy_id: int | None
    resident_name: str
    org_code: str
    proxy_name: str | None = None

    @property
    def is_proxy(self) -> bool:
        return self.proxy_id is not None

    @property
    def actor(self) -> str:
        return f"portal:proxy:{self.proxy_id}" if self.proxy_id else f"portal:resident:{self.resident_id}"

    def principal(self) -> Principal:
        """A patient-only principal for this resident (audit entries and the record's own scope rule)."""
        return Principal(user_id=0, username=self.actor, roles=frozenset({"patient"}), org_code=self.org_code,
                         display_name=self.proxy_name or self.resident_name, resident_id=self.resident_id,
                         token_id=self.token_id)

    def require_self(self) -> None:
        if self.is_proxy:
            raise ProxyNotAllowed("家属代办不能办理此项，请居民本人操作")


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _code_hash(challenge_kind: str, resident_id: int, code: str) -> str:
    return keyed_hash(f"portal:{challenge_kind}:{resident_id}:{code}")


# --- matching and lockout -------------------------------------------------------------------------------------

def _match(id_number: str, name: str) -> Resident:
    number = idcard.normalize(id_number or "")
    resident = session().scalars(select(Resident).where(Resident.id_number_hash == id_number_hash(number))).first() \
        if len(number) == 18 else None
    if resident is None or resident.name != (name or "").strip():
        raise NotMatched("身份证号与姓名不匹配，或尚未建档。请核对后重试，或请村医出示绑定二维码。")
    return resident


def _lock_of(s, resident_id: int) -> PortalLock:
    lock = s.get(PortalLock, resident_id)
    if lock is None:
        lock = PortalLock(resident_id=resident_id, failures=0, locked_until=None)
        s.add(lock)
        s.flush()
    return lock


def _check_lock(s, resident_id: int) -> None:
    lock = s.get(PortalLock, resident_id)
    if lock is not None and lock.locked_until and lock.locked_until > clock.now():
        raise BindingLocked(f"验证码错误次数过多，已锁定，请于 {clock.local(lock.locked_until):%H:%M} 后再试",
                            locked_until=lock.locked_until.isoformat(), minutes=LOCK_MINUTES)


def _fail(resident_id: int, challenge_id: int | None) -> Exception:
    """Count a wrong code in its own transaction; the error to raise (the 5th: binding_locked)."""
    with unit_of_work() as s:
        lock = _lock_of(s, resident_id)
        lock.failures += 1
        if challenge_id is not None:
            s.execute(update(PortalChallenge).where(PortalChallenge.id == challenge_id)
                      .values(failures=PortalChallenge.failures + 1))
        audit("portal.bind_failed", object_type="resident", object_id=resident_id,
              details={"failures": lock.failures})
        if lock.failures >= MAX_FAILURES:
            lock.failures, lock.locked_until = 0, clock.now() + timedelta(minutes=LOCK_MINUTES)
            audit("portal.bind_locked", object_type="resident", object_id=resident_id,
                  details={"until": lock.locked_until.isoformat()})
            return BindingLocked(f"验证码连续错误 {MAX_FAILURES} 次，已锁定 {LOCK_MINUTES} 分钟",
                                 locked_until=lock.locked_until.isoformat(), minutes=LOCK_MINUTES)
        return WrongCode("验证码不正确", remaining=MAX_FAILURES - lock.failures)


def _succeed(s, resident_id: int) -> None:
    lock = s.get(PortalLock, resident_id)
    if lock is not None:
        lock.failures, lock.locked_until = 0, None


# --- SMS codes ------------------------------------------------------------------------------------------------

def _send_code(s, *, kind: str, resident: Resident, phone: str, proxy_id: int | None = None) -> PortalChallenge:
    last = s.scalars(select(PortalChallenge).where(PortalChallenge.resident_id == resident.id,
                                                   PortalChallenge.kind == kind)
                     .order_by(PortalChallenge.id.desc())).first()
    if last is not None and last.used_at is None and clock.now() - last.created_at < RESEND_AFTER \
            and (proxy_id is None or last.proxy_id == proxy_id):
        raise SmsTooSoon("验证码已发送，请 60 秒后再获取", retry_after_s=int(
            (RESEND_AFTER - (clock.now() - last.created_at)).total_seconds()) + 1)
    code = f"{secrets.randbelow(10**6):06d}"
    row = PortalChallenge(kind=kind, resident_id=resident.id, code_hash=_code_hash(kind, resident.id, code),
                          phone_hint=mask_phone(phone), proxy_id=proxy_id, created_at=clock.now(),
                          expires_at=clock.now() + CODE_TTL, failures=0)
    s.add(row)
    s.flush()
    what = "家属代办验证" if kind == "proxy_sms" else "居民端绑定"
    try:
        sms.gateway().send(phone=phone, purpose=f"portal_{kind}", params={"code": code},
                           text=f"【医共体】您的{what}验证码为 {code}，5分钟内有效。如非本人操作请忽略。")
    except sms.SmsNotSent as exc:
        raise SmsUnavailable("短信发送失败，请稍后重试，或请村医出示绑定二维码", reason=str(exc)[:200]) from None
    return row


def sms_notice(resident_id: int, *, purpose: str, text: str) -> bool:
    """A service notice to the resident's phone on file (e.g. a contract's 解约); False when there is no phone or
    the gateway refused. Registered with contracting in app/wiring.py."""
    resident = session().get(Resident, resident_id)
    if resident is None or not resident.phone_encrypted:
        return False
    try:
        sms.gateway().send(phone=decrypt_field(resident.phone_encrypted), purpose=purpose,
                           params={"purpose": purpose}, text=text)
    except sms.SmsNotSent:
        return False
    return True


def start_sms(id_number: str, name: str) -> dict[str, Any]:
    """Send a binding code to the resident's phone on file; answers where it went (masked)."""
    with unit_of_work() as s:
        resident = _match(id_number, name)
        _check_lock(s, resident.id)
        if not resident.phone_encrypted:
            raise NoPhoneOnFile("档案中没有手机号，请请村医出示绑定二维码，或到村卫生室登记手机号")
        row = _send_code(s, kind="sms", resident=resident, phone=decrypt_field(resident.phone_encrypted))
        audit("portal.sms_sent", object_type="resident", object_id=resident.id, details={"challenge": row.id})
        return {"phone_hint": row.phone_hint, "expires_at": row.expires_at}


def _open_challenge(s, kind: str, resident_id: int, proxy_id: int | None = None) -> PortalChallenge | None:
    query = select(PortalChallenge).where(PortalChallenge.resident_id == resident_id, PortalChallenge.kind == kind,
                                          PortalChallenge.used_at.is_(None))
    if proxy_id is not None:
        query = query.where(PortalChallenge.proxy_id == proxy_id)
    return s.scalars(query.order_by(PortalChallenge.id.desc())).first()


def _redeem_code(kind: str, resident: Resident, code: str, proxy_id: int | None = None) -> None:
    """Check a code against the resident's open challenge of `kind`: used on success, counted on failure."""
    failed: int | None = None
    with unit_of_work() as s:
        _check_lock(s, resident.id)
        challenge = _open_challenge(s, kind, resident.id, proxy_id)
        if challenge is None or challenge.expires_at <= clock.now():
            raise CodeExpired("验证码已过期或未获取，请重新获取")
        if not re.fullmatch(r"\d{6}", code or "") or not secrets.compare_digest(
                challenge.code_hash, _code_hash(kind, resident.id, code)):
            failed = challenge.id
        else:
            challenge.used_at = clock.now()
            _succeed(s, resident.id)
    if failed is not None:
        raise _fail(resident.id, failed)


def issue_token(s, resident_id: int, *, method: str, proxy_id: int | None = None) -> str:
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    s.add(PortalToken(token_hash=_hash(raw), resident_id=resident_id, proxy_id=proxy_id, method=method,
                      created_at=clock.now(), expires_at=clock.now() + TOKEN_LIFETIME))
    return raw


def verify_sms(id_number: str, name: str, code: str) -> tuple[str, Resident]:
    """Check the code; a portal token for the resident. Wrong: 422 wrong_code (remaining); 5th: 429 binding_locked."""
    resident = _match(id_number, name)
    _redeem_code("sms", resident, code)
    with unit_of_work() as s:
        raw = issue_token(s, resident.id, method="sms")
        audit("portal.bind", object_type="resident", object_id=resident.id, details={"method": "sms"})
    return raw, resident


# --- QR shown by the village doctor ------------------------------------------------------------------------------

def issue_qr(resident_id: int, principal: Principal) -> tuple[str, datetime]:
    """A one-time binding code for a resident in the staff member's scope (404 outside it); valid 10 minutes."""
    resident = get_resident(resident_id, principal)
    if resident is None or principal.has_role("patient") and not (principal.roles - {"patient"}):
        raise NotFound("居民不存在 (resident not found)")
    raw = secrets.token_urlsafe(24)
    with unit_of_work() as s:
        s.add(PortalChallenge(kind="qr", resident_id=resident.id, code_hash=_hash("qr:" + raw),
                              issued_by=principal.username, created_at=clock.now(),
                              expires_at=clock.now() + QR_TTL, failures=0))
        audit("portal.qr_issued", object_type="resident", object_id=resident.id, principal=principal)
    return raw, clock.now() + QR_TTL


def redeem_qr(raw: str) -> tuple[str, Resident]:
    """Bind with a QR's code: once, within its lifetime; anything else 422 code_expired."""
    with unit_of_work() as s:
        challenge = s.scalars(select(PortalChallenge).where(
            PortalChallenge.kind == "qr", PortalChallenge.code_hash == _hash("qr:" + (raw or "")))).first()
        if challenge is None or challenge.used_at is not None or challenge.expires_at <= clock.now():
            raise CodeExpired("二维码已失效，请村医重新生成")
        challenge.used_at = clock.now()
        resident = s.get(Resident, challenge.resident_id)
        if resident is None:
            raise CodeExpired("二维码已失效，请村医重新生成")
        token = issue_token(s, resident.id, method="qr")
        audit("portal.bind", object_type="resident", object_id=resident.id,
              details={"method": "qr", "issued_by": challenge.issued_by})
        return token, resident


def token_for_patient_login(principal: Principal) -> tuple[str, Resident]:
    """A patient signed in to the platform (e.g. `patient1`) opens the portal without another code."""
    if principal.resident_id is None or not principal.has_role("patient"):
        raise NotFound("当前账号未关联居民档案", code="not_a_patient")
    with unit_of_work() as s:
        resident = s.get(Resident, principal.resident_id)
        if resident is None:
            raise NotFound("当前账号未关联居民档案", code="not_a_patient")
        token = issue_token(s, resident.id, method="login")
        audit("portal.bind", object_type="resident", object_id=resident.id, details={"method": "login"},
              principal=principal)
        return token, resident


# --- tokens -------------------------------------------------------------------------------------------------------

def caller_for_token(raw: str) -> PortalCaller:
    """The caller of a portal token; 401 invalid_portal_token when unknown, expired, revoked (or its proxy binding
    revoked), 403 proxy_pending while the resident has not approved the family member yet."""
    row = session().execute(
        select(PortalToken, Resident.name, Resident.org_code)
        .join(Resident, Resident.id == PortalToken.resident_id)
        .where(PortalToken.token_hash == _hash(raw))).first()
    if row is None:
        raise InvalidPortalToken("登录已失效，请重新绑定")
    token, name, org_code = row
    proxy = session().get(PortalProxy, token.proxy_id) if token.proxy_id is not None else None
    if token.proxy_id is not None and (proxy is None or proxy.status in ("revoked", "declined")):
        raise InvalidPortalToken("代办授权已被居民撤销", code="proxy_revoked")
    if token.revoked_at is not None or token.expires_at <= clock.now():
        raise InvalidPortalToken("登录已失效，请重新绑定")
    if proxy is not None and proxy.status != "approved":
        raise ProxyPending("等待居民本人在居民端同意您的代办申请")
    proxy_name = proxy.name if proxy is not None else None
    if token.last_used_at is None or clock.now() - token.last_used_at > timedelta(minutes=1):
        with unit_of_work() as s:
            s.execute(update(PortalToken).where(PortalToken.id == token.id).values(last_used_at=clock.now()))
    return PortalCaller(token_id=token.id, resident_id=token.resident_id, proxy_id=token.proxy_id,
                        resident_name=name, org_code=org_code, proxy_name=proxy_name)


def sign_out(caller: PortalCaller) -> None:
    with unit_of_work() as s:
        s.execute(update(PortalToken).where(PortalToken.id == caller.token_id).values(revoked_at=clock.now()))


# --- family proxies -----------------------------------------------------------------------------------------------

def request_proxy(*, id_number: str, name: str, proxy_name: str, relation: str, proxy_phone: str) -> dict:
    """A family member asks to act for a resident: a code goes to the family member's own phone."""
    if not PHONE.fullmatch(proxy_phone or ""):
        raise Invalid("手机号格式不正确", code="invalid_phone", field="proxy_phone")
    if relation not in RELATIONS:
        raise Invalid("请选择与居民的关系", code="validation_error", field="relation", allowed=list(RELATIONS))
    if not (proxy_name or "").strip():
        raise Invalid("请填写您的姓名", code="validation_error", field="proxy_name")
    with unit_of_work() as s:
        resident = _match(id_number, name)
        _check_lock(s, resident.id)
        proxy = PortalProxy(resident_id=resident.id, name=proxy_name.strip()[:80], relation=relation,
                            phone_encrypted=encrypt_field(proxy_phone), phone_hint=mask_phone(proxy_phone) or "",
                            status="unverified", requested_at=clock.now())
        s.add(proxy)
        s.flush()
        _send_code(s, kind="proxy_sms", resident=resident, phone=proxy_phone, proxy_id=proxy.id)
        audit("portal.proxy_requested", object_type="resident", object_id=resident.id,
              details={"proxy_id": proxy.id, "relation": relation})
        return {"proxy_id": proxy.id, "phone_hint": proxy.phone_hint}


def verify_proxy(*, proxy_id: int, code: str) -> str:
    """The family member's phone is proven: the request waits for the resident; a token usable once approved."""
    proxy = session().get(PortalProxy, proxy_id) if 0 < proxy_id < 2**63 else None
    if proxy is None or proxy.status != "unverified":
        raise NotFound("代办申请不存在或已处理", code="not_found")
    resident = session().get(Resident, proxy.resident_id)
    assert resident is not None
    _redeem_code("proxy_sms", resident, code, proxy_id=proxy.id)
    with unit_of_work() as s:
        row = s.get(PortalProxy, proxy_id)
        assert row is not None
        row.status = "pending"
        raw = issue_token(s, row.resident_id, method="proxy_sms", proxy_id=row.id)
        audit("portal.proxy_verified", object_type="resident", object_id=row.resident_id,
              details={"proxy_id": row.id})
    return raw


def proxies_of(resident_id: int) -> list[PortalProxy]:
    return list(session().scalars(select(PortalProxy).where(PortalProxy.resident_id == resident_id,
                                                            PortalProxy.status != "unverified")
                                  .order_by(PortalProxy.id.desc())))


def decide_proxy(caller: PortalCaller, proxy_id: int, *, action: str) -> PortalProxy:
    """The resident approves, declines or revokes a family member; revoking ends their sessions at once."""
    caller.require_self()
    allowed = {"approve": ("pending",), "decline": ("pending",), "revoke": ("approved", "pending")}
    if action not in allowed:
        raise Invalid("未知操作", code="validation_error", field="action")
    with unit_of_work() as s:
        proxy = s.get(PortalProxy, proxy_id) if 0 < proxy_id < 2**63 else None
        if proxy is None or proxy.resident_id != caller.resident_id or proxy.status == "unverified":
            raise NotFound("代办人不存在 (proxy not found)")
        if proxy.status not in allowed[action]:
            raise Conflict("该代办已处理", code="proxy_state", status_now=proxy.status)
        proxy.status = {"approve": "approved", "decline": "declined", "revoke": "revoked"}[action]
        proxy.decided_at = clock.now()
        if action == "revoke":
            proxy.revoked_at = clock.now()
        if action in ("revoke", "decline"):
            s.execute(update(PortalToken).where(PortalToken.proxy_id == proxy.id, PortalToken.revoked_at.is_(None))
                      .values(revoked_at=clock.now()))
        audit(f"portal.proxy_{action}", object_type="resident", object_id=caller.resident_id,
              principal=caller.principal(), details={"proxy_id": proxy.id})
        return proxy


def proxy_phone(proxy: PortalProxy) -> str:
    return decrypt_field(proxy.phone_encrypted)


def _answer_contract_survey(caller: PortalCaller, overall: int) -> None:
    """The contract's cycle-end satisfaction, answered by the resident (not a family member) from the portal."""
    caller.require_self()
    with unit_of_work():
        row = contracting.answer_satisfaction(caller.resident_id, overall, actor=caller.actor)
        audit("portal.survey", object_type="resident", object_id=caller.resident_id, principal=caller.principal(),
              details={"code": CONTRACT_SURVEY, "contract_no": row.contract_no, "overall": overall})


# --- follow-up booking and satisfaction ----------------------------------------------------------------------------

BOOKING_HORIZON = timedelta(days=60)
HALF_DAYS = {"am": "上午", "pm": "下午"}
SURVEYS = {
    "service_2026": {"title": "家庭医生服务满意度", "questions": (
        ("attitude", "医生的服务态度"), ("timely", "随访是否按时"), ("explain", "用药和注意事项讲得清楚吗"),
        ("reach", "需要时能联系到家庭医生吗"))},
}


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
SLOT_DAYS = 14


def clinic_half_days() -> frozenset[tuple[int, str]]:
    """The village clinics' follow-up half-days (YGT_CLINIC_HALF_DAYS, e.g. "mon-am,mon-pm,…,sat-am"; default every
    half-day: village clinics open daily), as (weekday 0–6, "am"|"pm")."""
    raw = os.environ.get("YGT_CLINIC_HALF_DAYS") or ",".join(f"{d}-{h}" for d in WEEKDAYS for h in HALF_DAYS)
    out = set()
    for part in (p.strip().lower() for p in raw.split(",") if p.strip()):
        day, _, half = part.partition("-")
        if day not in WEEKDAYS or half not in HALF_DAYS:
            raise Invalid(f"YGT_CLINIC_HALF_DAYS 的写法不对：{part}（如 mon-am）", code="portal_bad_clinic_half_days")
        out.add((WEEKDAYS.index(day), half))
    return frozenset(out)


def slot_capacity() -> int:
    """Follow-up bookings one village clinic takes per half-day (YGT_BOOKING_CAPACITY, default 10)."""
    raw = os.environ.get("YGT_BOOKING_CAPACITY") or "10"
    if not raw.isdigit() or int(raw) <= 0:
        raise Invalid("YGT_BOOKING_CAPACITY 须为正整数", code="portal_bad_booking_capacity")
    return int(raw)


def _booked(org_code: str, since, until, *, excluding_resident: int | None = None) -> dict[tuple, int]:
    """Open booking requests per (day, half-day) of the residents of one village clinic."""
    q = (select(PortalBooking.slot_on, PortalBooking.half_day, func.count())
         .join(Resident, Resident.id == PortalBooking.resident_id)
         .where(Resident.org_code == org_code, PortalBooking.status == "requested",
                PortalBooking.slot_on >= since, PortalBooking.slot_on <= until)
         .group_by(PortalBooking.slot_on, PortalBooking.half_day))
    if excluding_resident is not None:
        q = q.where(PortalBooking.resident_id != excluding_resident)
    return {(d, h): n for d, h, n in session().execute(q)}


def slot_calendar(resident_id: int) -> list[dict]:
    """The next two weeks of the resident's village clinic: each open follow-up half-day with the places left (the
    resident's own open request counts as theirs, not as taken)."""
    resident = session().get(Resident, resident_id)
    assert resident is not None
    first = clock.today() + timedelta(days=1)
    last = first + timedelta(days=SLOT_DAYS - 1)
    open_days, capacity = clinic_half_days(), slot_capacity()
    taken = _booked(resident.org_code, first, last, excluding_resident=resident_id)
    mine = session().scalars(select(PortalBooking).where(PortalBooking.resident_id == resident_id,
                                                         PortalBooking.status == "requested")).first()
    out = []
    for offset in range(SLOT_DAYS):
        day = first + timedelta(days=offset)
        for half, half_name in HALF_DAYS.items():
            if (day.weekday(), half) not in open_days:
                continue
            used = taken.get((day, half), 0)
            out.append({"slot_on": day, "half_day": half, "capacity": capacity, "available": max(capacity - used, 0),
                        "mine": bool(mine and mine.slot_on == day and mine.half_day == half),
                        "label": f"{day.month}月{day.day}日 {WEEKDAY_NAMES[day.weekday()]} {half_name}"})
    return out


def book(caller: PortalCaller, *, slot_on, half_day: str, disease: str | None = None) -> PortalBooking:
    """Take a place in one of the village clinic's follow-up half-days (replaces an earlier open request); the family
    doctor is told in the inbox. A closed half-day is 422 `slot_closed`, a full one 409 `slot_full`."""
    today = clock.today()
    if slot_on <= today or slot_on > today + BOOKING_HORIZON:
        raise Invalid("请选择明天起 60 天内的日期", code="invalid_slot", field="slot_on")
    if half_day not in HALF_DAYS:
        raise Invalid("请选择上午或下午", code="invalid_slot", field="half_day")
    if (slot_on.weekday(), half_day) not in clinic_half_days():
        raise Invalid(f"村卫生室{WEEKDAY_NAMES[slot_on.weekday()]}{HALF_DAYS[half_day]}不安排随访，请选择其他时段",
                      code="slot_closed", field="half_day")
    with unit_of_work() as s:
        resident = s.get(Resident, caller.resident_id)
        assert resident is not None
        # one clinic's places are taken one at a time: its organisation row is locked (PostgreSQL; SQLite writes are
        # serial anyway), so two residents cannot both take the last place
        s.scalars(select(Organization.code).where(Organization.code == resident.org_code).with_for_update()).first()
        used = _booked(resident.org_code, slot_on, slot_on, excluding_resident=resident.id).get((slot_on, half_day), 0)
        if used >= slot_capacity():
            raise Conflict(f"{slot_on.month}月{slot_on.day}日{HALF_DAYS[half_day]}已约满，请选择其他时段",
                           code="slot_full")
        s.execute(update(PortalBooking).where(PortalBooking.resident_id == resident.id,
                                              PortalBooking.status == "requested").values(status="cancelled"))
        row = PortalBooking(resident_id=resident.id, disease=disease, slot_on=slot_on, half_day=half_day,
                            status="requested", requested_by="proxy" if caller.is_proxy else "self",
                            created_at=clock.now())
        s.add(row)
        s.flush()
        if resident.family_doctor_user_id:
            notify(resident.family_doctor_user_id, kind="portal_booking",
                   title=f"居民预约随访：{resident.name} {slot_on:%m月%d日}{HALF_DAYS[half_day]}",
                   body="居民在居民端预约了随访时段，请按时接诊或电话改约。", link=f"/residents/{resident.id}",
                   dedupe_key=f"portal_booking:{row.id}")
        audit("portal.booking", object_type="resident", object_id=resident.id, principal=caller.principal(),
              details={"slot_on": slot_on.isoformat(), "half_day": half_day})
        return row


CONTRACT_SURVEY = "contract_cycle"


def surveys(resident_id: int) -> list[dict]:
    """The standing surveys, and — while a family-doctor contract's cycle-end 满意度评价 waits — that one first."""
    answered = {r.code: r.answered_at for r in session().scalars(
        select(PortalSurvey).where(PortalSurvey.resident_id == resident_id))}
    out = [{"code": code, "title": spec["title"], "answered_at": answered.get(code),
            "questions": [{"key": k, "text": t} for k, t in spec["questions"]]} for code, spec in SURVEYS.items()]
    ended = contracting.satisfaction_open(resident_id)
    if ended is not None:
        out.insert(0, {"code": CONTRACT_SURVEY, "answered_at": None, "questions": [],
                       "title": f"家庭医生签约服务满意度（{ended.starts_on:%Y年%m月}–{ended.ends_on:%Y年%m月}周期）"})
    return out


def answer_survey(caller: PortalCaller, *, code: str, overall: int, answers: dict[str, int]) -> PortalSurvey | None:
    if code == CONTRACT_SURVEY:
        _answer_contract_survey(caller, overall)
        return None
    spec = SURVEYS.get(code)
    if spec is None:
        raise NotFound("问卷不存在 (survey not found)")
    keys = {k for k, _ in spec["questions"]}
    if set(answers) - keys:
        raise Invalid("问卷中没有这些题目", code="validation_error", field="answers", unknown=sorted(set(answers) - keys))
    with unit_of_work() as s:
        if s.scalars(select(PortalSurvey).where(PortalSurvey.resident_id == caller.resident_id,
                                                PortalSurvey.code == code)).first():
            raise Conflict("您已填写过该问卷，感谢参与", code="survey_answered")
        row = PortalSurvey(resident_id=caller.resident_id, code=code, overall=overall, answers=dict(answers),
                           answered_at=clock.now())
        s.add(row)
        audit("portal.survey", object_type="resident", object_id=caller.resident_id, principal=caller.principal(),
              details={"code": code, "overall": overall})
        return row
