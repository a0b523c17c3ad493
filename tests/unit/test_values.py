"""Parsing, normalising and checking one answer (wayline.journeys.values).

Where the motor claim uses a field type, the field is taken from the shipped definition so the
messages asserted are exactly the ones the customer sees."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from wayline.journeys import text
from wayline.journeys.field_types import field_type
from wayline.journeys.loader import Journey
from wayline.journeys.schema import FieldSpec, FieldType, Option, Rule
from wayline.journeys.values import Invalid, check_rules, is_empty, parse

TODAY = "2026-03-27"


def spec(type_: str, label: str = "Thing", **extra: Any) -> FieldSpec:
    return FieldSpec(name="thing", type=type_, label=label, classification="public", **extra)


def scope(**answers: Any) -> dict[str, Any]:
    """What rules see: answers (null when unanswered), data and today."""
    return {"answers": answers, "data": {}, "today": TODAY}


def ok(field: FieldSpec, raw: Any, options: list[Option] | None = None, documents=None) -> Any:
    return parse(field, raw, options or list(field.options), documents or {})


def refused(field: FieldSpec, raw: Any, options: list[Option] | None = None, documents=None) -> str:
    with pytest.raises(Invalid) as caught:
        parse(field, raw, options or list(field.options), documents or {})
    return str(caught.value)


@pytest.fixture(scope="module")
def fields(motor: Journey) -> dict[str, FieldSpec]:
    return motor.fields


# --- UK postcode --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("SW1A 1AA", "SW1A 1AA"),
        ("  sw1a   1aa ", "SW1A 1AA"),
        ("ec1a1bb", "EC1A 1BB"),
        ("m11ae", "M1 1AE"),
        ("B33 8TH", "B33 8TH"),
        ("cr2 6xh", "CR2 6XH"),
        ("DN551PT", "DN55 1PT"),
    ],
)
def test_postcode_is_upper_case_with_one_space(fields, raw, expected):
    assert ok(fields["incident_postcode"], raw) == expected


@pytest.mark.parametrize(
    "raw", ["SW1A", "SW1A 1A", "12345", "SW1A 1AAA", "S W 1 A 1 A A", "1AA SW1A"]
)
def test_postcode_that_is_not_one_is_refused_with_the_definitions_message(fields, raw):
    assert refused(fields["incident_postcode"], raw) == "Enter a real postcode, like SW1A 1AA"


def test_postcode_that_is_not_text_is_refused(fields):
    assert refused(fields["incident_postcode"], 12345) == "Enter a real postcode, like SW1A 1AA"


def test_postcode_default_message_when_the_definition_gives_none():
    assert refused(spec("uk_postcode"), "nope") == "Enter a real postcode, like SW1A 1AA"


# --- UK vehicle registration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ab12cde", "AB12 CDE"),  # current style
        ("AB12 CDE", "AB12 CDE"),
        (" xy21  zzz ", "XY21 ZZZ"),
        ("a123bcd", "A123 BCD"),  # prefix
        ("abc123d", "ABC 123D"),  # suffix
        ("1234ab", "1234 AB"),  # dateless, digits first
        ("ab1234", "AB 1234"),  # dateless, letters first
    ],
)
def test_registration_is_normalised(fields, raw, expected):
    assert ok(fields["other_registration"], raw) == expected


@pytest.mark.parametrize("raw", ["AB12CD", "ABCDEFG", "12", "AB12 CDEF", "A1B2C3D", "AB-12-CDE"])
def test_registration_that_is_not_one_is_refused(fields, raw):
    message = refused(fields["other_registration"], raw)
    assert message == "Enter a real registration number, like AB12 CDE"


# --- Sort code and account number --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["200000", "20-00-00", "20 00 00", " 20-00-00 "])
def test_sort_code_is_written_with_hyphens(fields, raw):
    assert ok(fields["sort_code"], raw) == "20-00-00"


@pytest.mark.parametrize("raw", ["2000", "2000000", "20-00-0a", "20.00.00", "ab-cd-ef"])
def test_sort_code_must_be_six_digits(fields, raw):
    assert refused(fields["sort_code"], raw) == "Enter a valid sort code, like 30-94-57"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("55779911", "55779911"), ("5577 9911", "55779911"), ("1234567", "01234567"),
     ("123456", "00123456")],
)  # fmt: skip
def test_account_number_is_eight_digits_six_or_seven_padded(fields, raw, expected):
    assert ok(fields["account_number"], raw) == expected


@pytest.mark.parametrize("raw", ["12345", "123456789", "abcdefgh", "1234-5678"])
def test_account_number_of_another_length_is_refused(fields, raw):
    message = refused(fields["account_number"], raw)
    assert message == "Enter a valid account number, like 00733445"


# --- IBAN (ISO 13616) ---------------------------------------------------------------------------

NOT_AN_IBAN = "Enter an IBAN, like GB82 WEST 1234 5698 7654 32"
WRONG_CHECK_DIGITS = (
    "Check the IBAN for a mistyped character: its check digits (the 2 numbers after the "
    "country code) do not match the rest of it"
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),  # the UK's published example
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),  # as printed, in fours
        ("  gb82 west1234 5698765432 ", "GB82WEST12345698765432"),  # any case, any spaces
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("FR14 2004 1010 0505 0001 3M02 606", "FR1420041010050500013M02606"),  # letters inside
        ("NO9386011117947", "NO9386011117947"),  # the shortest in use: 15 characters
        ("LC55HEMM000100010012001200023015", "LC55HEMM000100010012001200023015"),  # 32
    ],
)
def test_iban_is_kept_in_capitals_without_spaces(raw, expected):
    assert ok(spec("iban", label="IBAN"), raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "GB83WEST12345698765432",  # one check digit wrong
        "GB82WEST12345698765433",  # one account digit wrong
        "GB82WEST12345968765432",  # two digits swapped
        "GB82 WEST 1234 5698 7654 3Z",  # a letter for a digit, the format still fits
        "DE00370400440532013000",  # 00, 01 and 99 are never check digits (ISO 7064)
        "DE01370400440532013000",
        "DE99370400440532013000",
    ],
)
def test_an_iban_whose_check_digits_do_not_match_says_so(raw):
    assert refused(spec("iban", label="IBAN"), raw) == WRONG_CHECK_DIGITS


@pytest.mark.parametrize(
    "raw",
    [
        "GB82WEST1234",  # too short to be any country's
        "GB82WEST12345698765432123456789012345",  # longer than 34 characters
        "82GBWEST12345698765432",  # the country code first
        "GBXXWEST12345698765432",  # the check digits are digits
        "GB82-WEST-1234-5698-7654-32",  # spaces are allowed, nothing else
        "GB82\u00a0WEST12345698765432",  # a no-break space is not a space here
        "GB82WEST1234569876543\u00b2",  # "²" is no digit
        "GB82WE\u017fT12345698765432",  # "ſ" upper-cases to S: refused, not changed
    ],
)
def test_what_is_not_an_iban_is_refused_with_an_example(raw):
    assert refused(spec("iban", label="IBAN"), raw) == NOT_AN_IBAN


def test_an_iban_with_a_line_break_inside_says_where():
    message = refused(spec("iban", label="IBAN"), "GB82 WEST\u20281234 5698 7654 32")
    assert message == "Write this on one line: remove the line break or tab at character 10"


def test_an_iban_that_is_not_text_is_refused():
    assert refused(spec("iban", label="IBAN"), 82) == "IBAN must be text"


def test_the_definitions_invalid_message_replaces_the_format_message_only():
    """`invalid` says what the type is; the check-digit message says what to fix."""
    field = spec("iban", label="IBAN", invalid="Enter the IBAN from your bank statement")
    assert refused(field, "not an iban") == "Enter the IBAN from your bank statement"
    assert refused(field, "GB83WEST12345698765432") == WRONG_CHECK_DIGITS


def test_an_iban_pattern_rule_keeps_to_some_countries():
    field = spec(
        "iban", label="IBAN", rules=[Rule(rule="pattern", value="GB.*", message="UK only")]
    )
    assert check_rules(field, ok(field, "DE89370400440532013000"), scope()) == "UK only"
    assert check_rules(field, ok(field, "GB82WEST12345698765432"), scope()) is None


def _with_check_digits(country: str, account: str) -> str:
    """A valid IBAN for a country code and a national account number (ISO 7064 MOD 97-10)."""
    digits = "".join(str(int(c, 36)) for c in account + country + "00")
    return f"{country}{98 - int(digits) % 97:02d}{account}"


VALID_IBANS = st.builds(
    _with_check_digits,
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=2),
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"), min_size=11, max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(iban=VALID_IBANS, data=st.data())
def test_any_iban_reads_back_as_itself_however_it_is_spaced_or_cased(iban, data):
    spaced = "".join(
        (c.lower() if data.draw(st.booleans()) else c) + " " * data.draw(st.integers(0, 2))
        for c in iban
    )
    field = spec("iban", label="IBAN")
    assert ok(field, spaced) == iban
    assert ok(field, iban) == iban


@settings(max_examples=300, deadline=None)
@given(iban=VALID_IBANS, data=st.data())
def test_any_one_mistyped_character_of_an_iban_is_caught(iban, data):
    """A digit typed for another digit, or a letter for another letter, changes the number
    the check digits cover by less than 97 times a power of ten: MOD 97 always sees it."""
    at = data.draw(st.integers(0, len(iban) - 1))
    alphabet = "0123456789" if iban[at].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    typo = data.draw(st.sampled_from([c for c in alphabet if c != iban[at]]))
    assert refused(spec("iban", label="IBAN"), iban[:at] + typo + iban[at + 1 :]) == (
        WRONG_CHECK_DIGITS
    )


# --- Money --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("£1,234.5", "1234.50"),
        ("850", "850.00"),
        ("850.5", "850.50"),
        ("850.50", "850.50"),
        (" £99 ", "99.00"),
        ("0.5", "0.50"),
        (850, "850.00"),
        ("100000", "100000.00"),
    ],
)
def test_money_is_a_decimal_string_with_two_places(fields, raw, expected):
    assert ok(fields["estimate_amount"], raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "12.345",  # three decimal places
        "1.2.3",
        "-5",
        "abc",
        "£",
        "1e3",
        True,  # a boolean is not an amount
        850.5,  # never a float: money is exact
    ],
)
def test_money_that_is_not_an_amount_is_refused(fields, raw):
    message = refused(fields["estimate_amount"], raw)
    assert message == "Repair estimate must be an amount of money, like 850 or 850.50"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0.99", "Repair estimate must be £1 or more"),
        ("100000.01", "Repair estimate must be £100,000 or less"),
        ("1", None),
        ("100000", None),
        ("2999.99", None),
    ],
)
def test_money_bounds_use_the_definitions_messages(fields, raw, message):
    field = fields["estimate_amount"]
    value = ok(field, raw)
    assert check_rules(field, value, scope(settlement="cash")) == message


# --- Dates and times ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2025-02-28", "2025-02-28"), ("2024-02-29", "2024-02-29"), (" 2026-03-27 ", "2026-03-27")],
)
def test_date_is_iso(fields, raw, expected):
    assert ok(fields["incident_date"], raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["2025-02-30", "2025-02-29", "2025-13-01", "2025-00-10", "27/03/2026", "2026-3-27", 20260327],
)
def test_date_that_is_not_real_is_refused(fields, raw):
    assert refused(fields["incident_date"], raw) == "Date of the incident must be a real date"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-03-26", None),
        (TODAY, None),  # today is allowed
        ("2026-03-28", "Date of the incident must be today or in the past"),
        ("2027-01-01", "Date of the incident must be today or in the past"),
    ],
)
def test_incident_date_must_not_be_in_the_future(fields, value, message):
    assert check_rules(fields["incident_date"], value, scope()) == message


def test_not_past_rule():
    field = spec("date", rules=[Rule(rule="not_past", message="Must be today or later")])
    assert check_rules(field, "2026-03-26", scope()) == "Must be today or later"
    assert check_rules(field, TODAY, scope()) is None


@pytest.mark.parametrize("raw", ["00:00", "09:05", "14:30", "23:59", " 14:30 "])
def test_time_in_hours_and_minutes(fields, raw):
    assert ok(fields["incident_time"], raw) == raw.strip()


@pytest.mark.parametrize("raw, normal", [("9:30", "09:30"), ("14.30", "14:30")])
def test_time_written_loosely_is_understood(fields, raw, normal):
    assert ok(fields["incident_time"], raw) == normal


@pytest.mark.parametrize("raw", ["24:00", "12:60", "9:3", "14:30:00", "2pm", "1430", 1430])
def test_time_that_is_not_a_time_is_refused(fields, raw):
    message = refused(fields["incident_time"], raw)
    assert message == "Enter the time in hours and minutes, like 14:30"


def test_time_default_message():
    assert refused(spec("time", label="Time"), "25:00") == "Time must be a time, like 14:30"


# --- Yes or no ----------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, False])
def test_yes_no_takes_a_boolean(fields, raw):
    assert ok(fields["driveable"], raw) is raw


@pytest.mark.parametrize("raw", ["yes", "no", "true", "false", 1, 0, ["yes"]])
def test_yes_no_refuses_anything_but_a_boolean(fields, raw):
    message = refused(fields["driveable"], raw)
    assert message == "Select yes or no for can the car be driven safely?"


# --- Phone and email ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("07700 900982", "+447700900982"),
        ("07700900982", "+447700900982"),
        ("+44 7700 900001", "+447700900001"),
        ("(01632) 960-001", "+441632960001"),
        ("020 7946 0000", "+442079460000"),
    ],
)
def test_phone_is_normalised_to_international_form(raw, expected):
    assert ok(spec("phone", label="Mobile"), raw) == expected


@pytest.mark.parametrize(
    "raw", ["12345", "+1 555 0100", "0770 0900", "077009009821", "+44 07700 900001", "phone"]
)
def test_phone_that_is_not_a_uk_number_is_refused(raw):
    message = refused(spec("phone", label="Mobile"), raw)
    assert message == "Enter a UK phone number, like 01632 960 001 or 07700 900 982"


def test_phone_must_be_text():
    assert refused(spec("phone", label="Mobile"), 7700900982) == "Mobile must be text"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("alex@example.com", "alex@example.com"),
        ("  Alex.Morgan@Example.COM ", "Alex.Morgan@example.com"),  # the local part keeps its case
        ("a+tag@sub.example.co.uk", "a+tag@sub.example.co.uk"),
    ],
)
def test_email_lower_cases_the_domain_only(raw, expected):
    assert ok(spec("email", label="Email"), raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "alex",
        "alex@example",
        "@example.com",
        "a b@example.com",
        "alex@@example.com",
        "a" * 250 + "@x.com",
    ],
)
def test_email_in_the_wrong_format_is_refused(raw):
    message = refused(spec("email", label="Email"), raw)
    assert message == "Enter an email address in the correct format, like name@example.com"


# --- Numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("2", 2), (" 3 ", 3), ("1,000", 1000), (4, 4), ("2.0", 2), ("2.5", 2.5)]
)
def test_number_is_parsed(fields, raw, expected):
    value = ok(fields["injured_count"], raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("raw", ["two", "", "NaN", "Infinity", "-inf", True, [2], "1e999999999"])
def test_number_that_is_not_one_is_refused(fields, raw):
    message = refused(fields["injured_count"], raw)
    assert message == "How many people were injured must be a whole number, like 2"


def test_a_huge_exponent_is_refused_quickly(fields):
    """Regression: int(Decimal("1e999999999")) would build a billion-digit int and hang."""
    started = time.perf_counter()
    refused(fields["injured_count"], "9e999999999")
    assert time.perf_counter() - started < 1


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "How many people were injured must be 1 or more"),
        (1, None),
        (20, None),
        (21, "How many people were injured must be 20 or fewer"),
    ],
)
def test_injured_count_bounds(fields, value, message):
    assert check_rules(fields["injured_count"], value, scope()) == message


# --- Text ---------------------------------------------------------------------------------------


def test_text_is_stripped(fields):
    assert ok(fields["other_driver_name"], "  Pat Jones  ") == "Pat Jones"


def test_text_must_be_a_string(fields):
    assert refused(fields["other_driver_name"], 42) == "Other driver's name must be text"


def test_text_has_a_default_length_limit_when_the_definition_sets_none():
    assert ok(spec("text"), "x" * 500) == "x" * 500
    assert refused(spec("text"), "x" * 501) == "Thing must be 500 characters or fewer"
    assert ok(spec("long_text"), "x" * 10_000) == "x" * 10_000
    assert refused(spec("long_text"), "x" * 10_001) == "Thing must be 10,000 characters or fewer"


def test_a_max_length_rule_replaces_the_default_limit(fields):
    description = fields["description"]
    assert ok(description, "x" * 2001) == "x" * 2001  # parse leaves the bound to the rule
    assert check_rules(description, "x" * 2001, scope()) == (
        "What happened must be 2,000 characters or fewer"
    )


@pytest.mark.parametrize(
    ("length", "message"),
    [
        (19, "What happened must be 20 characters or more"),
        (20, None),
        (2000, None),
        (2001, "What happened must be 2,000 characters or fewer"),
    ],
)
def test_description_length_says_which_bound(fields, length, message):
    assert check_rules(fields["description"], "x" * length, scope()) == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("CR/123456/26", None),
        ("AB-1234", None),
        ("abc12", "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens"),
        ("A" * 21, "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens"),
        ("CR 123456", "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens"),
        ("CR#123456", "Crime reference must be 6 to 20 letters, numbers, slashes or hyphens"),
    ],
)
def test_crime_reference_pattern(fields, value, message):
    assert check_rules(fields["crime_reference"], value, scope(incident_type="theft")) == message


def test_pattern_must_match_the_whole_value():
    field = spec("text", rules=[Rule(rule="pattern", value="[0-9]+", message="Digits only")])
    assert check_rules(field, "123", scope()) is None
    assert check_rules(field, "123abc", scope()) == "Digits only"


# --- Choices ------------------------------------------------------------------------------------


def test_single_choice_takes_only_an_offered_value(fields):
    incident_type = fields["incident_type"]
    assert ok(incident_type, "glass") == "glass"
    # With no `invalid` message of its own, a choice outside the list gets the required message.
    assert refused(incident_type, "meteor") == "Select the type of incident"
    assert refused(incident_type, ["glass"]) == "Select the type of incident"


def test_single_choice_dynamic_options_are_passed_in(fields):
    policy = fields["policy_number"]
    offered = [Option(value="MTR-100001", label="Ford Focus (2019), AB12 CDE, comprehensive")]
    assert ok(policy, "MTR-100001", offered) == "MTR-100001"
    assert refused(policy, "MTR-100004", offered) == "Select the car the claim is for"


def test_multiple_choice_keeps_order_and_drops_repeats():
    field = spec(
        "multiple_choice",
        label="Colours",
        options=[Option(value=v, label=v.title()) for v in ("red", "green", "blue")],
    )
    assert ok(field, ["blue", "red", "blue"]) == ["blue", "red"]
    assert refused(field, ["red", "pink"]) == "Select only the options listed for colours"
    assert refused(field, "red") == "Select only the options listed for colours"


def test_choice_fields_need_options():
    with pytest.raises(ValidationError, match="needs options or options_from"):
        spec("single_choice")
    with pytest.raises(ValidationError, match="only choice fields take options"):
        spec("text", options=[Option(value="a", label="A")])
    with pytest.raises(ValidationError, match="option values must be unique"):
        spec("single_choice", options=[Option(value="a", label="A"), Option(value="a", label="B")])


# --- Files --------------------------------------------------------------------------------------


def test_files_must_have_been_uploaded_for_the_same_field(fields):
    photos = fields["damage_photos"]
    documents = {
        "doc-1": {"field": "damage_photos"},
        "doc-2": {"field": "damage_photos"},
        "doc-3": {"field": "estimate_document"},
    }
    assert ok(photos, ["doc-2", "doc-1", "doc-2"], documents=documents) == ["doc-2", "doc-1"]
    uploaded_elsewhere = refused(photos, ["doc-1", "doc-3"], documents=documents)
    assert (
        uploaded_elsewhere
        == "Photos of the damage: a file in the list was not uploaded for this question"
    )
    assert "not uploaded" in refused(photos, ["doc-404"], documents=documents)
    assert refused(photos, "doc-1", documents=documents) == (
        "Photos of the damage must be a list of uploaded files"
    )


@pytest.mark.parametrize(
    ("photos", "incident_type", "message"),
    [
        ([], "glass", "Upload at least one photo of the damage"),
        ([], "collision_vehicle", "Upload at least one photo of the damage"),
        ([], "theft", None),  # optional for theft: the rule's `when` is false
        (None, "theft", None),
        (["p1"], "glass", None),
        ([f"p{i}" for i in range(10)], "glass", None),
        ([f"p{i}" for i in range(11)], "glass", "Upload no more than 10 photos"),
        ([f"p{i}" for i in range(11)], "theft", "Upload no more than 10 photos"),
    ],
)
def test_photo_count_rules_and_their_conditions(fields, photos, incident_type, message):
    context = scope(incident_type=incident_type)
    assert check_rules(fields["damage_photos"], photos, context) == message


def test_one_estimate_document(fields):
    estimate = fields["estimate_document"]
    assert check_rules(estimate, [], scope()) == "Upload the garage's estimate"
    assert check_rules(estimate, ["e1"], scope()) is None
    assert check_rules(estimate, ["e1", "e2"], scope()) == "Upload one estimate document"


# --- Rules in general ---------------------------------------------------------------------------


def test_the_first_failing_rule_gives_the_message():
    field = spec(
        "number",
        rules=[
            Rule(rule="min", value=10, message="At least 10"),
            Rule(rule="max", value=5, message="At most 5"),
        ],
    )
    assert check_rules(field, 3, scope()) == "At least 10"
    assert check_rules(field, 7, scope()) == "At least 10"
    assert check_rules(field, 12, scope()) == "At most 5"


def test_rules_other_than_min_items_skip_empty_values():
    field = spec(
        "text",
        rules=[
            Rule(rule="min_length", value=3, message="Too short"),
            Rule(rule="pattern", value="x+", message="Only x"),
        ],
    )
    assert check_rules(field, None, scope()) is None
    assert check_rules(field, "", scope()) is None
    assert check_rules(field, "xx", scope()) == "Too short"


def test_a_rule_with_a_false_when_is_not_checked():
    field = spec(
        "number",
        rules=[
            Rule(rule="max", value=3000, message="Too much for cash", when='answers.mode == "cash"')
        ],
    )
    assert check_rules(field, 5000, scope(mode="cash")) == "Too much for cash"
    assert check_rules(field, 5000, scope(mode="repairer")) is None
    assert check_rules(field, 5000, scope(mode=None)) is None


def test_expression_rule_sees_value_answers_and_today():
    field = spec(
        "date",
        rules=[
            Rule(
                rule="expression",
                expression="value >= answers.start && value <= today",
                message="Must be between the start and today",
            )
        ],
    )
    assert check_rules(field, "2026-03-01", scope(start="2026-01-01")) is None
    assert check_rules(field, "2025-12-31", scope(start="2026-01-01")) == (
        "Must be between the start and today"
    )
    assert check_rules(field, "2026-03-28", scope(start="2026-01-01")) == (
        "Must be between the start and today"
    )


def test_an_expression_that_errors_counts_as_failing():
    field = spec("text", rules=[Rule(rule="expression", expression="value > 3", message="Bad")])
    assert check_rules(field, "text", scope()) == "Bad"


@pytest.mark.parametrize(
    "arguments",
    [
        {"rule": "min", "message": "m"},
        {"rule": "max_items", "message": "m"},
        {"rule": "expression", "message": "m"},
        {"rule": "pattern", "value": "([a-z", "message": "m"},
        {"rule": "min", "value": 1, "message": ""},
        {"rule": "between", "value": 1, "message": "m"},
    ],
)
def test_malformed_rules_are_refused_by_the_schema(arguments):
    with pytest.raises(ValidationError):
        Rule(**arguments)


@pytest.mark.parametrize(
    ("value", "empty"),
    [(None, True), ("", True), ("   ", True), ([], True), ("a", False), (0, False), (False, False)],
)
def test_is_empty(value, empty):
    assert is_empty(value) is empty


def test_a_uk_number_written_with_a_bracketed_zero_is_understood():
    assert ok(spec("phone", label="Phone"), "+44 (0)7700 900982") == "+447700900982"


def test_an_integer_rule_refuses_a_fraction(fields):
    count = fields["injured_count"]
    scope = {"today": "2026-03-27", "answers": {}}
    assert check_rules(count, ok(count, "2.5"), scope) == (
        "How many people were injured must be a whole number, like 2"
    )
    assert check_rules(count, ok(count, "2"), scope) is None


# --- Money, as people write it ------------------------------------------------------------------

COMMA_FOR_PENCE = "Use a full stop, not a comma, before the decimals, like 850.00 or 1,234.50"
NOT_AN_AMOUNT = "Repair estimate must be an amount of money, like 850 or 850.50"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("850", "850.00"),
        ("850.00", "850.00"),
        ("£850", "850.00"),
        ("£ 850", "850.00"),
        ("1,234.50", "1234.50"),
        ("1 234.50", "1234.50"),
        ("1\u00a0234.50", "1234.50"),  # a no-break space between the groups
        ("1\u202f234.50", "1234.50"),  # a narrow no-break space
        ("£12,345,678.90", "12345678.90"),
        ("0850", "850.00"),
    ],
)
def test_money_accepts_the_ways_people_write_pounds(fields, raw, expected):
    assert ok(fields["estimate_amount"], raw) == expected


@pytest.mark.parametrize("raw", ["850,00", "850,5", "£1234,56"])
def test_money_with_a_comma_for_the_pence_is_refused_not_multiplied(fields, raw):
    """Regression: "850,00" was read as 85000 (the comma taken for a thousands separator)."""
    assert refused(fields["estimate_amount"], raw) == COMMA_FOR_PENCE


@pytest.mark.parametrize(
    "raw",
    [
        "1,23,4",  # groups that are not thousands
        "1,2345",
        "12,34,567.00",
        "1,234 567",  # two different separators
        "1,,234",
        "850.",
        ".50",
        "٨٥٠",  # Arabic-Indic digits: Decimal() would read them as 850
        "８５０",  # full-width digits
        "²",
        "1_000",  # Decimal() reads underscores
        "NaN",
        "Infinity",
        "£-5",
        "-£5",
        "850£",
        "£",
        "GBP 850",
        -5,
        [850],
        None,
    ],
)
def test_money_that_is_not_written_as_pounds_is_refused(fields, raw):
    assert refused(fields["estimate_amount"], raw) == NOT_AN_AMOUNT


@pytest.mark.parametrize(
    "raw",
    ["9" * 5000, "1" + "0" * 15, 10**5000, 10**15],
    ids=["5000-digit-text", "16-digit-text", "5000-digit-int", "16-digit-int"],
)
def test_money_of_thousands_of_digits_is_refused_with_its_own_message(fields, raw):
    """int("9" * 5000) raises ValueError (Python's int-string limit): never reached."""
    assert refused(fields["estimate_amount"], raw) == (
        "Enter an amount with 15 digits or fewer before the decimal point"
    )


def test_money_default_message_shows_the_expected_format():
    assert refused(spec("money", label="Amount"), "1,23,4") == (
        "Enter an amount in pounds, like 850 or 1,234.50"
    )


# --- Numbers, as people write them ----------------------------------------------------------

COUNT_MESSAGE = "How many people were injured must be a whole number, like 2"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1,500", 1500), ("1 500", 1500), ("-3", -3), ("0.25", 0.25), ("007", 7), (10**14, 10**14)],
)
def test_number_accepts_grouped_and_signed_numerals(fields, raw, expected):
    assert ok(fields["injured_count"], raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["²", "٣", "３", "1_000", "+5", "1e3", "1.", ".5", "1,2345", "1,23,4", "--1", "0x10", "Ⅻ"],
)
def test_number_in_other_scripts_or_notations_is_refused(fields, raw):
    """Digits are ASCII digits only: "²".isdigit() is true and Decimal("٣") is 3."""
    assert refused(fields["injured_count"], raw) == COUNT_MESSAGE


