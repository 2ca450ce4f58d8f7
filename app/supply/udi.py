"""Read a UDI from a GS1 carrier (GS1-128 or GS1 DataMatrix) with the `biip` library: UDI-DI = AI (01) GTIN-14,
UDI-PI = (17) expiry, (10) lot, (21) serial, (11) production date (wave2.md §4.3).

Accepted forms: the raw element string a scanner or phone camera returns (FNC1 as the ASCII group separator 0x1D,
optionally with a symbology identifier such as `]d2` or `]C1`), and the human-readable form printed under the bar
code, `(01)…(17)…(10)…(21)…`. A wrong GTIN check digit is refused with the digit expected (never "corrected")."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import biip
from biip.gs1_messages import GS1Message

from .errors import UdiRefused

GS = "\x1d"
_SYMBOLOGY = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
_CHECK_DIGIT = re.compile(r"Expected (\d), got (\d)")


@dataclass(frozen=True)
class Udi:
    gtin: str                    # UDI-DI, GTIN-14
    lot: str | None
    serial: str | None
    expiry_on: date | None
    produced_on: date | None
    raw: str

    def as_dict(self) -> dict:
        return {"gtin": self.gtin, "lot": self.lot, "serial": self.serial,
                "expiry_on": self.expiry_on.isoformat() if self.expiry_on else None,
                "produced_on": self.produced_on.isoformat() if self.produced_on else None}


def parse(code: str) -> Udi:
    """Parse one scanned code; raise `UdiRefused` (udi_unreadable, udi_no_gtin, udi_bad_check_digit) otherwise."""
    text = (code or "").strip().replace("<GS>", GS).replace("\\x1d", GS)
    if not text:
        raise UdiRefused("未读到条码内容", code="udi_unreadable")
    try:
        message = GS1Message.parse_hri(text) if text.startswith("(") else _message(text)
    except biip.ParseError as exc:
        raise UdiRefused("条码无法识别为 GS1 UDI", code="udi_unreadable", reason=str(exc)) from exc
    fields = {es.ai.ai: es for es in message.element_strings}
    gtin = fields.get("01")
    if gtin is None:
        raise UdiRefused("条码中没有产品标识 (01) GTIN", code="udi_no_gtin")
    if gtin.gtin_error:
        match = _CHECK_DIGIT.search(gtin.gtin_error)
        raise UdiRefused("产品标识 GTIN 校验位错误", code="udi_bad_check_digit", gtin=gtin.value,
                         expected=match.group(1) if match else None, got=match.group(2) if match else None)
    return Udi(gtin=gtin.value.zfill(14), lot=_value(fields, "10"), serial=_value(fields, "21"),
               expiry_on=_date(fields, "17"), produced_on=_date(fields, "11"), raw=text)


def _message(text: str) -> GS1Message:
    body = _SYMBOLOGY.sub("", text).lstrip(GS)
    result = biip.parse(body)
    if result.gs1_message is None:
        raise UdiRefused("条码无法识别为 GS1 UDI", code="udi_unreadable", reason=result.gs1_message_error or "")
    return result.gs1_message


def _value(fields, ai: str) -> str | None:
    es = fields.get(ai)
    return es.value if es is not None else None


def _date(fields, ai: str) -> date | None:
    es = fields.get(ai)
    return es.date if es is not None else None


def element_string(gtin: str, *, expiry_on: date | None = None, lot: str | None = None,
                   serial: str | None = None) -> str:
    """The human-readable element string of a UDI (for labels, demo data and tests)."""
    parts = [f"(01){gtin}"]
    if expiry_on:
        parts.append(f"(17){expiry_on:%y%m%d}")
    if lot:
        parts.append(f"(10){lot}")
    if serial:
        parts.append(f"(21){serial}")
    return "".join(parts)


def check_digit(body13: str) -> str:
    """The GS1 mod-10 check digit of the first 13 digits of a GTIN-14."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body13)))
    return str((10 - total % 10) % 10)
