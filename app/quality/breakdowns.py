"""Breakdowns a county manager reads (issue 20.6): population, disease spectrum, cost, resource use and outcome
comparisons for one organisation and month, each figure drillable to the de-duplicated residents, tasks or cases
behind it.

Counted live from the same rows as the indicators (`queries.Rows`: one read per source and window), plus the
network's referrals and the reported ones (`app.referral.reported`) and the interventional centre's discharged cases
(plugged in by app.wiring through `case_reader`, because that capability sits above this one). A figure is a list of
groups; a group's `count` is its distinct keys (a resident counted once), its list is exactly those rows.

Windows: stocks (residents, enrolments, risk mix, comorbidity) are read at the month's end; flows (new enrolments,
visits, tasks, consults, referrals, discharged cases) over the month. What the platform does not hold is said in
`not_held` rather than guessed."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.auth.principal import Principal
from app.auth.queries import users_by_id
from app.core.errors import Invalid, NotFound
from app.org import queries as org_queries
from app.referral import reported as referrals
from app.vocabulary import UNGRADED_LABEL, Disease, RiskLevel, Sex

from . import counts, queries, sources
from .library import library
from .sources import AGE_BANDS, Window

CaseReader = Callable[[str, date, date], list[dict[str, Any]]]
_case_reader: list[CaseReader] = []
SECTIONS = {"population": "人口构成", "disease": "疾病谱", "cost": "费用", "resources": "资源利用",
            "outcomes": "结局比较"}
NOT_HELD = {
    "cost": ["门诊、住院、药品的全口径费用（平台只持有介入中心的 DRG 病例费用与医保平台上报的转诊结算费用）",
             "家庭医生签约、基本公卫项目的经费"],
    "resources": ["床位数与床日（平台不接收住院床位数据；介入中心的住院日来自其出院病例）", "人员编制与工时"],
    "outcomes": ["住院再入院（除介入中心 30 天再入院外不持有）", "死亡与并发症（除介入中心病例外不持有）"],
}
CONTROL_INDICATORS = ("htn_bp_control_rate", "t2dm_glucose_control_rate")


def case_reader(read: CaseReader) -> None:
    """Plug in how the interventional centre's discharged cases are read (prefix, first day, last day)."""
    _case_reader[:] = [read]


@dataclass
class Ctx:
    """One request: the organisation, the month and the rows read so far."""
    org: Any
    w: Window
    rows: queries.Rows
    children: list

    def cases(self) -> list[dict[str, Any]]:
        return _case_reader[0](self.org.path, self.w.start, self.w.end) if _case_reader else []

    def network(self) -> list[dict[str, Any]]:
        return referrals.network_rows(self.org.path, self.w.start, self.w.end)

    def of(self, source: str) -> list[dict[str, Any]]:
        return self.rows.of(source, self.w)

    def child_key(self) -> Callable[[dict], str]:
        return queries._child_of(self.children)

    def org_label(self, key: str) -> str:
        return next((c.name for c in self.children if c.code == key), f"{self.org.name} (本级)")


@dataclass(frozen=True)
class Figure:
    id: str
    section: str
    title: str
    by: str                                  # what the groups are, e.g. 机构, 年龄段
    unit: str                                # 人, 人次, 例, 元 …
    source: str                              # a quality source name, or cases | network_referrals
    group: Callable[[Ctx], list[tuple[Any, str, list[dict]]]]   # (key, label, rows) per group
    note: str = ""
    sums: tuple[str, ...] = ()               # numeric fields summed per group (cost, bed days)
    counts: Callable[[Ctx], list[tuple[Any, str, int]]] | None = None
    # (key, label, distinct count) per group counted set-based (`app.quality.counts`): the same groups as `group`
    members: Callable[[Ctx, str], Members | None] | None = None
    # a group's keys selected set-based (None: the key is no group): a members page builds only its own rows


@dataclass(frozen=True)
class Members:
    """One group of a counted figure: its label, the selection of its keys (`counts.member_page`) and how the
    source's rows become the figure's rows (comorbidity: one per resident)."""
    label: str
    keys: Any
    shape: Callable[[list[dict]], list[dict]] = list


