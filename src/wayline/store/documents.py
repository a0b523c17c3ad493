"""The documents table: uploads with their owner journey, field, content type by sniffing,
size, SHA-256, server-made storage keys, status (`accepted`, `held` until the scanner has
looked, or `removed` once a sent journey's answers no longer name it) and reason, evidence
metadata and photo fraud signals. The file name and the evidence are personal: sealed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from wayline.store import tables
from wayline.store.codec import codec_of, open_text, seal_text
from wayline.store.database import aware

ACCEPTED = "accepted"
HELD = "held"
REMOVED = "removed"
# Documents that take room in storage: accepted, or held until the scanner has looked.
STORED = (ACCEPTED, HELD)

_d = tables.documents.c
_INSERT = insert(tables.documents)
_NAMEABLE = select(_d.id, _d.field).where(
    _d.journey_id == bindparam("journey_id"), _d.status == ACCEPTED
)
_LISTED = (_d.id, _d.field, _d.filename, _d.content_type, _d.size, _d.sha256, _d.status, _d.reason)


def insert_document(
    connection: Connection, journey_id: str, document: dict[str, Any], now: datetime
) -> None:
    connection.execute(
        _INSERT,
        {
            "id": document["id"],
            "journey_id": journey_id,
            "field": document["field"],
            "filename": _sealed_filename(connection, journey_id, document),
            "content_type": document["content_type"],
            "size": document["size"],
            "sha256": document["sha256"],
            "storage_key": document["storage_key"],
            "created_at": now,
            "status": document.get("status", ACCEPTED),
            "reason": document.get("reason"),
            "display_key": document.get("display_key"),
            "display_content_type": document.get("display_content_type"),
            "evidence": _sealed_evidence(connection, journey_id, document),
        },
    )


def _evidence_field(document_id: str) -> str:
    return f"documents.evidence:{document_id}"


def _sealed_evidence(connection: Connection, journey_id: str, document: dict[str, Any]) -> Any:
    """Evidence is personal (where and when a photo was taken, with what): sealed for the
    journey's owner (store/codec.py)."""
    evidence = document.get("evidence")
    if not evidence:
        return evidence
    codec = codec_of(connection)
    subject = codec.subject_of(connection, journey_id)
    if subject is None:
        return evidence  # a plain codec, which seals nothing
    field = _evidence_field(document["id"])
    return codec.seal_value(connection, subject, journey_id, field, "personal", evidence)


def _filename_field(document_id: str) -> str:
    return f"documents.filename:{document_id}"


def _sealed_filename(connection: Connection, journey_id: str, document: dict[str, Any]) -> str:
    """A file's name as the customer gave it is personal (a photo named after its owner, a
    scan named after a claim): sealed for the journey's owner like the evidence."""
    subject = codec_of(connection).subject_of(connection, journey_id)
    if subject is None:
        return str(document["filename"])  # a plain codec, which seals nothing
    field = _filename_field(document["id"])
    return seal_text(connection, subject, journey_id, field, "personal", document["filename"])


def _with_filename(connection: Connection, journey_id: str, row: dict[str, Any]) -> dict[str, Any]:
    """The row with its file name opened."""
    field = _filename_field(row["id"])
    return {**row, "filename": open_text(connection, journey_id, field, row["filename"])}


def _opened(connection: Connection, journey_id: str, document_id: str, stored: Any) -> Any:
    return codec_of(connection).open_value(
        connection, journey_id, _evidence_field(document_id), stored
    )


def nameable(connection: Connection, journey_id: str) -> dict[str, dict[str, Any]]:
    """The documents a file answer may name (accepted ones, not those held): their fields."""
    rows = connection.execute(_NAMEABLE, {"journey_id": journey_id}).all()
    return {row.id: {"field": row.field} for row in rows}


