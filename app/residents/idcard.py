"""Resident identity card numbers (居民身份证号码) per GB 11643-1999: validate, mask, generate.

18 characters: 6-digit administrative area code, 8-digit birth date (YYYYMMDD), 3-digit sequence (odd for men,
even for women), and a check character: sum(digit_i × weight_i) mod 11 mapped through "10X98765432".
Pure functions, no I/O.
"""
from __future__ import annotations

import random
from datetime import date

from app.core import clock

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_MAP = "10X98765432"


class InvalidIdNumber(ValueError):
    """The text is not a valid 18-digit GB 11643 number; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ　", "0123456789XXX ")


def normalize(id_number: str) -> str:
    """Strip blanks, turn full-width digits (a Chinese input method's) into ASCII and upper-case a trailing x.

    Nothing else is converted: superscripts, other scripts' digits and the like stay as they are and are refused
    as `characters` (str.isdigit() accepts them, so the checks below use ASCII digits only)."""
    return id_number.translate(_FULLWIDTH).strip().replace(" ", "").upper()


def _ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits."""
    if len(first17) != 17 or not _ascii_digits(first17):
        raise InvalidIdNumber("length")
    return CHECK_MAP[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def birth_date_of(id_number: str) -> date:
    """The birth date embedded in positions 7–14."""
    text = id_number[6:14]
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        raise InvalidIdNumber("birth_date") from None


def sex_of(id_number: str) -> str:
    """"M" when the sequence code (position 17) is odd, "F" when even."""
    return "M" if int(id_number[16]) % 2 else "F"


def validate(id_number: str, *, today: date | None = None) -> str:
    """Return the normalized number, or raise InvalidIdNumber(reason) with reason one of
    "length", "characters", "birth_date", "checksum"."""
    value = normalize(id_number)
    if len(value) != 18:
        raise InvalidIdNumber("length")
    if not _ascii_digits(value[:17]) or not (_ascii_digits(value[17]) or value[17] == "X"):
        raise InvalidIdNumber("characters")
    born = birth_date_of(value)
    if born.year < 1800 or born > (today or clock.today()):
        raise InvalidIdNumber("birth_date")
    if check_char(value[:17]) != value[17]:
        raise InvalidIdNumber("checksum")
    return value


def is_valid(id_number: str) -> bool:
    try:
        validate(id_number)
    except InvalidIdNumber:
        return False
    return True


def mask(id_number: str) -> str:
    """Show only the first and the last character: 3****************4.

    Lists show the birth date and sex beside the mask; with those, area digits plus the last four (the old
    `3301**********1234`) left about 100 candidates and the check character picked the one — every number was
    rebuilt. First + last leave the area, the sequence and the check to guess (hundreds of candidates)."""
    if len(id_number) <= 2:
        return "*" * len(id_number)
    return id_number[:1] + "*" * (len(id_number) - 2) + id_number[-1:]


def hint(id_number: str) -> str:
    """The two characters a mask shows, kept in clear for lists (see `mask`)."""
    return id_number[:1] + id_number[-1:]


def generate(rng: random.Random, *, area_code: str, birth_date: date, sex: str) -> str:
    """A valid number for synthetic data: the given area, birth date and sex, a random sequence code."""
    sequence = rng.randrange(0, 500) * 2 + (1 if sex == "M" else 0)
    first17 = f"{area_code}{birth_date:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
