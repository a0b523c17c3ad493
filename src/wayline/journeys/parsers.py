"""One parser per field type: a raw answer in, its normalised value or a customer-facing
message out.

Every parser has the same shape, `(question, raw, given) -> value`, raising Invalid for what
the customer must correct; the field-type registry (`field_types.py`) names each type's
parser. Messages come from the definition (`invalid`, `required`); the defaults below are
used only where a definition says nothing, and follow the same plain style.

Text is read strictly: digits are ASCII digits, characters that are not text (controls,
direction overrides) are refused by one check (`text.clean`), and a value a parser returns
parses again to itself. Parsers know a question only through `Question` (its name, label and
messages), so this module depends on nothing of the definition language.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from wayline.journeys import numerals, text

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
# ISO 13616: a country code, two check digits, then up to 30 letters and digits (the
# national account number); the shortest IBAN in use (Norway) has 15 characters in all.
IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
CURRENCY_SYMBOL = "£"  # money is in pounds: the symbol a customer may type before an amount


class Invalid(ValueError):
    """A value the customer must correct; the message is shown to them as it is."""


class Question(Protocol):
    """What a parser reads of a question (a `schema.FieldSpec` is one)."""

    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def required(self) -> str | None: ...

    @property
    def invalid(self) -> str | None: ...


@dataclass(frozen=True)
class Given:
    """What an answer is read against besides its question: the option values offered now
    (static and from a data source) and the journey's uploaded documents by id."""

    choices: Collection[str] = ()
    documents: Mapping[str, Any] = field(default_factory=dict)


def _invalid(question: Question, default: str) -> Invalid:
    return Invalid(question.invalid or default)


def _typed(question: Question, raw: Any, *, multiline: bool = False) -> str:
    """Any typed answer, trimmed and checked character by character (`text.clean`). A
    character it may not hold gets its own message, whatever the definition's `invalid`
    says: that message is about the format, this one about an invisible character."""
    if not isinstance(raw, str):
        raise _invalid(question, f"{question.label} must be text")
    try:
        return text.clean(raw, multiline=multiline)
    except text.BadCharacter as bad:
        raise Invalid(bad.describe()) from None


def one_line(question: Question, raw: Any, given: Given) -> str:
    """Text on one line: no line breaks or tabs."""
    return _typed(question, raw)


def long_text(question: Question, raw: Any, given: Given) -> str:
    """Text that may hold line breaks and tabs (written as LF)."""
    return _typed(question, raw, multiline=True)


def _numeral_refused(question: Question, why: numerals.NotANumeral, kind: str) -> Invalid:
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
    return _invalid(question, default)


def number(question: Question, raw: Any, given: Given) -> int | float:
    """A JSON number or a typed numeral: an int when whole, else a float."""
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise numerals.NotANumeral("format")
        if isinstance(raw, str):
            value = numerals.read(_typed(question, raw), signed=True).decimal()
        else:
            # A JSON number: repr() of a float is its shortest exact text (0.1, not
            # 0.1000000000000000055...); an int is converted without going through text.
            value = numerals.bounded(Decimal(raw) if isinstance(raw, int) else Decimal(repr(raw)))
    except numerals.NotANumeral as why:
        raise _numeral_refused(question, why, "number") from None
    return int(value) if value == value.to_integral_value() else float(value)


def money(question: Question, raw: Any, given: Given) -> str:
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
            typed = _typed(question, raw).removeprefix(CURRENCY_SYMBOL).lstrip()
            numeral = numerals.read(typed, signed=False)
            if len(numeral.fraction) > 2:
                raise numerals.NotANumeral("format")
            amount = numeral.decimal()
    except numerals.NotANumeral as why:
        raise _numeral_refused(question, why, "amount") from None
    return f"{amount:.2f}"


def iso_date(question: Question, raw: Any, given: Given) -> str:
    """A real date written YYYY-MM-DD."""
    message = f"{question.label} must be a real date"
    if not isinstance(raw, str) or not ISO_DATE.fullmatch(raw.strip()):
        raise _invalid(question, message)
    try:
        return date.fromisoformat(raw.strip()).isoformat()
    except ValueError:
        raise _invalid(question, message) from None


def clock_time(question: Question, raw: Any, given: Given) -> str:
    """HH:MM on the 24-hour clock; 9:30 and 14.30 are understood."""
    if not isinstance(raw, str):
        raise _invalid(question, f"{question.label} must be a time, like 14:30")
    typed = _typed(question, raw).replace(".", ":")
    if re.fullmatch(r"[0-9]:[0-5][0-9]", typed):
        typed = "0" + typed  # 9:30 is 09:30
    if not TIME.fullmatch(typed):
        raise _invalid(question, f"{question.label} must be a time, like 14:30")
    return typed


def yes_no(question: Question, raw: Any, given: Given) -> bool:
    """JSON true or false."""
    if not isinstance(raw, bool):
        raise _invalid(question, f"Select yes or no for {question.label.lower()}")
    return raw


