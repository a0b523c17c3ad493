"""Which characters a typed answer may hold: the one check every text-like answer goes through.

Refused everywhere:
- control characters (Unicode category Cc: NUL, escape, DEL, the C1 controls...), which
  nothing a person types produces and which break logs, exports and PostgreSQL's text type;
- the line and paragraph separators U+2028 and U+2029 (line breaks in disguise);
- the bidirectional embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069,
  which make text display in another order than it is stored ("Trojan Source"): a name or a
  reference that reads one way to staff and is another to the systems that match it;
- lone surrogates and noncharacters, which are not text at all.

Long text (a textarea) may also hold newlines and tabs; a browser sends a textarea's lines
as CR LF, so CR LF, a lone CR and the Unicode line and paragraph separators become LF before
anything is checked or counted.

The left-to-right and right-to-left marks (U+200E, U+200F, U+061C) are allowed: they are
part of writing mixed-direction text correctly, and unlike overrides they cannot reorder
strongly directional characters.
"""

from __future__ import annotations

import re

_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
_SEPARATORS = "\u2028\u2029"
_BIDI = "\u202a-\u202e\u2066-\u2069"
_NOT_TEXT = "\ud800-\udfff\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029]")

# The first character an answer may not hold: long text allows tab and newline, a single
# line allows neither.
_REFUSED_IN_LONG_TEXT = re.compile(f"[{_CONTROLS}{_SEPARATORS}{_BIDI}{_NOT_TEXT}]")
_REFUSED_IN_ONE_LINE = re.compile(f"[\t\n{_CONTROLS}{_SEPARATORS}{_BIDI}{_NOT_TEXT}]")


class BadCharacter(ValueError):
    """A character the answer may not hold: what kind it is ("line break", "control",
    "direction" or "not text") and where (1-based, in the text as the customer typed it)."""

    def __init__(self, kind: str, position: int):
        super().__init__(f"{kind} at character {position}")
        self.kind = kind
        self.position = position

    def describe(self) -> str:
        """The customer-facing message, naming the problem and where it is. It does not
        name the question: it is shown beside it, and the error summary links to it."""
        where = f"character {self.position}"
        if self.kind == "line break":
            return f"Write this on one line: remove the line break or tab at {where}"
        if self.kind == "direction":
            return f"Remove the character that changes the direction of text, at {where}"
        if self.kind == "control":
            return f"Remove the control character at {where}: answers cannot contain them"
        return f"Remove the character at {where}: it is not a letter, number or symbol"


def clean(text: str, *, multiline: bool = False) -> str:
    """The text trimmed (and, when multiline, with its line breaks written as LF), or
    BadCharacter for the first character it may not hold."""
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
    trimmed = text.strip()
    pattern = _REFUSED_IN_LONG_TEXT if multiline else _REFUSED_IN_ONE_LINE
    found = pattern.search(trimmed)
    if found:
        leading = len(text) - len(text.lstrip())
        raise BadCharacter(_kind(found.group()), leading + found.start() + 1)
    return trimmed


def _kind(character: str) -> str:
    if character in "\t\n\r\u2028\u2029":
        return "line break"
    if "\u202a" <= character <= "\u202e" or "\u2066" <= character <= "\u2069":
        return "direction"
    if character <= "\x9f":
        return "control"
    return "not text"
