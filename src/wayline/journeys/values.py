"""Parse and normalise one answer by its field type, and apply the field's rules.

Pure functions: a raw value in, a normalised value or a customer-facing message out. Messages
come from the definition (`required`, `invalid`, each rule's `message`); the defaults below are
used only where a definition says nothing, and follow the same plain style.

Whatever the raw value (any JSON value, any text of any length), `parse` returns a value or
raises Invalid; nothing else. Text is read strictly: digits are ASCII digits, characters that
are not text (controls, direction overrides) are refused by one check (`text.clean`), and a
value `parse` returns parses again to itself.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from wayline.journeys import numerals, text
from wayline.journeys.expressions import holds
from wayline.journeys.schema import FieldSpec, FieldType, Option, Rule

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
REGISTRATIONS = [
    re.compile(r"^([A-Z]{2}[0-9]{2}) ?([A-Z]{3})$"),  # current: AB12 CDE
    re.compile(r"^([A-Z][0-9]{1,3}) ?([A-Z]{3})$"),  # prefix: A123 BCD
    re.compile(r"^([A-Z]{3}) ?([0-9]{1,3}[A-Z])$"),  # suffix: ABC 123D
    re.compile(r"^([0-9]{1,4}) ?([A-Z]{1,3})$"),  # dateless: 1234 AB
    re.compile(r"^([A-Z]{1,3}) ?([0-9]{1,4})$"),  # dateless: AB 1234
]
# The local part as mail providers accept it (RFC 5322's atoms, dots between them); the
# domain is checked label by label once encoded to ASCII (IDNA).
EMAIL_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
DOMAIN_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
SORT_CODE = re.compile(r"([0-9]{2})([-\s]?)([0-9]{2})\2([0-9]{2})")  # one separator, or none
CURRENCY_SYMBOL = "£"  # money is in pounds: the symbol a customer may type before an amount
DEFAULT_MAX_LENGTH = {FieldType.TEXT: 500, FieldType.LONG_TEXT: 10000}
TYPED_CHOICE_MAX_LENGTH = 100


class Invalid(ValueError):
    """A value the customer must correct; the message is shown to them as it is."""


def is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _invalid(spec: FieldSpec, default: str) -> Invalid:
    return Invalid(spec.invalid or default)


def _text(spec: FieldSpec, raw: Any) -> str:
    """Any typed answer, trimmed and checked character by character (`text.clean`). A
    character it may not hold gets its own message, whatever the definition's `invalid`
    says: that message is about the format, this one about an invisible character."""
    if not isinstance(raw, str):
        raise _invalid(spec, f"{spec.label} must be text")
    try:
        return text.clean(raw, multiline=spec.type == FieldType.LONG_TEXT)
    except text.BadCharacter as bad:
        raise Invalid(bad.describe()) from None


def _numeral_refused(spec: FieldSpec, why: numerals.NotANumeral, kind: str) -> Invalid:
    """The message for a number or an amount (`kind`) that cannot be read, by why not."""
    if why.kind == "decimal comma":
        example = "850.00 or 1,234.50" if kind == "amount" else "2.5 or 1,250.5"
        return Invalid(f"Use a full stop, not a comma, before the decimals, like {example}")
    if why.kind in ("too long", "too precise"):
        side = "before" if why.kind == "too long" else "after"
        article = "an" if kind == "amount" else "a"
        return Invalid(
            f"Enter {article} {kind} with {numerals.MAX_DIGITS} digits or fewer {side} the "
            "decimal point"
        )
    default = {
        "amount": "Enter an amount in pounds, like 850 or 1,234.50",
        "number": "Enter a number, like 12 or 1,250",
    }[kind]
    return _invalid(spec, default)


def _number(spec: FieldSpec, raw: Any) -> int | float:
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise numerals.NotANumeral("format")
        if isinstance(raw, str):
            number = numerals.read(_text(spec, raw), signed=True).decimal()
        else:
            # A JSON number: repr() of a float is its shortest exact text (0.1, not
            # 0.1000000000000000055...); an int is converted without going through text.
            number = numerals.bounded(Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw)))
    except numerals.NotANumeral as why:
        raise _numeral_refused(spec, why, "number") from None
    return int(number) if number == number.to_integral_value() else float(number)


def _money(spec: FieldSpec, raw: Any) -> str:
    """An amount in pounds as a decimal string with two places. Never a float (not exact),
    never negative, at most two decimal places; "£" may come first."""
    try:
        if isinstance(raw, bool) or not isinstance(raw, str | int):
            raise numerals.NotANumeral("format")
        if isinstance(raw, int):
            amount = numerals.bounded(Decimal(raw))
            if amount < 0:
                raise numerals.NotANumeral("format")
        else:
            typed = _text(spec, raw).removeprefix(CURRENCY_SYMBOL).lstrip()
            numeral = numerals.read(typed, signed=False)
            if len(numeral.fraction) > 2:
                raise numerals.NotANumeral("format")
            amount = numeral.decimal()
    except numerals.NotANumeral as why:
        raise _numeral_refused(spec, why, "amount") from None
    return f"{amount:.2f}"


def _date(spec: FieldSpec, raw: Any) -> str:
    message = f"{spec.label} must be a real date"
    if not isinstance(raw, str) or not ISO_DATE.fullmatch(raw.strip()):
        raise _invalid(spec, message)
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise _invalid(spec, message) from None


def _time(spec: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str):
        raise _invalid(spec, f"{spec.label} must be a time, like 14:30")
    typed = _text(spec, raw).replace(".", ":")
    if re.fullmatch(r"[0-9]:[0-5][0-9]", typed):
        typed = "0" + typed  # 9:30 is 09:30
    if not TIME.fullmatch(typed):
        raise _invalid(spec, f"{spec.label} must be a time, like 14:30")
    return typed


def _yes_no(spec: FieldSpec, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _invalid(spec, f"Select yes or no for {spec.label.lower()}")
    return raw


def _email(spec: FieldSpec, raw: Any) -> str:
    typed = _text(spec, raw)
    local, at, domain = typed.rpartition("@")
    if not (at and len(typed) <= 254 and len(local) <= 64 and EMAIL_LOCAL.fullmatch(local)):
        raise _invalid(spec, "Enter an email address in the correct format, like name@example.com")
    domain = domain.lower()
    if not _real_domain(domain):
        raise _invalid(spec, "Enter an email address in the correct format, like name@example.com")
    return f"{local}@{domain}"


def _real_domain(domain: str) -> bool:
    """Two or more labels of letters, digits and inner hyphens once IDNA-encoded (so
    "bücher.example" is allowed), with a top-level domain that is not all digits."""
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    labels = ascii_domain.split(".")
    return (
        len(labels) >= 2
        and len(ascii_domain) <= 253
        and all(DOMAIN_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )


def _phone(spec: FieldSpec, raw: Any) -> str:
    # "+44 (0)7700 900982" is written often: the (0) is not dialled after +44.
    digits = re.sub(r"[\s()-]", "", _text(spec, raw).replace("(0)", ""))
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    if not re.fullmatch(r"0[0-9]{9,10}", digits):
        raise _invalid(spec, "Enter a UK phone number, like 01632 960 001 or 07700 900 982")
    return "+44" + digits[1:]


def _postcode(spec: FieldSpec, raw: Any) -> str:
    match = POSTCODE.fullmatch(re.sub(r"\s+", " ", _text(spec, raw).upper()))
    if not match:
        raise _invalid(spec, "Enter a real postcode, like SW1A 1AA")
    return f"{match.group(1)} {match.group(2)}"


def _registration(spec: FieldSpec, raw: Any) -> str:
    typed = re.sub(r"\s+", "", _text(spec, raw).upper())
    for pattern in REGISTRATIONS:
        match = pattern.fullmatch(typed)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    raise _invalid(spec, "Enter a real registration number, like AB12 CDE")


def _sort_code(spec: FieldSpec, raw: Any) -> str:
    match = SORT_CODE.fullmatch(_text(spec, raw))
    if not match:
        raise _invalid(spec, "Enter a valid sort code, like 30-94-57")
    return f"{match.group(1)}-{match.group(3)}-{match.group(4)}"


def _account_number(spec: FieldSpec, raw: Any) -> str:
    digits = re.sub(r"\s+", "", _text(spec, raw))
    if not re.fullmatch(r"[0-9]{8}", digits):
        raise _invalid(spec, "Enter a valid account number, like 00733445")
    return digits


def _single_choice(spec: FieldSpec, raw: Any, options: list[Option]) -> str:
    if not isinstance(raw, str) or raw not in {option.value for option in options}:
        raise _invalid(spec, spec.required or f"Select an option for {spec.label.lower()}")
    return raw


def _multiple_choice(spec: FieldSpec, raw: Any, options: list[Option]) -> list[str]:
    allowed = {option.value for option in options}
    if not isinstance(raw, list) or not all(
        isinstance(item, str) and item in allowed for item in raw
    ):
        raise _invalid(spec, f"Select only the options listed for {spec.label.lower()}")
    return list(dict.fromkeys(raw))


def _files(spec: FieldSpec, raw: Any, documents: dict[str, Any]) -> list[str]:
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _invalid(spec, f"{spec.label} must be a list of uploaded files")
    for document_id in raw:
        if documents.get(document_id, {}).get("field") != spec.name:
            raise _invalid(
                spec, f"{spec.label}: a file in the list was not uploaded for this question"
            )
    return list(dict.fromkeys(raw))


PARSERS = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _text,
    FieldType.NUMBER: _number,
    FieldType.MONEY: _money,
    FieldType.DATE: _date,
    FieldType.TIME: _time,
    FieldType.YES_NO: _yes_no,
    FieldType.EMAIL: _email,
    FieldType.PHONE: _phone,
    FieldType.UK_POSTCODE: _postcode,
    FieldType.UK_VEHICLE_REGISTRATION: _registration,
    FieldType.SORT_CODE: _sort_code,
    FieldType.ACCOUNT_NUMBER: _account_number,
}


def parse(
    spec: FieldSpec,
    raw: Any,
    options: list[Option],
    documents: dict[str, Any],
    typed_in: bool = False,
) -> Any:
    """Normalise a non-empty raw value, or raise Invalid with the customer-facing message.
    A choice `typed_in` (its options' source is down) takes what the customer types."""
    if typed_in:
        typed = _text(spec, raw)
        if len(typed) > TYPED_CHOICE_MAX_LENGTH:
            raise Invalid(f"{spec.label} must be {TYPED_CHOICE_MAX_LENGTH} characters or fewer")
        return typed
    if spec.type == FieldType.SINGLE_CHOICE:
        return _single_choice(spec, raw, options)
    if spec.type == FieldType.MULTIPLE_CHOICE:
        return _multiple_choice(spec, raw, options)
    if spec.type == FieldType.FILE:
        return _files(spec, raw, documents)
    value = PARSERS[spec.type](spec, raw)
    limit = DEFAULT_MAX_LENGTH.get(spec.type)
    if limit and len(value) > limit and not any(r.rule == "max_length" for r in spec.rules):
        raise Invalid(f"{spec.label} must be {limit:,} characters or fewer")
    return value


def _measure(value: Any) -> Decimal:
    return Decimal(str(value))


def _rule_fails(rule: Rule, value: Any, context: dict[str, Any]) -> bool:
    kind, bound = rule.rule, rule.value
    if kind == "integer":
        return _measure(value) != _measure(value).to_integral_value()
    if kind == "min":
        return _measure(value) < _measure(bound)
    if kind == "max":
        return _measure(value) > _measure(bound)
    if kind == "min_length":
        return len(value) < int(bound or 0)
    if kind == "max_length":
        return len(value) > int(bound or 0)
    if kind == "pattern":
        return re.fullmatch(str(bound), value) is None
    if kind == "not_future":
        return value > context["today"]
    if kind == "not_past":
        return value < context["today"]
    if kind == "min_items":
        return len(value) < int(bound or 0)
    if kind == "max_items":
        return len(value) > int(bound or 0)
    return not holds(rule.expression, {**context, "value": value})


def check_rules(spec: FieldSpec, value: Any, context: dict[str, Any]) -> str | None:
    """The message of the first rule the value breaks, or None. Count rules also see empty
    lists, so that a conditional minimum ("at least one photo unless theft") can apply."""
    for rule in spec.rules:
        if rule.when is not None and not holds(rule.when, context):
            continue
        if is_empty(value) and rule.rule not in ("min_items",):
            continue
        if _rule_fails(rule, value if value is not None else [], context):
            return rule.message
    return None
