"""Parts of the hostile-input suite (test_hostile_input.py): the classes of bad value, the
claims the suite attacks, how a request is encoded byte for byte, and the database as a whole
(to prove that a refused request changed nothing).

Everything is sent as raw bytes: a JSON body may hold `NaN` or a lone surrogate escape, and a
form, query string or path may hold bytes that are not UTF-8, which no JSON or form encoder
would produce.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes, quote_plus

import httpx
from journey_api import (
    ACTIVE_POLICY,
    CSRF_HEADER,
    JOURNEYS_DIR,
    OTHER_VEHICLE,
    Api,
    days_from_today,
    incident,
    jpeg_bytes,
    pdf_bytes,
)
from sqlalchemy import (
    Engine,
    LargeBinary,
    MetaData,
    Text,
    cast,
    select,
    text,
)

from wayline.journeys.loader import load_directory
from wayline.journeys.schema import FieldType

DEFINITION = load_directory(JOURNEYS_DIR)["motor-claim"]

FORM = "application/x-www-form-urlencoded"

# --- the classes of bad value -------------------------------------------------------------------

NON_FINITE = "non-finite number"
NOT_UNICODE = "not valid Unicode"
UNICODE_DIGITS = "Unicode digits"
LONG_NUMBER = "thousands of digits"
CONTROL = "control or bidi character"
WRONG_TYPE = "wrong type"
OVERSIZED = "oversized string"


@dataclass(frozen=True)
class Bad:
    """One bad value. `json` is its raw JSON text (None: JSON cannot carry it); `text` its
    raw bytes in a form, query string or path (None: only JSON can carry it)."""

    kind: str
    label: str
    json: bytes | None
    text: bytes | None

    def __str__(self) -> str:
        return f"{self.kind}: {self.label}"


def _string(value: str, label: str, kind: str) -> Bad:
    """A bad value that is text: as a JSON string, and as UTF-8 form text."""
    return Bad(kind, label, json.dumps(value).encode(), value.encode("utf-8"))


BAD_VALUES: list[Bad] = [
    Bad(NON_FINITE, "NaN", b"NaN", b"NaN"),
    Bad(NON_FINITE, "Infinity", b"Infinity", b"Infinity"),
    Bad(NON_FINITE, "-Infinity", b"-Infinity", b"-Infinity"),
    Bad(NON_FINITE, "1e999", b"1e999", b"1e999"),
    Bad(NOT_UNICODE, "a lone high surrogate", b'"\\ud800"', b"\xed\xa0\x80"),
    Bad(NOT_UNICODE, "a lone low surrogate", b'"12\\udfff"', b"12\xed\xbf\xbf"),
    Bad(NOT_UNICODE, "a Latin-1 byte", b'"caf\xe9"', b"caf\xe9"),
    Bad(NOT_UNICODE, "a stray continuation byte", b'"\x80"', b"\x80"),
    Bad(NOT_UNICODE, "a truncated sequence", b'"\xe2\x98"', b"\xe2\x98"),
    _string("²", "superscript two", UNICODE_DIGITS),
    _string("٣", "Arabic-Indic three", UNICODE_DIGITS),
    _string("１２", "full-width twelve", UNICODE_DIGITS),
    Bad(LONG_NUMBER, "5,000 digits (a number)", b"1" + b"0" * 5000, None),
    Bad(LONG_NUMBER, "400 digits, negative (a number)", b"-" + b"9" * 400, None),
    _string("9" * 5000, "5,000 digits (text)", LONG_NUMBER),
    _string("The car\x00was hit", "NUL", CONTROL),
    _string("\x07\x1b[31mred", "bell and an escape sequence", CONTROL),
    _string("\u202egnp.exe", "right-to-left override", CONTROL),
    _string("x\u2066y\u2069", "left-to-right isolate", CONTROL),
    _string("a\x85b", "C1 next line", CONTROL),
    Bad(WRONG_TYPE, "a list in a list", b'[["nested"]]', None),
    Bad(WRONG_TYPE, "an object", b'{"$ne": null}', None),
    _string("x" * 20_000, "20,000 characters", OVERSIZED),
]

# The values tried in every field of every step: one or two of each class (the routes with a
# single slot get all of them).
EVERY_FIELD: list[Bad] = [
    bad
    for bad in BAD_VALUES
    if bad.label
    in {
        "NaN",
        "1e999",
        "a lone high surrogate",
        "a Latin-1 byte",
        "superscript two",
        "Arabic-Indic three",
        "5,000 digits (a number)",
        "5,000 digits (text)",
        "NUL",
        "right-to-left override",
        "a list in a list",
        "20,000 characters",
    }
]

# A revision is a count of saves: every one of these is refused (or is stale, a 409).
BAD_REVISIONS: list[Bad] = [
    Bad(WRONG_TYPE, "empty", b'""', b""),
    Bad(WRONG_TYPE, "negative", b"-1", b"-1"),
    Bad(WRONG_TYPE, "zero", b"0", b"0"),
    Bad(LONG_NUMBER, "2**64", str(2**64).encode(), str(2**64).encode()),
    Bad(LONG_NUMBER, "thirty digits", b"9" * 30, b"9" * 30),
    Bad(LONG_NUMBER, "5,000 digits", b"9" * 5000, b"9" * 5000),
    Bad(WRONG_TYPE, "text", b'"abc"', b"abc"),
    Bad(WRONG_TYPE, "a fraction", b"1.5", b"1.5"),
    Bad(WRONG_TYPE, "true", b"true", b"true"),
    Bad(WRONG_TYPE, "null", b"null", None),
    Bad(NON_FINITE, "NaN", b"NaN", b"NaN"),
    Bad(NOT_UNICODE, "a lone surrogate", b'"\\ud800"', b"\xed\xa0\x80"),
    Bad(UNICODE_DIGITS, "superscript two", json.dumps("²").encode(), "²".encode()),
    Bad(UNICODE_DIGITS, "Arabic-Indic three", json.dumps("٣").encode(), "٣".encode()),
]

# Ids in paths (percent-encoded as they go into the URL).
BAD_IDS: list[Bad] = [
    Bad(NOT_UNICODE, "a lone surrogate", None, b"\xed\xa0\x80"),
    Bad(NOT_UNICODE, "a Latin-1 byte", None, b"caf\xe9"),
    Bad(CONTROL, "NUL", None, b"a\x00b"),
    Bad(CONTROL, "right-to-left override", None, "\u202eabc".encode()),
    Bad(UNICODE_DIGITS, "superscript two", None, "²".encode()),
    Bad(LONG_NUMBER, "3,000 characters", None, b"9" * 3000),
    Bad(WRONG_TYPE, "a path traversal", None, b"../../etc/passwd"),
    Bad(WRONG_TYPE, "SQL", None, b"'; DROP TABLE journeys; --"),
    Bad(WRONG_TYPE, "a space", None, b" "),
]


# Field types whose answer is free text: digits, long digit strings and "NaN" are fair text
# there, so those classes are only "must be refused" for the other types.
FREE_TEXT = {FieldType.TEXT, FieldType.LONG_TEXT}
STRICT_KINDS = {NON_FINITE, NOT_UNICODE, WRONG_TYPE}  # refused on the way in, even in drafts


def refused_on_submit(bad: Bad, field_type: FieldType, as_json: bool) -> bool:
    """Whether a step submitted with this value for a field of this type must be refused."""
    if as_json and (bad.kind in STRICT_KINDS or bad.text is None):
        return True  # non-finite, not Unicode, a wrong type, a number out of range
    if bad.kind in (NOT_UNICODE, CONTROL, OVERSIZED):
        return True
    return field_type not in FREE_TEXT


def refused_as_draft(bad: Bad, as_json: bool) -> bool:
    """Whether a draft with this value must be refused (drafts keep what was typed, but only
    values that are valid text and finite numbers)."""
    if as_json:
        return bad.kind in STRICT_KINDS or bad.text is None
    return bad.kind == NOT_UNICODE


# --- encoding requests byte for byte ---------------------------------------------------------


def json_body(template: Any, slots: dict[str, bytes]) -> bytes:
    """`template` as JSON, each string "<<name>>" in it replaced by the raw JSON slots[name]."""
    text = json.dumps(template).encode()
    for name, raw in slots.items():
        text = text.replace(json.dumps(f"<<{name}>>").encode(), raw)
    return text


def form_body(pairs: list[tuple[str | bytes, str | bytes]]) -> bytes:
    """An urlencoded form from raw names and values (bytes go as they are, %-escaped)."""
    return b"&".join(
        quote_plus(_raw(name)).encode() + b"=" + quote_plus(_raw(value)).encode()
        for name, value in pairs
    )


def multipart_body(
    pairs: list[tuple[str | bytes, str | bytes]],
    files: list[tuple[str | bytes, str | bytes, bytes]] | None = None,
) -> tuple[bytes, str]:
    """A multipart form with raw names, values and file names; returns (body, content type)."""
    boundary = b"hostile-boundary-7f3a"
    parts = []
    for name, value in pairs:
        parts.append(
            b'Content-Disposition: form-data; name="' + _raw(name) + b'"\r\n\r\n' + _raw(value)
        )
    for name, filename, content in files or []:
        parts.append(
            b'Content-Disposition: form-data; name="'
            + _raw(name)
            + b'"; filename="'
            + _raw(filename)
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n'
            + content
        )
    body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts)
    return body + b"--" + boundary + b"--\r\n", f"multipart/form-data; boundary={boundary.decode()}"


def in_path(raw: bytes) -> str:
    """Raw bytes as one percent-encoded path segment."""
    return quote_from_bytes(raw, safe="")


def _raw(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


# --- the database as a whole -------------------------------------------------------------------

# Columns that change on every request by design (a session's last use), left out of the
# comparison; everything else, row by row.
MOVING = {"sessions": {"last_seen_at"}}


def refusals(schema: MetaData) -> Any:
    """The ids of `answers.refused` events: a refused submission is recorded, by design (for
    insights and the release analysis), with its row in the events' outbox. They are left out
    of the snapshots, so that a refusal changes nothing compared, and so that the thousands
    the walks cause do not make every snapshot longer than the last."""
    events = schema.tables["events"]
    return select(events.c.id).where(events.c.type == "answers.refused")


_WITHOUT_REFUSALS: dict[str, Callable[[Any, Any], Any]] = {
    "events": lambda table, refused: table.c.type != "answers.refused",
    "event_outbox": lambda table, refused: table.c.event_id.not_in(refused),
}


def database(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table (ordered), as the database's own text. The tables are read
    from the database itself, so that a table added later is compared too."""
    found: dict[str, list[tuple]] = {}
    with engine.connect() as connection:
        for table in _schema(engine).sorted_tables:
            columns = _compared(table)
            order = list(table.primary_key.columns) or columns
            query = _filtered(table, select(*(_as_text(c) for c in columns)).order_by(*order))
            found[table.name] = [tuple(row) for row in connection.execute(query)]
    return found


