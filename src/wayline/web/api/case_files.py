"""Serving a document of a case to staff (GET /api/v1/staff/cases/{id}/documents/{doc}/content):
a photo's display copy (re-encoded, without metadata) inline, so the case view can show it as
an image; the original as an attachment, never rendered by the browser. Both with nosniff and a
CSP of their own that runs nothing, and never cached."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import quote

from fastapi.responses import StreamingResponse

from wayline.documents.pipeline import DocumentPipeline, download_name

CHUNK = 64 * 1024
SERVED = ("image/jpeg", "image/png", "image/webp", "image/heic", "application/pdf")
DISPLAY, ORIGINAL = "display", "original"


def serve(pipeline: DocumentPipeline, record: dict[str, Any], copy: str) -> StreamingResponse:
    """The copy asked for of the document `record` describes, which Cases.document() found
    servable (runtime/cases/case_documents.servable) before recording it as viewed."""
    if copy == DISPLAY:
        key, content_type, disposition = (
            record["display_key"],
            record["display_content_type"],
            "inline",
        )
    else:
        key, content_type, disposition = record["storage_key"], record["content_type"], "attachment"
    name = download_name(record["filename"], content_type)
    return StreamingResponse(
        _chunks(pipeline.open(key)),
        media_type=content_type,
        headers={
            "Content-Disposition": _disposition(disposition, name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cross-Origin-Resource-Policy": "same-origin",
        },
    )


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _disposition(kind: str, name: str) -> str:
    """inline or attachment, with the name as plain ASCII and, for clients that read it, in
    UTF-8 (RFC 6266)."""
    plain = "".join(c if c.isascii() and (c.isalnum() or c in "._- ") else "_" for c in name)
    return f"{kind}; filename=\"{plain.strip() or 'document'}\"; filename*=UTF-8''{quote(name)}"
