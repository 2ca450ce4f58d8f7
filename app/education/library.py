"""The seed content library (健康教育处方): a dozen items tagged by disease, risk and topic. `seed()` is idempotent."""
from __future__ import annotations

from sqlalchemy import select

from app.core import clock
from app.core.db import unit_of_work

from .models import EducationItem

SOURCE = "国家基层高血压防治管理指南(2020); 国家基层糖尿病防治管理指南(2022); 中国居民膳食指南(2022)"
# (code, disease, topic, risk levels (empty = all), title, summary, body)
ITEMS = (
    ("htn_salt", "htn", "diet_salt", (), "高血压患者如何限盐",
     "每人每天食盐不超过5克，警惕酱油、咸菜、腌肉中的“隐形盐”。",
     ("1. 每人每天食盐摄入不超过5克（约一啤酒瓶盖）。\n2. 用限盐勺，做菜后放盐；少用酱油、味精、豆瓣酱。\n"
      "3. 少吃咸菜、腊肉、火腿、方便面等高盐食品。\n4. 多吃新鲜蔬菜水果，增加钾的摄入（肾功能不全者遵医嘱）。")),
    ("htn_exercise", "htn", "exercise", (), "高血压患者的运动",
     "每周5–7次、每次30分钟中等强度有氧运动，如快走、太极拳。",
     "中等强度：运动时心跳加快、微微出汗、能说话不能唱歌。血压未控制（≥180/110 mmHg）时暂停运动，先就诊。"),
    ("htn_medication", "htn", "medication", (), "坚持规律服用降压药",
     "降压药需长期规律服用，不要血压正常就自行停药。",
     ("1. 按医嘱每天固定时间服药，长效药多在早晨服用。\n2. 漏服时不要下次加倍。\n3. 出现头晕、干咳、脚踝水肿等不适，"
      "及时告诉村医，不要自行停药或换药。\n4. 定期测血压并记录，随访时带上记录本。")),
    ("htn_home_bp", "htn", "self_monitoring", (), "家庭自测血压方法",
     "安静休息5分钟后坐位测量，连测2次取平均。",
     "测量前30分钟不吸烟、不喝咖啡浓茶；袖带与心脏同一高度；每次测2遍，间隔1分钟；家庭血压≥135/85 mmHg提示控制不佳。"),
    ("htn_danger", "htn", "danger_signs", ("HIGH", "VERY_HIGH"), "出现这些情况立即就医",
     "剧烈头痛、胸痛、说话不清、一侧肢体无力，请立即拨打120。",
     ("血压≥180/110 mmHg 伴剧烈头痛、呕吐、视物模糊，或突发胸痛、胸闷、喘憋不能平卧，或口角歪斜、言语不清、"
      "一侧肢体麻木无力，是急症信号，请立即拨打120或到最近医院就诊。")),
    ("general_smoking", "general", "smoking", (), "戒烟，任何时候都不晚",
     "吸烟和被动吸烟都会损害血管，戒烟可降低心脑血管病风险。",
     "下定决心、定好戒烟日；扔掉烟具，避开吸烟场合；烟瘾来时喝水、深呼吸、散步；需要时可到戒烟门诊获得帮助。"),
    ("general_alcohol", "general", "alcohol", (), "限制饮酒",
     "最好不饮酒；如饮酒，男性每天酒精不超过25克，女性不超过15克。",
     "25克酒精约等于啤酒750毫升、葡萄酒250毫升、38度白酒75克。饮酒会升高血压、血糖波动，服降糖药者空腹饮酒易低血糖。"),
    ("general_weight", "general", "weight", (), "控制体重与腰围",
     "体质指数保持在18.5–23.9，男性腰围<90厘米，女性<85厘米。",
     "减重每月1–2公斤为宜：减少油脂和精米白面，增加粗粮、蔬菜；每天走路6000步以上。"),
    ("dm_diet", "t2dm", "diet_salt", (), "糖尿病饮食：定时定量",
     "主食定量、粗细搭配，少吃甜食和含糖饮料，进餐规律。",
     "每餐主食约一拳头，先吃蔬菜再吃主食；用杂粮替代部分白米白面；水果在两餐之间少量吃，血糖控制不好时暂不吃。"),
    ("dm_hypoglycemia", "t2dm", "hypoglycemia", (), "低血糖的识别与处理",
     "心慌、出汗、手抖、饥饿感可能是低血糖，血糖≤3.9 mmol/L 立即处理。",
     ("立即吃15–20克含糖食物（如3–4块方糖或半杯果汁），15分钟后复测；仍低则再吃一次并就医。使用胰岛素或磺脲类药物者"
      "外出随身带糖果，不要空腹运动。反复低血糖请告诉医生调整用药。")),
    ("dm_foot", "t2dm", "foot_care", ("MODERATE", "HIGH", "VERY_HIGH"), "糖尿病足的日常护理",
     "每天检查双脚，温水洗脚不超过37℃，不赤脚走路。",
     ("每天看脚底、脚趾缝有无破皮、水泡、颜色变化；洗脚前用手肘试水温；穿宽松软底鞋和浅色棉袜；剪趾甲平剪；"
      "发现伤口不愈、红肿发热请尽快就诊。")),
    ("dm_monitoring", "t2dm", "self_monitoring", (), "血糖自我监测",
     "空腹血糖目标4.4–7.0 mmol/L，非空腹<10.0 mmol/L；每3个月查一次糖化血红蛋白。",
     "用血糖仪前洗手、擦干；记录测量时间（空腹/餐后2小时）和数值；随访时带上记录；血糖≥16.7或≤3.9 mmol/L 及时就医。"),
    ("general_psychology", "general", "psychology", (), "慢病患者的心理调适",
     "保持心情平稳，规律作息，有困难可以告诉家庭医生。",
     "长期焦虑、失眠会影响血压和血糖。多与家人朋友交流，参加社区健康活动；情绪持续低落超过两周请就医。"),
)


def seed() -> int:
    """Insert library items that are not there yet (by code); returns how many were added."""
    added = 0
    with unit_of_work() as s:
        known = set(s.scalars(select(EducationItem.code)))
        for code, disease, topic, risks, title, summary, body in ITEMS:
            if code in known:
                continue
            s.add(EducationItem(code=code, disease=disease, topic=topic, risk_levels=list(risks), title=title,
                                summary=summary, body=body, source=SOURCE, created_at=clock.now()))
            added += 1
    return added
