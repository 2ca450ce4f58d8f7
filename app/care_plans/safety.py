"""Regimen safety before approval (issue 12.5): every line of a care-plan regimen is checked on submission of the
draft (or revision proposal) and again on approval, server-side through the DMN pack.

* a drug not in the catalogue (`app.vocabulary.drugs`) → 422 `unknown_drug`, naming the line, with a pick list;
* a daily dose above the label maximum (`drug_dose_limits`) → 422 `dose_above_maximum`, naming the line;
* a contraindicated class combination (`drug_class_combination` level `block`, e.g. ACEI + ARB)
  → 422 `contraindicated_combination`, naming both lines;
* a warning (`drug_class_combination` level `warn`; any `warfarin_interaction` other than NONE) must be acknowledged
  in `content.acknowledgements` (`{"finding": <key>, "comment": "…"}`) → otherwise 422 `acknowledgement_required`
  listing the findings and their keys. Acknowledgements are stored with the plan version (who, when, the comment) and
  shown to the approver (`regimen_review`, the approval form's description).
"""
from __future__ import annotations

from typing import Any

from app.core import clock
from app.core.db import session
from app.core.errors import Conflict, Invalid
from app.vocabulary import drugs as catalogue
from app.workflows import decisions

TIMES_PER_DAY = {"qd": 1, "qn": 1, "bid": 2, "tid": 3, "qw": 1 / 7}
DECISIONS = ("drug_dose_limits", "drug_class_combination", "warfarin_interaction")


class DecisionNotDeployed(Conflict):
    code = "decision_not_deployed"


def _evaluator():
    pinned = decisions.registry(session())
    missing = [d for d in DECISIONS if d not in pinned.registry]
    if missing:
        raise DecisionNotDeployed(f"用药安全检查所需的决策表未部署：{'、'.join(missing)} (decision not deployed)",
                                  decisions=missing)

    def evaluate(decision_id: str, inputs: dict[str, Any]) -> dict[str, Any]:
        return decisions.evaluate(pinned, decision_id, inputs)
    return evaluate


def _label(line: dict[str, Any], entry: dict[str, Any] | None) -> str:
    return (entry or {}).get("name_zh") or line.get("name") or line.get("drug") or "?"


def _reason(result: dict[str, Any]) -> str:
    """The annotation of the row that fired (what the clinician reads)."""
    rows = [r.get("annotation") for step in result.get("trace") or [] for r in step.get("rules") or []]
    return "；".join(r for r in rows if r)


