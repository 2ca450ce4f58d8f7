"""Billing units from the fee schedule (configuration, `fee_schedule.json` or the file named by `YGT_CONSULT_FEES`):
billable_units = ceil(duration_min / unit_minutes) (at least one) × the unit price of the consult type, ×named_multiplier
for a 点名 consult (W3 billed per 30-min unit and priced 联合/点名 consults higher). A row for
the inviting organisation (`orgs.<code>.<type>`) overrides the county's row."""
from __future__ import annotations

import json
import math
import os
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).parent / "fee_schedule.json"


@lru_cache(maxsize=4)
def _load(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def schedule() -> dict[str, Any]:
    return _load(os.environ.get("YGT_CONSULT_FEES") or str(DEFAULT_FILE))


def row_for(consult_type: str, org_code: str | None) -> dict[str, Any]:
    fees = schedule()
    org = (fees.get("orgs") or {}).get(org_code or "", {})
    return dict(org.get(consult_type) or fees["types"].get(consult_type) or fees["default"])


def bill(*, consult_type: str, org_code: str | None, minutes: float, named: bool = False) -> dict[str, Any]:
    """The charge of one consult: `billable_units = ceil(minutes / unit_minutes)` (at least one) × unit price,
    × the 点名 multiplier for a named consult."""
    row = row_for(consult_type, org_code)
    minutes = max(0.0, float(minutes))
    unit = int(row["unit_minutes"])
    units = max(1, math.ceil(minutes / unit))
    amount = Decimal(str(row["unit_price"])) * units
    if named:
        amount *= Decimal(str(schedule().get("named_multiplier", 1)))
    return {"minutes": round(minutes, 1), "unit_minutes": unit, "billable_units": units,
            "unit_price": str(row["unit_price"]), "named": named,
            "amount": str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            "currency": schedule().get("currency", "CNY")}