def _by(rows: list[dict], key: Callable[[dict], Any], label: Callable[[Any], str],
        order: list | None = None) -> list[tuple[Any, str, list[dict]]]:
    grouped = queries._grouped(rows, key)
    keys = order if order is not None else sorted(grouped, key=lambda k: (k is None, str(k)))
    return [(k, label(k), grouped.get(k, [])) for k in keys if order is None or grouped.get(k)]


def _counted(found: dict[Any, int], label: Callable[[Any], str],
             order: list | None = None) -> list[tuple[Any, str, int]]:
    """`_by` over counts: the same keys, order and labels, non-empty groups only."""
    keys = order if order is not None else sorted(found, key=lambda k: (k is None, str(k)))
    return [(k, label(k), found[k]) for k in keys if found.get(k)]


def _org_counts(ctx: Ctx) -> list[tuple[Any, str, int]]:
    child, out = ctx.child_key(), Counter[Any]()
    for path, n in counts.residents_by(ctx.org.path, "org_path", ctx.w.end).items():
        out[child({"org_path": path})] += n
    return _counted(out, ctx.org_label, [c.code for c in ctx.children] + [queries.SELF])


def _active_counts(ctx: Ctx) -> Counter:
    return counts.active_by_disease_risk(ctx.org.path, ctx.w)


def _enrolled_counts(ctx: Ctx) -> list[tuple[Any, str, int]]:
    out: Counter = Counter()
    for (disease, _level), n in _active_counts(ctx).items():
        out[disease] += n
    return _counted(out, _disease_label)


def _risk_counts(ctx: Ctx) -> list[tuple[Any, str, int]]:
    out = Counter({f"{disease}|{level or '-'}": n for (disease, level), n in _active_counts(ctx).items()})
    return _counted(out, _risk_label)


def _doctor_counts(ctx: Ctx) -> list[tuple[Any, str, int]]:
    found = counts.done_visits_by_doctor(ctx.org.path, ctx.w)
    names = {i: u.display_name or "未填写姓名" for i, u in users_by_id(k for k in found if k).items()}
    return sorted(_counted(found, lambda k: names.get(k, "未指定")), key=lambda g: -g[2])


def _by_org(ctx: Ctx, rows: list[dict]) -> list[tuple[Any, str, list[dict]]]:
    order = [c.code for c in ctx.children] + [queries.SELF]
    return _by(rows, ctx.child_key(), ctx.org_label, order)


def _doctor_groups(rows: list[dict]) -> list[tuple[Any, str, list[dict]]]:
    names = {i: u.display_name or "未填写姓名" for i, u in users_by_id(r["doctor_id"] for r in rows
                                                                       if r.get("doctor_id")).items()}
    out = _by(rows, lambda r: r.get("doctor_id"), lambda k: names.get(k, "未指定"))
    return sorted(out, key=lambda g: -len({r["key"] for r in g[2]}))


def _active(ctx: Ctx) -> list[dict]:
    return [r for r in ctx.of("chronic_patients") if r.get("active")]


def _disease_label(k: Any) -> str:
    return Disease.label_of(k, "未注明")


COMORBIDITY = {"1": "1 种慢病", "2": "2 种慢病", "3+": "3 种及以上"}


def _comorbid(rows: list[dict]) -> list[dict]:
    """One row per resident of the active enrolment rows: their diseases and how many; the other facts are the
    earliest enrolment's (then by disease code: whatever order the rows were read in)."""
    per: dict[int, list[dict]] = {}
    for r in rows:
        if r.get("active"):
            per.setdefault(r["resident_id"], []).append(r)
    return [{**min(rs, key=lambda x: (x["enrolled_on"], x["disease"] or "")), "key": f"r{rid}", "disease": "、".join(sorted(Disease.label_of(x["disease"], "") for x in rs)),
             "diseases": len(rs)} for rid, rs in per.items()]


def _comorbidity(ctx: Ctx) -> list[tuple[Any, str, list[dict]]]:
    rows = _comorbid(ctx.of("chronic_patients"))
    return _by(rows, lambda r: "3+" if r["diseases"] >= 3 else str(r["diseases"]), COMORBIDITY.__getitem__,
               list(COMORBIDITY))