def review(drugs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every finding of a regimen: `{key, code, level (block|warn), lines, field, message, reason, …}`.
    An unknown drug is refused at once (the rest cannot be checked without it)."""
    evaluate = _evaluator()
    lines: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for i, line in enumerate(drugs):
        entry = catalogue.find(line.get("drug"))
        if entry is None:
            picks = catalogue.suggestions(line.get("drug"), name=line.get("name"))
            hint = "、".join(f"{p['name_zh']} {p['drug']}" for p in picks)
            raise Invalid(f"第{i + 1}行药物“{line.get('name') or line.get('drug')}”不在药品目录中，请从目录选择 "
                          f"(unknown drug)", code="unknown_drug", line=i, field=f"content.drugs[{i}].drug",
                          drug=line.get("drug"), suggestions=picks,
                          errors=[{"field": f"content.drugs[{i}].drug", "message": f"不在药品目录中，可选：{hint}"}])
        limits = evaluate("drug_dose_limits", {"drug": entry["drug"]})
        out = limits["outputs"]
        drug_class = out.get("drug_class") if out.get("drug_class") not in (None, "UNKNOWN") else entry["drug_class"]
        daily = round((line.get("dose_mg") or 0) * TIMES_PER_DAY.get(line.get("frequency") or "qd", 1), 2)
        lines.append({"drug": entry["drug"], "name": _label(line, entry), "drug_class": drug_class})
        if out.get("max_daily_mg") is not None and daily > out["max_daily_mg"]:
            findings.append({
                "key": f"dose_above_maximum:{entry['drug']}", "code": "dose_above_maximum", "level": "block",
                "lines": [i], "field": f"content.drugs[{i}].dose_mg", "drug": entry["drug"], "daily_mg": daily,
                "max_daily_mg": out["max_daily_mg"], "reason": _reason(limits),
                "message": f"第{i + 1}行 {_label(line, entry)} 每日 {daily:g} mg 超过说明书最大剂量 "
                           f"{out['max_daily_mg']:g} mg"})
    for i, a in enumerate(lines):
        for j in range(i + 1, len(lines)):
            b = lines[j]
            combo = evaluate("drug_class_combination", {"class_a": a["drug_class"], "class_b": b["drug_class"]})
            o = combo["outputs"]
            if o["level"] != "none":
                findings.append({
                    "key": f"{o['finding']}:{a['drug']}+{b['drug']}", "lines": [i, j],
                    "code": "contraindicated_combination" if o["level"] == "block" else o["finding"],
                    "level": o["level"], "field": f"content.drugs[{j}].drug", "reason": _reason(combo),
                    "message": f"第{i + 1}行 {a['name']} + 第{j + 1}行 {b['name']}：{o['message']}"})
            for x, y in ((a, b), (b, a)):
                if x["drug"] == "warfarin":
                    inter = evaluate("warfarin_interaction", {"anticoagulant": "warfarin", "co_drug": y["drug"]})
                    w = inter["outputs"]
                    if w.get("severity") not in (None, "NONE"):
                        findings.append({
                            "key": f"warfarin_interaction:{y['drug']}", "code": "warfarin_interaction",
                            "level": "warn", "lines": [i, j], "severity": w["severity"], "effect": w.get("effect"),
                            "field": f"content.drugs[{j}].drug", "reason": _reason(inter),
                            "message": f"华法林 + {y['name']}：{w.get('action') or ''}".rstrip("：")})
    return findings


def _acknowledged(content: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {a.get("finding"): a for a in content.get("acknowledgements") or []
            if isinstance(a, dict) and len((a.get("comment") or "").strip()) >= 2}


def enforce(content: dict[str, Any]) -> list[dict[str, Any]]:
    """Refuse a regimen with a blocking finding or an unacknowledged warning; return the warnings (acknowledged)."""
    findings = review(content.get("drugs") or [])
    blocking = [f for f in findings if f["level"] == "block"]
    if blocking:
        first = blocking[0]
        raise Invalid(f"{first['message']}，不能提交 (regimen blocked)", code=first["code"], line=first["lines"][0],
                      field=first["field"], findings=blocking,
                      errors=[{"field": f["field"], "message": f["message"]} for f in blocking])
    warnings = [f for f in findings if f["level"] == "warn"]
    acks = _acknowledged(content)
    missing = [f for f in warnings if f["key"] not in acks]
    if missing:
        raise Invalid("用药安全提示需逐条确认并填写说明后才能提交 (acknowledgement required)",
                      code="acknowledgement_required", line=missing[0]["lines"][-1], field="content.acknowledgements",
                      findings=missing,
                      errors=[{"field": "content.acknowledgements",
                               "message": f"{f['message']}。请添加一行确认：提示编号 {f['key']}，并填写说明"}
                              for f in missing])
    return [{**f, "comment": acks[f["key"]]["comment"].strip(), **{k: acks[f["key"]].get(k) for k in ("by", "at")
                                                                  if acks[f["key"]].get(k)}} for f in warnings]


def review_text(warnings: list[dict[str, Any]]) -> str:
    if not warnings:
        return "用药安全核对：未发现超量、禁忌联用或需确认的相互作用。"
    parts = [f"{n}. {w['message']}（{w.get('by_name') or '起草人'}已确认：{w['comment']}）"
             for n, w in enumerate(warnings, 1)]
    return "用药安全提示（起草人已确认，请审核）：" + " ".join(parts)


def checked_content(content: dict[str, Any], principal) -> tuple[dict[str, Any], str]:
    """The content with its acknowledgements stamped (who, when) and the review text for the approver; refuses a
    regimen that is blocked or has unacknowledged warnings (see `enforce`)."""
    warnings = enforce(content)
    stamped = []
    previous = {a.get("finding"): a for a in content.get("acknowledgements") or [] if isinstance(a, dict)}
    for w in warnings:
        old = previous.get(w["key"]) or {}
        stamped.append({"finding": w["key"], "message": w["message"], "comment": w["comment"],
                        "by": old.get("by") or principal.username,
                        "by_name": old.get("by_name") or principal.display_name or principal.username,
                        "at": old.get("at") or clock.now().isoformat()})
    out = {k: v for k, v in content.items() if k != "acknowledgements"}
    if stamped:
        out["acknowledgements"] = stamped
    return out, review_text([{**w, "by_name": s["by_name"]} for w, s in zip(warnings, stamped)])


def check_submission(*, task, data: dict[str, Any], principal) -> dict[str, Any]:
    """Draft / revision proposal: check and store the acknowledgements; approval: check again before approving."""
    if isinstance(data.get("content"), dict):
        content, text = checked_content(data["content"], principal)
        return {**data, "content": content, "regimen_review": text}
    if data.get("approved"):
        content = (task.data or {}).get("content") or {}
        enforce(content)
    return data
