"""A site's script functions for the compatibility tests (YGT_SCRIPT_EXTENSIONS=tests.compat.site_functions):
a catalogue lookup returning a namedtuple and a converter from a service answer to a dataclass record."""
from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass

Item = namedtuple("Item", ["code", "fragile", "unit_price"])

CATALOGUE = {"GLASS-SYRINGE": Item("GLASS-SYRINGE", True, 12.5), "GAUZE": Item("GAUZE", False, 3.0)}


@dataclass
class Stock:
    code: str
    found: bool


def find_item(code: str) -> Item:
    return CATALOGUE[code]


def stock_record(answer: dict) -> Stock:
    return Stock(code=answer["resident"], found=bool(answer["found"]))


SCRIPT_FUNCTIONS = {"find_item": find_item, "stock_record": stock_record}