def _risk_label(k: str) -> str:
    disease, level = k.split("|")
    return f"{_disease_label(disease)} · {RiskLevel.label_of(None if level == '-' else level, UNGRADED_LABEL)}"


def _risk_mix(ctx: Ctx) -> list[tuple[Any, str, list[dict]]]:
    return _by(_active(ctx), lambda r: f"{r['disease']}|{r.get('risk_level') or '-'}", _risk_label)


def _referrals(ctx: Ctx) -> list[tuple[Any, str, list[dict]]]:
    out = []
    for code, label, grp in _by_org(ctx, ctx.network()):
        for direction, word in (("up", "上转"), ("down", "下转")):
            chosen = [r for r in grp if r["direction"] == direction]
            if chosen:
                out.append((f"{code}|{direction}", f"{label} · {word}", chosen))
    return out


def _re_referrals(ctx: Ctx) -> list[tuple[Any, str, list[dict]]]:
    per: dict[int, list[dict]] = {}
    for r in ctx.network():
        if r["direction"] == "up":
            per.setdefault(r["resident_id"], []).append(r)
    repeated = [r for rs in per.values() if len(rs) > 1 for r in rs]
    return [("repeat", "同月多次上转的居民", repeated)] if repeated else []


def _cases_by(field: str, flag: str | None = None) -> Callable[[Ctx], list[tuple[Any, str, list[dict]]]]:
    def group(ctx: Ctx) -> list[tuple[Any, str, list[dict]]]:
        rows = [r for r in ctx.cases() if flag is None or r.get(flag)]
        labels = {r[field]: (r.get(f"{field}_label") or r[field] or "未分组") for r in ctx.cases()}
        return _by(rows, lambda r: r.get(field), lambda k: labels.get(k) or "未分组")
    return group


def _insurance_cost(ctx: Ctx) -> list[tuple[Any, str, list[dict]]]:
    rows = [{**r, "total_charge": (r["total_cost_fen"] or 0) / 100, "insurance_paid": (r["insurance_paid_fen"] or 0)
             / 100} for r in referrals.reported_rows(ctx.org.path, ctx.w.start, ctx.w.end)
            if r["source"] == "insurance" and r["total_cost_fen"] is not None]
    return _by(rows, lambda r: r["direction"], {"up": "上转", "down": "下转"}.__getitem__, ["up", "down"])


def _value(key: str) -> str | None:
    return key or None


def _org_members(ctx: Ctx, key: str) -> Members | None:
    paths = {c.code: c.path for c in ctx.children}
    if key == queries.SELF:
        return Members(ctx.org_label(key), counts.residents_under(ctx.org.path, outside=tuple(paths.values())))
    return Members(ctx.org_label(key), counts.residents_under(ctx.org.path, (paths[key],))) if key in paths else None


def _band_members(ctx: Ctx, key: str) -> Members | None:
    if key and key not in {b for _lo, _hi, b in AGE_BANDS}:
        return None
    return Members(key or "未知", counts.residents_in_band(ctx.org.path, _value(key), ctx.w.end))


def _risk_members(ctx: Ctx, key: str) -> Members | None:
    if key.count("|") != 1:
        return None
    disease, level = key.split("|")
    return Members(_risk_label(key), counts.active_with(ctx.org.path, ctx.w, _value(disease),
                                                        None if level == "-" else level, any_level=False))


def _doctor_members(ctx: Ctx, key: str) -> Members | None:
    if key and not key.isdigit():
        return None
    doctor = int(key) if key else None
    names = {i: u.display_name or "未填写姓名" for i, u in users_by_id([doctor] if doctor else []).items()}
    return Members(names.get(doctor or 0, "未指定"), counts.done_visits_of(ctx.org.path, ctx.w, doctor))


