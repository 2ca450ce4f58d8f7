"""Parsers of the standard Bluetooth health characteristics, for readings a gateway forwards as raw bytes (the PWA's
TypeScript twin is ui/src/lib/ble/gatt.ts; both are pure and tested against the same byte layouts):

* Blood Pressure service 0x1810, Blood Pressure Measurement 0x2A35;
* Glucose service 0x1808, Glucose Measurement 0x2A18;
* IEEE 11073-20601 16-bit SFLOAT (`sfloat`).

Layouts follow the Bluetooth GATT Specification Supplement; multi-byte fields are little-endian.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.core.errors import Invalid

MMHG_PER_KPA = 7.50062
MG_DL_PER_MMOL_L = 18.016
SPECIAL = {0x07FF: math.nan, 0x0800: math.nan, 0x0801: math.nan, 0x07FE: math.inf, 0x0802: -math.inf}
SAMPLE_TYPES = (None, "capillary_whole_blood", "capillary_plasma", "venous_whole_blood", "venous_plasma",
                "arterial_whole_blood", "arterial_plasma", "undetermined_whole_blood", "undetermined_plasma",
                "interstitial_fluid", "control_solution")
SAMPLE_LOCATIONS = {1: "finger", 2: "alternate_site_test", 3: "earlobe", 4: "control_solution", 15: "not_available"}
PULSE_RANGES = ("in_range", "above_upper_limit", "below_lower_limit", "reserved")


def sfloat(raw: int) -> float:
    """IEEE 11073 SFLOAT: 4-bit signed exponent, 12-bit signed mantissa; NaN/NRes/reserved → nan, ±INF → ±inf."""
    raw &= 0xFFFF
    if raw in SPECIAL:
        return SPECIAL[raw]
    mantissa, exponent = raw & 0x0FFF, raw >> 12
    mantissa -= 0x1000 if mantissa >= 0x0800 else 0
    exponent -= 0x10 if exponent >= 0x08 else 0
    return float(f"{mantissa * 10.0 ** exponent:.6g}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.offset = bytes(data), 0

    def take(self, fmt: str, what: str):
        size = struct.calcsize(fmt)
        if self.offset + size > len(self.data):
            raise Invalid(f"数据不完整：缺少{what} (characteristic value too short)", code="too_short", field=what)
        (value,) = struct.unpack_from(fmt, self.data, self.offset)
        self.offset += size
        return value

    def sfloat(self, what: str) -> float:
        return sfloat(self.take("<H", what))

    def date_time(self, what: str) -> datetime:
        moment = self.optional_date_time(what)
        if moment is None:
            raise Invalid(f"{what}未知：设备时钟未设置 (date not known)", code="invalid_value", field=what)
        return moment

    def optional_date_time(self, what: str) -> datetime | None:
        """Date Time (0x2A08): year, month or day 0 means "not known" (a device whose clock was never set)."""
        year, month, day, hours, minutes, seconds = (self.take("<H", what), *(self.take("<B", what) for _ in range(5)))
        if 0 in (year, month, day):
            return None
        try:
            return datetime(year, month, day, hours, minutes, seconds)
        except ValueError as exc:
            raise Invalid(f"{what}无效 (invalid date)", code="invalid_value", field=what) from exc


@dataclass
class BloodPressure:
    unit: str
    systolic: float
    diastolic: float
    mean_arterial: float
    systolic_mmhg: int
    diastolic_mmhg: int
    timestamp: datetime | None = None          # the cuff's clock, no zone
    pulse_rate: float | None = None
    user_id: int | None = None
    status: dict[str, object] = field(default_factory=dict)


@dataclass
class Glucose:
    sequence_number: int
    base_time: datetime
    measured_at: datetime
    time_offset_minutes: int | None = None
    concentration: float | None = None
    concentration_unit: str | None = None
    mmol_per_l: float | None = None
    sample_type: str | None = None
    sample_location: str | None = None
    sensor_status: int | None = None
    context_follows: bool = False


def _required(value: float, what: str) -> float:
    if not math.isfinite(value):
        raise Invalid(f"设备未给出{what} (no value)", code="no_value", field=what)
    return value


def parse_blood_pressure(data: bytes) -> BloodPressure:
    """Blood Pressure Measurement (0x2A35)."""
    r = _Reader(data)
    flags = r.take("<B", "标志位")
    unit = "kPa" if flags & 0x01 else "mmHg"
    systolic, diastolic = _required(r.sfloat("收缩压"), "收缩压"), _required(r.sfloat("舒张压"), "舒张压")
    mean = r.sfloat("平均动脉压")
    factor = MMHG_PER_KPA if unit == "kPa" else 1.0
    out = BloodPressure(unit, systolic, diastolic, mean, round(systolic * factor), round(diastolic * factor))
    if flags & 0x02:
        out.timestamp = r.optional_date_time("时间戳")
    if flags & 0x04:
        out.pulse_rate = r.sfloat("脉率")
    if flags & 0x08:
        out.user_id = r.take("<B", "用户编号")
    if flags & 0x10:
        s = r.take("<H", "测量状态")
        out.status = {"body_movement": bool(s & 0x01), "cuff_too_loose": bool(s & 0x02),
                      "irregular_pulse": bool(s & 0x04), "pulse_rate_range": PULSE_RANGES[(s >> 3) & 0x03],
                      "improper_position": bool(s & 0x20)}
    return out


def parse_glucose(data: bytes) -> Glucose:
    """Glucose Measurement (0x2A18)."""
    r = _Reader(data)
    flags = r.take("<B", "标志位")
    sequence, base = r.take("<H", "序号"), r.date_time("基准时间")
    out = Glucose(sequence, base, base, context_follows=bool(flags & 0x10))
    if flags & 0x01:
        out.time_offset_minutes = r.take("<h", "时间偏移")
        out.measured_at = base + timedelta(minutes=out.time_offset_minutes)
    if flags & 0x02:
        out.concentration_unit = "mol/L" if flags & 0x04 else "kg/L"
        out.concentration = r.sfloat("血糖浓度")
        if math.isfinite(out.concentration):
            mmol = out.concentration * 1000 if flags & 0x04 else out.concentration * 100000 / MG_DL_PER_MMOL_L
            out.mmol_per_l = round(mmol, 2)
        type_location = r.take("<B", "样本类型")
        kind = type_location & 0x0F
        out.sample_type = SAMPLE_TYPES[kind] if 0 < kind < len(SAMPLE_TYPES) else "reserved"
        out.sample_location = SAMPLE_LOCATIONS.get(type_location >> 4, "reserved")
    if flags & 0x08:
        out.sensor_status = r.take("<H", "传感器状态")
    return out