def test_number_with_a_decimal_comma_says_so(fields):
    assert refused(fields["injured_count"], "2,5") == (
        "Use a full stop, not a comma, before the decimals, like 2.5 or 1,250.5"
    )


TOO_LONG = "Enter a number with 15 digits or fewer before the decimal point"
TOO_PRECISE = "Enter a number with 15 digits or fewer after the decimal point"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("9" * 5000, TOO_LONG),
        (10**5000, TOO_LONG),
        (1e300, TOO_LONG),
        ("0." + "1" * 5000, TOO_PRECISE),
        (1e-20, TOO_PRECISE),
        (float("nan"), COUNT_MESSAGE),
        (float("inf"), COUNT_MESSAGE),
        (float("-inf"), COUNT_MESSAGE),
    ],
    ids=["5000-digits", "5000-digit-int", "1e300", "5000-decimals", "1e-20", "nan", "inf", "-inf"],
)
def test_numbers_too_large_or_not_finite_are_refused(fields, raw, message):
    assert refused(fields["injured_count"], raw) == message


def test_number_default_message_shows_the_expected_format():
    assert refused(spec("number", label="Mileage"), "lots") == "Enter a number, like 12 or 1,250"


# --- Characters a typed answer may not hold ---------------------------------------------------

TEXT_LIKE = [
    "text",
    "long_text",
    "email",
    "phone",
    "uk_postcode",
    "uk_vehicle_registration",
    "sort_code",
    "account_number",
    "number",
    "money",
    "time",
]


