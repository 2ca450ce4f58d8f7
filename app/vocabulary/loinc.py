"""The LOINC codes the record accepts, their canonical units, unit conversions and plausible ranges.

Values are stored in the canonical unit the clinical tables use (rules.md §0: BP mmHg, glucose mmol/L, Scr μmol/L,
ACR mg/g, eGFR mL/min/1.73 m²); the value as sent is kept beside it. A plausible range rejects typing errors
(a systolic pressure of 1400), not abnormal values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from app.core.errors import Invalid

MMOL_PER_MG_DL_GLUCOSE = 1 / 18.016        # glucose 180.16 g/mol
MMOL_PER_MG_DL_CHOLESTEROL = 1 / 38.67     # cholesterol 386.7 g/mol
MMOL_PER_MG_DL_TG = 1 / 88.57              # triglyceride (as triolein) 885.7 g/mol
UMOL_PER_MG_DL_CREATININE = 88.4           # rules.md §0: Scr μmol/L ÷ 88.4 = mg/dL
MG_G_PER_MG_MMOL = 8.84                    # rules.md §0: ACR mg/mmol × 8.84 = mg/g


@dataclass(frozen=True)
class Code:
    code: str
    name: str
    unit: str | None                                    # canonical unit; None for qualitative results
    low: float = 0.0
    high: float = 1e6
    conversions: dict[str, float] = field(default_factory=dict)   # unit alias -> factor to the canonical unit
    answers: tuple[str, ...] = ()                       # qualitative results: allowed answers
    decimals: int = 2


_MMHG = {"mmhg": 1.0, "mm[hg]": 1.0}
_GLUCOSE = {"mmol/l": 1.0, "mg/dl": MMOL_PER_MG_DL_GLUCOSE}
_CHOL = {"mmol/l": 1.0, "mg/dl": MMOL_PER_MG_DL_CHOLESTEROL}
_EGFR = {"ml/min/1.73m2": 1.0, "ml/min/{1.73_m2}": 1.0, "ml/min/1.73 m2": 1.0, "ml/min/1.73m^2": 1.0}
_ACR = {"mg/g": 1.0, "mg/g{creat}": 1.0, "mg/mmol": MG_G_PER_MG_MMOL, "mg/mmol{creat}": MG_G_PER_MG_MMOL}


def _codes(*items: Code) -> dict[str, Code]:
    return {c.code: c for c in items}


SUPPORTED: dict[str, Code] = _codes(
    Code("8480-6", "收缩压", "mm[Hg]", 40, 300, _MMHG, decimals=0),
    Code("8462-4", "舒张压", "mm[Hg]", 20, 200, _MMHG, decimals=0),
    Code("8867-4", "心率", "/min", 15, 300, {"/min": 1.0, "bpm": 1.0, "次/分": 1.0}, decimals=0),
    Code("8310-5", "体温", "Cel", 25, 45, {"cel": 1.0, "℃": 1.0, "°c": 1.0}, decimals=1),
    Code("59408-5", "血氧饱和度", "%", 30, 100, {"%": 1.0}, decimals=0),          # pulse oximetry (monitors)
    Code("2708-6", "血氧饱和度", "%", 30, 100, {"%": 1.0}, decimals=0),           # arterial SpO2
    Code("9279-1", "呼吸频率", "/min", 1, 100, {"/min": 1.0, "次/分": 1.0, "breaths/min": 1.0}, decimals=0),
    Code("1558-6", "空腹血糖", "mmol/L", 0.5, 60, _GLUCOSE),
    Code("2339-0", "随机血糖", "mmol/L", 0.5, 60, _GLUCOSE),
    Code("20438-8", "OGTT 2小时血糖", "mmol/L", 0.5, 60, _GLUCOSE),
    Code("4548-4", "糖化血红蛋白", "%", 2, 20, {"%": 1.0}, decimals=1),
    Code("2160-0", "血肌酐", "umol/L", 5, 3000,
         {"umol/l": 1.0, "μmol/l": 1.0, "µmol/l": 1.0, "mg/dl": UMOL_PER_MG_DL_CREATININE}, decimals=0),
    Code("33914-3", "eGFR", "mL/min/{1.73_m2}", 0, 250, _EGFR, decimals=1),
    Code("62238-1", "eGFR (CKD-EPI)", "mL/min/{1.73_m2}", 0, 250, _EGFR, decimals=1),
    Code("14959-1", "尿白蛋白/肌酐比值", "mg/g", 0, 50000, _ACR, decimals=1),
    Code("9318-7", "尿白蛋白/肌酐比值", "mg/g", 0, 50000, _ACR, decimals=1),
    Code("6301-6", "INR", "{INR}", 0.5, 20, {"{inr}": 1.0, "inr": 1.0, "": 1.0}),
    Code("39156-5", "体质指数", "kg/m2", 8, 80, {"kg/m2": 1.0, "kg/m^2": 1.0, "kg/m²": 1.0}, decimals=1),
    Code("8280-0", "腰围", "cm", 30, 250, {"cm": 1.0, "[in_i]": 2.54, "in": 2.54}, decimals=1),
    Code("29463-7", "体重", "kg", 1, 400, {"kg": 1.0, "[lb_av]": 0.45359237, "lb": 0.45359237}, decimals=1),
    Code("8302-2", "身高", "cm", 30, 250, {"cm": 1.0, "m": 100.0}, decimals=1),
    Code("2093-3", "总胆固醇", "mmol/L", 0, 30, _CHOL),
    Code("13457-7", "LDL-C", "mmol/L", 0, 20, _CHOL),
    Code("2089-1", "LDL-C", "mmol/L", 0, 20, _CHOL),
    Code("2085-9", "HDL-C", "mmol/L", 0, 10, _CHOL),
    Code("2571-8", "甘油三酯", "mmol/L", 0, 60, {"mmol/l": 1.0, "mg/dl": MMOL_PER_MG_DL_TG}),
    Code("13965-9", "同型半胱氨酸", "umol/L", 0, 300, {"umol/l": 1.0, "μmol/l": 1.0, "µmol/l": 1.0}, decimals=1),
    Code("19926-5", "FEV1/FVC", "%", 10, 120, {"%": 1.0}, decimals=1),
    Code("29771-3", "粪便免疫化学检测 (FIT)", None, answers=("positive", "negative")),
)
# codes the same quantity goes by (the screening features read the first one)
SYNONYMS = {"62238-1": "33914-3", "2089-1": "13457-7", "9318-7": "14959-1"}


def canonical_code(code: str) -> str:
    return SYNONYMS.get(code, code)


def normalize(code: str, value: float | str, unit: str | None) -> tuple[float | None, str | None, str | None]:
    """Return (numeric value in the canonical unit, text value, canonical unit); raise Invalid with a stable code."""
    spec = SUPPORTED.get((code or "").strip())
    if spec is None:
        raise Invalid(f"不支持的 LOINC 代码 {code} (unsupported code)", code="unknown_code", field="code",
                      supported=sorted(SUPPORTED))
    if spec.unit is None:
        answer = str(value).strip().lower()
        if answer not in spec.answers:
            raise Invalid(f"{spec.name} 结果应为 {', '.join(spec.answers)}", code="invalid_value", field="value")
        return None, answer, None
    factor = _factor(spec, unit)
    number = _number(value)
    converted = round(number * factor, spec.decimals)
    if not spec.low <= converted <= spec.high:
        raise Invalid(f"{spec.name} {converted} {spec.unit} 超出合理范围 [{spec.low}, {spec.high}]",
                      code="invalid_value", field="value", low=spec.low, high=spec.high)
    return float(converted), None, spec.unit


def _factor(spec: Code, unit: str | None) -> float:
    key = (unit or "").strip().lower().replace(" ", "") if unit is not None else ""
    aliases = {k.replace(" ", ""): v for k, v in spec.conversions.items()}
    canonical = spec.unit or ""                          # normalize() handles qualitative codes (no unit)
    if key == canonical.lower().replace(" ", "") or (unit is None and "" in aliases):
        return 1.0
    if key in aliases:
        return aliases[key]
    raise Invalid(f"{spec.name} 的单位 {unit!r} 不受支持 (expected {spec.unit})", code="invalid_unit", field="unit",
                  expected=spec.unit, accepted=sorted(spec.conversions))


def _number(value: float | str) -> float:
    if isinstance(value, bool):
        raise Invalid("数值无效 (value must be a number)", code="invalid_value", field="value")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid("数值无效 (value must be a number)", code="invalid_value", field="value") from None
    if not math.isfinite(number):
        raise Invalid("数值无效 (value must be a number)", code="invalid_value", field="value")
    return number