def email(question: Question, raw: Any, given: Given) -> str:
    """An email address with its domain lower-cased."""
    typed = _typed(question, raw)
    local, at, domain = typed.rpartition("@")
    if not (at and len(typed) <= 254 and len(local) <= 64 and EMAIL_LOCAL.fullmatch(local)):
        raise _invalid(
            question, "Enter an email address in the correct format, like name@example.com"
        )
    domain = domain.lower()
    if not _real_domain(domain):
        raise _invalid(
            question, "Enter an email address in the correct format, like name@example.com"
        )
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


def uk_phone(question: Question, raw: Any, given: Given) -> str:
    """A UK number, kept as +44 and its digits."""
    # "+44 (0)7700 900982" is written often: the (0) is not dialled after +44.
    digits = re.sub(r"[\s()-]", "", _typed(question, raw).replace("(0)", ""))
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    if not re.fullmatch(r"0[0-9]{9,10}", digits):
        raise _invalid(question, "Enter a UK phone number, like 01632 960 001 or 07700 900 982")
    return "+44" + digits[1:]


def uk_postcode(question: Question, raw: Any, given: Given) -> str:
    """A UK postcode, upper case with one space."""
    match = POSTCODE.fullmatch(re.sub(r"\s+", " ", _typed(question, raw).upper()))
    if not match:
        raise _invalid(question, "Enter a real postcode, like SW1A 1AA")
    return f"{match.group(1)} {match.group(2)}"


def uk_registration(question: Question, raw: Any, given: Given) -> str:
    """A UK vehicle registration in any of its formats, upper case with one space."""
    typed = re.sub(r"\s+", "", _typed(question, raw).upper())
    for pattern in REGISTRATIONS:
        match = pattern.fullmatch(typed)
        if match:
            return f"{match.group(1)} {match.group(2)}"
    raise _invalid(question, "Enter a real registration number, like AB12 CDE")


def sort_code(question: Question, raw: Any, given: Given) -> str:
    """Six digits in pairs, kept as NN-NN-NN."""
    match = SORT_CODE.fullmatch(_typed(question, raw))
    if not match:
        raise _invalid(question, "Enter a valid sort code, like 30-94-57")
    return f"{match.group(1)}-{match.group(3)}-{match.group(4)}"


def account_number(question: Question, raw: Any, given: Given) -> str:
    """Eight digits, spaces ignored; six or seven are padded with leading zeros to eight, as
    UK banks do with their shorter account numbers."""
    digits = re.sub(r"\s+", "", _typed(question, raw))
    if not re.fullmatch(r"[0-9]{6,8}", digits):
        raise _invalid(question, "Enter a valid account number, like 00733445")
    return digits.rjust(8, "0")


def iban(question: Question, raw: Any, given: Given) -> str:
    """An International Bank Account Number (ISO 13616), spaces allowed anywhere, kept in
    upper case without spaces. Its check digits must hold (ISO 7064 MOD 97-10); a wrong one
    gets its own message, whatever the definition's `invalid` says: it says what to fix."""
    typed = _typed(question, raw).replace(" ", "")
    # Checked as ASCII before upper-casing: "ſ".upper() is "S", and that is no IBAN.
    if not (typed.isascii() and IBAN.fullmatch(typed.upper())):
        raise _invalid(question, "Enter an IBAN, like GB82 WEST 1234 5698 7654 32")
    account = typed.upper()
    if not 2 <= int(account[2:4]) <= 98 or _mod_97(account) != 1:
        raise Invalid(
            "Check the IBAN for a mistyped character: its check digits (the 2 numbers "
            "after the country code) do not match the rest of it"
        )
    return account


def _mod_97(account: str) -> int:
    """ISO 7064 MOD 97-10 over an IBAN: its first four characters moved to the end, each
    letter read as two digits (A is 10, Z is 35). At most 34 characters: a small int."""
    rearranged = account[4:] + account[:4]
    return int("".join(str(int(character, 36)) for character in rearranged)) % 97


def single_choice(question: Question, raw: Any, given: Given) -> str:
    """One of the option values offered."""
    if not isinstance(raw, str) or raw not in given.choices:
        raise _invalid(
            question, question.required or f"Select an option for {question.label.lower()}"
        )
    return raw


def multiple_choice(question: Question, raw: Any, given: Given) -> list[str]:
    """A list of option values offered, repeats dropped."""
    if not isinstance(raw, list) or not all(
        isinstance(item, str) and item in given.choices for item in raw
    ):
        raise _invalid(question, f"Select only the options listed for {question.label.lower()}")
    return list(dict.fromkeys(raw))


def files(question: Question, raw: Any, given: Given) -> list[str]:
    """Ids of documents uploaded for this question, repeats dropped."""
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise _invalid(question, f"{question.label} must be a list of uploaded files")
    for document_id in raw:
        if given.documents.get(document_id, {}).get("field") != question.name:
            raise _invalid(
                question, f"{question.label}: a file in the list was not uploaded for this question"
            )
    return list(dict.fromkeys(raw))
