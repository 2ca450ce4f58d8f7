"""Plain-language explanations of a resident's risk level for the portal (issue 21.1: never a raw grade or score
without an explanation). One table, in code, reviewed with the clinical docs: disease × level → what it means for
the resident and what to do, in everyday Chinese. A level with no entry is not shown at all."""
from __future__ import annotations

from typing import Any

LEVEL_LABELS = {"LOW": "低危", "MODERATE": "中危", "HIGH": "高危", "VERY_HIGH": "很高危"}

EXPLANATIONS: dict[tuple[str, str], str] = {
    ("htn", "LOW"): "您的血压相关风险较低。坚持清淡少盐、规律运动，按计划随访测量血压即可。",
    ("htn", "MODERATE"): "除血压外您还有一两项会增加心脑血管病风险的因素（如吸烟、血脂偏高或年龄）。请按时服药、"
                         "把血压控制在目标以内，家庭医生会按计划随访。",
    ("htn", "HIGH"): "您今后发生心脏病、脑卒中的风险较高。请每天按时服药、在家常测血压，不要自行停药；"
                     "家庭医生会更密切地随访，必要时请上级医院专科医生一起管理。",
    ("htn", "VERY_HIGH"): "您发生心脏病、脑卒中的风险很高，需要医生重点管理。请严格按医嘱服药、每天测血压；"
                          "如出现胸痛、剧烈头痛、一侧肢体无力或说话不清，请立即拨打120。",
    ("t2dm", "LOW"): "您的血糖控制和并发症风险目前较低。坚持控制饮食、规律运动，按计划复查血糖。",
    ("t2dm", "MODERATE"): "您的血糖或相关指标需要进一步控制。请按时用药、少吃甜食和精米面，定期测血糖，家庭医生会按计划随访。",
    ("t2dm", "HIGH"): "您发生糖尿病并发症（眼、肾、足、心血管）的风险较高。请严格按医嘱用药、每天注意双脚，"
                      "按时做眼底和肾功能检查，家庭医生会更密切地随访。",
    ("t2dm", "VERY_HIGH"): "您的糖尿病并发症风险很高，需要医生重点管理。请严格按医嘱用药和监测血糖；如出现"
                           "明显口渴多尿、意识模糊或血糖过低（心慌、出冷汗），请立即就医。",
}


def explain(disease: str, level: str | None) -> dict[str, Any] | None:
    """The level's label and explanation for the resident, or None (nothing shown) when the table has no entry."""
    if not level:
        return None
    text = EXPLANATIONS.get((disease, level.upper()))
    if text is None:
        return None
    return {"level_label": LEVEL_LABELS[level.upper()], "explanation": text}
