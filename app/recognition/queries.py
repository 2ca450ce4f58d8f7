"""Read side of mutual recognition: a resident's network record (全网记录) with each result's source organisation,
time and 互认 verdict; the orders checked against it; and the rows the quality indicators count.

Results come from the record itself (`observations`, lab codes only, clinical sources only) and from the documents
the connectors link (PACS studies incl. ECG, EMR discharge summaries; `access.linked_documents`)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.core.errors import Conflict, NotFound
from app.decisions import services as decisions
from app.org.models import Organization
from app.residents import sources
from app.residents.models import Resident
from app.residents.record_models import Observation
from app.vocabulary import loinc

from . import access, rules
from .models import Accreditation, RecognitionOrder

# measurements taken at the visit (vital signs, anthropometry) are not laboratory results
NOT_LAB = frozenset({"8480-6", "8462-4", "8867-4", "8310-5", "39156-5", "8280-0", "29463-7", "8302-2"})
MODALITY_LABELS = {"CT": "CT", "MR": "磁共振", "DX": "X线", "CR": "X线", "DR": "X线", "US": "超声", "ECG": "心电图",
                   "MG": "乳腺X线", "NM": "核医学", "XA": "血管造影", "ES": "内镜"}
KIND_LABELS = {"lab": "检验", "imaging": "影像", "ecg": "心电图", "document": "病历文书"}
STATUS_LABELS = {"clear": "无可互认结果", "awaiting_reason": "待说明重复检查理由", "kept": "已说明理由，继续检查",
                 "withdrawn": "已采用互认结果，撤销检查"}
WINDOW_LIMIT_DAYS = 400          # the longest window a listed item may have (covers the DMN's longest with room)


class RulesUnavailable(Conflict):
    status, code = 503, "recognition_rules_unavailable"


def item_rule(item_class: str, item_code: str) -> rules.ItemRule:
    """The DMN `recognition_item` answer for one item (503 recognition_rules_unavailable when not deployed)."""
    try:
        out = decisions.evaluate("recognition_item", {"item_class": item_class, "item_code": item_code})["outputs"]
    except NotFound:
        raise RulesUnavailable("互认规则 (recognition_item) 未部署，无法判定 (mutual-recognition rules not deployed)",
                               decision_id="recognition_item") from None
    return rules.ItemRule(bool(out.get("recognisable")), int(out.get("validity_days") or 0), str(out.get("basis") or ""))


def item_name(item_class: str, item_code: str) -> str:
    if item_class == "lab":
        spec = loinc.SUPPORTED.get(item_code)
        return spec.name if spec else "检验项目"
    return MODALITY_LABELS.get(item_code, "影像检查")


class Judge:
    """Verdicts for many results against one day, reading the organisations and accreditations once."""

    def __init__(self, on: date):
        self.on = on
        self.orgs = {o.code: o.name for o in session().scalars(select(Organization))}
        self.accreditations: dict[tuple[str, str], list[rules.Accredited]] = {}
        for a in session().scalars(select(Accreditation)):
            self.accreditations.setdefault((a.org_code, a.item_class), []).append(
                rules.Accredited(a.item_code, a.valid_from, a.valid_to))
        self._rules: dict[tuple[str, str], rules.ItemRule] = {}

    def rule(self, item_class: str, item_code: str) -> rules.ItemRule:
        key = (item_class, item_code)
        if key not in self._rules:
            self._rules[key] = item_rule(item_class, item_code)
        return self._rules[key]

    def verdict(self, item_class: str, item_code: str, org_code: str | None, at: datetime) -> rules.Verdict:
        day = clock.date_of(at)
        return rules.judge(self.rule(item_class, item_code), result_day=day, on=self.on,
                           in_network=bool(org_code) and org_code in self.orgs,
                           accredited=rules.is_accredited(self.accreditations.get((org_code or "", item_class), ()),
                                                          item_code, day))

    def org_name(self, code: str | None) -> str:
        if not code:
            return "外院"
        return self.orgs.get(code, "非医共体机构")


def _mark(v: rules.Verdict | None) -> dict[str, Any] | None:
    if v is None:
        return None
    return {"recognised": v.recognised, "code": v.code, "label": v.label, "basis": v.basis,
            "valid_until": v.valid_until.isoformat() if v.valid_until else None}


def lab_results(resident_id: int, since: datetime | None = None) -> list[Observation]:
    stmt = select(Observation).where(Observation.resident_id == resident_id, Observation.code.not_in(NOT_LAB))
    if since is not None:
        stmt = stmt.where(Observation.effective_at >= since)
    rows = session().scalars(stmt.order_by(Observation.effective_at.desc(), Observation.id.desc()))
    return [o for o in rows if not sources.is_home(o.source)]


def _value(o: Observation) -> str:
    if o.value_num is not None:
        text = f"{o.value_num:g}"
        return f"{text} {o.unit}" if o.unit else text
    answers = {"positive": "阳性", "negative": "阴性"}
    return answers.get(o.value_text or "", o.value_text or "")


def _doc_kind(link: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(kind, item class, item code) of a linked document."""
    if link.get("kind") == "imaging_study":
        modality = (link.get("modality") or "").upper()
        return ("ecg" if modality == "ECG" else "imaging"), "imaging", modality or None
    return "document", None, None


