"""GB 11643-1999 resident ID numbers: check character, embedded birth date, masking, synthetic generation."""
from __future__ import annotations

import random
from datetime import date

import pytest

from app.residents import idcard

# the worked examples of the standard itself
EXAMPLE_X = "11010519491231002X"
EXAMPLE_DIGIT = "440524188001010014"


def test_a_number_with_the_right_check_digit_is_valid():
    assert idcard.validate(EXAMPLE_DIGIT) == EXAMPLE_DIGIT


def test_a_check_character_x_is_valid():
    assert idcard.validate(EXAMPLE_X) == EXAMPLE_X


def test_a_lowercase_x_and_surrounding_blanks_are_normalized():
    assert idcard.validate(" 11010519491231002x ") == EXAMPLE_X


def test_the_check_character_follows_the_weights_and_the_10x98765432_map():
    assert idcard.check_char(EXAMPLE_X[:17]) == "X"
    assert idcard.check_char(EXAMPLE_DIGIT[:17]) == "4"


@pytest.mark.parametrize("wrong", ["0", "1", "9"])
def test_a_wrong_check_digit_is_rejected_as_checksum(wrong):
    with pytest.raises(idcard.InvalidIdNumber) as exc:
        idcard.validate(EXAMPLE_X[:17] + wrong)
    assert exc.value.reason == "checksum"


def test_a_number_with_x_where_a_digit_belongs_is_rejected_as_checksum():
    with pytest.raises(idcard.InvalidIdNumber) as exc:
        idcard.validate(EXAMPLE_DIGIT[:17] + "X")
    assert exc.value.reason == "checksum"


@pytest.mark.parametrize("value", ["", "11010519491231002", "11010519491231002X1", "110105491231002"])
def test_a_number_of_the_wrong_length_is_rejected(value):
    with pytest.raises(idcard.InvalidIdNumber) as exc:
        idcard.validate(value)
    assert exc.value.reason == "length"


def test_letters_among_the_digits_are_rejected():
    with pytest.raises(idcard.InvalidIdNumber) as exc:
        idcard.validate("1101051949123A002X")
    assert exc.value.reason == "characters"


@pytest.mark.parametrize("birth", ["19490230", "19491301", "17991231"])
def test_an_impossible_birth_date_is_rejected_even_with_a_matching_check_character(birth):
    first17 = "110105" + birth + "002"
    with pytest.raises(idcard.InvalidIdNumber) as exc:
        idcard.validate(first17 + idcard.check_char(first17))
    assert exc.value.reason == "birth_date"


def test_a_birth_date_in_the_future_is_rejected():
    first17 = "110105" + "20300101" + "002"
    with pytest.raises(idcard.InvalidIdNumber) as exc:
        idcard.validate(first17 + idcard.check_char(first17), today=date(2025, 1, 1))
    assert exc.value.reason == "birth_date"


def test_birth_date_and_sex_are_read_from_the_number():
    assert idcard.birth_date_of(EXAMPLE_X) == date(1949, 12, 31)
    assert idcard.sex_of(EXAMPLE_X) == "F"          # sequence 002: even
    assert idcard.sex_of(EXAMPLE_DIGIT) == "M"      # sequence 001: odd


def test_masking_keeps_the_first_four_and_last_four_characters():
    assert idcard.mask("330127200008013091") == "3****************1"


def test_generated_numbers_are_valid_and_carry_the_given_area_birth_date_and_sex():
    rng = random.Random(7)
    for sex in ("M", "F") * 50:
        born = date(1940, 1, 1).fromordinal(date(1940, 1, 1).toordinal() + rng.randrange(24000))
        number = idcard.generate(rng, area_code="330127", birth_date=born, sex=sex)
        assert idcard.validate(number, today=date(2030, 1, 1)) == number
        assert number.startswith("330127")
        assert (idcard.birth_date_of(number), idcard.sex_of(number)) == (born, sex)


def test_generation_is_deterministic_for_a_seeded_rng():
    def numbers():
        return [idcard.generate(random.Random(3), area_code="330127", birth_date=date(1970, 5, 6), sex="M")
                for _ in range(3)]
    assert numbers() == numbers()