def listed(connection: Connection, journey_id: str) -> dict[str, dict[str, Any]]:
    """The journey's documents as listed to their owner, oldest first."""
    rows = connection.execute(
        select(*_LISTED, _d.created_at)
        .where(_d.journey_id == journey_id)
        .order_by(_d.created_at, _d.id)
    ).all()
    return {
        row.id: _with_filename(
            connection, journey_id, {**row._asdict(), "created_at": aware(row.created_at)}
        )
        for row in rows
    }


def record(connection: Connection, journey_id: str, document_id: str) -> dict[str, Any] | None:
    """One document of the journey, with where it is stored, its evidence and signals."""
    row = connection.execute(
        select(
            *_LISTED,
            _d.created_at,
            _d.storage_key,
            _d.display_key,
            _d.display_content_type,
            _d.evidence,
            _d.signals,
        ).where(_d.journey_id == journey_id, _d.id == document_id)
    ).first()
    if row is None:
        return None
    evidence = _opened(connection, journey_id, document_id, row.evidence)
    found = {**row._asdict(), "created_at": aware(row.created_at), "evidence": evidence}
    return _with_filename(connection, journey_id, found)


def accepted_evidence(connection: Connection, journey_id: str) -> dict[str, dict[str, Any]]:
    """The evidence of each accepted document of the journey, by id ({} when it has none)."""
    rows = connection.execute(
        select(_d.id, _d.evidence).where(_d.journey_id == journey_id, _d.status == ACCEPTED)
    ).all()
    return {row.id: _opened(connection, journey_id, row.id, row.evidence) or {} for row in rows}


def evidence_of(connection: Connection, document_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The evidence of the given documents, of any journey, by id ({} when it has none)."""
    if not document_ids:
        return {}
    rows = connection.execute(
        select(_d.id, _d.journey_id, _d.evidence).where(_d.id.in_(sorted(set(document_ids))))
    ).all()
    return {row.id: _opened(connection, row.journey_id, row.id, row.evidence) or {} for row in rows}


def set_signals(connection: Connection, signals: dict[str, list[dict[str, str]]]) -> None:
    """Keep each document's photo fraud signals (for staff), by document id."""
    if signals:
        connection.execute(
            update(tables.documents).where(_d.id == bindparam("document_id")),
            [
                {"document_id": document_id, "signals": found}
                for document_id, found in signals.items()
            ],
        )


def field_arrivals(connection: Connection, journey_id: str, field: str) -> dict[str, datetime]:
    """When each accepted document of the field came, by id."""
    rows = connection.execute(
        select(_d.id, _d.created_at).where(
            _d.journey_id == journey_id, _d.field == field, _d.status == ACCEPTED
        )
    ).all()
    return {row.id: aware(row.created_at) or row.created_at for row in rows}


def stored_count(connection: Connection, journey_id: str, field: str) -> int:
    """How many files are kept for the field, named by an answer or not."""
    count: int = connection.execute(
        select(func.count()).where(
            _d.journey_id == journey_id, _d.field == field, _d.status.in_(STORED)
        )
    ).scalar_one()
    return count


def stored(connection: Connection, journey_id: str) -> dict[str, str]:
    """The journey's documents that take room in storage: their fields, by id."""
    rows = connection.execute(
        select(_d.id, _d.field).where(_d.journey_id == journey_id, _d.status.in_(STORED))
    ).all()
    return {row.id: row.field for row in rows}


def mark_removed(connection: Connection, document_ids: list[str]) -> None:
    """Documents whose files are to be deleted: the rows stay, as the record of them."""
    if document_ids:
        connection.execute(
            update(tables.documents)
            .where(_d.id.in_(document_ids), _d.status.in_(STORED))
            .values(status=REMOVED, reason="replaced before the journey was sent")
        )


def removed_keys(connection: Connection, journey_id: str) -> list[str]:
    """Where the journey's removed documents were stored (originals and display copies)."""
    rows = connection.execute(
        select(_d.storage_key, _d.display_key).where(
            _d.journey_id == journey_id, _d.status == REMOVED
        )
    ).all()
    return [key for row in rows for key in (row.storage_key, row.display_key) if key]