FIGURES: dict[str, Figure] = {f.id: f for f in (
    Figure("residents_by_org", "population", "辖区居民", "机构", "人", "residents",
           lambda c: _by_org(c, c.of("residents")), counts=_org_counts, members=_org_members),
    Figure("residents_by_age_band", "population", "辖区居民年龄构成", "年龄段", "人", "residents",
           lambda c: _by(c.of("residents"), lambda r: r.get("age_band"), lambda k: k or "未知",
                         [b for _lo, _hi, b in AGE_BANDS] + [None]),
           counts=lambda c: _counted(counts.residents_by(c.org.path, "age_band", c.w.end), lambda k: k or "未知",
                                     [b for _lo, _hi, b in AGE_BANDS] + [None]),
           members=_band_members),
    Figure("residents_by_sex", "population", "辖区居民性别构成", "性别", "人", "residents",
           lambda c: _by(c.of("residents"), lambda r: r.get("sex"), lambda k: Sex.label_of(k, "未知")),
           counts=lambda c: _counted(counts.residents_by(c.org.path, "sex", c.w.end), lambda k: Sex.label_of(k, "未知")),
           members=lambda c, k: Members(Sex.label_of(_value(k), "未知"),
                                        counts.residents_with_sex(c.org.path, _value(k)))),
    Figure("enrolled_by_disease", "population", "慢病在管人数", "病种", "人", "chronic_patients",
           lambda c: _by(_active(c), lambda r: r.get("disease"), _disease_label),
           note="建档且未结案的管理对象（一人多病按病种各计一次）", counts=_enrolled_counts,
           members=lambda c, k: Members(_disease_label(_value(k)), counts.active_with(c.org.path, c.w, _value(k)))),
    Figure("enrolled_by_disease_risk", "disease", "在管患者风险分层", "病种 · 风险分层", "人", "chronic_patients",
           _risk_mix, counts=_risk_counts, members=_risk_members),
    Figure("new_by_disease", "disease", "本月新增建档", "病种", "人", "chronic_patients",
           lambda c: _by([r for r in c.of("chronic_patients") if r.get("new_in_window")],
                         lambda r: r.get("disease"), _disease_label),
           counts=lambda c: _counted(counts.new_by_disease(c.org.path, c.w), _disease_label),
           members=lambda c, k: Members(_disease_label(_value(k)), counts.new_with(c.org.path, c.w, _value(k)))),
    Figure("comorbidity", "disease", "共病（同一居民在管慢病数）", "慢病数", "人", "chronic_patients", _comorbidity,
           counts=lambda c: _counted(counts.comorbidity(c.org.path, c.w), COMORBIDITY.__getitem__, list(COMORBIDITY)),
           members=lambda c, k: Members(COMORBIDITY[k], counts.comorbid_with(c.org.path, c.w, k), _comorbid)
           if k in COMORBIDITY else None),
    Figure("visits_by_doctor", "resources", "本月完成随访", "责任医生", "人次", "follow_up_visits",
           lambda c: _doctor_groups([r for r in c.of("follow_up_visits") if r.get("done")]),
           note="本月到期且已完成的随访", counts=_doctor_counts, members=_doctor_members),
    Figure("tasks_by_org", "resources", "本月新建待办任务", "机构", "件", "tasks",
           lambda c: _by_org(c, [r for r in c.of("tasks") if r.get("created_in_window")])),
    Figure("consults_by_org", "resources", "远程会诊申请", "申请机构", "例", "consults",
           lambda c: _by_org(c, c.of("consults"))),
    Figure("referrals_by_org", "resources", "医共体双向转诊", "基层机构 · 方向", "例", "network_referrals",
           _referrals, note="上转按转出机构、下转按接收机构计"),
    Figure("centre_cases", "resources", "介入中心出院病例与住院日", "服务线", "例", "cases",
           _cases_by("service_line"), sums=("los_days",), note="住院日 = 出院病例住院天数之和"),
    Figure("drg_cost_by_line", "cost", "介入中心 DRG 病例费用", "服务线", "例", "cases", _cases_by("service_line"),
           sums=("total_charge", "case_cost", "margin"), note="住院总费用（医保结算清单）、病例成本、结余，单位元"),
    Figure("drg_cost_by_group", "cost", "介入中心 DRG 分组", "DRG 分组", "例", "cases", _cases_by("drg_code"),
           sums=("total_charge", "case_cost", "margin")),
    Figure("insurance_referral_cost", "cost", "医保平台上报的转诊结算费用", "方向", "例", "reported_referrals",
           _insurance_cost, sums=("total_charge", "insurance_paid"), note="结算总费用、统筹支付，单位元"),
    Figure("centre_complications", "outcomes", "介入中心并发症", "服务线", "例", "cases",
           _cases_by("service_line", "complication")),
    Figure("centre_readmissions", "outcomes", "介入中心 30 天再入院", "服务线", "例", "cases",
           _cases_by("service_line", "readmitted_30d")),
    Figure("re_referrals", "outcomes", "重复上转（同月两次及以上）", "", "人", "network_referrals", _re_referrals),
)}


