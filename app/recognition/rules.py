"""The mutual-recognition rules as pure functions: a result is 互认 when its item is listed with a validity window
(DMN `recognition_item`, R10), its organisation is a member of the network, that organisation was accredited for
the item on the day the result was produced, and the day asked about is inside the window.

Window: an item valid N days is recognised from the result's (local) day through day + N − 1, both ends included
(a 7-day item done on 1 December is recognised for orders up to 7 December and not on 8 December).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

# why a repeat inside the window is still ordered (医疗机构检查检验结果互认管理办法 2022, the situations in which a
# result need not be recognised [R]; patient request and doubt about quality are common local additions [P])
REPEAT_REASONS: dict[str, str] = {
    "condition_changed": "病情变化，原结果与当前临床表现不符",
    "rapid_change": "该项目在病程中变化较快，需动态观察",
    "major_procedure": "手术等重大诊疗措施前需复查",
    "emergency": "急诊、急救需要",
    "patient_request": "患者或家属要求复查",
    "quality_doubt": "对原结果质量存疑",
    "other": "其他（须说明）",
}
NOTE_REQUIRED = frozenset({"other", "quality_doubt"})

VERDICTS: dict[str, str] = {
    "recognised": "互认",
    "not_listed": "未纳入互认项目",
    "outside_network": "非医共体成员机构",
    "not_accredited": "该机构此项目未通过质控认证",
    "expired": "已超过互认有效期",
    "not_yet": "结果时间晚于开单时间",
}


@dataclass(frozen=True)
class ItemRule:
    """The DMN's answer for one item."""
    recognisable: bool
    validity_days: int
    basis: str


@dataclass(frozen=True)
class Accredited:
    """One accreditation row: the item (`*` = every item of its class) and its validity (inclusive)."""
    item_code: str
    valid_from: date
    valid_to: date | None


@dataclass(frozen=True)
class Verdict:
    code: str
    valid_until: date | None
    basis: str

    @property
    def recognised(self) -> bool:
        return self.code == "recognised"

    @property
    def label(self) -> str:
        return VERDICTS[self.code]


def valid_until(result_day: date, validity_days: int) -> date | None:
    """The last day a result is recognised (None for an item with no window)."""
    return result_day + timedelta(days=validity_days - 1) if validity_days > 0 else None


def is_accredited(rows: Iterable[Accredited], item_code: str, on: date) -> bool:
    """Whether one of the organisation's accreditations covers the item on that day."""
    return any(r.item_code in (item_code, "*") and r.valid_from <= on and (r.valid_to is None or on <= r.valid_to)
               for r in rows)


def judge(rule: ItemRule, *, result_day: date, on: date, in_network: bool, accredited: bool) -> Verdict:
    """Whether a result done on `result_day` is recognised on day `on` (and until when)."""
    until = valid_until(result_day, rule.validity_days) if rule.recognisable else None
    if not rule.recognisable or until is None:
        return Verdict("not_listed", None, rule.basis)
    if not in_network:
        return Verdict("outside_network", None, rule.basis)
    if not accredited:
        return Verdict("not_accredited", None, rule.basis)
    if on < result_day:
        return Verdict("not_yet", until, rule.basis)
    if on > until:
        return Verdict("expired", until, rule.basis)
    return Verdict("recognised", until, rule.basis)
