"""Only valid text and finite numbers get into a request: one check, in front of every route.

Python and Starlette are lenient with what they cannot read: a URL, query string or form with
bytes that are not UTF-8 is decoded with replacement characters (or as Latin-1), and a JSON
body may hold NaN, Infinity, 1e999 or lone surrogates, which are then saved and break every
later answer that shows them. This ASGI middleware refuses all of them before a route runs:

- the path and the query string, percent-decoded, must be UTF-8: 422 at once, else;
- a JSON body (application/json, application/*+json) must follow `strict_json.loads`: 400
  when it is not JSON, 422 naming the field when a value is refused;
- a form (urlencoded or multipart) must have UTF-8 names, values and file names; file
  contents are not text and are left to the upload checks.

A body is checked as it streams to the route: the `receive` the route reads it with raises
MalformedInput as soon as a bad value is seen, at the latest with the body's last chunk, so
the route fails while reading its input, before it has changed anything. The app's exception
handlers answer it like any other error (problem+json for the API, the error page for pages).
Nothing is buffered but JSON bodies (capped by the body limit) and one form field at a time.
"""

from __future__ import annotations

import codecs
import json
import unicodedata
from typing import TYPE_CHECKING, Protocol
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wayline import strict_json
from wayline.web.malformed import MalformedInput
from wayline.web.problems import error_response

if TYPE_CHECKING:  # python-multipart declares its callbacks' types for type checkers only
    from python_multipart.multipart import MultipartCallbacks

NOT_TEXT = "is not valid text: it holds bytes that are not UTF-8"
DETAIL = "The request has fields that are missing or not valid"
# Starlette refuses a form field over 1 MiB itself; a longer one is not worth decoding here.
MAX_FIELD_BYTES = 1024 * 1024


def refused(field: str, message: str) -> MalformedInput:
    return MalformedInput(422, DETAIL, [{"field": field, "message": message}])


class StrictInput:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = url_problem(scope)
        if problem is not None:
            await _answer(scope, receive, send, problem)
            return
        check = body_check(Headers(scope=scope))
        if check is None:
            await self.app(scope, receive, send)
            return
        await self.app(scope, _checked(receive, check), send)


def _checked(receive: Receive, check: BodyCheck) -> Receive:
    """`receive`, with each chunk of the body fed to `check` before the route sees it."""
    failed: MalformedInput | None = None

    async def checked_receive() -> Message:
        nonlocal failed
        message = await receive()
        if message["type"] != "http.request":
            return message
        if failed is not None:
            raise failed  # a route that read on regardless gets no further
        try:
            check.feed(message.get("body", b""))
            if not message.get("more_body", False):
                check.close()
        except MalformedInput as error:
            failed = error
            raise
        return message

    return checked_receive


async def _answer(scope: Scope, receive: Receive, send: Send, problem: MalformedInput) -> None:
    """Answer as the app's handlers would (an error page for pages, problem+json else)."""
    request = Request(scope, receive)
    response = error_response(request, problem.status_code, str(problem.detail), problem.errors)
    await response(scope, receive, send)


# --- the URL ---------------------------------------------------------------------------------


def url_problem(scope: Scope) -> MalformedInput | None:
    """The path or a query parameter that is not UTF-8 once percent-decoded, if any; or a
    path holding a control character, which names nothing of ours (404: no id, step or file
    name holds one, and PostgreSQL refuses even to compare text holding a NUL)."""
    raw_path = scope.get("raw_path")
    path = unquote_to_bytes(raw_path) if raw_path is not None else b""
    if not _utf8(path):
        return refused("path", f"The web address {NOT_TEXT}")
    if any(unicodedata.category(c) == "Cc" for c in path.decode("utf-8")):
        return MalformedInput(404, "There is nothing at this address")
    for pair in scope.get("query_string", b"").split(b"&"):
        name, _, value = pair.partition(b"=")
        if not (_form_text(name) and _form_text(value)):
            return refused(_name(name, "query"), NOT_TEXT)
    return None


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _form_text(encoded: bytes) -> bool:
    """Whether a urlencoded name or value (`+` for space, %XX escapes) decodes as UTF-8."""
    return _utf8(unquote_to_bytes(encoded.replace(b"+", b" ")))


def _name(encoded: bytes, fallback: str) -> str:
    """A urlencoded field name fit to be shown in an error, else `fallback`."""
    raw = unquote_to_bytes(encoded.replace(b"+", b" "))
    return raw.decode("utf-8") if raw and _utf8(raw) else fallback


# --- bodies ----------------------------------------------------------------------------------


