"""Fixed name material for the demo county 青溪县 (a fictional county; ID numbers use area code 330127).

Everything here is synthetic. Names are drawn from common Chinese surnames and given-name characters.
"""
from __future__ import annotations

COUNTY = {"code": "C01", "name": "青溪县人民医院", "place": "青溪县", "area_code": "330127",
          "address": "浙江省青溪县城关街道人民路 1 号"}

# code suffix, name, English gloss, specialist username
DEPARTMENTS = (
    ("D01", "心内科", "cardiology", "specialist_cardio"),
    ("D02", "内分泌科", "endocrinology", "specialist_endo"),
    ("D03", "药剂科", "pharmacy", None),
    ("D04", "微创介入中心", "minimally invasive interventional centre", "specialist_mic"),
    ("D05", "呼吸科", "respiratory medicine", "specialist_resp"),
    ("D06", "肾内科", "nephrology", "specialist_renal"),
    ("D07", "神经内科", "neurology", "specialist_neuro"),
)

# place name, health-centre name
TOWNSHIPS = (
    ("城关街道", "城关街道社区卫生服务中心"),
    ("石门镇", "石门镇中心卫生院"),
    ("桃源镇", "桃源镇卫生院"),
    ("龙泉镇", "龙泉镇卫生院"),
    ("清水镇", "清水镇卫生院"),
    ("白沙镇", "白沙镇卫生院"),
    ("金山镇", "金山镇卫生院"),
    ("凤凰镇", "凤凰镇卫生院"),
    ("马岭乡", "马岭乡卫生院"),
    ("松溪乡", "松溪乡卫生院"),
    ("柳塘乡", "柳塘乡卫生院"),
    ("高桥乡", "高桥乡卫生院"),
)
VILLAGES_PER_TOWNSHIP = (13, 13, 13, 13, 13, 13, 12, 12, 12, 12, 12, 12)   # 150 villages

VILLAGE_FIRST = "上下东西南北前后大小新老高低中长石竹桃李杨柳梅松枫桂金银青白黄红朱马龙凤"
VILLAGE_SECOND = ("塘", "湾", "坞", "山", "溪", "桥", "岭", "源", "坑", "田", "庄", "畈", "岙", "坪", "口", "埠",
                  "家", "圩", "港", "林")

# the most common surnames, roughly by frequency (the first ones are drawn more often)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾夏韦方邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛郝龚邵万钱严洪赖武"
GIVEN_MALE = "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣建国志文德海峰春荣成坤亮"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀英慧巧美玉兰萍红燕梅琳雪琴云莉倩婷颖露瑶怡佳蓉丹凤洁珍翠桂彩"