def _compared(table: Any) -> list[Any]:
    return [c for c in table.columns if c.name not in MOVING.get(table.name, set())]


def _filtered(table: Any, query: Any) -> Any:
    if table.name in _WITHOUT_REFUSALS:
        return query.where(_WITHOUT_REFUSALS[table.name](table, refusals(table.metadata)))
    return query


def _as_text(column: Any) -> Any:
    """The column as the database's own text: no JSON decoding or date parsing of thousands
    of rows per snapshot (half the walk's time went there), and equal text is equal data.
    Bytes (wrapped keys) are compared as they are: on SQLite they are not text."""
    return column if isinstance(column.type, LargeBinary) else cast(column, Text)


@functools.cache
def _schema(engine: Engine) -> MetaData:
    schema = MetaData()
    schema.reflect(engine)
    return schema


def journey_row(engine: Engine, journey_id: str) -> tuple[int, dict[str, Any]]:
    """A journey's revision and answers, as stored."""
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT revision, state FROM journeys WHERE id = :id"), {"id": journey_id}
        ).one()
    state = row.state if isinstance(row.state, dict) else json.loads(row.state)
    return row.revision, state["answers"]


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    """What differs, table by table, in words."""
    said = []
    for name in before:
        if before[name] != after.get(name):
            old = {repr(row) for row in before[name]}
            new = {repr(row) for row in after.get(name, [])}
            said.append(f"{name}: {len(old - new)} rows changed or gone, {len(new - old)} new")
    return said


