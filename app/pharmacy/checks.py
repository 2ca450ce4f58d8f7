"""The automatic pre-review of a prescription (wave2 §3.1 step 3, R6b): findings graded block / warn / info, each
naming the decision table (and its deployed version) that produced it.

What is checked, and where the rule lives:
* dose limits, class combinations and warfarin interactions of the prescription's own lines: the care-plan regimen
  check `app.care_plans.safety.review` (DMN `drug_dose_limits`, `drug_class_combination`, `warfarin_interaction`);
* warfarin against the patient's concomitant medicines: DMN `warfarin_interaction` (MAJOR/MODERATE → warn,
  MINOR → info);
* CrCl for dosing: DMN `crcl_for_dosing` (Cockcroft–Gault from age, weight, sex and Scr, or a given CrCl);
* rivaroxaban dose by indication and CrCl: DMN `rivaroxaban_dose`; enoxaparin by indication, weight and CrCl:
  DMN `enoxaparin_dose`; nadroparin by indication and CrCl: DMN `nadroparin_dose` (NOT_RECOMMENDED /
  CONTRAINDICATED → block, a different dose or frequency → warn);
* R6b rows added by wave2 §3.4 (here, small enough not to need a table): two anticoagulants → block (LMWH + warfarin
  while bridging → warn); warfarin without an INR in 28 days → warn; rivaroxaban/LMWH without renal function → warn;
  age ≥ 75 with an NSAID or antiplatelet → warn.
"""
from __future__ import annotations

import re
from datetime import date
from typing import Any

from app.care_plans import safety
from app.core import clock
from app.decisions import services as decisions
from app.vocabulary import drugs as catalogue

GRADES = ("block", "warn", "info")
SUPERVISED = ("warfarin", "rivaroxaban", "enoxaparin", "nadroparin")
LMWH = ("enoxaparin", "nadroparin")
FREQUENCY = {"qd": "qd", "q24h": "qd", "qn": "qd", "bid": "bid", "q12h": "bid", "tid": "tid", "q8h": "tid"}
FREQUENCY_LABELS = {"qd": "每日1次", "q24h": "每24小时1次", "qn": "每晚1次", "bid": "每日2次", "q12h": "每12小时1次",
                    "tid": "每日3次", "q8h": "每8小时1次", "qw": "每周1次"}
INDICATION_LABELS = {"NVAF": "非瓣膜性房颤", "VTE_TREATMENT": "静脉血栓栓塞治疗", "DVT_TREATMENT": "深静脉血栓治疗",
                     "VTE_PROPHYLAXIS_THA": "髋关节置换术后血栓预防", "VTE_PROPHYLAXIS_TKA": "膝关节置换术后血栓预防",
                     "VTE_PROPHYLAXIS_HIGH_RISK": "高危血栓预防", "VTE_PROPHYLAXIS_MODERATE_RISK": "中危血栓预防",
                     "VTE_PROPHYLAXIS_HIP_KNEE": "髋/膝关节术后血栓预防", "UA_NSTEMI": "不稳定型心绞痛/NSTEMI"}
DOSE_WORDS = (("_day1_21_then_", "（第1–21天），之后 "), ("_caution", "（慎用）"), ("_reduce_25_33pct", "，减量25–33%"),
              ("_reduce_25pct", "，减量25%"))
INR_MAX_AGE_DAYS = 28
DOSE_TOLERANCE = 0.10


def indication_label(code: str) -> str:
    return INDICATION_LABELS.get(code, code)


def frequency_label(code: str | None) -> str:
    return FREQUENCY_LABELS.get(code or "qd", code or "")


def dose_text(label: str) -> str:
    """A DMN dose label in words: `15mg_bid_day1_21_then_20mg_qd` → 15 mg 每日2次（第1–21天），之后 20 mg 每日1次."""
    for code, words in DOSE_WORDS:
        label = label.replace(code, words)
    return re.sub(r"(\d+(?:\.\d+)?)mg_([a-z0-9]+)", lambda m: f"{m[1]} mg {frequency_label(m[2])}", label)


