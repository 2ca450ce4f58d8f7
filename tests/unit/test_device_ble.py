"""The server's Bluetooth GATT parsers (connectors/devices/ble.py) on the same byte layouts as the UI's Vitest
(ui/src/lib/ble/gatt.test.ts): SFLOAT with its special values, BP 0x2A35 and glucose 0x2A18 with every flag."""
from __future__ import annotations

import json
import math
from datetime import datetime
from pathlib import Path

import pytest

from app.core.errors import Invalid
from connectors.devices.ble import parse_blood_pressure, parse_glucose, sfloat


def test_sfloat_signed_mantissa_and_exponent_and_special_values():
    assert [sfloat(0x0078), sfloat(0xF06B), sfloat(0x2001), sfloat(0x0FFF), sfloat(0xB07E)] == [
        120, 10.7, 100, -1, 0.00126]
    assert all(math.isnan(sfloat(raw)) for raw in (0x07FF, 0x0800, 0x0801))
    assert (sfloat(0x07FE), sfloat(0x0802)) == (math.inf, -math.inf)


def test_blood_pressure_minimal_and_full():
    m = parse_blood_pressure(bytes([0x00, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00]))
    assert (m.unit, m.systolic_mmhg, m.diastolic_mmhg, m.mean_arterial, m.pulse_rate) == ("mmHg", 120, 80, 93, None)
    full = parse_blood_pressure(bytes([0x1F, 0xA0, 0xF0, 0x6B, 0xF0, 0x7D, 0xF0, 0xEA, 0x07, 0x0C, 0x04, 0x08, 0x1E,
                                       0x0F, 0x48, 0x00, 0x01, 0x0C, 0x00]))
    assert (full.unit, full.systolic, full.systolic_mmhg, full.diastolic_mmhg) == ("kPa", 16, 120, 80)
    assert full.timestamp == datetime(2026, 12, 4, 8, 30, 15) and full.pulse_rate == 72 and full.user_id == 1
    assert full.status["irregular_pulse"] is True and full.status["pulse_rate_range"] == "above_upper_limit"


def test_glucose_in_kg_per_l_with_offset_and_in_mol_per_l():
    m = parse_glucose(bytes([0x03, 0x01, 0x00, 0xEA, 0x07, 0x0C, 0x04, 0x07, 0x00, 0x00, 0x1E, 0x00, 0x7E, 0xB0,
                             0x11]))
    assert (m.sequence_number, m.measured_at, m.mmol_per_l) == (1, datetime(2026, 12, 4, 7, 30), 6.99)
    assert (m.sample_type, m.sample_location) == ("capillary_whole_blood", "finger")
    mol = parse_glucose(bytes([0x1E, 0x02, 0x00, 0xEA, 0x07, 0x0C, 0x04, 0x07, 0x00, 0x00, 0x46, 0xC0, 0x12, 0x01,
                               0x00]))
    assert (mol.mmol_per_l, mol.sample_type, mol.sensor_status, mol.context_follows) == (7.0, "capillary_plasma", 1,
                                                                                          True)


@pytest.mark.parametrize("data,code", [
    (bytes([0x00, 0x78, 0x00, 0x50]), "too_short"),
    (bytes([0x04, 0x78, 0x00, 0x50, 0x00, 0x5D, 0x00]), "too_short"),
    (bytes([0x00, 0xFF, 0x07, 0x50, 0x00, 0x5D, 0x00]), "no_value"),
])
def test_bad_blood_pressure_bytes_are_refused_with_a_code(data, code):
    with pytest.raises(Invalid) as err:
        parse_blood_pressure(data)
    assert err.value.code == code


# -- the byte examples shared with the UI's Vitest (ui/src/lib/ble/gatt_examples.json) ---------------------------

EXAMPLES = json.loads((Path(__file__).resolve().parents[2] / "ui/src/lib/ble/gatt_examples.json").read_text("utf-8"))
SPECIAL_VALUES = {"NaN": math.nan, "+INF": math.inf, "-INF": -math.inf}


def _same(actual, expected) -> bool:
    if expected == "NaN":
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, str) and expected in SPECIAL_VALUES:
        return actual == SPECIAL_VALUES[expected]
    if isinstance(actual, datetime):
        return actual.isoformat() == expected
    if isinstance(expected, float) and isinstance(actual, (int, float)):
        return math.isclose(actual, expected, rel_tol=1e-9)
    return actual == expected


@pytest.mark.parametrize("raw,value", EXAMPLES["sfloat"], ids=[r for r, _ in EXAMPLES["sfloat"]])
def test_sfloat_examples(raw, value):
    assert _same(sfloat(int(raw, 16)), value)


@pytest.mark.parametrize("parse,case", [(parse_blood_pressure, c) for c in EXAMPLES["blood_pressure"]]
                         + [(parse_glucose, c) for c in EXAMPLES["glucose"]],
                         ids=[c["name"] for c in EXAMPLES["blood_pressure"] + EXAMPLES["glucose"]])
def test_characteristic_examples(parse, case):
    data = bytes.fromhex(case["hex"])
    if "error" in case:
        with pytest.raises(Invalid) as err:
            parse(data)
        assert err.value.code == case["error"]
        return
    parsed = parse(data)
    for key, expected in case["expect"].items():
        assert _same(getattr(parsed, key), expected), (key, getattr(parsed, key), expected)
