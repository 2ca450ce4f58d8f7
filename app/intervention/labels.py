"""Codes of the interventional centre and their Chinese labels (the UI shows labels, never codes); wave2 §4."""
from __future__ import annotations

SERVICE_LINES = {"coronary": "冠脉介入", "peripheral": "外周血管介入", "neuro": "神经介入", "oncology": "肿瘤介入"}
GRADES = {1: "一级手术", 2: "二级手术", 3: "三级手术", 4: "四级手术"}
ASA = {1: "ASA Ⅰ", 2: "ASA Ⅱ", 3: "ASA Ⅲ", 4: "ASA Ⅳ", 5: "ASA Ⅴ"}
STATUSES = {
    "assessing": "术前评估", "mdt": "术前多学科讨论", "consenting": "知情同意", "reserving": "耗材预留",
    "operating": "手术记录", "inpatient": "术后住院", "discharged": "已出院待分组", "grouped": "已分组待随访",
    "closed": "已完成", "cancelled": "已取消",
}
OPEN = ("assessing", "mdt", "consenting", "reserving", "operating", "inpatient", "discharged", "grouped")
COMPLICATIONS = {
    "bleeding": "穿刺部位出血/血肿", "pseudoaneurysm": "假性动脉瘤", "dissection": "血管夹层/穿孔",
    "ci_aki": "造影剂急性肾损伤", "contrast_allergy": "造影剂过敏", "embolism": "栓塞/异位栓塞", "infection": "感染",
    "arrhythmia": "心律失常", "death": "死亡", "other": "其他",
}
# Clavien-Dindo: grade III and above is a severe complication (wave2 §4.5 严重并发症率)
CLAVIEN_DINDO = {"I": "Ⅰ级", "II": "Ⅱ级", "IIIa": "Ⅲa级", "IIIb": "Ⅲb级", "IVa": "Ⅳa级", "IVb": "Ⅳb级", "V": "Ⅴ级（死亡）"}
SEVERE_GRADES = ("IIIa", "IIIb", "IVa", "IVb", "V")
REOPERATION_REASONS = {"bleeding": "出血", "infection": "感染/愈合不良", "residual": "未达预期/病灶残留",
                       "migration": "植入物移位", "other": "其他"}
APPROACHES = {"femoral": "股动脉", "radial": "桡动脉", "brachial": "肱动脉", "venous": "静脉", "percutaneous": "经皮穿刺",
              "other": "其他"}
OUTCOMES = {"success": "手术成功", "partial": "部分成功", "failed": "未成功"}
DISCHARGE_TO = {"home": "回家", "down_referral": "下转基层", "transfer": "转院", "death": "院内死亡"}
ANTICOAG_DRUGS = {"warfarin": "华法林", "rivaroxaban": "利伐沙班", "dabigatran": "达比加群", "enoxaparin": "依诺肝素",
                  "nadroparin": "那屈肝素（低分子肝素钙）", "heparin": "肝素", "aspirin": "阿司匹林", "clopidogrel": "氯吡格雷",
                  "ticagrelor": "替格瑞洛"}
CONTRAST_RISK = {"low": "低风险", "moderate": "中风险", "high": "高风险"}
SATISFACTION_ITEMS = {"informed": "术前告知", "waiting": "等待时间", "pain": "疼痛控制", "attitude": "医护态度",
                      "cost": "费用透明", "overall": "总体"}