CONTROL = "Remove the control character at character 4: answers cannot contain them"
DIRECTION = "Remove the character that changes the direction of text, at character 4"
NOT_TEXT = "Remove the character at character 4: it is not a letter, number or symbol"


@pytest.mark.parametrize("type_", TEXT_LIKE)
@pytest.mark.parametrize(
    ("character", "message"),
    [
        ("\x00", CONTROL),
        ("\x1b", CONTROL),
        ("\x7f", CONTROL),
        ("\x85", CONTROL),
        ("\x0b", CONTROL),
        ("\u202a", DIRECTION),
        ("\u202e", DIRECTION),
        ("\u2066", DIRECTION),
        ("\u2069", DIRECTION),
        ("\ud800", NOT_TEXT),  # a lone surrogate
        ("\uffff", NOT_TEXT),  # a noncharacter
        ("\U0010fffe", NOT_TEXT),
    ],
)
def test_every_text_like_answer_refuses_invisible_characters_with_a_clear_message(
    type_, character, message
):
    """One check for every typed answer; its message names the problem and where it is (the
    space before "12" counts: positions are in the text as typed), and a definition's
    `invalid` message, which is about the format, does not hide it."""
    field = spec(type_, invalid="The definition's message about the format")
    assert refused(field, f" 12{character}34 ") == message


