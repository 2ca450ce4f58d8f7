"""Vendor payloads → readings. A vendor cloud posts JSON; its adapter turns it into `Reading`s (the generic format
is the one in docs/mobile.md; a vendor with its own shape gets a function here and an entry in ADAPTERS).

A reading becomes LOINC facts: BP → 8480-6 systolic, 8462-4 diastolic (mm[Hg]), 8867-4 pulse (/min); glucose →
1558-6 fasting or 2339-0 random (mmol/L, or mg/dL converted by the intake).
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from app.core.errors import Invalid
from app.webhooks.catalog import FORMATS

from . import ble

KINDS = ("bp", "glucose")
SERIAL = {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,40}$"}
READING_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["serial", "kind", "measured_at"],
    "properties": {
        "reading_id": {"type": "string", "minLength": 1, "maxLength": 80},
        "serial": SERIAL,
        "kind": {"enum": list(KINDS)},
        "measured_at": {"type": "string", "format": "date-time"},
        "systolic": {"type": "number"}, "diastolic": {"type": "number"}, "pulse": {"type": "number"},
        "glucose_mmol_l": {"type": "number"}, "glucose_mg_dl": {"type": "number"},
        "meal": {"enum": ["fasting", "random", "postprandial"]},
        "gatt_hex": {"type": "string", "pattern": "^([0-9A-Fa-f]{2}){7,40}$",
                     "description": "the raw Bluetooth characteristic value (0x2A35 or 0x2A18) as hex, instead of "
                                    "the values"},
    },
    "allOf": [
        {"if": {"properties": {"kind": {"const": "bp"}}},
         "then": {"oneOf": [{"required": ["systolic", "diastolic"]}, {"required": ["gatt_hex"]}]}},
        {"if": {"properties": {"kind": {"const": "glucose"}}},
         "then": {"oneOf": [{"required": ["glucose_mmol_l"]}, {"required": ["glucose_mg_dl"]},
                            {"required": ["gatt_hex"]}]}},
    ],
}
BODY_SCHEMA: dict[str, Any] = {"type": "object", "required": ["readings"], "properties": {
    "readings": {"type": "array", "minItems": 1, "maxItems": 500, "items": {"type": "object"}}}}
_READING = Draft202012Validator(READING_SCHEMA, format_checker=FORMATS)
_BODY = Draft202012Validator(BODY_SCHEMA)


@dataclass(frozen=True)
class Fact:
    code: str
    value: float
    unit: str


@dataclass
class Reading:
    """One reading of one device; `error` set when the vendor's item is malformed (kept for review)."""
    raw: dict[str, Any]
    serial: str = ""
    kind: str = ""
    key: str = ""
    measured_at: datetime | None = None
    facts: list[Fact] = field(default_factory=list)
    error: Invalid | None = None


def generic(body: Any) -> list[Reading]:
    """The generic format: `{"readings": [{reading_id?, serial, kind, measured_at, …values}]}`."""
    problems = sorted(_BODY.iter_errors(body), key=lambda e: list(e.path))
    if problems:
        raise Invalid("请求体格式不正确 (body does not match the readings schema)", code="schema_error",
                      errors=[{"path": "/" + "/".join(str(p) for p in e.path), "message": e.message}
                              for e in problems[:20]])
    return [_reading(item) for item in body["readings"]]


def _reading(item: dict[str, Any]) -> Reading:
    serial = str(item.get("serial") or "")[:40]
    reading = Reading(raw=item, serial=serial, kind=str(item.get("kind") or "")[:20])
    problems = sorted(_READING.iter_errors(item), key=lambda e: list(e.path))
    reading.key = str(item.get("reading_id") or "")[:80] or _derived_key(item)
    if problems:
        reading.error = Invalid("读数格式不正确 (reading does not match the schema)", code="schema_error",
                                errors=[{"path": "/" + "/".join(str(p) for p in e.path), "message": e.message}
                                        for e in problems[:10]])
        return reading
    reading.measured_at = datetime.fromisoformat(item["measured_at"])
    if item.get("gatt_hex"):
        try:
            item = {**item, **_from_gatt(reading.kind, bytes.fromhex(item["gatt_hex"]))}
        except Invalid as exc:
            reading.error = exc
            return reading
    if reading.kind == "bp":
        reading.facts = [Fact("8480-6", item["systolic"], "mm[Hg]"), Fact("8462-4", item["diastolic"], "mm[Hg]")]
        if item.get("pulse") is not None:
            reading.facts.append(Fact("8867-4", item["pulse"], "/min"))
    else:
        code = "1558-6" if item.get("meal") == "fasting" else "2339-0"
        if item.get("glucose_mmol_l") is not None:
            reading.facts = [Fact(code, item["glucose_mmol_l"], "mmol/L")]
        else:
            reading.facts = [Fact(code, item["glucose_mg_dl"], "mg/dL")]
    return reading


def _from_gatt(kind: str, data: bytes) -> dict[str, Any]:
    """Values of a raw Bluetooth Blood Pressure (0x2A35) or Glucose (0x2A18) measurement."""
    if kind == "bp":
        bp = ble.parse_blood_pressure(data)
        out: dict[str, Any] = {"systolic": bp.systolic_mmhg, "diastolic": bp.diastolic_mmhg}
        if bp.pulse_rate is not None and math.isfinite(bp.pulse_rate):
            out["pulse"] = round(bp.pulse_rate)
        return out
    glucose = ble.parse_glucose(data)
    if glucose.mmol_per_l is None:
        raise Invalid("设备未给出血糖浓度 (no value)", code="no_value", field="gatt_hex")
    return {"glucose_mmol_l": glucose.mmol_per_l}


def _derived_key(item: dict[str, Any]) -> str:
    """No reading id from the vendor: the reading is the same when device, time and values are (design §4)."""
    raw = json.dumps(item, sort_keys=True, ensure_ascii=False, default=str)
    return "sha:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


ADAPTERS: dict[str, Callable[[Any], list[Reading]]] = {}


def adapter_for(vendor: str) -> Callable[[Any], list[Reading]]:
    """The vendor's own mapper, else the generic format."""
    return ADAPTERS.get(vendor, generic)
