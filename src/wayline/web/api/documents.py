"""Documents of a journey, for its owner only (anyone else is told the journey does not exist):

- POST /api/v1/journeys/{id}/documents (multipart: `file`, and `field` naming the file field):
  upload through the checks of documents.pipeline; 201 with the document, 422 with the reason
  when refused, 503 when the scanner could not look at it (the file is held, not usable);
- GET /api/v1/journeys/{id}/documents: the journey's documents, oldest first;
- GET /api/v1/journeys/{id}/documents/{doc}: one, with its evidence metadata (never its fraud
  signals: those are for staff, and telling the customer would be tipping off);
- GET /api/v1/journeys/{id}/documents/{doc}/content: the display copy of a photo (re-encoded,
  without metadata) or the PDF itself, always as an attachment.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import JSONResponse, StreamingResponse

from wayline.documents.pipeline import HELD, download_name
from wayline.errors import Conflict, NotFound
from wayline.identity.permissions import Permission
from wayline.store.documents import REMOVED
from wayline.web.access import allow
from wayline.web.api.journeys import ERRORS, Customer
from wayline.web.services import QueriesDep
from wayline.web.uploads import accept_upload, listed

router = APIRouter(prefix="/api/v1", tags=["documents"])
CHUNK = 64 * 1024
SERVED = ("image/jpeg", "image/png", "application/pdf")


@router.post(
    "/journeys/{journey_id}/documents",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    status_code=201,
    responses={**ERRORS, 503: ERRORS[409]},
    summary="Upload a file for a file field",
)
def upload_document(
    journey_id: str,
    request: Request,
    customer: Customer,
    file: UploadFile,
    field: Annotated[str, Form(min_length=1, max_length=100)],
) -> JSONResponse:
    document = accept_upload(request, customer, journey_id, field, file)
    return JSONResponse(document, status_code=201)


@router.get(
    "/journeys/{journey_id}/documents",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="The journey's documents",
)
def list_documents(journey_id: str, customer: Customer, read: QueriesDep) -> list[dict[str, Any]]:
    return [_listed(journey_id, r) for r in read.documents_of(customer, journey_id).values()]


@router.get(
    "/journeys/{journey_id}/documents/{document_id}",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses=ERRORS,
    summary="One document, with its evidence metadata",
)
def get_document(
    journey_id: str, document_id: str, customer: Customer, read: QueriesDep
) -> dict[str, Any]:
    record = read.document(customer, journey_id, document_id)
    # Not record["signals"]: photo fraud signals are for staff only (see docs/security.md).
    return {**_listed(journey_id, record), "evidence": record["evidence"]}


@router.get(
    "/journeys/{journey_id}/documents/{document_id}/content",
    dependencies=[allow(Permission.OWN_JOURNEYS)],
    responses={**ERRORS, 200: {"content": {t: {} for t in SERVED}}},
    response_class=StreamingResponse,
    summary="The document to download: a photo's display copy, or the PDF",
)
def document_content(
    journey_id: str, document_id: str, request: Request, customer: Customer, read: QueriesDep
) -> StreamingResponse:
    record = read.document(customer, journey_id, document_id)
    if record["status"] == REMOVED:
        raise NotFound("This file was replaced before the journey was sent, and is not kept")
    if record["status"] == HELD:
        raise Conflict("This file has not been checked for viruses yet, so it cannot be opened")
    key = record["display_key"] or record["storage_key"]
    content_type = record["display_content_type"] or record["content_type"]
    stream = request.app.state.pipeline.open(key)
    name = download_name(record["filename"], content_type)
    return StreamingResponse(
        _chunks(stream),
        media_type=content_type,
        headers={
            "Content-Disposition": _attachment(name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


def _listed(journey_id: str, record: dict[str, Any]) -> dict[str, Any]:
    created = record.get("created_at")
    return {
        **listed(record),
        "created_at": created.isoformat() if created else None,
        "url": f"/api/v1/journeys/{journey_id}/documents/{record['id']}",
        "content_url": f"/api/v1/journeys/{journey_id}/documents/{record['id']}/content",
    }


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _attachment(name: str) -> str:
    """attachment, with the name as plain ASCII and, for clients that read it, in UTF-8."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name)
    return f"attachment; filename=\"{plain.strip() or 'document'}\"; filename*=UTF-8''{quote(name)}"
