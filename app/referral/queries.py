"""Read side of referral: lists in the caller's scope, one referral, a resident's referrals, and the live indicators.

Indicators (wave2 §1.5) are SQL over the `referrals` rows the processes keep current, so they move as instances move.
Each indicator is a (numerator, denominator) pair of conditions; the drill-down lists exactly the rows it counts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, true

from app.auth.principal import Principal
from app.core import clock
from app.core.db import session
from app.core.errors import NotFound
from app.org.models import Organization
from app.org.queries import find_org
from app.org.scope import org_scope_filter
from app.vocabulary import Disease

from . import catalogue
from .models import Referral
from .services import OPEN_STATUSES

R = Referral
STATUS_LABELS = {"requested": "待处理", "drafting": "填写转诊单", "pending_approval": "待县外审批", "offered": "待接诊",
                 "redirected": "已改派", "accepted": "已接收", "rejected": "已拒收", "appointed": "已预约",
                 "arrived": "已到诊", "completed": "已完成", "no_show": "未到位", "arrived_elsewhere": "已到位(他院)",
                 "transferred_out": "已转县外", "cancelled": "已撤销", "received": "已接收(基层)"}
URGENCY_LABELS = {"emergency": "紧急", "priority": "优先", "routine": "常规"}
DIRECTION_LABELS = {"up": "上转", "down": "下转"}


def in_scope(p: Principal) -> ColumnElement[bool]:
    """Referrals sent from or to the caller's subtree (county-wide roles: all; a patient: their own)."""
    conds = [org_scope_filter(R.from_org_path, p), org_scope_filter(R.to_org_path, p)]
    if p.resident_id is not None and p.has_role("patient"):
        conds.append(R.resident_id == p.resident_id)
    return or_(*conds)


def get(p: Principal, referral_id: int) -> Referral:
    row = session().scalars(select(R).where(R.id == referral_id, in_scope(p))).first()
    if row is None:
        raise NotFound("转诊记录不存在 (referral not found)", code="referral_not_found", referral_id=referral_id)
    return row


def open_referral_of(p: Principal, resident_id: int) -> dict[str, Any] | None:
    """The caller's open referral of this resident (sent from or received by the caller's organisations), or None:
    while it is open the receiving side may read the resident's network record (app.recognition, via wiring)."""
    row = session().scalars(select(R).where(R.resident_id == resident_id, R.status.in_(OPEN_STATUSES), in_scope(p))
                            .order_by(R.requested_at.desc(), R.id.desc())).first()
    if row is None:
        return None
    return {"ref": row.id, "label": f"{DIRECTION_LABELS.get(row.direction, '')}转诊 {row.referral_no}"}


def by_number(referral_no: str) -> Referral | None:
    return session().scalars(select(R).where(R.referral_no == referral_no)).first()


# -- filters -------------------------------------------------------------------------------------------------

def _period(start: date | None, end: date | None, column=None) -> list:
    column = column if column is not None else R.requested_at
    conds = []
    if start:
        conds.append(column >= clock.start_of_day(start))
    if end:
        conds.append(column < clock.start_of_day(end + timedelta(days=1)))
    return conds


def _filters(p: Principal, args: dict[str, Any]) -> list:
    conds = [in_scope(p)]
    org = find_org(args["org_code"]) if args.get("org_code") else None
    if args.get("org_code"):
        if org is None:
            raise NotFound("机构不存在 (organization not found)", code="organization_not_found")
        conds.append(or_(R.from_org_path.startswith(org.path, autoescape=True),
                         R.to_org_path.startswith(org.path, autoescape=True)))
    for key in ("direction", "status", "disease", "urgency", "resident_id"):
        if args.get(key) not in (None, ""):
            conds.append(getattr(R, key) == args[key])
    if args.get("q"):
        like = f"%{args['q']}%"
        conds.append(or_(R.referral_no.like(like), R.resident_name.like(like)))
    if args.get("open_emergency"):
        conds.append(OPEN_EMERGENCY)
    conds += _period(args.get("start"), args.get("end"))
    return conds


def list_referrals(p: Principal, args: dict[str, Any]) -> tuple[list[dict], int]:
    conds = _filters(p, args)
    if args.get("indicator"):
        num, den = INDICATORS[args["indicator"]].conditions()
        conds.append(num if args.get("part", "numerator") == "numerator" else den)
    total = session().scalar(select(func.count()).select_from(R).where(*conds)) or 0
    page, per_page = args.get("page", 1), args.get("per_page", 50)
    rows = session().scalars(select(R).where(*conds).order_by(R.requested_at.desc(), R.id.desc())
                             .offset((page - 1) * per_page).limit(per_page))
    return [item(r) for r in rows], total


def _org_names(codes) -> dict[str, str]:
    codes = [c for c in set(codes) if c]
    if not codes:
        return {}
    return dict(session().execute(select(Organization.code, Organization.name).where(Organization.code.in_(codes))).all())