def _context(p: Principal, period: str | None, org_code: str | None) -> Ctx:
    org, period = queries.resolve_org(p, org_code), period or queries.current_period()
    end = queries.month_end(period)
    return Ctx(org, Window(end.replace(day=1), end, period), queries.Rows(org.path),
               org_queries.children(org.code, exclude_levels=("department",)))


def _summed(rows: list[dict], fields: tuple[str, ...]) -> dict[str, float]:
    unique = {r["key"]: r for r in rows}.values()
    return {f: round(sum(float(r.get(f) or 0) for r in unique), 2) for f in fields}


def _figure(ctx: Ctx, fig: Figure) -> dict[str, Any]:
    if fig.counts is not None:
        counted = fig.counts(ctx)
        return {"id": fig.id, "section": fig.section, "title": fig.title, "by": fig.by, "unit": fig.unit,
                "note": fig.note, "sum_fields": list(fig.sums),
                "groups": [{"key": "" if k is None else str(k), "label": label, "count": n, "sums": {}}
                           for k, label, n in counted],
                "total": sum(n for _k, _l, n in counted)}    # the groups part the keys: each key in one group
    found = fig.group(ctx)
    groups = [{"key": "" if k is None else str(k), "label": label, "count": len({r["key"] for r in rows}),
               "sums": _summed(rows, fig.sums)} for k, label, rows in found]
    return {"id": fig.id, "section": fig.section, "title": fig.title, "by": fig.by, "unit": fig.unit,
            "note": fig.note, "sum_fields": list(fig.sums), "groups": groups,
            "total": len({r["key"] for _k, _l, rows in found for r in rows})}


def _control(ctx: Ctx, indicator_id: str, by: str) -> dict[str, Any]:
    """An indicator per child organisation or doctor against the organisation's own figure (the peers' reference),
    from the materialized figures when the month has them (`queries.stored_groups`), else counted from the rows."""
    ind = library()[indicator_id]
    w = queries.window(ind, ctx.w.period)
    stored = queries.stored_groups(ind, ctx.w.period, ctx.org, by)     # the month's figures when it has them
    if stored is not None:
        overall, groups = stored
    else:
        num, den = queries.parts(ind, w, ctx.rows)
        overall = queries.figure(ind, num, den, w.end.year)
        groups = queries.groups(ind, w, ctx.rows, ctx.org, by)
    return {"indicator_id": ind.id, "name": ind.name, "by": by, "unit": ind.unit, "reference": overall["value"],
            "numerator": overall["numerator"], "denominator": overall["denominator"],
            "groups": [{"key": "" if g["key"] is None else str(g["key"]), "label": g["label"],
                        "value": g["value"], "numerator": g["numerator"], "denominator": g["denominator"],
                        "org_code": g.get("org_code"),
                        "doctor_id": g["key"] if by == "doctor" and isinstance(g["key"], int) else None,
                        "versus": None if g["value"] is None or overall["value"] is None
                        else round(g["value"] - overall["value"], 1)}
                       for g in groups if g["denominator"]]}