# --- the claims under attack ------------------------------------------------------------------


@dataclass
class Claim:
    """A claim at its check-answers page, every step on its way completed: submitting any of
    its steps again checks that step's answers, so each field of each step can be attacked."""

    api: Api
    id: str
    steps: list[str]
    documents: dict[str, str] = field(default_factory=dict)  # field → an uploaded id

    def view(self) -> dict[str, Any]:
        return self.api.journey(self.id)

    def revision(self) -> int:
        return self.view()["revision"]

    def token(self) -> str:
        return self.api.http.headers[CSRF_HEADER]


SAMS_ACCOUNT = {
    "account_holder": "Sam Taylor",
    "sort_code": "40-47-84",
    "account_number": "70872490",
}


def sams_collision(sam: Api) -> Claim:
    """Sam's collision with injuries, settled in cash to an account he names: every field type
    but the police reference (policy, incident, other vehicle, injuries, photos, settlement,
    payment details)."""
    journey = sam.start()
    journey = sam.step(journey, "policy", {"policy_number": ACTIVE_POLICY["sam"]})
    journey = sam.step(journey, "incident", incident("collision_vehicle"))
    journey = sam.step(journey, "other-vehicle", {**OTHER_VEHICLE, "injuries": True})
    journey = sam.step(journey, "injuries", {"injured_count": 2, "injury_description": "Whiplash"})
    photo = sam.upload(journey, "damage_photos", jpeg_bytes())
    journey = sam.step(journey, "photos", {"damage_photos": [photo]})
    estimate = sam.upload(journey, "estimate_document", pdf_bytes(), "estimate.pdf")
    answers = {"settlement": "cash", "estimate_amount": "450.50", "estimate_document": [estimate]}
    journey = sam.step(journey, "settlement", answers)
    journey = sam.step(journey, "payment-details", SAMS_ACCOUNT)
    assert journey["current_step"]["name"] == "check-answers", journey["current_step"]
    steps = [s["name"] for s in journey["steps"] if s["name"] != "check-answers"]
    documents = {"damage_photos": photo, "estimate_document": estimate}
    return Claim(sam, journey["id"], steps, documents)