def line_text(line: dict[str, Any]) -> str:
    return f"{drug_name(line['drug'])} {float(line.get('dose_mg') or 0):g} mg {frequency_label(line.get('frequency'))}"


def grade_of(findings: list[dict[str, Any]]) -> str:
    """The worst grade among the findings, or `none`."""
    return next((g for g in GRADES if any(f["grade"] == g for f in findings)), "none")


def _finding(code: str, grade: str, message: str, *, decision: dict[str, Any] | None = None,
             drug: str | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"code": code, "grade": grade, "message": message, "drug": drug, **extra}
    if decision is not None:
        out["rule"] = decision["decision_id"]
        out["rule_version"] = decision["versions"].get(decision["decision_id"])
        out["reason"] = decision.get("reason") or ""
    return out


def drug_name(drug: str) -> str:
    entry = catalogue.find(drug)
    return entry["name_zh"] if entry else drug


def _options(label: str) -> list[tuple[float, str]]:
    """Acceptable (mg, frequency) pairs of a dose label such as `15mg_bid_day1_21_then_20mg_qd` or `70mg_q12h`."""
    return [(float(mg), FREQUENCY.get(freq, freq)) for mg, freq in re.findall(r"(\d+(?:\.\d+)?)mg_([a-z0-9]+)", label)]


def _matches(line: dict[str, Any], label: str) -> bool:
    dose = float(line.get("dose_mg") or 0)
    freq = FREQUENCY.get(line.get("frequency") or "qd", line.get("frequency") or "qd")
    return any(f == freq and abs(dose - mg) <= mg * DOSE_TOLERANCE for mg, f in _options(label))


def _days_since(day: str | None) -> int | None:
    return (clock.today() - date.fromisoformat(day)).days if day else None


def renal_inputs(clinical: dict[str, Any]) -> dict[str, Any]:
    return {k: clinical.get(k) for k in ("crcl_ml_min", "age", "weight_kg", "sex", "scr_umol_l")}


def crcl(clinical: dict[str, Any]) -> tuple[float | None, dict[str, Any] | None]:
    """CrCl for dosing (mL/min) through `crcl_for_dosing`, or None when neither CrCl nor Scr+age+weight+sex is known."""
    if clinical.get("crcl_ml_min") is None and any(clinical.get(k) is None
                                                   for k in ("age", "weight_kg", "sex", "scr_umol_l")):
        return None, None
    result = decisions.evaluate("crcl_for_dosing", renal_inputs(clinical))
    value = result["outputs"].get("crcl_for_dosing")
    return (float(value) if value is not None else None), result


