"""Use cases of family-doctor contracting (`fd_contract`, wave2 §6.2).

    request_contract(resident_id, package_code=None, channel="portal")   # the portal's "I want to sign / renew"
    start_outreach(principal, org_code=None, dry_run=True)               # unsigned key-group residents of a team

One resident holds one active contract at a time [W13]: a second request is refused naming the existing one, unless
the existing one is in its last 30 days (renewal or a switch at cycle end) or the resident moved (the old contract
ends when the new one starts). The process's service tasks call the step functions below (through `operators`);
each step is idempotent on the contract's state.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.auth.principal import SYSTEM, Principal
from app.core import clock, logs
from app.core.db import session, unit_of_work
from app.core.errors import Conflict, Invalid, NotFound
from app.org.queries import find_org
from app.residents import queries as residents
from app.workflows import messages, runner
from app.workflows.deploy import latest_process_versions
from app.workflows.models import HumanTask

from . import catalogue
from .models import Contract, ContractItem, ContractPayment

log = logs.get("contracting")
PROCESS = "fd_contract"
PAYMENT_MESSAGE = "contract_paid"
OFFER_DAYS = 7                      # wave2 §6.2 step 4: TB 7 d voids an unpaid offer [P]
RENEWAL_DAYS = 30                   # renewal talk 30 days before expiry
CYCLE_MONTHS = 12                   # a cycle is at least one year [W13]
OPEN = ("requested", "assessed", "awaiting_payment", "awaiting_signature")
STATUS_LABELS = {"requested": "已申请", "assessed": "已评估", "awaiting_payment": "待缴费",
                 "awaiting_signature": "待签署", "active": "履约中", "voided": "已作废（未缴费）",
                 "refused": "未签约（已有有效签约）", "ended": "已到期", "terminated": "已解约"}
CHANNEL_LABELS = {"portal": "居民线上申请", "outreach": "团队主动签约", "staff": "门诊签约", "renewal": "续约"}
SIGNATURE_METHODS = {"e_sign": "手机电子签名", "paper": "纸质协议扫描件"}
MAX_SIGNATURE_BYTES = 2_000_000


class ProcessNotDeployed(Conflict):
    code = "process_not_deployed"


class ActiveContractExists(Conflict):
    code = "active_contract_exists"


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def active_contract(resident_id: int) -> Contract | None:
    return session().scalars(select(Contract).where(Contract.resident_id == resident_id,
                                                    Contract.status == "active")
                             .order_by(Contract.id.desc())).first()


def open_request(resident_id: int) -> Contract | None:
    return session().scalars(select(Contract).where(Contract.resident_id == resident_id, Contract.status.in_(OPEN))
                             .order_by(Contract.id.desc())).first()


def _refuse_second(existing: Contract, *, moved: bool) -> None:
    """The one-active-contract rule: allowed only in the last 30 days of the cycle or after a move."""
    if moved or existing.ends_on is None:
        return
    if clock.today() >= existing.ends_on - timedelta(days=RENEWAL_DAYS):
        return
    raise ActiveContractExists(
        f"该居民已有有效签约（协议号 {existing.contract_no}，有效期至 {existing.ends_on:%Y-%m-%d}）；"
        f"仅可在周期结束前30天内续约或更换团队，迁居除外 (the resident already has an active contract)",
        contract_no=existing.contract_no, contract_id=existing.id, ends_on=existing.ends_on.isoformat(),
        switch_from=(existing.ends_on - timedelta(days=RENEWAL_DAYS)).isoformat())


def request_contract(resident_id: int, package_code: str | None = None, channel: str = "portal", *,
                     actor: str | None = None, moved: bool = False, org_code: str | None = None) -> Contract:
    """Start one `fd_contract` for the resident (the portal's sign/renew request, an outreach start, a renewal).

    Refused: unknown resident (404 resident_not_found), unknown package (404 unknown_package), a request already
    under way (409 contract_in_progress), an active contract outside its renewal window (409
    active_contract_exists, naming it)."""
    if channel not in CHANNEL_LABELS:
        raise Invalid("未知的签约渠道 (unknown channel)", code="invalid_channel", known=list(CHANNEL_LABELS))
    with unit_of_work() as s:
        resident = residents.get_resident(resident_id, SYSTEM)
        if resident is None:
            raise NotFound("居民不存在 (resident not found)", code="resident_not_found", resident_id=resident_id)
        if package_code:
            catalogue.current(package_code)
        pending = open_request(resident_id)
        if pending is not None:
            raise Conflict(f"该居民已有进行中的签约申请（{pending.contract_no}，{STATUS_LABELS[pending.status]}）"
                           f"(a contract request is already under way)", code="contract_in_progress",
                           contract_no=pending.contract_no, contract_id=pending.id, status_now=pending.status)
        existing = active_contract(resident_id)
        if existing is not None:
            _refuse_second(existing, moved=moved)
        if PROCESS not in latest_process_versions(s):
            raise ProcessNotDeployed("签约流程未部署 (fd_contract is not deployed)", process_id=PROCESS)
        now = clock.now()
        org = org_code or resident.org_code
        row = Contract(contract_no=f"tmp-{uuid.uuid4().hex[:18]}", resident_id=resident_id, org_code=org,
                       org_path=resident.org_path if org == resident.org_code else _path_of(org),
                       doctor_user_id=resident.family_doctor_user_id, channel=channel, status="requested",
                       requested_package=package_code.upper() if package_code else None, assessment={},
                       recommended=[], packages=[], amount_due_fen=0,
                       previous_id=existing.id if existing is not None else None,
                       requested_by=actor or ("resident" if channel == "portal" else "system"),
                       created_at=now, updated_at=now)
        s.add(row)
        s.flush()
        row.contract_no = f"QY{clock.today():%Y%m%d}{row.id:05d}"
        data = {"contract_id": row.id, "contract_no": row.contract_no, "resident_id": resident_id,
                "team_org": org, "team_role": _team_role(org), "checkpoint": None, "channel": channel, "channel_label": CHANNEL_LABELS[channel],
                "requested_package": row.requested_package or "", "moved": bool(moved),
                # optional answers of later forms: the engine does not apply a form's defaults, so an answer left
                # out must still name a value (a missing one stopped the process at record_renewal)
                "renewal_note": "", "satisfaction_comment": "", "termination_note": "",
                "age": clock.age(resident.birth_date, clock.today())}
        inst = runner.start_instance(PROCESS, actor=runner.Actor(row.requested_by), data=data,
                                     resident_id=resident_id, org_code=org, business_key=f"contract:{row.contract_no}")
        row.instance_id = inst.id
        return row


def _team_role(org_code: str) -> str:
    """Who works the team's tasks: the village doctor for a village's resident, else the township's doctors."""
    org = find_org(org_code)
    return "village_doctor" if org is not None and org.level == "village" else "township_doctor"


def _path_of(org_code: str) -> str:
    org = find_org(org_code)
    if org is None:
        raise NotFound("机构不存在 (organization not found)", code="organization_not_found", org_code=org_code)
    return org.path


def _locked(contract_id: int) -> Contract:
    row = session().scalars(select(Contract).where(Contract.id == contract_id).with_for_update()).first()
    if row is None:
        raise NotFound("签约不存在 (contract not found)", code="contract_not_found", contract_id=contract_id)
    return row


def _set(row: Contract, status: str) -> None:
    row.status, row.updated_at = status, clock.now()


# -- steps of the process ------------------------------------------------------------------------------------

def record_assessment(contract_id: int, assessment: dict[str, Any]) -> dict[str, Any]:
    row = _locked(contract_id)
    row.assessment = dict(assessment)
    if row.status == "requested":
        _set(row, "assessed")
    return {"status": row.status}


def record_recommendation(contract_id: int, packages: list[str] | str | None) -> dict[str, Any]:
    """R9's list (deduplicated, in table order) plus the resident's own request, with names and prices."""
    row = _locked(contract_id)
    codes: list[str] = []
    for code in ([packages] if isinstance(packages, str) else list(packages or [])):
        if code not in codes:
            codes.append(code)
    row.recommended = codes
    offered = {p.code: p for p in catalogue.current_packages()}
    lines = []
    for code in codes + ([row.requested_package] if row.requested_package and row.requested_package not in codes
                         else []):
        pkg = offered.get(code)
        if pkg is not None:
            own = pkg.payer_split.get("self", 0)
            tag = "推荐" if code in codes else "居民申请"
            lines.append(f"【{tag}】{pkg.name}（{code}）个人自付 {own / 100:.2f} 元")
    options = [{"value": p.code, "label": f"{p.name}（个人自付 {p.payer_split.get('self', 0) / 100:.2f} 元）"}
               for p in offered.values()]
    chosen = [c for c in codes if c in offered]
    if row.requested_package in offered and row.requested_package not in chosen:
        chosen.append(row.requested_package)
    return {"recommended": chosen, "recommended_text": "；".join(lines) or "基础包", "options": options}


def selection_problems(packages: list[str], disclosure_ack: bool) -> None:
    """The team's selection is checked when the form is submitted (nothing half-applied)."""
    if not disclosure_ack:
        raise Invalid("请先向居民告知服务内容、收费和解约条件，并勾选已告知 (disclosure not confirmed)",
                      code="disclosure_required", path="/disclosure_ack")
    if not packages:
        raise Invalid("请至少选择一个服务包 (select at least one package)", code="package_required", path="/packages")
    for code in packages:
        catalogue.current(code)


def select_packages(contract_id: int, packages: list[str], disclosure_ack: bool) -> dict[str, Any]:
    """Freeze the chosen packages (their current versions), the resident's own share and the offer's deadline."""
    row = _locked(contract_id)
    if row.status in ("requested", "assessed"):
        selection_problems(packages, disclosure_ack)
        chosen = [catalogue.current(code) for code in dict.fromkeys(packages)]
        row.packages = [{"code": p.code, "version": p.version, "name": p.name, "price_fen": p.price_fen,
                         "payer_split": p.payer_split, "items": p.items} for p in chosen]
        row.amount_due_fen = sum(p.payer_split.get("self", 0) for p in chosen)
        row.offer_expires_at = clock.now() + timedelta(days=OFFER_DAYS)
        _set(row, "awaiting_payment" if row.amount_due_fen > 0 else "awaiting_signature")
    return {"paid": row.amount_due_fen > 0, "amount_due_fen": row.amount_due_fen,
            "amount_text": f"{row.amount_due_fen / 100:.2f} 元",
            "offer_expires_at": (row.offer_expires_at or clock.now()).isoformat()}


def payment_applied(contract_id: int) -> dict[str, Any]:
    row = _locked(contract_id)
    if row.status == "awaiting_payment":
        row.paid_at = row.paid_at or clock.now()
        _set(row, "awaiting_signature")
    return {"status": row.status}


def void_offer(contract_id: int) -> dict[str, Any]:
    """The payment deadline passed: the offer is void (a later payment is recorded and flagged, not applied)."""
    row = _locked(contract_id)
    if row.status == "awaiting_payment":
        _set(row, "voided")
        row.end_reason = f"{OFFER_DAYS}天内未缴费，服务包报价作废"
    return {"status": row.status}


def record_payment(*, contract_no: str, payment_ref: str, amount_fen: int, payer: str = "self",
                   actor: str = "cashier") -> dict[str, Any]:
    """The cashier/insurance system's confirmation. Applied (the waiting process continues) only when the offer
    awaits payment and the amount covers the resident's share; otherwise kept and flagged for the team. A repeat of
    the same payment_ref answers the first result."""
    s = session()
    seen = s.scalars(select(ContractPayment).where(ContractPayment.payment_ref == payment_ref)).first()
    if seen is not None:
        return _payment_answer(seen, repeat=True)
    row = s.scalars(select(Contract).where(Contract.contract_no == contract_no).with_for_update()).first()
    flag = None
    if row is None:
        flag = "unknown_contract"
    elif row.status == "voided":
        flag = "offer_voided"
    elif row.status != "awaiting_payment":
        flag = "not_awaiting_payment"
    elif amount_fen < row.amount_due_fen:
        flag = "amount_short"
    pay = ContractPayment(payment_ref=payment_ref, contract_no=contract_no, contract_id=row.id if row else None,
                          amount_fen=amount_fen, payer=payer, status="flagged" if flag else "applied", flag=flag,
                          received_at=clock.now())
    s.add(pay)
    s.flush()
    if flag is None and row is not None:
        delivery = messages.deliver(PAYMENT_MESSAGE, {"contract_no": contract_no, "amount_fen": amount_fen,
                                                      "payment_ref": payment_ref},
                                    actor=runner.Actor(actor), start=False)
        if not delivery.correlated:
            pay.status, pay.flag = "flagged", "no_waiting_instance"
    if pay.flag:
        log.warning("contract payment flagged", extra={"contract_no": contract_no, "flag": pay.flag,
                                                       "payment_ref": payment_ref})
    return _payment_answer(pay, repeat=False)


FLAG_LABELS = {"unknown_contract": "协议号不存在", "offer_voided": "报价已作废（超期未缴费）",
               "not_awaiting_payment": "该签约当前不需缴费", "amount_short": "金额不足",
               "no_waiting_instance": "签约流程未在等待缴费"}


def _payment_answer(pay: ContractPayment, *, repeat: bool) -> dict[str, Any]:
    return {"payment_id": pay.id, "contract_no": pay.contract_no, "status": pay.status, "applied":
            pay.status == "applied", "flag": pay.flag, "flag_label": FLAG_LABELS.get(pay.flag or ""),
            "repeat": repeat}


def store_signature(p: Principal, contract_id: int, *, method: str, image: str, signer: str) -> Contract:
    """The resident's e-signature (a PNG drawn on the phone) or a scan of the signed paper agreement."""
    if method not in SIGNATURE_METHODS:
        raise Invalid("签署方式无效 (unknown method)", code="invalid_signature_method", known=list(SIGNATURE_METHODS))
    allowed = ("data:image/png;base64,",) if method == "e_sign" else (
        "data:image/png;base64,", "data:image/jpeg;base64,", "data:application/pdf;base64,")
    if not image.startswith(allowed) or len(image) < 200:
        raise Invalid("签名图像无效：请在签名框内签名或上传协议扫描件 (signature image missing or not an image)",
                      code="invalid_signature_image")
    if len(image) > MAX_SIGNATURE_BYTES:
        raise Invalid("文件过大（上限约 1.5 MB）(file too large)", code="signature_too_large")
    if not signer.strip():
        raise Invalid("请填写签署人 (signer required)", code="signer_required", path="/signer")
    row = _locked(contract_id)
    if row.status != "awaiting_signature":
        raise Conflict(f"当前状态（{STATUS_LABELS.get(row.status, row.status)}）不能签署 (not awaiting signature)",
                       code="not_awaiting_signature", status_now=row.status)
    row.signature = {"method": method, "image": image, "signer": signer.strip()[:60], "captured_by": p.username,
                     "captured_at": clock.now().isoformat()}
    row.updated_at = clock.now()
    return row


def activate(contract_id: int, moved: bool = False) -> dict[str, Any]:
    """Signed: check uniqueness again, set the cycle and generate the service schedule from the package items."""
    row = _locked(contract_id)
    if row.status == "active":
        return {"activated": True, "starts_on": row.starts_on.isoformat() if row.starts_on else None}
    if row.status != "awaiting_signature":
        return {"activated": False, "reason": row.status}
    other = session().scalars(select(Contract).where(Contract.resident_id == row.resident_id,
                                                     Contract.status == "active", Contract.id != row.id)
                              .with_for_update()).first()
    start = clock.today()
    replaced = None
    if other is not None:
        try:
            _refuse_second(other, moved=moved)
        except ActiveContractExists as exc:
            _set(row, "refused")
            row.end_reason = exc.message
            return {"activated": False, "reason": "active_contract_exists", "existing": other.contract_no}
        if moved:
            _set(other, "terminated")
            other.end_reason = f"居民迁居，由新协议 {row.contract_no} 替代"
            other.ends_on = start - timedelta(days=1) if start > (other.starts_on or start) else start
            replaced = _terminating(other, row, "moved")
        else:
            if other.ends_on is not None:
                start = other.ends_on + timedelta(days=1)      # renewal / switch: the new cycle starts at the old end
            if other.org_code != row.org_code:
                other.renewal = other.renewal or "switch"
                replaced = _terminating(other, row, "switch")
    row.starts_on = start
    row.ends_on = add_months(start, CYCLE_MONTHS) - timedelta(days=1)
    _set(row, "active")
    _generate_schedule(row)
    return {"activated": True, "starts_on": row.starts_on.isoformat(), "ends_on": row.ends_on.isoformat(),
            "replaced": replaced}


TERMINATION_REASONS = {"moved": "居民迁居", "switch": "更换家庭医生团队"}
INFORMED_HOW = {"in_person": "当面告知", "phone": "电话告知", "sms": "短信告知"}


def _terminating(old: Contract, new: Contract, kind: str) -> dict[str, Any]:
    """The old team's 解约 (wave2 §6.2): the reason and the date it takes effect are set on the old contract now;
    the old team confirms in `terminate_old` that the resident was told (`confirm_termination`)."""
    assert old.ends_on is not None
    old.termination = {"kind": kind, "reason": TERMINATION_REASONS[kind], "new_contract_no": new.contract_no,
                       "new_team_org": new.org_code, "effective_on": old.ends_on.isoformat(),
                       "recorded_at": clock.now().isoformat()}
    old.updated_at = clock.now()
    done, promised = _ledger_totals(old.id)
    return {"contract_id": old.id, "contract_no": old.contract_no, "org_code": old.org_code,
            "role": _team_role(old.org_code), "reason": TERMINATION_REASONS[kind],
            "effective_on": old.ends_on.isoformat(), "delivered": done, "promised": promised,
            "text": f"协议号 {old.contract_no} 因{TERMINATION_REASONS[kind]}解约，"
                    f"{'即日' if kind == 'moved' else f'于 {old.ends_on:%Y-%m-%d} 到期后'}终止；"
                    f"服务台账已完成 {done}/{promised} 项次，新协议 {new.contract_no}"}


def _ledger_totals(contract_id: int) -> tuple[int, int]:
    items = list(session().scalars(select(ContractItem).where(ContractItem.contract_id == contract_id)))
    return sum(i.delivered for i in items), sum(i.quantity for i in items)


def termination_problems(informed_how: str | None, informed: bool) -> None:
    if informed_how not in INFORMED_HOW:
        raise Invalid("请选择告知居民的方式 (choose how the resident was informed)", code="informed_how_required",
                      path="/informed_how")
    if not informed:
        raise Invalid("请先告知居民解约原因、生效日期和未完成服务的处理，并勾选已告知 (resident not informed)",
                      code="resident_not_informed", path="/resident_informed")


def confirm_termination(contract_id: int, informed_how: str, informed: bool, note: str | None = None
                        ) -> dict[str, Any]:
    """The old team confirmed the 解约: how the resident was told, the ledger as it stood (closed for a move;
    for a switch it closes at the cycle end, when `expire` ends the contract as terminated). An SMS notice is
    sent when the team chose to inform by SMS."""
    termination_problems(informed_how, informed)
    row = _locked(contract_id)
    term = dict(row.termination or {})
    if term.get("confirmed_at"):
        return {"confirmed": True, "contract_no": row.contract_no}
    done, promised = _ledger_totals(row.id)
    term.update({"informed_how": informed_how, "note": (note or "")[:500] or None,
                 "confirmed_at": clock.now().isoformat(), "ledger_delivered": done, "ledger_promised": promised})
    row.termination = term
    row.updated_at = clock.now()
    if informed_how == "sms":
        _sms_termination(row, term)
    return {"confirmed": True, "contract_no": row.contract_no}


_resident_notifiers: list[Callable[..., bool]] = []


def resident_notifier(fn: Callable[..., bool]) -> Callable[..., bool]:
    """Register `fn(resident_id, *, purpose, text) -> bool` that sends a notice to the resident's phone (the portal
    registers its SMS gateway here in app/wiring.py; contracting does not talk to connectors itself)."""
    if fn not in _resident_notifiers:
        _resident_notifiers.append(fn)
    return fn


def _sms_termination(row: Contract, term: dict[str, Any]) -> None:
    text = (f"【医共体】您的家庭医生签约（协议号 {row.contract_no}）因{term['reason']}将于 {term['effective_on']} "
            f"终止，新的签约协议号 {term['new_contract_no']}。如有疑问请联系原签约医生。")
    sent = any(fn(row.resident_id, purpose="contract_termination", text=text) for fn in _resident_notifiers)
    term["sms_sent"] = sent
    row.termination = dict(term)
    if not sent:
        log.warning("termination sms not sent", extra={"contract_no": row.contract_no})


def _generate_schedule(row: Contract) -> None:
    """One `contract_items` row per package item: quantity per cycle and the due date of each unit (spread evenly
    over the cycle, each unit due at the end of its slice)."""
    s = session()
    assert row.starts_on is not None
    for pkg in row.packages:
        for item in pkg["items"]:
            units = catalogue.units_per_cycle(item)
            months = CYCLE_MONTHS // catalogue.PERIODS[item["period"]]
            per_period = int(item["quantity"])
            due = []
            for period_no in range(catalogue.PERIODS[item["period"]]):
                end = add_months(row.starts_on, months * (period_no + 1)) - timedelta(days=1)
                due += [end.isoformat()] * per_period
            s.add(ContractItem(contract_id=row.id, package_code=pkg["code"], service_code=item["service_code"],
                               name=item["name"], kind=item["kind"], disease=item.get("disease"),
                               provider_level=item["provider_level"], quantity=units, delivered=0,
                               due_dates=due[:units]))
    s.flush()


def checkpoints(row: Contract) -> list[tuple[str, datetime]]:
    """The cycle's timed checks: quarterly progress at 3, 6 and 9 months, the renewal talk 30 days before expiry,
    expiry the day after the last day (all at 08:00 local time)."""
    assert row.starts_on is not None and row.ends_on is not None

    def at(day: date) -> datetime:
        return clock.start_of_day(day) + timedelta(hours=8)
    out = [("quarter", at(add_months(row.starts_on, m))) for m in (3, 6, 9)]
    out.append(("renewal", at(row.ends_on - timedelta(days=RENEWAL_DAYS - 1))))
    out.append(("expiry", at(row.ends_on + timedelta(days=1))))
    return sorted(out, key=lambda c: c[1])


def next_checkpoint(contract_id: int, after: str | None = None) -> dict[str, Any]:
    row = session().get(Contract, contract_id)
    if row is None or row.starts_on is None:
        raise NotFound("签约不存在 (contract not found)", code="contract_not_found", contract_id=contract_id)
    if row.status != "active":                       # terminated (a move) meanwhile: the cycle's checks stop
        return {"kind": "closed", "at": clock.now().isoformat()}
    last = datetime.fromisoformat(after) if after else None
    for kind, when in checkpoints(row):
        if last is None or when > last:
            return {"kind": kind, "at": when.isoformat()}
    return {"kind": "expiry", "at": clock.now().isoformat()}


def still_active(contract_id: int) -> dict[str, Any]:
    row = session().get(Contract, contract_id)
    return {"active": row is not None and row.status == "active"}


def lagging_items(row: Contract, on: date) -> list[dict[str, Any]]:
    """Items with fewer units delivered than have fallen due by `on` (pure over the rows)."""
    out = []
    for item in session().scalars(select(ContractItem).where(ContractItem.contract_id == row.id)
                                  .order_by(ContractItem.id)):
        due = sum(1 for d in item.due_dates if date.fromisoformat(d) <= on)
        if item.delivered < due:
            out.append({"item_id": item.id, "name": item.name, "due": due, "delivered": item.delivered,
                        "missing": due - item.delivered})
    return out


def progress_check(contract_id: int) -> dict[str, Any]:
    row = _locked(contract_id)
    lag = lagging_items(row, clock.today())
    return {"lagging": len(lag), "lagging_text": "；".join(f"{i['name']}：应完成 {i['due']}，已完成 {i['delivered']}"
                                                         for i in lag)}


def record_renewal(contract_id: int, decision: str, note: str | None = None) -> dict[str, Any]:
    """The team's renewal talk: renew starts the next cycle's `fd_contract` (the one-contract rule allows it in
    the last 30 days); switch and lapse are recorded for the cycle end."""
    row = _locked(contract_id)
    if row.renewal is None:
        row.renewal = decision
        row.updated_at = clock.now()
        if decision == "renew" and open_request(row.resident_id) is None:
            nxt = request_contract(row.resident_id, None, "renewal", actor="system", org_code=row.org_code)
            return {"renewal": decision, "next_contract_no": nxt.contract_no}
    return {"renewal": row.renewal, "next_contract_no": None}


def expire(contract_id: int) -> dict[str, Any]:
    row = _locked(contract_id)
    if row.status == "active" and row.termination:
        _set(row, "terminated")
        row.end_reason = f"{row.termination['reason']}，由新协议 {row.termination['new_contract_no']} 接续"
    elif row.status == "active":
        _set(row, "ended")
        row.end_reason = {"renew": "到期续约", "switch": "到期更换团队", "lapse": "到期未续约"}.get(row.renewal or "",
                                                                                          "周期结束")
    return {"status": row.status}


def record_satisfaction(contract_id: int, score: int, comment: str | None = None) -> dict[str, Any]:
    row = _locked(contract_id)
    if row.satisfaction is None:
        row.satisfaction = int(score)
        row.assessment = {**row.assessment, "satisfaction_comment": comment}
    return {"satisfaction": row.satisfaction}


SATISFACTION_TASK = "satisfaction"


def satisfaction_open(resident_id: int) -> Contract | None:
    """The resident's ended contract whose cycle-end satisfaction step (满意度评价) is still open, if any."""
    return session().scalars(
        select(Contract).join(HumanTask, HumanTask.instance_id == Contract.instance_id)
        .where(Contract.resident_id == resident_id, Contract.status.in_(("ended", "terminated")),
               Contract.satisfaction.is_(None), HumanTask.element_id == SATISFACTION_TASK,
               HumanTask.status == "open")
        .order_by(Contract.id.desc())).first()


def answer_satisfaction(resident_id: int, score: int, comment: str | None = None, *, actor: str) -> Contract:
    """The resident answers the cycle-end satisfaction from the portal: the team's 满意度评价 task is completed
    with the resident's own score (it then feeds 签约居民满意度). 404 satisfaction_not_open when no cycle waits for
    it; 422 invalid_score outside 1–5."""
    if not 1 <= int(score) <= 5:
        raise Invalid("满意度应为 1–5 分 (score 1-5)", code="invalid_score", path="/overall")
    row = satisfaction_open(resident_id)
    if row is None:
        raise NotFound("没有待评价的签约周期 (no contract cycle awaits a satisfaction answer)",
                       code="satisfaction_not_open")
    task = session().scalars(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                     HumanTask.element_id == SATISFACTION_TASK,
                                                     HumanTask.status == "open").with_for_update()).first()
    assert task is not None
    runner.complete_human_task(task, {"satisfaction_score": int(score),
                                      "satisfaction_comment": (comment or "居民在居民端评价")[:500]},
                               runner.Actor(actor))
    return row


# -- outreach (cohort start over unsigned key-group residents) -------------------------------------------------

def start_outreach(p: Principal, *, candidates: list[dict[str, Any]], dry_run: bool = True) -> dict[str, Any]:
    """Start `fd_contract` (channel outreach) for each candidate (unsigned key-group residents); a dry run only
    reports who would be started. A candidate who got a contract meanwhile is skipped with the reason."""
    report, started = [], 0
    for cand in candidates:
        entry: dict[str, Any] = {**cand, "skip": _outreach_skip(cand["resident_id"])}
        if entry["skip"] is None and not dry_run:
            row = request_contract(cand["resident_id"], None, "outreach", actor=p.username)
            entry["contract_no"] = row.contract_no
            started += 1
        report.append(entry)
    return {"dry_run": dry_run, "would_start": sum(1 for e in report if e["skip"] is None),
            "started": started, "residents": report}


def _outreach_skip(resident_id: int) -> str | None:
    if open_request(resident_id) is not None:
        return "签约办理中"
    if active_contract(resident_id) is not None:
        return "已签约"
    return None