@pytest.mark.parametrize("character", ["\t", "\n", "\r", "\u2028", "\u2029"])
def test_one_line_text_refuses_tabs_and_line_breaks(character):
    assert refused(spec("text"), f"Pat{character}Jones") == (
        "Write this on one line: remove the line break or tab at character 4"
    )


def test_long_text_keeps_tabs_and_newlines_and_writes_line_breaks_as_lf():
    assert ok(spec("long_text"), "First line\r\nSecond\tline\rThird\u2028Fourth") == (
        "First line\nSecond\tline\nThird\nFourth"
    )


def test_surrounding_whitespace_is_trimmed_before_characters_are_checked():
    assert ok(spec("text"), "\n\t Pat Jones \r\n") == "Pat Jones"


@pytest.mark.parametrize(
    "raw",
    [
        "Zoë O’Brien-Smith",
        "שלום \u200fעולם",  # a right-to-left mark: part of writing mixed-direction text
        "مرحبا\u061c 12",
        "Crash 🚗💥 at the lights 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
        "Ünïcödé, 中文, ελληνικά",
    ],
)
def test_real_text_in_any_script_is_kept(raw):
    assert ok(spec("text"), raw) == raw


def test_the_definitions_required_and_length_messages_still_apply_after_the_check(fields):
    description = fields["description"]
    assert refused(description, "x\x00") == (
        "Remove the control character at character 2: answers cannot contain them"
    )
    assert check_rules(description, ok(description, "short"), scope()) == (
        "What happened must be 20 characters or more"
    )


