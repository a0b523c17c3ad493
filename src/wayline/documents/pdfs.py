"""Checking a PDF before it is kept: parsed with pypdf within limits (pages, objects), and
refused when it carries active content or other files.

Refused:
- JavaScript anywhere: a /JS or /JavaScript key (document-level name trees included), an action
  of type /JavaScript, an /OpenAction that runs one, and additional actions (/AA), which run on
  opening a page or a field; also /Launch actions (they start programs) and XFA forms (/XFA),
  which carry scripts of their own;
- embedded files: /EmbeddedFiles name trees, /EmbeddedFile streams and file specifications with
  an /EF entry;
- a password it cannot be opened without, more pages or objects than the limits allow, and any
  file pypdf cannot parse.

Every object in the cross-reference table is visited (objects inside object streams too), with
names as pypdf decodes them (so `/J#53` is `/JS`); the raw bytes are also searched for the
plain names, in case a damaged file hides an object from the table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, TYPE_CHECKING, Any

from wayline.documents.intake import Rejected

if TYPE_CHECKING:
    from pypdf import PdfReader

ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/XFA"}
ACTIVE_ACTIONS = {"/JavaScript", "/Launch"}
EMBEDDED_KEYS = {"/EmbeddedFiles", "/EF"}
RAW_ACTIVE = re.compile(rb"/(?:JavaScript|JS|Launch)(?![A-Za-z0-9#._+-])")
RAW_EMBEDDED = re.compile(rb"/EmbeddedFiles?(?![A-Za-z0-9#._+-])")
MAX_DEPTH = 64
MAX_NODES = 1_000_000

UNREADABLE = "The selected PDF could not be opened. It may be damaged: save it again and try again"
ACTIVE = (
    "The selected PDF contains scripts or actions, which we do not accept for safety. Print it "
    "to a new PDF (or save it as PDF again) and send that"
)
EMBEDDED = (
    "The selected PDF has other files attached inside it, which we do not accept for safety. "
    "Send the PDF without attachments"
)


@dataclass(frozen=True)
class PdfLimits:
    max_pages: int = 100
    max_objects: int = 50_000


@dataclass
class PdfFacts:
    pages: int
    info: dict[str, Any] = field(default_factory=dict)  # creator, producer, dates


def inspect(stream: IO[bytes], limits: PdfLimits) -> PdfFacts:
    """The PDF's page count and document information, or Rejected with the reason."""
    from pypdf import PdfReader  # loaded with the first PDF, not at start-up

    _scan_raw(stream)
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Rejected(
                "The selected PDF is protected by a password. Send a copy without a password",
                "pdf_encrypted",
            )
        objects = len(reader.xref_objStm) + sum(len(ids) for ids in reader.xref.values())
        if objects > limits.max_objects:
            raise Rejected(
                "The selected PDF is too complex for us to check. Print it to a new PDF and "
                "send that",
                "pdf_too_complex",
            )
        _walk(reader)
        pages = len(reader.pages)
        if pages == 0:
            raise Rejected("The selected PDF has no pages", "pdf_no_pages")
        if pages > limits.max_pages:
            raise Rejected(
                f"The selected PDF has too many pages: it must have {limits.max_pages} pages "
                "or fewer",
                "pdf_too_many_pages",
            )
        info = _info(reader)
    except Rejected:
        raise
    except Exception:  # pypdf on untrusted bytes: any failure is the file's
        raise Rejected(UNREADABLE, "unreadable") from None
    return PdfFacts(pages, info)


def _scan_raw(stream: IO[bytes]) -> None:
    stream.seek(0)
    tail = b""
    while chunk := stream.read(1024 * 1024):
        window = tail + chunk
        if RAW_ACTIVE.search(window):
            raise Rejected(ACTIVE, "pdf_javascript")
        if RAW_EMBEDDED.search(window):
            raise Rejected(EMBEDDED, "pdf_embedded_file")
        tail = window[-32:]


def _walk(reader: PdfReader) -> None:
    ids = set(reader.xref_objStm)
    for numbers in reader.xref.values():
        ids.update(numbers)
    budget = [MAX_NODES]
    for number in sorted(ids):
        try:
            obj = reader.get_object(number)
        except Exception:
            continue  # an object that does not parse is one no viewer will run either
        _check(obj, 0, budget)
    _check(reader.trailer, 0, budget)


def _check(obj: Any, depth: int, budget: list[int]) -> None:
    """One object and its direct children (indirect ones are visited on their own)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise Rejected(
            "The selected PDF is too complex for us to check. Print it to a new PDF and send that",
            "pdf_too_complex",
        )
    if isinstance(obj, DictionaryObject):
        keys = set(dict.keys(obj))
        if keys & ACTIVE_KEYS:
            raise Rejected(ACTIVE, "pdf_javascript")
        if keys & EMBEDDED_KEYS or dict.get(obj, "/Type") == "/EmbeddedFile":
            raise Rejected(EMBEDDED, "pdf_embedded_file")
        if dict.get(obj, "/S") in ACTIVE_ACTIONS:
            raise Rejected(ACTIVE, "pdf_javascript")
        opening = dict.get(obj, "/OpenAction")
        if isinstance(opening, IndirectObject):
            opening = opening.get_object()
        if isinstance(opening, DictionaryObject) and dict.get(opening, "/S") in ACTIVE_ACTIONS:
            raise Rejected(ACTIVE, "pdf_javascript")
        for value in dict.values(obj):
            if isinstance(value, DictionaryObject | ArrayObject):
                _check(value, depth + 1, budget)
    elif isinstance(obj, ArrayObject):
        for value in list.__iter__(obj):
            if isinstance(value, DictionaryObject | ArrayObject):
                _check(value, depth + 1, budget)


def _info(reader: PdfReader) -> dict[str, Any]:
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    info: Mapping[str, Any]
    try:
        info = reader.metadata or {}
    except Exception:
        info = {}

    def text(key: str) -> str | None:
        value = info.get(key)
        if value is None or isinstance(value, NameObject | DictionaryObject | ArrayObject):
            return None
        cleaned = "".join(ch for ch in str(value) if ch.isprintable()).strip()
        return cleaned[:200] or None

    return {
        "pages": len(reader.pages),
        "creator": text("/Creator"),
        "producer": text("/Producer"),
        "created_at": pdf_date(text("/CreationDate")),
        "modified_at": pdf_date(text("/ModDate")),
    }


PDF_DATE = re.compile(
    r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
    r"(?:([Zz+\-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?"
)


def pdf_date(value: str | None) -> str | None:
    """A PDF date (D:YYYYMMDDHHmmSSOHH'mm') as ISO 8601, or None when it is not one."""
    if not value:
        return None
    match = PDF_DATE.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, sign, tz_hours, tz_minutes = match.groups()
    try:
        zone = None
        if sign in ("Z", "z"):
            zone = UTC
        elif sign in ("+", "-"):
            offset = timedelta(hours=int(tz_hours or 0), minutes=int(tz_minutes or 0))
            zone = timezone(offset if sign == "+" else -offset)
        moment = datetime(
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None
    return moment.isoformat()
