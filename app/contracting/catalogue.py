"""The service-package catalogue (服务包目录, wave2 §6.3): versioned packages the county admin edits.

A package is `code, name, target_groups, price, payer_split{insurance, public_health, self}, items[{service_code,
name, kind, quantity, period, provider_level}]`. Prices and splits come from the county's approved list: the
platform stores them, it never invents them. Rule [P, wave2 §6.3]: a free 基本公卫 service can never be charged, so
a package with any price may not contain one (`free_phs_item_charged`).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.core import clock
from app.core.db import session
from app.core.errors import Invalid, NotFound

from .models import ServicePackage

# 国家基本公共卫生服务 items residents receive free (基本公卫 规范 2017): never part of a charged package
FREE_PHS_SERVICES: dict[str, str] = {
    "phs_health_record": "居民健康档案管理",
    "phs_health_education": "健康教育",
    "phs_htn_follow_up": "高血压患者季度随访（基本公卫）",
    "phs_dm_follow_up": "2型糖尿病患者季度随访（基本公卫）",
    "phs_elderly_checkup": "65岁及以上老年人年度健康体检",
    "phs_tcm_guidance": "中医药健康管理",
}
KINDS = {"follow_up": "随访", "exam": "检查", "home_visit": "上门服务", "consult": "会诊", "guidance": "指导"}
PERIODS = {"year": 1, "half_year": 2, "quarter": 4, "month": 12}        # units of the period per 12-month cycle
PERIOD_LABELS = {"year": "每年", "half_year": "每半年", "quarter": "每季度", "month": "每月"}
LEVELS = {"village": "村卫生室", "township": "乡镇卫生院", "county": "县级医院"}
DISEASES = ("htn", "t2dm")
TARGET_GROUPS = ("一般人群", "老年人", "高血压", "2型糖尿病", "结核", "严重精神障碍", "孕产妇", "0-6岁儿童", "残疾人",
                 "脱贫/低收入", "计划生育特殊家庭", "抗凝治疗")


def validate(body: dict[str, Any]) -> dict[str, Any]:
    """A package body checked as a whole (nothing is stored when any part is wrong); returns it normalised."""
    code = str(body.get("code") or "").strip().upper()
    if not code or not code.replace("_", "").isalnum() or len(code) > 40:
        raise Invalid("服务包编码只能由字母、数字和下划线组成 (bad package code)", code="invalid_package_code",
                      path="/code")
    name = str(body.get("name") or "").strip()
    if not name:
        raise Invalid("请填写服务包名称 (name required)", code="package_name_required", path="/name")
    price = int(body.get("price_fen") or 0)
    split = {k: int((body.get("payer_split") or {}).get(k) or 0) for k in ("insurance", "public_health", "self")}
    if price < 0 or any(v < 0 for v in split.values()):
        raise Invalid("金额不能为负 (negative amount)", code="negative_amount", path="/price_fen")
    if sum(split.values()) != price:
        raise Invalid(f"医保、公卫经费、个人自付之和（{sum(split.values()) / 100:.2f} 元）须等于服务包价格"
                      f"（{price / 100:.2f} 元）(payer split does not add up to the price)",
                      code="payer_split_mismatch", path="/payer_split", price_fen=price, split=split)
    groups = [str(g) for g in body.get("target_groups") or []]
    unknown = [g for g in groups if g not in TARGET_GROUPS]
    if unknown:
        raise Invalid("未知的目标人群 (unknown target group)", code="unknown_target_group", path="/target_groups",
                      unknown=unknown, known=list(TARGET_GROUPS))
    raw_items = body.get("items") or []
    if not raw_items:
        raise Invalid("服务包至少包含一个服务项目 (a package needs at least one item)", code="package_items_required",
                      path="/items")
    items, seen = [], set()
    for n, raw in enumerate(raw_items):
        item = _item(raw, n)
        if item["service_code"] in seen:
            raise Invalid("服务项目重复 (duplicate item)", code="duplicate_package_item", path=f"/items/{n}",
                          service_code=item["service_code"])
        seen.add(item["service_code"])
        if price > 0 and item["service_code"] in FREE_PHS_SERVICES:
            raise Invalid(f"“{item['name']}”是免费的基本公共卫生服务，不能放入收费服务包 (a free 基本公卫 item can "
                          f"never be charged)", code="free_phs_item_charged", path=f"/items/{n}/service_code",
                          service_code=item["service_code"])
        items.append(item)
    return {"code": code, "name": name, "description": (body.get("description") or None), "target_groups": groups,
            "price_fen": price, "payer_split": split, "items": items}


def _item(raw: dict[str, Any], n: int) -> dict[str, Any]:
    path = f"/items/{n}"
    service_code = str(raw.get("service_code") or "").strip().lower()
    if not service_code or len(service_code) > 40:
        raise Invalid("服务项目编码缺失 (service code required)", code="invalid_service_code", path=path)
    kind = raw.get("kind")
    if kind not in KINDS:
        raise Invalid("服务项目类型无效 (unknown item kind)", code="invalid_item_kind", path=f"{path}/kind",
                      known=list(KINDS))
    period = raw.get("period") or "year"
    if period not in PERIODS:
        raise Invalid("服务周期无效 (unknown period)", code="invalid_item_period", path=f"{path}/period",
                      known=list(PERIODS))
    level = raw.get("provider_level")
    if level not in LEVELS:
        raise Invalid("提供机构层级无效 (unknown provider level)", code="invalid_provider_level",
                      path=f"{path}/provider_level", known=list(LEVELS))
    quantity = raw.get("quantity")
    if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= 52:
        raise Invalid("每周期数量须为 1–52 的整数 (quantity must be 1..52)", code="invalid_item_quantity",
                      path=f"{path}/quantity")
    disease = raw.get("disease") or None
    if disease is not None and disease not in DISEASES:
        raise Invalid("病种无效 (unknown disease)", code="invalid_item_disease", path=f"{path}/disease")
    if kind == "follow_up" and disease is None:
        raise Invalid("随访类服务项目须指明病种 (a follow-up item names its disease)",
                      code="follow_up_item_needs_disease", path=f"{path}/disease")
    name = str(raw.get("name") or FREE_PHS_SERVICES.get(service_code) or "").strip()
    if not name:
        raise Invalid("请填写服务项目名称 (item name required)", code="item_name_required", path=f"{path}/name")
    return {"service_code": service_code, "name": name, "kind": kind, "disease": disease, "quantity": quantity,
            "period": period, "provider_level": level, "free_phs": service_code in FREE_PHS_SERVICES}


def units_per_cycle(item: dict[str, Any]) -> int:
    """How many units a cycle owes: the quantity per period times the periods in a 12-month cycle."""
    return int(item["quantity"]) * PERIODS[item["period"]]


def current_packages() -> list[ServicePackage]:
    return list(session().scalars(select(ServicePackage).where(ServicePackage.current.is_(True))
                                  .order_by(ServicePackage.price_fen, ServicePackage.code)))


def current(code: str) -> ServicePackage:
    row = session().scalars(select(ServicePackage).where(ServicePackage.code == code,
                                                         ServicePackage.current.is_(True))).first()
    if row is None:
        raise NotFound(f"服务包 {code} 不存在或已停用 (unknown package)", code="unknown_package", package_code=code)
    return row


def versions(code: str) -> list[ServicePackage]:
    return list(session().scalars(select(ServicePackage).where(ServicePackage.code == code)
                                  .order_by(ServicePackage.version.desc())))


def save(body: dict[str, Any], *, actor: str) -> ServicePackage:
    """A new version of the package (the first is version 1); the previous version stops being offered. Contracts
    signed on an older version keep it."""
    clean = validate(body)
    s = session()
    previous = s.scalars(select(ServicePackage).where(ServicePackage.code == clean["code"])
                         .order_by(ServicePackage.version.desc()).with_for_update()).first()
    if previous is not None:
        previous.current = False
    row = ServicePackage(**clean, version=(previous.version + 1) if previous else 1, current=True,
                         created_by=actor, created_at=clock.now())
    s.add(row)
    s.flush()
    return row


def retire(code: str) -> ServicePackage:
    row = current(code)
    row.current = False
    return row


def as_dict(row: ServicePackage) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "version": row.version, "name": row.name,
            "description": row.description, "target_groups": row.target_groups, "price_fen": row.price_fen,
            "payer_split": row.payer_split, "paid": row.payer_split.get("self", 0) > 0 or row.price_fen > 0,
            "current": row.current,
            "items": [{**i, "kind_label": KINDS.get(i["kind"], i["kind"]),
                       "period_label": PERIOD_LABELS.get(i["period"], i["period"]),
                       "provider_level_label": LEVELS.get(i["provider_level"], i["provider_level"]),
                       "units_per_cycle": units_per_cycle(i)} for i in row.items],
            "created_by": row.created_by, "created_at": row.created_at}


# The demo county's starting catalogue (structure from wave2 §6.3 [P]; prices are placeholders a county replaces)
DEFAULT_PACKAGES: tuple[dict[str, Any], ...] = (
    {"code": "BASIC", "name": "基础包", "target_groups": ["一般人群"], "price_fen": 0,
     "payer_split": {"insurance": 0, "public_health": 0, "self": 0},
     "description": "基础性签约服务：基本医疗 + 国家基本公共卫生服务，居民免费",
     "items": [{"service_code": "phs_health_record", "kind": "guidance", "quantity": 1, "period": "year",
                "provider_level": "village"},
               {"service_code": "phs_health_education", "kind": "guidance", "quantity": 1, "period": "quarter",
                "provider_level": "village"}]},
    {"code": "HTN_PLUS", "name": "高血压个性化包", "target_groups": ["高血压"], "price_fen": 12000,
     "payer_split": {"insurance": 6000, "public_health": 3000, "self": 3000},
     "description": "每季度上门随访 + 血压计校准；年度血脂、肾功能、尿白蛋白/肌酐、心电图；县专科远程会诊1次",
     "items": [{"service_code": "htn_home_follow_up", "name": "上门高血压随访", "kind": "follow_up", "disease": "htn",
                "quantity": 1, "period": "quarter", "provider_level": "village"},
               {"service_code": "htn_annual_labs", "name": "血脂+肾功能+尿白蛋白/肌酐+心电图", "kind": "exam",
                "quantity": 1, "period": "year", "provider_level": "township"},
               {"service_code": "htn_specialist_consult", "name": "县专科医生远程会诊", "kind": "consult",
                "quantity": 1, "period": "year", "provider_level": "county"}]},
    {"code": "DM_PLUS", "name": "糖尿病个性化包", "target_groups": ["2型糖尿病"], "price_fen": 15000,
     "payer_split": {"insurance": 8000, "public_health": 3000, "self": 4000},
     "description": "每半年糖化血红蛋白；年度眼底照相（远程阅片）、足部筛查；胰岛素注射指导",
     "items": [{"service_code": "dm_follow_up_plus", "name": "糖尿病个性化随访", "kind": "follow_up", "disease": "t2dm",
                "quantity": 1, "period": "quarter", "provider_level": "village"},
               {"service_code": "dm_hba1c", "name": "糖化血红蛋白检测", "kind": "exam", "quantity": 1,
                "period": "half_year", "provider_level": "township"},
               {"service_code": "dm_fundus_photo", "name": "眼底照相（远程阅片）", "kind": "exam", "quantity": 1,
                "period": "year", "provider_level": "county"},
               {"service_code": "dm_foot_screening", "name": "足部筛查", "kind": "exam", "quantity": 1,
                "period": "year", "provider_level": "township"}]},
    {"code": "ANTICOAG", "name": "抗凝管理包", "target_groups": ["抗凝治疗"], "price_fen": 10000,
     "payer_split": {"insurance": 6000, "public_health": 0, "self": 4000},
     "description": "村卫生室 INR 床旁检测 + 药师用药审核",
     "items": [{"service_code": "inr_poct", "name": "INR 床旁检测", "kind": "exam", "quantity": 1, "period": "month",
                "provider_level": "village"},
               {"service_code": "pharmacist_review", "name": "药师抗凝用药审核", "kind": "guidance", "quantity": 1,
                "period": "quarter", "provider_level": "county"}]},
    {"code": "HOME_CARE", "name": "居家医疗/康复包", "target_groups": ["老年人", "残疾人"], "price_fen": 20000,
     "payer_split": {"insurance": 10000, "public_health": 5000, "self": 5000},
     "description": "65岁及以上失能/半失能老人：每月上门医疗 + 康复指导",
     "items": [{"service_code": "home_medical_visit", "name": "上门医疗服务", "kind": "home_visit", "quantity": 1,
                "period": "month", "provider_level": "village"},
               {"service_code": "rehab_guidance", "name": "居家康复指导", "kind": "guidance", "quantity": 1,
                "period": "quarter", "provider_level": "township"}]},
)


def ensure_defaults(actor: str = "system") -> int:
    """Create the starting catalogue when a package code is missing (never a new version of an existing one)."""
    made = 0
    for body in DEFAULT_PACKAGES:
        if session().scalars(select(ServicePackage.id).where(ServicePackage.code == body["code"])).first() is None:
            save(body, actor=actor)
            made += 1
    return made
