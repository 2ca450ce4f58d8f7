"""Reading UDIs from GS1 carriers (biip): GTIN check digit, expiry (17), lot (10), serial (21)."""
from __future__ import annotations

from datetime import date

import pytest

from app.supply import udi
from app.supply.errors import UdiRefused

GS = "\x1d"


def test_a_datamatrix_element_string_with_fnc1_separators_is_read():
    parsed = udi.parse(f"]d201069012345678921728123110L2301{GS}21SN0001")
    assert (parsed.gtin, parsed.expiry_on, parsed.lot, parsed.serial) == ("06901234567892", date(2028, 12, 31),
                                                                         "L2301", "SN0001")


def test_the_printed_human_readable_form_is_read():
    parsed = udi.parse("(01)06901234567892(11)250101(17)281231(10)L2301(21)SN0001")
    assert parsed.produced_on == date(2025, 1, 1) and parsed.serial == "SN0001"


def test_a_wrong_gtin_check_digit_is_refused_with_the_digit_expected():
    with pytest.raises(UdiRefused) as err:
        udi.parse("(01)06901234567891(17)281231(10)L2301(21)SN0001")
    assert err.value.code == "udi_bad_check_digit"
    assert err.value.details["expected"] == "2" and err.value.details["got"] == "1"


@pytest.mark.parametrize("code", ["", "hello", "(17)281231(10)L1"])
def test_a_code_without_a_product_identifier_is_refused(code):
    with pytest.raises(UdiRefused) as err:
        udi.parse(code)
    assert err.value.code in ("udi_unreadable", "udi_no_gtin")


def test_an_impossible_expiry_date_is_unreadable():
    with pytest.raises(UdiRefused) as err:
        udi.parse("(01)06901234567892(17)281331(10)L1")
    assert err.value.code == "udi_unreadable"


def test_element_string_round_trips():
    text = udi.element_string("06901234567892", expiry_on=date(2027, 6, 30), lot="A1", serial="S9")
    assert udi.parse(text).as_dict() == {"gtin": "06901234567892", "lot": "A1", "serial": "S9",
                                        "expiry_on": "2027-06-30", "produced_on": None}
    assert udi.check_digit("0690123456789") == "2"