def network_record(resident_id: int, *, on: date | None = None) -> dict[str, Any]:
    """Every lab result, imaging study, ECG and document of the resident across the network, newest first, each with
    its source organisation, time and (for results) the 互认 verdict on day `on` (default today)."""
    judge = Judge(on or clock.today())
    items: list[dict[str, Any]] = []
    rules_ok = True

    def verdict(item_class: str, item_code: str, org_code: str | None, at: datetime) -> dict[str, Any] | None:
        nonlocal rules_ok
        if not rules_ok:
            return None
        try:
            return _mark(judge.verdict(item_class, item_code, org_code, at))
        except RulesUnavailable:
            rules_ok = False
            return None

    for o in lab_results(resident_id):
        items.append({"key": f"obs:{o.id}", "kind": "lab", "kind_label": KIND_LABELS["lab"],
                      "title": item_name("lab", loinc.canonical_code(o.code)), "item_code": o.code,
                      "value": _value(o), "abnormal_flag": o.abnormal_flag, "at": o.effective_at.isoformat(),
                      "org_code": o.org_code, "org_name": judge.org_name(o.org_code), "viewer_url": None,
                      "report_text": None,
                      "recognition": verdict("lab", loinc.canonical_code(o.code), o.org_code, o.effective_at)})
    for link in access.linked_documents(resident_id):
        kind, item_class, code = _doc_kind(link)
        at = datetime.fromisoformat(link["performed_at"]) if link.get("performed_at") else None
        title = link.get("title") or (MODALITY_LABELS.get(code or "", "") if code else "") or KIND_LABELS[kind]
        items.append({"key": f"link:{link['id']}", "kind": kind, "kind_label": KIND_LABELS[kind], "title": title,
                      "item_code": code, "value": None, "abnormal_flag": None,
                      "at": at.isoformat() if at else None, "org_code": link.get("org_code"),
                      "org_name": judge.org_name(link.get("org_code")), "viewer_url": link.get("viewer_url"),
                      "report_text": link.get("report_text"),
                      "recognition": verdict(item_class, code, link.get("org_code"), at)
                      if item_class and code and at else None})
    items.sort(key=lambda i: i["at"] or "", reverse=True)
    return {"items": items, "total": len(items), "rules_available": rules_ok, "on": judge.on.isoformat()}


def recognised_for(resident_id: int, item_class: str, item_code: str, on: date) -> list[dict[str, Any]]:
    """The resident's results of this item recognised on day `on`, newest first (what a repeat order would repeat)."""
    judge = Judge(on)
    rule = judge.rule(item_class, item_code)
    if not rule.recognisable:
        return []
    since = clock.start_of_day(on - timedelta(days=min(rule.validity_days, WINDOW_LIMIT_DAYS)))
    found: list[dict[str, Any]] = []
    if item_class == "lab":
        codes = {c for c, canonical in loinc.SYNONYMS.items() if canonical == item_code} | {item_code}
        for o in lab_results(resident_id, since):
            if loinc.canonical_code(o.code) not in codes and o.code not in codes:
                continue
            found += _if_recognised(judge, "lab", item_code, o.org_code, o.effective_at, key=f"obs:{o.id}",
                                    title=item_name("lab", item_code), value=_value(o), viewer_url=None)
    else:
        for link in access.linked_documents(resident_id):
            _kind, cls, code = _doc_kind(link)
            if cls != "imaging" or code != item_code or not link.get("performed_at"):
                continue
            at = datetime.fromisoformat(link["performed_at"])
            found += _if_recognised(judge, "imaging", item_code, link.get("org_code"), at, key=f"link:{link['id']}",
                                    title=link.get("title") or item_name("imaging", code), value=None,
                                    viewer_url=link.get("viewer_url"))
    found.sort(key=lambda r: r["at"], reverse=True)
    return found