def item(r: Referral, names: dict[str, str] | None = None) -> dict[str, Any]:
    names = names if names is not None else _org_names([r.from_org_code, r.to_org_code])
    return {"id": r.id, "referral_no": r.referral_no, "direction": r.direction,
            "direction_label": DIRECTION_LABELS[r.direction], "status": r.status,
            "status_label": STATUS_LABELS.get(r.status, r.status), "urgency": r.urgency,
            "urgency_label": URGENCY_LABELS.get(r.urgency, r.urgency), "reason_code": r.reason_code,
            "reason": r.reason, "disease": r.disease, "disease_label": Disease.label_of(r.disease) if r.disease else None,
            "capability": r.capability, "capability_label": catalogue.label(r.capability),
            "resident_id": r.resident_id, "resident_name": r.resident_name, "source": r.source,
            "from_org_code": r.from_org_code, "from_org_name": names.get(r.from_org_code or "", ""),
            "to_org_code": r.to_org_code,
            "to_org_name": r.external_hospital or names.get(r.to_org_code or "", ""),
            "target_level": r.target_level, "out_of_county": r.out_of_county,
            "external_hospital": r.external_hospital, "insurance_filing_no": r.insurance_filing_no,
            "reject_reason": r.reject_reason, "reject_note": r.reject_note, "no_show_reason": r.no_show_reason,
            "instance_id": r.instance_id,
            "parent_id": r.parent_id, "requested_at": r.requested_at, "offered_at": r.offered_at,
            "decision_due_at": r.decision_due_at, "decided_at": r.decided_at, "accepted_at": r.accepted_at,
            "rejected_at": r.rejected_at, "appointment_at": r.appointment_at, "arrived_at": r.arrived_at,
            "result_at": r.result_at, "follow_up_due_on": r.follow_up_due_on,
            "follow_up_done_at": r.follow_up_done_at, "closed_at": r.closed_at, "active": is_active(r)}


def detail(r: Referral) -> dict[str, Any]:
    out = item(r)
    out.update(form=r.form or {}, result=r.result or {}, follow_up=r.follow_up or {},
               children=[item(c) for c in session().scalars(select(R).where(R.parent_id == r.id))],
               timeline=timeline(r))
    return out


FINAL = ("completed", "cancelled", "no_show", "transferred_out", "arrived_elsewhere")
# an emergency up-referral whose patient has not arrived yet: on the patient record and the supervisor's overview
OPEN_EMERGENCY = and_(R.direction == "up", R.urgency == "emergency", R.closed_at.is_(None), R.arrived_at.is_(None),
                      R.status.not_in(FINAL))


def open_emergencies_of(resident_id: int) -> list[dict[str, Any]]:
    """The resident's open emergency referrals (the record's summary shows them first)."""
    rows = list(session().scalars(select(R).where(R.resident_id == resident_id, OPEN_EMERGENCY)
                                  .order_by(R.requested_at.desc())))
    names = _org_names([c for r in rows for c in (r.from_org_code, r.to_org_code)])
    keys = ("id", "referral_no", "status", "status_label", "urgency_label", "reason", "disease_label",
            "capability_label", "from_org_name", "to_org_name")
    return [{**{k: v for k, v in item(r, names).items() if k in keys},
             "requested_at": r.requested_at.isoformat() if r.requested_at else None} for r in rows]


def is_active(r: Referral) -> bool:
    return r.closed_at is None and r.status not in ("completed", "cancelled", "no_show", "transferred_out",
                                                    "arrived_elsewhere")


def timeline(r: Referral) -> list[dict[str, Any]]:
    """The referral's milestones in order (for the referral page and the patient's timeline)."""
    steps = [("requested_at", "发起转诊"), ("offered_at", "推送接收方"), ("rejected_at", "拒收"),
             ("accepted_at", "接收"), ("appointment_at", "预约就诊"), ("arrived_at", "到诊"),
             ("result_at", "结果回传"), ("follow_up_done_at", "随访完成"), ("closed_at", "结束")]
    out = [{"at": getattr(r, attr), "label": label} for attr, label in steps if getattr(r, attr) is not None]
    return sorted(out, key=lambda e: e["at"])


def for_resident(resident_id: int) -> list[dict[str, Any]]:
    rows = list(session().scalars(select(R).where(R.resident_id == resident_id).order_by(R.requested_at.desc())))
    names = _org_names([c for r in rows for c in (r.from_org_code, r.to_org_code)])
    return [dict(item(r, names), timeline=timeline(r)) for r in rows]


# -- indicators ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    kind: str          # count | rate | ratio
    formula: str

    def conditions(self) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return _CONDITIONS[self.key]()


UP, DOWN = R.direction == "up", R.direction == "down"
ISSUED = R.offered_at.is_not(None)
SLA = and_(UP, ISSUED, R.decision_due_at.is_not(None), R.urgency != "emergency", R.out_of_county.is_(False))


def _follow_up_settled() -> ColumnElement[bool]:
    """A referral counts toward a follow-up timeliness rate once its follow-up is done or its 14 days have run out:
    one still inside its window is neither on time nor late yet."""
    return or_(R.follow_up_on_time.is_not(None), R.follow_up_due_on < clock.today())


