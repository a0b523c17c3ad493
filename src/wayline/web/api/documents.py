"""Uploads: POST /api/v1/journeys/{id}/documents (multipart: `file`, and `field` naming the
file field). The documents issue hardens this pipeline (scanning, re-encoding, signals)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import JSONResponse

from wayline.web.api.journeys import ERRORS, Customer, Service
from wayline.web.uploads import accept_upload

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
    document = accept_upload(request, svc, customer, journey_id, field, file)
    return JSONResponse(document, status_code=201)