def review(*, items: list[dict[str, Any]], indication: str, clinical: dict[str, Any],
           concomitant: list[str]) -> dict[str, Any]:
    """Every finding for one version of a prescription: `{findings, grade, crcl_for_dosing}`.
    A drug outside the catalogue is refused (422 `unknown_drug`) by the regimen check."""
    findings: list[dict[str, Any]] = []
    for f in safety.review(items):
        severity = f.get("severity")
        grade = "info" if severity == "MINOR" else ("block" if f["level"] == "block" else "warn")
        findings.append({"code": f["code"], "grade": grade, "message": f["message"], "drug": f.get("drug"),
                         "rule": "warfarin_interaction" if f["code"] == "warfarin_interaction"
                         else ("drug_dose_limits" if f["code"] == "dose_above_maximum" else "drug_class_combination"),
                         "reason": f.get("reason") or ""})
    drugs = [line["drug"] for line in items]
    anticoagulants = [d for d in drugs if (catalogue.find(d) or {}).get("drug_class") == "ANTICOAGULANT"]
    if len(anticoagulants) > 1:
        bridging = (set(anticoagulants) <= {"warfarin", *LMWH} and "warfarin" in anticoagulants
                    and bool(clinical.get("bridging")))
        findings.append(_finding(
            "duplicate_anticoagulant", "warn" if bridging else "block",
            ("低分子肝素与华法林重叠（桥接），INR 连续24小时≥2后停用低分子肝素" if bridging
             else f"同时使用两种抗凝药：{'、'.join(drug_name(d) for d in anticoagulants)}"),
            drug=anticoagulants[1], rule="rx_appropriateness_1"))
    for co in concomitant:
        if "warfarin" in drugs and co not in drugs:
            inter = decisions.evaluate("warfarin_interaction", {"anticoagulant": "warfarin", "co_drug": co})
            severity = inter["outputs"].get("severity")
            if severity not in (None, "NONE"):
                findings.append(_finding("warfarin_interaction", "info" if severity == "MINOR" else "warn",
                                         f"华法林 + 合用药 {drug_name(co)}：{inter['outputs'].get('action') or ''}",
                                         decision=inter, drug=co, severity=severity))
    age = clinical.get("age")
    if age is not None and age >= 75:
        risky = [d for d in [*drugs, *concomitant]
                 if (catalogue.find(d) or {}).get("drug_class") in ("NSAID", "ANTIPLATELET")]
        if risky:
            findings.append(_finding("elderly_bleeding_risk", "warn",
                                     f"年龄≥75岁，抗凝药与{'、'.join(drug_name(d) for d in risky)}合用，出血风险增加",
                                     drug=risky[0], rule="rx_appropriateness_5"))
    clearance, crcl_result = crcl(clinical)
    renal = renal_inputs(clinical)
    for line in items:
        drug = line["drug"]
        if drug == "warfarin":
            since = _days_since(clinical.get("inr_date"))
            if since is None or since > INR_MAX_AGE_DAYS:
                findings.append(_finding("inr_missing", "warn", f"华法林：近{INR_MAX_AGE_DAYS}天内无 INR 结果",
                                         drug=drug, rule="rx_appropriateness_2"))
            continue
        if drug not in ("rivaroxaban", *LMWH):
            continue
        if clearance is None:
            findings.append(_finding("renal_function_missing", "warn",
                                     f"{drug_name(drug)}：缺少肌酐/肌酐清除率，无法按肾功能核对剂量", drug=drug,
                                     rule="rx_appropriateness_3"))
            continue
        if drug == "rivaroxaban":
            result = decisions.evaluate("rivaroxaban_dose", {"indication": indication, **renal})     # requires CrCl
        elif drug == "enoxaparin":
            result = decisions.evaluate("enoxaparin_dose", {"indication": indication, "crcl_ml_min": clearance,
                                                            "weight_kg": clinical.get("weight_kg")})
        else:
            result = decisions.evaluate("nadroparin_dose", {"indication": indication, "crcl_ml_min": clearance,
                                                            "standard_dose": f"{float(line.get('dose_mg') or 0):g}mg"})
        label = result["outputs"].get("dose")
        if label is None:
            findings.append(_finding("no_dose_rule", "warn", f"{drug_name(drug)}：适应证“{indication_label(indication)}”无剂量规则，需人工审核",
                                     decision=result, drug=drug))
        elif label.startswith(("NOT_RECOMMENDED", "CONTRAINDICATED")):
            findings.append(_finding("contraindicated_renal", "block",
                                     f"{drug_name(drug)}：CrCl {clearance:.0f} mL/min 时不推荐/禁用", decision=result,
                                     drug=drug, crcl_for_dosing=round(clearance, 1)))
        elif drug != "nadroparin" and not _matches(line, label):
            findings.append(_finding("dose_not_as_recommended", "warn",
                                     f"{line_text(line)} 与推荐剂量 {dose_text(label)}（CrCl {clearance:.0f} mL/min）不符",
                                     decision=result,
                                     drug=drug, recommended=label, crcl_for_dosing=round(clearance, 1)))
        elif label.endswith(("_caution", "pct")):
            findings.append(_finding("dose_caution", "warn",
                                     f"{drug_name(drug)}：{dose_text(label)}（CrCl {clearance:.0f} mL/min）",
                                     decision=result, drug=drug, recommended=label))
    return {"findings": findings, "grade": grade_of(findings),
            "crcl_for_dosing": round(clearance, 1) if clearance is not None else None,
            "crcl_rule_version": (crcl_result or {}).get("versions", {}).get("crcl_for_dosing")}
