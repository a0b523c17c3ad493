"""Uploads: POST /api/v1/journeys/{id}/documents (multipart: `file`, and `field` naming the
file field). The documents issue hardens this pipeline (scanning, re-encoding, signals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from wayline.documents.intake import Rejected, check
from wayline.journeys.schema import FieldType
from wayline.runtime.ids import new_id
from wayline.web.api.journeys import ERRORS, Customer, Service

router = APIRouter(prefix="/api/v1", tags=["documents"])


@router.post(
    "/journeys/{journey_id}/documents",
    status_code=201,
    responses=ERRORS,
    summary="Upload a file for a file field",
)
def upload_document(
    journey_id: str,
    request: Request,
    customer: Customer,
    svc: Service,
    file: UploadFile,
    field: Annotated[str, Form(max_length=100)],
) -> JSONResponse:
    journey = svc.definition_for(customer, journey_id)
    spec = journey.fields.get(field)
    if spec is None or spec.type != FieldType.FILE:
        raise Rejected(f"'{field}' is not a file question in this journey")
    settings = request.app.state.settings
    file.file.seek(0, 2)
    size = file.file.tell()
    file.file.seek(0)
    content_type = check(spec, file.file, size, settings.max_upload_bytes)
    document_id = new_id()
    stored = request.app.state.storage.put(f"journeys/{journey_id}/{document_id}", file.file)
    document = {
        "id": document_id,
        "field": field,
        "filename": _safe_name(file.filename),
        "content_type": content_type,
        "size": stored.size,
        "sha256": stored.sha256,
    }
    svc.record_document(customer, journey_id, {**document, "storage_key": stored.key})
    return JSONResponse(document, status_code=201)


def _safe_name(name: str | None) -> str:
    """The customer's file name, for display only: no path, no control characters."""
    base = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in base if ch.isprintable())[:255] or "upload"
