"""What a research project may ask for, and the cohort it selects.

Criteria (all optional; groups combine with AND, the values inside a list with OR):

    {"diseases": ["htn"], "diagnoses": ["I10", "E11"], "risk_levels": ["HIGH", "VERY_HIGH"],
     "enrolled_from": "2025-01-01", "enrolled_to": "2026-12-31", "age_min": 35, "age_max": 80, "sex": ["F"],
     "observations": [{"code": "8480-6", "min": 140, "max": null, "from": "2026-01-01", "to": "2026-12-31"}]}

Variables are ids of `VARIABLES` (plus `obs_last:<LOINC>`, `obs_mean:<LOINC>`, `obs_count:<LOINC>`). Direct
identifiers (name, ID number, phone, address) are never a variable; a free-text variable is only filled when the
committee approves free text. A bad field answers 422 with a stable code and the JSON path of the value (`field`).
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select

from app.core import clock
from app.core.errors import Invalid
from app.residents.models import Resident
from app.residents.record_models import Condition, DiseaseEnrolment, Observation, RiskLevel
from app.vocabulary import Disease, Sex
from app.vocabulary import RiskLevel as RiskGrade
from app.vocabulary.loinc import SUPPORTED, canonical_code

ICD10_PREFIX = re.compile(r"^[A-Z][0-9]{0,2}(\.[0-9]{0,2})?$")
DIRECT_IDENTIFIERS = {"name": "姓名", "id_number": "身份证号", "phone": "电话", "address": "住址"}
# id → (label, group, free_text)
VARIABLES: dict[str, tuple[str, str, bool]] = {
    "sex": ("性别", "demographics", False),
    "age_band": ("年龄段", "demographics", False),
    "township": ("乡镇", "demographics", False),
    "diseases": ("管理病种", "diagnoses", False),
    "diagnoses": ("诊断 (ICD-10 类目)", "diagnoses", False),
    "enrolled_on": ("建档日期", "diagnoses", False),
    "risk_level": ("风险分层 (最高)", "risk", False),
    "follow_up_count": ("随访次数", "follow_up", False),
    "last_follow_up_on": ("末次随访日期", "follow_up", False),
    "visit_notes": ("末次随访备注 (自由文本)", "free_text", True),
}
OBS_STATS = {"obs_last": "末次值", "obs_mean": "均值", "obs_count": "测量次数"}
DATE_VARIABLES = ("enrolled_on", "last_follow_up_on")
DATE_MODES = {"shift": "按患者随机平移日期", "month": "日期泛化到月"}
MAX_LIST = 50


def variable_label(var: str) -> str:
    if var in VARIABLES:
        return VARIABLES[var][0]
    stat, _, code = var.partition(":")
    spec = SUPPORTED.get(code)
    return f"{spec.name if spec else code} {OBS_STATS.get(stat, stat)}"


def catalogue() -> dict[str, Any]:
    """What the criteria builder offers: variables, observation codes, diseases, risk levels, sexes, date modes."""
    return {"variables": [{"id": k, "label": v[0], "group": v[1], "free_text": v[2]} for k, v in VARIABLES.items()],
            "observation_stats": [{"value": k, "label": v} for k, v in OBS_STATS.items()],
            "observations": [{"value": c.code, "label": c.name, "unit": c.unit or ""} for c in SUPPORTED.values()
                             if c.unit is not None and canonical_code(c.code) == c.code],
            "diseases": [{"value": d.value, "label": d.label} for d in Disease],
            "risk_levels": [{"value": r.value, "label": r.label} for r in RiskGrade],
            "sexes": [{"value": s.value, "label": s.label} for s in Sex],
            "date_modes": [{"value": k, "label": v} for k, v in DATE_MODES.items()],
            "direct_identifiers": [{"value": k, "label": v} for k, v in DIRECT_IDENTIFIERS.items()]}


def _bad(message: str, code: str, path: str, **details: Any) -> Invalid:
    return Invalid(message, code=code, field=path, **details)


def _date(value: Any, path: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _bad("日期格式应为 YYYY-MM-DD", "invalid_date", path, value=str(value)[:40]) from None


def _number(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad("应为数值", "invalid_number", path)
    return float(value)


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise _bad(f"应为不超过 {MAX_LIST} 项的列表", "invalid_list", path)
    return value


def _codes(value: Any, path: str, allowed: tuple[str, ...], code: str, label: str) -> list[str]:
    items = _list(value, path)
    for i, item in enumerate(items):
        if item not in allowed:
            raise _bad(f"未知{label}", code, f"{path}[{i}]", value=str(item)[:40])
    return list(dict.fromkeys(items))


def _range(lo: Any, hi: Any, path: str, lo_key: str, hi_key: str) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise _bad("范围的下限大于上限", "invalid_range", f"{path}.{hi_key}", **{lo_key: str(lo), hi_key: str(hi)})


def validate_criteria(raw: Any) -> dict[str, Any]:
    """The criteria, normalised (dates as ISO strings), or 422 naming the JSON path of the first bad value."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise _bad("筛选条件应为对象", "invalid_criteria", "criteria")
    known = {"diseases", "diagnoses", "risk_levels", "enrolled_from", "enrolled_to", "age_min", "age_max", "sex",
             "observations"}
    for key in raw:
        if key not in known:
            raise _bad("未知筛选条件", "unknown_criterion", f"criteria.{key}")
    out: dict[str, Any] = {
        "diseases": _codes(raw.get("diseases"), "criteria.diseases", Disease.codes(), "unknown_disease", "病种"),
        "risk_levels": _codes(raw.get("risk_levels"), "criteria.risk_levels", RiskGrade.codes(),
                              "unknown_risk_level", "风险分层"),
        "sex": _codes(raw.get("sex"), "criteria.sex", Sex.codes(), "unknown_sex", "性别")}
    prefixes = []
    for i, item in enumerate(_list(raw.get("diagnoses"), "criteria.diagnoses")):
        text = str(item).strip().upper() if isinstance(item, str) else ""
        if not ICD10_PREFIX.match(text):
            raise _bad("ICD-10 编码前缀格式不正确 (如 I10、E11、I6)", "invalid_icd10", f"criteria.diagnoses[{i}]",
                       value=str(item)[:20])
        prefixes.append(text)
    out["diagnoses"] = list(dict.fromkeys(prefixes))
    start, end = _date(raw.get("enrolled_from"), "criteria.enrolled_from"), _date(raw.get("enrolled_to"),
                                                                                  "criteria.enrolled_to")
    _range(start, end, "criteria", "enrolled_from", "enrolled_to")
    out["enrolled_from"], out["enrolled_to"] = start and start.isoformat(), end and end.isoformat()
    for key in ("age_min", "age_max"):
        value = raw.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 120):
            raise _bad("年龄应为 0–120 的整数", "invalid_age", f"criteria.{key}")
        out[key] = value
    _range(out["age_min"], out["age_max"], "criteria", "age_min", "age_max")
    out["observations"] = [_observation(item, f"criteria.observations[{i}]")
                           for i, item in enumerate(_list(raw.get("observations"), "criteria.observations"))]
    return out