# --- Every other format, read strictly ----------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "a..b@example.com",
        ".alex@example.com",
        "alex.@example.com",
        "alex@example..com",
        "alex@-example.com",
        "alex@example-.com",
        "alex@example.123",
        "alex@.example.com",
        "zoë@example.com",  # mail providers do not take a non-ASCII local part
        "alex@exa_mple.com",
        "a" * 65 + "@example.com",
        "alex@" + "a" * 64 + ".com",
    ],
)
def test_email_is_refused_unless_each_part_is_well_formed(raw):
    message = refused(spec("email", label="Email"), raw)
    assert message == "Enter an email address in the correct format, like name@example.com"


def test_email_takes_an_international_domain():
    assert ok(spec("email"), "alex@Bücher.Example") == "alex@bücher.example"


@pytest.mark.parametrize(
    "raw", ["20-00 00", "2-0-0-0-0-0", "20--00--00", "２０００００", "20_00_00"]
)
def test_sort_code_separators_must_be_one_kind_between_pairs(fields, raw):
    assert refused(fields["sort_code"], raw) == "Enter a valid sort code, like 30-94-57"


@pytest.mark.parametrize("raw", ["５５７７９９１１", "٥٥٧٧٩٩١١"])
def test_account_number_digits_are_ascii(fields, raw):
    assert refused(fields["account_number"], raw) == "Enter a valid account number, like 00733445"


