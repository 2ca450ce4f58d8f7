"""Appraisal schemes: one per institution type, versioned. A scheme lists indicators of the quality library with a
weight (summing to 100) and a scoring rule (app.appraisal.rules). Saving a changed scheme adds the next version; a
result names the version it was computed with. The defaults (`defaults.json`) are stored as version 1 the first
time a type's scheme is needed.

A scheme that does not validate is refused whole with `422` and a stable code plus the JSON path of the offending
part (e.g. `weights_not_100` at `/items`, `unknown_indicator` at `/items/2/indicator_id`).
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.core import clock
from app.core.db import session, unit_of_work
from app.core.errors import Invalid, NotFound
from app.quality.library import library, thresholds

from .models import AppraisalScheme
from .rules import PARAM_LABELS, PARAMS, RULES

KINDS = {"township": "乡镇卫生院", "village": "村卫生室", "team": "家庭医生团队"}
# the dimension an indicator must carry to be computed per subject of the type
NEEDS = {"township": "org", "village": "org", "team": "doctor"}
ITEM_KEYS = {"indicator_id", "weight", "rule", "params"}
DEFAULTS = Path(__file__).parent / "defaults.json"


def _fail(code: str, path: str, message: str, **details: Any) -> Invalid:
    return Invalid(f"考核方案有误 ({path}): {message}", code=code, path=path, **details)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise NotFound("考核对象类型不存在 (appraisal type not found)", code="unknown_kind", kind=kind)
    return kind


def applicable(kind: str) -> list[dict[str, Any]]:
    """The library's indicators a scheme of this type may use (they carry the type's dimension)."""
    year = clock.today().year
    return [{"id": i.id, "name": i.name, "unit": i.unit, "direction": i.direction, "group": i.group,
             "has_target": bool((thresholds(i.id, year) or {}).get("target") is not None)}
            for i in library().values() if NEEDS[kind] in i.dimensions]


def _check_item(kind: str, item: Any, i: int, seen: set[str]) -> dict[str, Any]:
    at = f"/items/{i}"
    if not isinstance(item, dict):
        raise _fail("invalid_item", at, "每项应为对象")
    extra = sorted(set(item) - ITEM_KEYS)
    if extra:
        raise _fail("invalid_item", f"{at}/{extra[0]}", f"未知字段 {extra[0]}")
    ind_id = item.get("indicator_id")
    ind = library().get(ind_id) if isinstance(ind_id, str) else None
    if ind is None:
        raise _fail("unknown_indicator", f"{at}/indicator_id", "指标不在指标库中", indicator_id=ind_id)
    if NEEDS[kind] not in ind.dimensions:
        raise _fail("indicator_not_applicable", f"{at}/indicator_id", f"指标「{ind.name}」不能按{KINDS[kind]}计算",
                    indicator_id=ind_id)
    if ind_id in seen:
        raise _fail("duplicate_indicator", f"{at}/indicator_id", f"指标「{ind.name}」重复", indicator_id=ind_id)
    seen.add(ind.id)
    weight = item.get("weight")
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight) \
            or not 0 < weight <= 100:
        raise _fail("invalid_weight", f"{at}/weight", "权重应为 0 到 100 之间的数 (不含 0)", value=weight)
    rule = item.get("rule")
    if rule not in RULES:
        raise _fail("invalid_rule", f"{at}/rule", "评分方法应为 interval / max / max_type / target", value=rule)
    params = item.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise _fail("invalid_params", f"{at}/params", "参数应为对象")
    for key, value in params.items():
        allowed = PARAMS[rule].get(key)
        if allowed is None:
            raise _fail("invalid_params", f"{at}/params/{key}", f"评分方法 {rule} 没有参数 {key}")
        if value not in allowed:
            raise _fail("invalid_params", f"{at}/params/{key}", f"参数 {key} 应为 {' / '.join(allowed)}",
                        value=value)
    if rule == "target" and (thresholds(ind.id, clock.today().year) or {}).get("target") is None:
        raise _fail("no_target", f"{at}/rule", f"指标「{ind.name}」没有配置目标值, 不能用目标达成法")
    if rule == "target":
        params = {"below": params.get("below", "linear")}
    if rule == "max_type":
        params = {"reference": params.get("reference", "p90")}
    return {"indicator_id": ind_id, "weight": float(weight), "rule": rule, "params": params}


def validate(kind: str, body: Any) -> dict[str, Any]:
    """The scheme body checked and normalised, or `Invalid` with a stable code and the JSON path."""
    if not isinstance(body, dict):
        raise _fail("invalid_scheme", "", "方案应为对象")
    name, note, items = body.get("name"), body.get("note", ""), body.get("items")
    if name is not None and (not isinstance(name, str) or not 0 < len(name.strip()) <= 120):
        raise _fail("invalid_scheme", "/name", "方案名称应为 1–120 个字")
    if note is not None and (not isinstance(note, str) or len(note) > 400):
        raise _fail("invalid_scheme", "/note", "说明不超过 400 个字")
    if not isinstance(items, list) or not items:
        raise _fail("empty_scheme", "/items", "方案至少包含一个指标")
    if len(items) > 50:
        raise _fail("invalid_scheme", "/items", "方案最多 50 个指标")
    seen: set[str] = set()
    checked = [_check_item(kind, item, i, seen) for i, item in enumerate(items)]
    total = sum(i["weight"] for i in checked)
    if abs(total - 100) > 1e-6:
        raise _fail("weights_not_100", "/items", f"权重合计应为 100, 现为 {total:g}", total=total)
    return {"name": name.strip() if name else None, "note": note or "", "items": checked}


def _defaults() -> dict[str, Any]:
    return json.loads(DEFAULTS.read_text(encoding="utf-8"))


def describe(row: AppraisalScheme) -> dict[str, Any]:
    lib = library()
    items = [{**i, "indicator_name": lib[i["indicator_id"]].name if i["indicator_id"] in lib else i["indicator_id"],
              "unit": lib[i["indicator_id"]].unit if i["indicator_id"] in lib else "",
              "direction": lib[i["indicator_id"]].direction if i["indicator_id"] in lib else "higher",
              "rule_label": RULES[i["rule"]],
              "params_label": "、".join(PARAM_LABELS[v] for v in i["params"].values() if v in PARAM_LABELS)} for i in row.items]
    return {"id": row.id, "kind": row.kind, "kind_label": KINDS[row.kind], "version": row.version, "name": row.name,
            "note": row.note, "items": items, "created_by": row.created_by, "created_at": row.created_at}


def _latest(kind: str) -> AppraisalScheme | None:
    return session().scalars(select(AppraisalScheme).where(AppraisalScheme.kind == kind)
                             .order_by(AppraisalScheme.version.desc()).limit(1)).first()


def _add(kind: str, version: int, data: dict[str, Any], by: str) -> AppraisalScheme | None:
    row = AppraisalScheme(kind=kind, version=version, name=data["name"], note=data.get("note", ""),
                          items=data["items"], created_by=by, created_at=clock.now())
    try:
        with unit_of_work() as s:
            s.add(row)
    except IntegrityError:
        session().rollback()
        return None                                       # another request stored this version first
    return row


def current(kind: str) -> AppraisalScheme:
    """The version in force (the defaults stored as version 1 when the type has none yet)."""
    check_kind(kind)
    row = _latest(kind)
    if row is None:
        default = _defaults()[kind]
        _add(kind, 1, {**validate(kind, default), "name": default["name"]}, "system")
        row = _latest(kind)
    assert row is not None
    return row


def ensure_defaults() -> int:
    """Store the default scheme of every type that has none (seeding; idempotent). Returns how many were added."""
    added = 0
    for kind in KINDS:
        if _latest(kind) is None:
            current(kind)
            added += 1
    return added


def save(kind: str, body: Any, *, by: str) -> tuple[AppraisalScheme, bool]:
    """Store an edited scheme as the next version; unchanged (same items, name and note) → the current one."""
    base = current(kind)
    data = validate(kind, body)
    data["name"] = data["name"] or base.name
    if (data["items"], data["name"], data["note"]) == (base.items, base.name, base.note):
        return base, False
    row = _add(kind, base.version + 1, data, by)
    if row is None:
        raise Invalid("方案刚被他人修改, 请刷新后再保存", code="scheme_changed", status=409)
    return row, True


def version(kind: str, number: int) -> AppraisalScheme:
    check_kind(kind)
    row = session().scalars(select(AppraisalScheme).where(AppraisalScheme.kind == kind,
                                                          AppraisalScheme.version == number)).first()
    if row is None:
        raise NotFound("方案版本不存在 (scheme version not found)", code="scheme_version_not_found", version=number)
    return row


def versions(kind: str) -> list[dict[str, Any]]:
    current(kind)
    rows = session().scalars(select(AppraisalScheme).where(AppraisalScheme.kind == kind)
                             .order_by(AppraisalScheme.version.desc()))
    return [{"version": r.version, "name": r.name, "note": r.note, "created_by": r.created_by,
             "created_at": r.created_at, "indicator_count": len(r.items)} for r in rows]
