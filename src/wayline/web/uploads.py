"""Taking one uploaded file for a journey's file field: the same path for the API and pages."""

from __future__ import annotations

from fastapi import Request, UploadFile

from wayline.documents.intake import Rejected, check
from wayline.journeys.schema import FieldType
from wayline.runtime.ids import new_id
from wayline.runtime.service import JourneyService


def accept_upload(
    request: Request,
    svc: JourneyService,
    customer: str,
    journey_id: str,
    field: str,
    upload: UploadFile,
) -> dict:
    """Check, store and record one file; Rejected (with a reason for the customer) if not."""
    journey = svc.definition_for(customer, journey_id)
    spec = journey.fields.get(field)
    if spec is None or spec.type != FieldType.FILE:
        raise Rejected(f"'{field}' is not a file question in this journey")
    upload.file.seek(0, 2)
    size = upload.file.tell()
    upload.file.seek(0)
    content_type = check(spec, upload.file, size, request.app.state.settings.max_upload_bytes)
    document_id = new_id()
    stored = request.app.state.storage.put(f"journeys/{journey_id}/{document_id}", upload.file)
    document = {
        "id": document_id,
        "field": field,
        "filename": safe_name(upload.filename),
        "content_type": content_type,
        "size": stored.size,
        "sha256": stored.sha256,
    }
    svc.record_document(customer, journey_id, {**document, "storage_key": stored.key})
    return document


def safe_name(name: str | None) -> str:
    """The customer's file name, for display only: no path, no control characters."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:255] or "upload"