@pytest.mark.parametrize("raw", ["１４:３０", "١٤:٣٠", "14:3０", "²:30"])
def test_time_digits_are_ascii(fields, raw):
    message = refused(fields["incident_time"], raw)
    assert message == "Enter the time in hours and minutes, like 14:30"


@pytest.mark.parametrize("raw", ["２０２６-03-07", "2026-0٣-07", "2026-03-07\x00", "²026-03-07"])
def test_date_digits_are_ascii(fields, raw):
    assert refused(fields["incident_date"], raw) == "Date of the incident must be a real date"


@pytest.mark.parametrize("raw", ["０７７００ ９００９８２", "07700\u2009900982\u202e"])
def test_phone_digits_are_ascii_and_characters_checked(raw):
    assert refused(spec("phone", label="Mobile"), raw) != ""


def test_phone_with_no_break_spaces_is_understood():
    assert ok(spec("phone", label="Mobile"), "07700\u00a0900\u00a0982") == "+447700900982"


@pytest.mark.parametrize("raw", ["ＳＷ１Ａ １ＡＡ", "SW1A\u202e1AA"])
def test_postcode_in_other_scripts_is_refused(fields, raw):
    assert refused(fields["incident_postcode"], raw) != ""


def test_a_typed_in_choice_is_checked_like_text(fields):
    policy = fields["policy_number"]
    with pytest.raises(Invalid, match="Remove the control character at character 4"):
        parse(policy, "MTR\x00100001", [], {}, typed_in=True)
    assert parse(policy, " MTR-100001 ", [], {}, typed_in=True) == "MTR-100001"


