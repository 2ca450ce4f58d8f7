"""Live vitals: which LOINC code feeds which channel, alarm rules from configuration, the 15-minute trend window."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import Invalid
from app.live import channels

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def test_loinc_codes_map_to_channels():
    assert channels.channel_of("59408-5") == "spo2" and channels.channel_of("2708-6") == "spo2"
    assert channels.channel_of("8867-4") == "hr" and channels.channel_of("8480-6") == "sbp"
    assert channels.channel_of("9279-1") == "rr" and channels.channel_of("8310-5") == "temp"
    assert channels.channel_of("4548-4") is None          # HbA1c is a record fact, not a live vital


@pytest.mark.parametrize("channel,value,threshold", [
    ("spo2", 89.9, "<90"), ("spo2", 88, "<90"), ("spo2", 90, None), ("spo2", 97, None),
    ("hr", 39, "<40"), ("hr", 40, None), ("hr", 130, None), ("hr", 131, ">130"),
    ("sbp", 89, "<90"), ("sbp", 179, None), ("sbp", 180, ">=180"), ("dbp", 200, None), ("temp", 41, None)])
def test_default_thresholds(channel, value, threshold):
    rule = channels.breached(channel, value, channels.configured_rules())
    assert (rule.threshold if rule else None) == threshold


def test_thresholds_come_from_the_configured_file(tmp_path, monkeypatch):
    path = tmp_path / "alarms.json"
    path.write_text(json.dumps({"rules": [{"channel": "spo2", "op": "<", "value": 93}]}))
    monkeypatch.setenv("YGT_LIVE_THRESHOLDS", str(path))
    assert channels.breached("spo2", 92, channels.configured_rules()).threshold == "<93"
    assert channels.breached("hr", 200, channels.configured_rules()) is None      # only what the site configured


@pytest.mark.parametrize("bad", [{}, {"rules": {}}, {"rules": [{"channel": "bp", "op": "<", "value": 1}]},
                                 {"rules": [{"channel": "hr", "op": "!=", "value": 1}]},
                                 {"rules": [{"channel": "hr", "op": "<", "value": "40"}]},
                                 {"rules": [{"channel": "hr", "op": "<", "value": True}]}])
def test_bad_threshold_configuration_is_refused_with_a_code(bad):
    with pytest.raises(Invalid) as err:
        channels.parse_rules(bad)
    assert err.value.code == "live_bad_thresholds"


def test_trend_window_keeps_the_last_15_minutes_in_time_order():
    points = [(NOW - timedelta(minutes=m), float(m)) for m in (16, 15, 14, 1, 0)] + [(NOW + timedelta(seconds=5), 9.0)]
    kept = channels.in_window(list(reversed(points)), NOW)
    assert [v for _, v in kept] == [15.0, 14.0, 1.0, 0.0]       # 16 min ago is out, the future is out
    assert channels.in_window([], NOW) == []
