"""Parse and normalise one answer by its field type, and apply the field's rules.

Pure functions: a raw value in, a normalised value or a customer-facing message out. Messages
come from the definition (`required`, `invalid`, each rule's `message`); the defaults below are
used only where a definition says nothing, and follow the same plain style.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

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
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TIME = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
DEFAULT_MAX_LENGTH = {FieldType.TEXT: 500, FieldType.LONG_TEXT: 10000}
MAX_NUMBER_EXPONENT = 100  # numbers must be under 10**101 in size


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
    if not isinstance(raw, str):
        raise _invalid(spec, f"{spec.label} must be text")
    return raw.strip()


def _number(spec: FieldSpec, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise _invalid(spec, f"{spec.label} must be a number")
    if isinstance(raw, int | float):
        number = Decimal(str(raw))
    elif isinstance(raw, str):
        try:
            number = Decimal(raw.strip().replace(",", ""))
        except InvalidOperation:
            raise _invalid(spec, f"{spec.label} must be a number") from None
    else:
        raise _invalid(spec, f"{spec.label} must be a number")
    # Bound the magnitude before int(): "1e999999999" would otherwise build a billion-digit int.
    if not number.is_finite() or number.adjusted() > MAX_NUMBER_EXPONENT:
        raise _invalid(spec, f"{spec.label} must be a number")
    return int(number) if number == number.to_integral_value() else float(number)


def _money(spec: FieldSpec, raw: Any) -> str:
    message = f"{spec.label} must be an amount of money, like 850 or 850.50"
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise _invalid(spec, message)
    text = str(raw).strip().replace(",", "").removeprefix("£")
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text):
        raise _invalid(spec, message)
    return f"{Decimal(text):.2f}"


def _date(spec: FieldSpec, raw: Any) -> str:
    if not isinstance(raw, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw.strip()):
        raise _invalid(spec, f"{spec.label} must be a real date")
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise _invalid(spec, f"{spec.label} must be a real date") from None


def _time(spec: FieldSpec, raw: Any) -> str:
    text = raw.strip().replace(".", ":") if isinstance(raw, str) else ""
    if re.fullmatch(r"[0-9]:[0-5][0-9]", text):
        text = "0" + text  # 9:30 is 09:30
    if not TIME.fullmatch(text):
        raise _invalid(spec, f"{spec.label} must be a time, like 14:30")
    return text


def _yes_no(spec: FieldSpec, raw: Any) -> bool:
    if not isinstance(raw, bool):
        raise _invalid(spec, f"Select yes or no for {spec.label.lower()}")
    return raw


def _email(spec: FieldSpec, raw: Any) -> str:
    text = _text(spec, raw)
    if not EMAIL.fullmatch(text) or len(text) > 254:
        raise _invalid(spec, "Enter an email address in the correct format, like name@example.com")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def _phone(spec: FieldSpec, raw: Any) -> str:
    # "+44 (0)7700 900982" is written often: the (0) is not dialled after +44.
    text = re.sub(r"[\s()-]", "", _text(spec, raw).replace("(0)", ""))
    if text.startswith("+44"):
        text = "0" + text[3:]
    if not re.fullmatch(r"0[0-9]{9,10}", text):
        raise _invalid(spec, "Enter a UK phone number, like 01632 960 001 or 07700 900 982")
    return "+44" + text[1:]


def _postcode(spec: FieldSpec, raw: Any) -> str:
    match = POSTCODE.fullmatch(re.sub(r"\s+", " ", _text(spec, raw).upper()))
    if not match:
        raise _invalid(spec, "Enter a real postcode, like SW1A 1AA")
    return f"{match.group(1)} {match.group(2)}"


def _registration(spec: FieldSpec, raw: Any) -> str:
    text = re.sub(r"\s+", "", _text(spec, raw).upper())
    for pattern in REGISTRATIONS:
        match = pattern.fullmatch(text)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    raise _invalid(spec, "Enter a real registration number, like AB12 CDE")


def _sort_code(spec: FieldSpec, raw: Any) -> str:
    digits = re.sub(r"[\s-]", "", _text(spec, raw))
    if not re.fullmatch(r"[0-9]{6}", digits):
        raise _invalid(spec, "Enter a valid sort code, like 30-94-57")
    return f"{digits[0:2]}-{digits[2:4]}-{digits[4:6]}"


def _account_number(spec: FieldSpec, raw: Any) -> str:
    digits = re.sub(r"\s", "", _text(spec, raw))
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
        text = _text(spec, raw)
        if len(text) > 100:
            raise Invalid(f"{spec.label} must be 100 characters or fewer")
        return text
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