# --- Properties: whatever is sent, a value or a refusal ---------------------------------------

OPTIONS = [Option(value=v, label=v.title()) for v in ("red", "green", "blue")]
DOCUMENTS = {"doc-1": {"field": "thing"}, "doc-2": {"field": "other"}}
EVERY_TYPE = [
    spec(kind.value, options=OPTIONS) if field_type(kind).takes_options else spec(kind.value)
    for kind in FieldType
]
# Every character there is, lone surrogates, controls and unassigned code points included.
ANY_CHARACTER = st.characters(exclude_categories=())
# Text that is nearly a number, an amount, a date or a time: the cases a parser can get wrong.
NEAR_MISS = st.text(
    st.sampled_from(list("0123456789٣²３-+.,:£ \u00a0\u202f_eE\x00\u202e")), max_size=24
)
ANY_VALUE = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**5000), max_value=10**5000)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(ANY_CHARACTER, max_size=40)
    | NEAR_MISS
    | st.sampled_from(["red", "doc-1", "2026-03-07", "14:30", "850,00", "9" * 5000]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(field=st.sampled_from(EVERY_TYPE), raw=ANY_VALUE)
def test_any_value_of_any_field_parses_to_a_value_or_is_refused(field, raw):
    """Never another exception (ValueError, InvalidOperation, TypeError...): a request can
    only end in an answer kept or a message for the customer."""
    assume(not is_empty(raw))
    try:
        value = parse(field, raw, OPTIONS, DOCUMENTS)
    except Invalid as refusal:
        assert str(refusal)
        return
    _check_storable(field, value)


@settings(max_examples=400, deadline=None)
@given(field=st.sampled_from(EVERY_TYPE), raw=st.text(ANY_CHARACTER) | NEAR_MISS)
def test_any_text_typed_into_any_field_parses_to_a_value_or_is_refused(field, raw):
    """What a form can carry (text only), as typed into every kind of question."""
    assume(not is_empty(raw))
    try:
        value = parse(field, raw, OPTIONS, DOCUMENTS)
    except Invalid:
        return
    _check_storable(field, value)


def _check_storable(field: FieldSpec, value: Any) -> None:
    """A kept value is plain JSON, holds no character a typed answer may not, and reads back
    as itself: whatever is written can be read again."""
    json.dumps(value, allow_nan=False)
    if isinstance(value, str):
        assert text.clean(value, multiline=field.type == FieldType.LONG_TEXT) == value
    again = parse(field, value, OPTIONS, DOCUMENTS)
    assert again == value and type(again) is type(value)
