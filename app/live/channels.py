"""The vital-sign channels of a live room, the LOINC codes that feed them, alarm rules and the trend window.

Pure functions (no database): which channel a LOINC code is, whether a value breaches a rule, which readings fall
into the trend window."""
from __future__ import annotations

import json
import operator
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.errors import Invalid

# channel -> (LOINC codes, Chinese label, unit shown)
CHANNELS: dict[str, tuple[tuple[str, ...], str, str]] = {
    "hr": (("8867-4",), "心率", "次/分"),
    "spo2": (("59408-5", "2708-6"), "血氧饱和度", "%"),
    "sbp": (("8480-6",), "收缩压", "mmHg"),
    "dbp": (("8462-4",), "舒张压", "mmHg"),
    "rr": (("9279-1",), "呼吸频率", "次/分"),
    "temp": (("8310-5",), "体温", "℃"),
}
BY_LOINC = {code: channel for channel, (codes, _label, _unit) in CHANNELS.items() for code in codes}
TREND_WINDOW = timedelta(minutes=15)
DEFAULT_RULES = Path(__file__).with_name("alarms.json")
OPS: dict[str, Callable[[float, float], bool]] = {"<": operator.lt, "<=": operator.le, ">": operator.gt,
                                                   ">=": operator.ge}


@dataclass(frozen=True)
class Rule:
    channel: str
    op: str
    value: float

    @property
    def threshold(self) -> str:
        return f"{self.op}{self.value:g}"

    def breached(self, value: float) -> bool:
        return OPS[self.op](value, self.value)


def channel_of(loinc: str) -> str | None:
    """The live channel a LOINC code feeds, or None (the observation is not a live vital)."""
    return BY_LOINC.get(loinc)


def parse_rules(data: Any) -> tuple[Rule, ...]:
    """Alarm rules from their configuration ({"rules": [{"channel", "op", "value"}]}), checked."""
    items = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise Invalid("报警阈值配置须含 rules 列表 (alarm configuration needs a rules list)", code="live_bad_thresholds")
    rules = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or item.get("channel") not in CHANNELS or item.get("op") not in OPS \
                or not isinstance(item.get("value"), int | float) or isinstance(item.get("value"), bool):
            raise Invalid(f"报警阈值第 {i + 1} 条无效 (rules[{i}]: channel in {sorted(CHANNELS)}, op in "
                          f"{sorted(OPS)}, numeric value)", code="live_bad_thresholds")
        rules.append(Rule(item["channel"], item["op"], float(item["value"])))
    return tuple(rules)


_cache: dict[str, tuple[float, tuple[Rule, ...]]] = {}


def configured_rules() -> tuple[Rule, ...]:
    """The site's alarm rules: the file named by YGT_LIVE_THRESHOLDS, else app/live/alarms.json (re-read when the
    file changes)."""
    path = Path(os.environ.get("YGT_LIVE_THRESHOLDS") or DEFAULT_RULES)
    mtime = path.stat().st_mtime
    cached = _cache.get(str(path))
    if cached is None or cached[0] != mtime:
        cached = (mtime, parse_rules(json.loads(path.read_text(encoding="utf-8"))))
        _cache[str(path)] = cached
    return cached[1]


def breached(channel: str, value: float, rules: Iterable[Rule]) -> Rule | None:
    """The first rule of `channel` the value breaches, or None."""
    return next((r for r in rules if r.channel == channel and r.breached(value)), None)


def in_window(points: Sequence[tuple[datetime, float]], now: datetime,
              window: timedelta = TREND_WINDOW) -> list[tuple[datetime, float]]:
    """The points measured within `window` before `now` (inclusive of the start, none from the future), by time."""
    start = now - window
    return sorted((p for p in points if start <= p[0] <= now), key=lambda p: p[0])