def breakdowns(p: Principal, *, section: str | None = None, period: str | None = None,
               org_code: str | None = None) -> dict[str, Any]:
    """The figures of every section (or one) for an organisation's subtree and a month."""
    if section is not None and section not in SECTIONS:
        raise Invalid("未知分区", code="invalid_section", field="section", value=section, allowed=list(SECTIONS))
    ctx = _context(p, period, org_code)
    chosen = [s for s in SECTIONS if section in (None, s)]
    figures = [_figure(ctx, f) for f in FIGURES.values() if f.section in chosen]
    comparisons = [_control(ctx, i, by) for i in CONTROL_INDICATORS for by in ("org", "doctor")] \
        if "outcomes" in chosen else []
    return {"period": ctx.w.period, "window_start": ctx.w.start, "window_end": ctx.w.end,
            "org": {"code": ctx.org.code, "name": ctx.org.name, "level": ctx.org.level},
            "sections": [{"code": s, "label": SECTIONS[s], "not_held": NOT_HELD.get(s, [])} for s in chosen],
            "figures": figures, "comparisons": comparisons}


def _items(rows: list[dict], source: str) -> list[dict[str, Any]]:
    if source in queries.SOURCES:
        return queries.items(rows, source)
    names = queries._org_names({r.get("org_code") or r.get("from_org_code") for r in rows})
    skip = {"key", "resident_id", "resident_name", "org_path", "org_code", "doctor_id"}
    return [{"key": r["key"], "resident_id": r.get("resident_id"), "resident_name": r.get("resident_name"),
             "task_id": None, "org_code": r.get("org_code") or r.get("from_org_code"),
             "org_name": names.get(r.get("org_code") or r.get("from_org_code") or ""),
             "disease": r.get("disease"), "disease_label": Disease.label_of(r.get("disease"), "—"),
             "risk_level_label": "—", "doctor_name": None, "sex_label": "—", "age": None,
             "facts": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in r.items() if k not in skip}}
            for r in rows]


def members(p: Principal, figure_id: str, *, key: str, period: str | None = None, org_code: str | None = None,
            page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """One page of the de-duplicated residents, tasks or cases behind one group of a figure."""
    fig = FIGURES.get(figure_id)
    if fig is None:
        raise NotFound("统计项不存在 (figure not found)", code="figure_not_found", figure_id=figure_id)
    ctx = _context(p, period, org_code)
    if fig.members is not None:
        return _members_counted(ctx, fig, key, page, per_page)
    return _members_of_rows(ctx, fig, key, page, per_page)


def _head(ctx: Ctx, fig: Figure, key: str, label: str, total: int, items: list[dict]) -> dict[str, Any]:
    return {"figure_id": fig.id, "title": fig.title, "key": key, "label": label, "period": ctx.w.period,
            "org": {"code": ctx.org.code, "name": ctx.org.name, "level": ctx.org.level}, "total": total,
            "items": items}


def _members_counted(ctx: Ctx, fig: Figure, key: str, page: int, per_page: int) -> dict[str, Any]:
    """The page's keys selected in SQL; rows built only for the page's residents (`sources.rows_for`: the
    source's own rows for them, as the whole subtree's would be) and picked by key."""
    assert fig.members is not None
    chosen = fig.members(ctx, key)
    total, keys = counts.member_page(chosen.keys, page, per_page) if chosen is not None else (0, [])
    if chosen is None or not total:
        raise Invalid("该统计项没有这一组", code="invalid_key", field="key", value=key)
    built = chosen.shape(sources.rows_for(fig.source, ctx.w, ctx.org.path, [r for _k, r in keys]))
    rows = {r["key"]: r for r in built}
    return _head(ctx, fig, key, chosen.label, total, _items([rows[k] for k, _r in keys], fig.source))


def _members_of_rows(ctx: Ctx, fig: Figure, key: str, page: int, per_page: int) -> dict[str, Any]:
    found = next(((label, rows) for k, label, rows in fig.group(ctx) if ("" if k is None else str(k)) == key), None)
    if found is None:
        raise Invalid("该统计项没有这一组", code="invalid_key", field="key", value=key)
    label, rows = found
    unique = sorted({r["key"]: r for r in rows}.values(),
                    key=lambda r: (r.get("org_path") or "", r.get("resident_name") or "", r["key"]))
    return _head(ctx, fig, key, label, len(unique), _items(unique[(page - 1) * per_page: page * per_page], fig.source))