class BodyCheck(Protocol):
    def feed(self, chunk: bytes) -> None:
        """Look at the next chunk; raise MalformedInput when it shows a bad value."""

    def close(self) -> None:
        """The body has ended; raise MalformedInput if what came was not valid."""


def body_check(headers: Headers) -> BodyCheck | None:
    """The check for a body of this content type; None for types no route reads as text."""
    content_type, options = parse_options_header(headers.get("content-type"))
    if content_type == b"application/json" or (
        content_type.startswith(b"application/") and content_type.endswith(b"+json")
    ):
        return JsonBody()
    if content_type == b"application/x-www-form-urlencoded":
        return UrlencodedBody()
    if content_type == b"multipart/form-data" and options.get(b"boundary"):
        return MultipartBody(options[b"boundary"])
    return None


class JsonBody:
    """The whole body, decoded by strict_json at its end (the body limit caps its size)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def feed(self, chunk: bytes) -> None:
        self.chunks.append(chunk)

    def close(self) -> None:
        body = b"".join(self.chunks)
        if not body:
            return  # no body: the route says what is missing
        try:
            strict_json.loads(body)
        except strict_json.UnsafeJson as unsafe:
            raise refused(unsafe.where, unsafe.reason) from None
        except json.JSONDecodeError:
            raise MalformedInput(400, "The request body is not valid JSON") from None


class UrlencodedBody:
    """name=value pairs split on `&` as they stream in; each is decoded when it is whole."""

    def __init__(self) -> None:
        self.pending = b""
        self.skipping = False

    def feed(self, chunk: bytes) -> None:
        data = self.pending + chunk
        if self.skipping:
            cut = data.find(b"&")
            self.skipping = cut < 0
            data = b"" if cut < 0 else data[cut + 1 :]
        *whole, self.pending = data.split(b"&")
        for pair in whole:
            self._check(pair)
        # A field over Starlette's limit (escaped, three bytes a byte) is refused by Starlette
        # with 400: it is skipped here rather than held.
        if len(self.pending) > 3 * MAX_FIELD_BYTES:
            self.pending, self.skipping = b"", True

    def close(self) -> None:
        if not self.skipping:
            self._check(self.pending)
        self.pending = b""

    def _check(self, pair: bytes) -> None:
        name, _, value = pair.partition(b"=")
        if not _form_text(name):
            raise refused("form", f"A field name {NOT_TEXT}")
        if not _form_text(value):
            raise refused(_name(name, "form"), NOT_TEXT)


class MultipartBody:
    """Each part's name and file name, and the whole of each text part, decoded as UTF-8 as
    the parts stream by (a streaming multipart parser; nothing of a file is kept)."""

    def __init__(self, boundary: bytes):
        self.error: MalformedInput | None = None
        self.header = b""
        self.value = b""
        self.disposition = b""
        self.field = "form"
        self.text: codecs.IncrementalDecoder | None = None
        callbacks: MultipartCallbacks = {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }
        self.parser: MultipartParser | None = MultipartParser(boundary, callbacks)

    def feed(self, chunk: bytes) -> None:
        if self.parser is None:
            return
        try:
            self.parser.write(chunk)
        except FormParserError:
            self.parser = None  # not multipart as it claims: Starlette refuses it with 400
        if self.error is not None:
            raise self.error

    def close(self) -> None:
        self.feed(b"")

    def _part_begin(self) -> None:
        self.disposition, self.field, self.text = b"", "form", None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self.header += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self.value += data[start:end]

    def _header_end(self) -> None:
        if self.header.lower() == b"content-disposition":
            self.disposition = self.value
        self.header, self.value = b"", b""

    def _headers_finished(self) -> None:
        # parse_options_header reads the header as Latin-1, and gives back the original bytes.
        _, options = parse_options_header(self.disposition)
        name, filename = options.get(b"name", b""), options.get(b"filename")
        if not _utf8(name):
            self._fail(refused("form", f"A field name {NOT_TEXT}"))
            return
        self.field = name.decode("utf-8") or "form"
        if filename is not None and not _utf8(filename):
            self._fail(refused(self.field, f"The file name {NOT_TEXT}"))
        elif filename is None:
            self.text = codecs.getincrementaldecoder("utf-8")("strict")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        self._decode(data[start:end], final=False)

    def _part_end(self) -> None:
        self._decode(b"", final=True)

    def _decode(self, data: bytes, final: bool) -> None:
        if self.text is None:
            return
        try:
            self.text.decode(data, final)
        except UnicodeDecodeError:
            self.text = None
            self._fail(refused(self.field, NOT_TEXT))

    def _fail(self, error: MalformedInput) -> None:
        if self.error is None:
            self.error = error