def _cond() -> dict:
    return {
        "up_count": lambda: (and_(UP, ISSUED), true()),
        "down_count": lambda: (and_(DOWN, ISSUED), true()),
        "up_down_ratio": lambda: (and_(DOWN, ISSUED), and_(UP, ISSUED)),
        "arrival_rate": lambda: (and_(UP, R.accepted_at.is_not(None), R.arrived_at.is_not(None)),
                                 and_(UP, R.accepted_at.is_not(None))),
        "acceptance_within_sla": lambda: (and_(SLA, R.decided_at.is_not(None), R.decided_at <= R.decision_due_at), SLA),
        "rejection_rate": lambda: (and_(SLA, R.rejections > 0), SLA),
        "result_return_rate": lambda: (and_(UP, R.arrived_at.is_not(None), R.result_on_time.is_(True)),
                                       and_(UP, R.arrived_at.is_not(None))),
        "follow_up_timeliness": lambda: (and_(UP, ISSUED, R.follow_up_on_time.is_(True)),
                                         and_(UP, ISSUED, _follow_up_settled())),
        "down_first_follow_up_timeliness": lambda: (and_(DOWN, R.accepted_at.is_not(None),
                                                         R.follow_up_on_time.is_(True)),
                                                    and_(DOWN, R.accepted_at.is_not(None), _follow_up_settled())),
        "out_of_county_rate": lambda: (and_(UP, ISSUED, R.out_of_county.is_(True)), and_(UP, ISSUED)),
    }


_CONDITIONS = _cond()
INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("up_count", "上转人次", "count", "发出 (已推送接收方) 的上转"),
    Indicator("down_count", "下转人次", "count", "发出的下转"),
    Indicator("up_down_ratio", "上下转比", "ratio", "下转人次 ÷ 上转人次"),
    Indicator("arrival_rate", "转诊到位率", "rate", "已接收的上转中到诊的 ÷ 已接收的上转"),
    Indicator("acceptance_within_sla", "接诊受理及时率", "rate", "时限内 (常规24小时, 优先4小时) 接收或拒收 ÷ 推送的上转 (不含急诊、县外)"),
    Indicator("rejection_rate", "拒收率", "rate", "被拒收过的上转 ÷ 推送的上转 (不含急诊、县外)"),
    Indicator("result_return_rate", "结果回传率", "rate", "到诊后2天内回传结果 ÷ 到诊的上转"),
    Indicator("follow_up_timeliness", "2周随访及时率", "rate", "发出后14天内完成随访 ÷ 已随访或已过14天的上转"),
    Indicator("down_first_follow_up_timeliness", "下转首访及时率", "rate", "下转接收后按期 (≤14天) 完成首次随访 ÷ 已随访或已到期的下转"),
    Indicator("out_of_county_rate", "县外转诊率", "rate", "县外上转 ÷ 发出的上转"),
)}


def stats(p: Principal, args: dict[str, Any]) -> dict[str, Any]:
    """Every indicator for the filtered population (period on the request date), plus rejections by reason."""
    base = _filters(p, args)
    cols = []
    for key in INDICATORS:
        num, den = _CONDITIONS[key]()
        cols += [func.count().filter(num).label(f"{key}_n"), func.count().filter(den).label(f"{key}_d")]
    row = session().execute(select(*cols).select_from(R).where(*base)).one()._mapping
    out = []
    for key, ind in INDICATORS.items():
        n, d = row[f"{key}_n"] or 0, row[f"{key}_d"] or 0
        value = n if ind.kind == "count" else (round(n / d, 4) if d else None)
        out.append({"key": key, "label": ind.label, "kind": ind.kind, "formula": ind.formula, "numerator": n,
                    "denominator": d if ind.kind != "count" else None, "value": value})
    by_reason = session().execute(select(R.reject_reason, func.count()).where(*base, R.reject_reason.is_not(None))
                                  .group_by(R.reject_reason).order_by(func.count().desc())).all()
    by_status = session().execute(select(R.direction, R.status, func.count()).where(*base)
                                  .group_by(R.direction, R.status)).all()
    return {"indicators": out,
            "rejections_by_reason": [{"reason": r or "", "count": c} for r, c in by_reason],
            "by_status": [{"direction": d, "status": s, "status_label": STATUS_LABELS.get(s, s), "count": c}
                          for d, s, c in by_status],
            "filters": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in args.items() if v not in (None, "")}}


FHIR_STATUS = {"completed": "completed", "transferred_out": "completed", "arrived_elsewhere": "completed",
               "cancelled": "revoked", "no_show": "revoked", "requested": "draft", "drafting": "draft"}


def referrals_of_resident(p: Principal, resident_id: int) -> list[dict[str, Any]]:
    """A resident's referrals in the caller's scope, shaped for FHIR ServiceRequest (status in FHIR's codes)."""
    rows = session().scalars(select(R).where(R.resident_id == resident_id, in_scope(p)).order_by(R.id.desc()))
    return [{"id": r.id, "resident_id": r.resident_id, "status": FHIR_STATUS.get(r.status, "active"),
             "referral_no": r.referral_no} for r in rows]
