"""The one seam through which classified values reach the database and come back.

Every store module that writes or reads a value a customer gave (answers, the journey's state,
case notes, effects' params, documents' evidence, a visitor's email) passes it through the
codec of the transaction: `codec_of(connection)`. The store does not know how values are
protected; `bootstrap.py` gives the `Store` a codec (protection/codec.py's `FieldCodec`, which
seals by classification with envelope encryption), and without one values pass unchanged.

Contracts, for any codec:
- `open_*` reads back what `seal_*` wrote, and also what was written before the codec existed
  (plain values pass through), so turning protection on needs no migration of old rows;
- what is sealed for one journey and field opens only there (`journey`, `field` are where the
  value is found, never taken from the value itself);
- `seal_*` never changes the shape the caller sees: it returns what goes into the column.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import Connection

CODEC = "wayline.codec"


class Codec(Protocol):
    def seal_state(self, connection: Connection, state: dict[str, Any]) -> dict[str, Any]:
        """A journey's state as stored: classified values sealed inside it."""
        ...

    def open_state(self, connection: Connection, stored: dict[str, Any]) -> dict[str, Any]: ...

    def seal_value(
        self,
        connection: Connection,
        subject: str,
        journey: str,
        field: str,
        classification: str,
        value: Any,
    ) -> Any:
        """A JSON value as stored: sealed when `classification` is personal or above."""
        ...

    def open_value(self, connection: Connection, journey: str, field: str, stored: Any) -> Any: ...

    def subject_of(self, connection: Connection, journey: str) -> str | None:
        """Whose data a journey's values are (its owner), for rows that do not say."""
        ...


class PlainCodec:
    """No protection: values are stored as given (tests of the store alone, tools)."""

    def seal_state(self, connection: Connection, state: dict[str, Any]) -> dict[str, Any]:
        return state

    def open_state(self, connection: Connection, stored: dict[str, Any]) -> dict[str, Any]:
        return stored

    def seal_value(
        self,
        connection: Connection,
        subject: str,
        journey: str,
        field: str,
        classification: str,
        value: Any,
    ) -> Any:
        return value

    def open_value(self, connection: Connection, journey: str, field: str, stored: Any) -> Any:
        return stored

    def subject_of(self, connection: Connection, journey: str) -> str | None:
        return None


PLAIN = PlainCodec()


def codec_of(connection: Connection) -> Codec:
    """The codec of the store whose transaction `connection` is."""
    codec: Codec = connection.info.get(CODEC, PLAIN)
    return codec


TEXT_PREFIX = "wl1:"  # what a sealed value in a text column starts with (protection/envelope)


def seal_text(
    connection: Connection, subject: str, journey: str, field: str, classification: str, text: str
) -> str:
    """Text for a text column: sealed as `wl1:…` when the codec seals it."""
    sealed = codec_of(connection).seal_value(
        connection, subject, journey, field, classification, text
    )
    return sealed["$sealed"] if isinstance(sealed, dict) else str(sealed)


def open_text(connection: Connection, journey: str, field: str, stored: str) -> str:
    if not stored.startswith(TEXT_PREFIX):
        return stored  # written in clear (before protection, or by a plain codec)
    opened = codec_of(connection).open_value(connection, journey, field, {"$sealed": stored})
    return opened if isinstance(opened, str) else stored
