"""Every input-entry form parses and matches as written, edges included; bad cells are refused."""
import pytest

from app.engine.dmn.unary import EntryError, parse_input_entry, parse_output_entry, parse_value_list


def matches(entry, value, context=None):
    return parse_input_entry(entry).matches(value, context or {}, {})


@pytest.mark.parametrize("entry", ["-", "", "  "])
def test_dash_or_empty_matches_anything(entry):
    assert all(matches(entry, v) for v in (0, -3.5, "x", True, None, [1]))


@pytest.mark.parametrize("entry,value,expected", [
    ("< 140", 139.99, True), ("< 140", 140, False),
    ("<= 140", 140, True), ("<= 140", 140.01, False),
    ("> 140", 140, False), ("> 140", 140.01, True),
    (">= 140", 140, True), (">= 140", 139.99, False),
    ("= 140", 140.0, True), ("== 140", 140, True), ("= 140", 141, False),
    ("!= 140", 140, False), ("!= 140", 141, True),
])
def test_comparisons_respect_their_edges(entry, value, expected):
    assert matches(entry, value) is expected


@pytest.mark.parametrize("entry,value,expected", [
    ("[1..5]", 1, True), ("[1..5]", 5, True), ("[1..5]", 5.01, False),
    ("(1..5)", 1, False), ("(1..5)", 5, False), ("(1..5)", 1.01, True),
    ("]1..5[", 1, False), ("]1..5[", 5, False), ("]1..5[", 3, True),
    ("[1..5)", 1, True), ("[1..5)", 5, False),
    ("(1..5]", 1, False), ("(1..5]", 5, True),
    ("[-10..-5]", -7, True), ("[0.5..1.5]", 1.5, True),
])
def test_intervals_are_inclusive_or_exclusive_as_bracketed(entry, value, expected):
    assert matches(entry, value) is expected


@pytest.mark.parametrize("entry,value,expected", [
    ("42", 42, True), ("42", 42.0, True), ("-5", -5, True), ("1.5", 1.5, True),
    ('"high"', "high", True), ('"high"', "High", False), ("'low'", "low", True),
    ("true", True, True), ("True", True, True), ("false", False, True), ("False", True, False),
    ("null", None, True), ("None", None, True), ("null", 0, False),
])
def test_a_bare_literal_means_equality(entry, value, expected):
    assert matches(entry, value) is expected


def test_booleans_never_equal_numbers():
    assert not matches("true", 1)
    assert not matches("1", True)
    assert not matches(">= 0", True)


@pytest.mark.parametrize("entry,value,expected", [
    ('"a","b"', "b", True), ('"a", "b"', "c", False),
    ('in ["a","b"]', "a", True), ('in ["a","b"]', "z", False),
    ("in [4, 7]", 7, True), ("in [4, 7]", 5, False),
    ("not in [4, 7]", 5, True), ("not in [4, 7]", 4, False),
    ('"a,b", "c"', "a,b", True), ('"a,b", "c"', "a", False),
    ("[1..5], [10..20]", 15, True), ("[1..5], [10..20]", 7, False),
    ("< 0, > 100", 101, True), ("< 0, > 100", 50, False),
])
def test_lists_match_any_member(entry, value, expected):
    assert matches(entry, value) is expected


@pytest.mark.parametrize("entry,value,expected", [
    ('not("a")', "a", False), ('not("a")', "b", True),
    ('not("a","b")', "b", False), ("not([1..5])", 5, False), ("not([1..5])", 6, True),
    ("not(< 10)", 10, True), ("not(null)", None, False), ("not(null)", 3, True),
])
def test_not_negates_the_enclosed_test(entry, value, expected):
    assert matches(entry, value) is expected


@pytest.mark.parametrize("entry,value,expected", [
    ("1 < ? < 9", 1, False), ("1 < ? < 9", 5, True), ("1 < ? < 9", 9, False),
    ("1 <= ? <= 9", 9, True), ("? >= 5", 5, True), ("? >= 5", 4.9, False),
    ("5 > ?", 4, True), ('? == "x"', "x", True),
])
def test_spiff_style_question_mark_comparisons(entry, value, expected):
    assert matches(entry, value) is expected


def test_spiff_style_comparisons_are_analysable():
    assert parse_input_entry("1 < ? <= 9").value_set is not None


def test_any_other_expression_with_question_mark_must_be_true():
    test = parse_input_entry("? % 2 == 0 and ? > limit")
    assert test.value_set is None
    assert test.matches(8, {"limit": 5}, {})
    assert not test.matches(4, {"limit": 5}, {})
    assert test.names == frozenset({"limit"})


def test_an_expression_without_question_mark_is_compared_for_equality():
    assert matches("target + 1", 6, {"target": 5})
    assert not matches("target + 1", 5, {"target": 5})


def test_comparison_against_an_expression_reads_the_context():
    test = parse_input_entry("< upper_limit")
    assert test.value_set is None
    assert test.matches(3, {"upper_limit": 5}, {})
    assert not test.matches(5, {"upper_limit": 5}, {})


def test_expression_cells_may_call_helpers():
    test = parse_input_entry("? > double(limit)")
    assert test.matches(11, {"limit": 5}, {"double": lambda x: 2 * x})


def test_a_mismatched_type_does_not_match_rather_than_fail():
    assert not matches("< 140", "high")
    assert not matches('< "m"', 3)


def test_literal_cells_carry_a_value_set_and_expression_cells_do_not():
    assert parse_input_entry("[1..5]").value_set is not None
    assert parse_input_entry('"a","b"').value_set is not None
    assert parse_input_entry("< limit").value_set is None


@pytest.mark.parametrize("entry", ["[1..", ">=", "foo(", "[5..1]", "__import__('os')", "x.__class__",
                                   '"unterminated', "not()", "in []", "1,,2"])
def test_unparseable_cells_are_refused(entry):
    with pytest.raises(EntryError):
        parse_input_entry(entry)


@pytest.mark.parametrize("text,value", [('"G3"', "G3"), ("12", 12), ("0.5", 0.5), ("true", True), ("null", None),
                                        ("", None)])
def test_output_literals(text, value):
    out = parse_output_entry(text)
    assert out.is_literal and out.literal == value


def test_output_expressions_are_evaluated_over_the_context():
    out = parse_output_entry("round(egfr, 1)")
    assert not out.is_literal
    assert out.value({"egfr": 59.96}) == 60.0


def test_output_values_list_parses_quoted_and_bare_words():
    assert parse_value_list('"LOW","HIGH", MODERATE') == ["LOW", "HIGH", "MODERATE"]
    assert parse_value_list("") is None