def _observation(item: Any, path: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise _bad("检查条件应为对象", "invalid_observation", path)
    for key in item:
        if key not in ("code", "min", "max", "from", "to"):
            raise _bad("未知字段", "unknown_criterion", f"{path}.{key}")
    code = item.get("code")
    if not isinstance(code, str) or code not in SUPPORTED or SUPPORTED[code].unit is None:
        raise _bad("未知或非数值的 LOINC 编码", "unknown_loinc", f"{path}.code", value=str(code)[:20])
    lo, hi = _number(item.get("min"), f"{path}.min"), _number(item.get("max"), f"{path}.max")
    _range(lo, hi, path, "min", "max")
    start, end = _date(item.get("from"), f"{path}.from"), _date(item.get("to"), f"{path}.to")
    _range(start, end, path, "from", "to")
    return {"code": canonical_code(code), "min": lo, "max": hi, "from": start and start.isoformat(),
            "to": end and end.isoformat()}


def validate_variables(raw: Any) -> list[str]:
    """The variable ids, or 422: `identifier_not_allowed` for a direct identifier, `unknown_variable` otherwise."""
    if not isinstance(raw, list) or not raw or len(raw) > MAX_LIST:
        raise _bad(f"请选择 1–{MAX_LIST} 个变量", "invalid_variables", "variables")
    out = []
    for i, var in enumerate(raw):
        path = f"variables[{i}]"
        if not isinstance(var, str):
            raise _bad("变量应为字符串", "unknown_variable", path)
        if var in DIRECT_IDENTIFIERS:
            raise _bad(f"直接标识符（{DIRECT_IDENTIFIERS[var]}）不能导出", "identifier_not_allowed", path, value=var)
        stat, _, code = var.partition(":")
        if var not in VARIABLES and not (stat in OBS_STATS and code in SUPPORTED and SUPPORTED[code].unit
                                         and canonical_code(code) == code):
            raise _bad("未知变量", "unknown_variable", path, value=var[:40])
        out.append(var)
    return list(dict.fromkeys(out))


def wants_free_text(variables: list[str]) -> bool:
    return any(VARIABLES.get(v, ("", "", False))[2] for v in variables)


def _day_start(day: str):
    return clock.start_of_day(date.fromisoformat(day))


def _day_after(day: str):
    return clock.start_of_day(date.fromordinal(date.fromisoformat(day).toordinal() + 1))


def _birth_bounds(age_min: int | None, age_max: int | None, on: date) -> list[Any]:
    """Born on or before `on` minus age_min years; after `on` minus (age_max + 1) years."""
    conds = []
    if age_min is not None:
        conds.append(Resident.birth_date <= _years_before(on, age_min))
    if age_max is not None:
        conds.append(Resident.birth_date > _years_before(on, age_max + 1))
    return conds


def _years_before(on: date, years: int) -> date:
    try:
        return on.replace(year=on.year - years)
    except ValueError:                  # 29 February
        return on.replace(year=on.year - years, day=28)


def cohort_query(criteria: dict[str, Any], org_path: str, *, on: date | None = None) -> Select:
    """SELECT Resident.id of the residents of the subtree who meet every criterion (ages on `on`, default today)."""
    on = on or clock.today()
    conds: list[Any] = [Resident.org_path.startswith(org_path, autoescape=True)]
    enrolment = [DiseaseEnrolment.resident_id == Resident.id]
    if criteria.get("diseases"):
        enrolment.append(DiseaseEnrolment.disease.in_(criteria["diseases"]))
    if criteria.get("enrolled_from"):
        enrolment.append(DiseaseEnrolment.enrolled_at >= _day_start(criteria["enrolled_from"]))
    if criteria.get("enrolled_to"):
        enrolment.append(DiseaseEnrolment.enrolled_at < _day_after(criteria["enrolled_to"]))
    if len(enrolment) > 1:
        conds.append(exists().where(and_(*enrolment)))
    if criteria.get("diagnoses"):
        prefixes = criteria["diagnoses"]
        conds.append(or_(
            exists().where(Condition.resident_id == Resident.id, Condition.status != "refuted",
                           or_(*[Condition.icd10.startswith(p, autoescape=True) for p in prefixes])),
            exists().where(DiseaseEnrolment.resident_id == Resident.id,
                           or_(*[DiseaseEnrolment.icd10.startswith(p, autoescape=True) for p in prefixes]))))
    if criteria.get("risk_levels"):
        risk = [RiskLevel.resident_id == Resident.id, RiskLevel.level.in_(criteria["risk_levels"])]
        if criteria.get("diseases"):
            risk.append(RiskLevel.disease.in_(criteria["diseases"]))
        conds.append(exists().where(*risk))
    if criteria.get("sex"):
        conds.append(Resident.sex.in_(criteria["sex"]))
    conds.extend(_birth_bounds(criteria.get("age_min"), criteria.get("age_max"), on))
    for obs in criteria.get("observations") or []:
        where = [Observation.resident_id == Resident.id, Observation.code == obs["code"]]
        if obs.get("min") is not None:
            where.append(Observation.value_num >= obs["min"])
        if obs.get("max") is not None:
            where.append(Observation.value_num <= obs["max"])
        if obs.get("from"):
            where.append(Observation.effective_at >= _day_start(obs["from"]))
        if obs.get("to"):
            where.append(Observation.effective_at < _day_after(obs["to"]))
        conds.append(exists().where(*where))
    return select(Resident.id).where(*conds).order_by(Resident.id)
