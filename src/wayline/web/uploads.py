"""Taking one uploaded file for a journey's file field: the same path for the API and pages.

The pipeline (documents.pipeline) checks the file; only then is it stored and recorded, with a
document.received event. A file refused for what it is gets a document.rejected event with the
reason, and nothing else changes: no file is stored and no document row is written. A file the
scanner could not look at is kept but HELD (document.held): the customer is told to try again,
and no answer may name it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from wayline.documents.intake import Rejected
from wayline.documents.pipeline import HELD, Checked, DocumentPipeline, Kept
from wayline.ids import new_id
from wayline.runtime.commands import DocumentCommands

LISTED = ("id", "field", "filename", "content_type", "size", "sha256", "status", "reason")


class Held(Rejected):
    """Kept, but not usable until the scanner has looked at it: try again later."""

    def __init__(self, reason: str, document: dict[str, Any]):
        super().__init__(reason, "held")
        self.document = document


def accept_upload(
    request: Request,
    customer: str,
    journey_id: str,
    field: str,
    upload: UploadFile,
) -> dict[str, Any]:
    """Check, store and record one file; Rejected (with a reason for the customer) if not."""
    pipeline: DocumentPipeline = request.app.state.pipeline
    svc: DocumentCommands = request.app.state.documents
    try:
        spec = svc.file_field(customer, journey_id, field)
    except Rejected as rejected:  # the field holds as many files as it takes
        svc.reject(customer, journey_id, field, rejected)
        raise
    if spec is None:
        raise Rejected(f"'{field}' is not a file question in this journey", "not_a_file_field")
    try:
        checked = pipeline.check(spec, upload.file)
    except Rejected as rejected:
        svc.reject(customer, journey_id, field, rejected)
        raise
    try:
        kept, described, record = keep(pipeline, checked, journey_id, upload.filename)
        document = {**described, "field": field}
        record["field"] = field
        try:
            svc.record(customer, journey_id, record)
        except Exception as failure:
            # Not recorded (another upload filled the field meanwhile, the journey was sent):
            # a file no row names would be kept for ever, so it goes.
            pipeline.discard(kept)
            if isinstance(failure, Rejected):
                svc.reject(customer, journey_id, field, failure)
            raise
    finally:
        checked.close()
    if checked.status == HELD:
        raise Held(checked.reason or "", document)
    return document


def keep(
    pipeline: DocumentPipeline, checked: Checked, journey_id: str, filename: str | None
) -> tuple[Kept, dict[str, Any], dict[str, Any]]:
    """Store a checked file under a new document id: what was kept (to discard it again if
    it cannot be recorded), the document as the customer is shown it, and the row to record."""
    document_id = new_id()
    kept = pipeline.keep(checked, journey_id, document_id)
    document = {
        "id": document_id,
        "filename": safe_name(filename),
        "content_type": checked.content_type,
        "size": checked.size,
        "sha256": checked.sha256,
        "status": checked.status,
        "reason": checked.reason,
    }
    record = {
        **document,
        "storage_key": kept.storage_key,
        "display_key": kept.display_key,
        "display_content_type": kept.display_content_type,
        "evidence": checked.evidence,
    }
    return kept, document, record


def listed(record: dict[str, Any]) -> dict[str, Any]:
    """A document as the API lists it."""
    return {key: record.get(key) for key in LISTED}


def safe_name(name: str | None) -> str:
    """The customer's file name, for display only: no path, no control characters."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:255] or "upload"