def _if_recognised(judge: Judge, item_class: str, item_code: str, org_code: str | None, at: datetime, *, key: str,
                   title: str, value: str | None, viewer_url: str | None) -> list[dict[str, Any]]:
    """[the result as an order's match] when it is recognised today, else []."""
    v = judge.verdict(item_class, item_code, org_code, at)
    if not v.recognised:
        return []
    return [{"key": key, "title": title, "value": value, "at": at.isoformat(), "org_code": org_code,
             "org_name": judge.org_name(org_code), "viewer_url": viewer_url,
             "valid_until": v.valid_until.isoformat() if v.valid_until else None}]


def order_item(row: RecognitionOrder) -> dict[str, Any]:
    return {"id": row.id, "order_no": row.order_no, "channel": row.channel, "resident_id": row.resident_id,
            "org_code": row.org_code, "orderer": row.orderer, "item_class": row.item_class,
            "item_code": row.item_code, "item_name": item_name(row.item_class, row.item_code),
            "ordered_at": row.ordered_at.isoformat(), "status": row.status,
            "status_label": STATUS_LABELS[row.status], "matched": row.matched or [],
            "reason_code": row.reason_code,
            "reason_label": rules.REPEAT_REASONS.get(row.reason_code or "") if row.reason_code else None,
            "reason_note": row.reason_note, "answered_by": row.answered_by,
            "answered_at": row.answered_at.isoformat() if row.answered_at else None}


def orders_of(resident_id: int) -> list[dict[str, Any]]:
    rows = session().scalars(select(RecognitionOrder).where(RecognitionOrder.resident_id == resident_id)
                             .order_by(RecognitionOrder.ordered_at.desc(), RecognitionOrder.id.desc()).limit(50))
    return [order_item(r) for r in rows]


def reason_options() -> list[dict[str, Any]]:
    return [{"code": c, "label": label, "note_required": c in rules.NOTE_REQUIRED}
            for c, label in rules.REPEAT_REASONS.items()]


@lru_cache(maxsize=1)
def orderable_items() -> tuple[tuple[str, str, str], ...]:
    """(class, code, Chinese name) of items a clinician can check before ordering: labs of the vocabulary and the
    usual imaging modalities."""
    labs = [("lab", c, spec.name) for c, spec in loinc.SUPPORTED.items()
            if c not in NOT_LAB and c not in loinc.SYNONYMS]
    imaging = [("imaging", m, MODALITY_LABELS[m]) for m in ("CT", "MR", "DR", "US", "ECG")]
    return tuple(labs + imaging)


def accreditations() -> list[dict[str, Any]]:
    """Every accreditation with its organisation's and item's Chinese names, by organisation then item."""
    names = {o.code: o.name for o in session().scalars(select(Organization))}
    rows = session().scalars(select(Accreditation).order_by(Accreditation.org_code, Accreditation.item_class,
                                                            Accreditation.item_code))
    return [{"id": a.id, "org_code": a.org_code, "org_name": names.get(a.org_code, "未知机构"),
             "item_class": a.item_class, "item_code": a.item_code,
             "item_name": ("全部检验项目" if a.item_class == "lab" else "全部检查项目") if a.item_code == "*"
             else item_name(a.item_class, a.item_code), "programme": a.programme,
             "valid_from": a.valid_from, "valid_to": a.valid_to}
            for a in rows]


# -- indicators -------------------------------------------------------------------------------------------------

def indicator_rows(start: date, end: date, org_prefix: str) -> list[dict[str, Any]]:
    """One row per order checked in [start, end] by an organisation under `org_prefix` (quality source
    `recognition_orders`)."""
    lo, hi = clock.start_of_day(start), clock.start_of_day(end + timedelta(days=1))
    stmt = (select(RecognitionOrder, Resident.name).join(Resident, Resident.id == RecognitionOrder.resident_id)
            .where(RecognitionOrder.org_path.startswith(org_prefix, autoescape=True),
                   RecognitionOrder.ordered_at >= lo, RecognitionOrder.ordered_at < hi))
    return [{"key": f"ro{r.id}", "resident_id": r.resident_id, "resident_name": name, "org_path": r.org_path,
             "org_code": r.org_code, "doctor_id": r.orderer_user_id, "disease": None, "risk_level": None,
             "item_class": r.item_class, "status": r.status, "channel": r.channel,
             "repeat_in_window": r.status != "clear", "reason_given": r.status == "kept",
             "avoided": r.status == "withdrawn", "awaiting_reason": r.status == "awaiting_reason",
             "recognised_results": len(r.matched or [])} for r, name in session().execute(stmt)]