def alexs_theft(alex: Api) -> Claim:
    """Alex's theft, with its police reference."""
    journey = alex.start()
    journey = alex.step(journey, "policy", {"policy_number": ACTIVE_POLICY["alex"]})
    journey = alex.step(journey, "incident", incident("theft", incident_date=days_from_today(-2)))
    journey = alex.step(journey, "police", {"crime_reference": "ABC123"})
    journey = alex.step(journey, "photos", {})
    assert journey["current_step"]["name"] == "check-answers", journey["current_step"]
    steps = [s["name"] for s in journey["steps"] if s["name"] != "check-answers"]
    return Claim(alex, journey["id"], steps)


def answered_fields(answers: dict[str, Any], step: str) -> list[tuple[str, FieldType]]:
    """The fields of a step that hold one of these answers, with their types."""
    spec = DEFINITION.step(step)
    assert spec is not None, step
    return [(f.name, f.type) for f in spec.fields if f.name in answers]


def as_form(answers: dict[str, Any], types: dict[str, FieldType]) -> list[tuple[str, str]]:
    """A step's answers as its page's form posts them: dates in three parts, yes/no as
    words, files as one pair per id."""
    pairs: list[tuple[str, str]] = []
    for name, value in answers.items():
        if types.get(name) == FieldType.DATE:
            year, month, day = value.split("-")
            pairs += [(f"{name}-day", day), (f"{name}-month", month), (f"{name}-year", year)]
        elif isinstance(value, bool):
            pairs.append((name, "yes" if value else "no"))
        elif isinstance(value, list):
            pairs += [(name, str(item)) for item in value]
        else:
            pairs.append((name, str(value)))
    return pairs


def post_form(
    api: Api, path: str, pairs: list[tuple[str | bytes, str | bytes]], multipart: bool = False
) -> httpx.Response:
    if multipart:
        body, content_type = multipart_body(pairs)
    else:
        body, content_type = form_body(pairs), FORM
    return api.http.post(
        path,
        content=body,
        headers={"content-type": content_type, "accept": "text/html"},
        follow_redirects=False,
    )
