"""Checks on an upload before it is kept: not empty, within the size limit, and of a type the
field accepts, decided by the file's content (never its name or declared Content-Type)."""

from __future__ import annotations

from typing import BinaryIO

import filetype

from wayline.journeys.schema import FieldSpec


class Rejected(ValueError):
    """An upload refused, with a reason the customer understands."""


NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "application/pdf": "PDF",
}


def sniff(stream: BinaryIO) -> str | None:
    head = stream.read(8192)
    stream.seek(0)
    kind = filetype.guess(head)
    return kind.mime if kind else None


def check(spec: FieldSpec, stream: BinaryIO, size: int, default_limit: int) -> str:
    """The upload's content type if the field accepts it; Rejected otherwise."""
    # The field's own limit, within the application's (which the body-size middleware enforces).
    limit = default_limit
    if spec.max_size_mb:
        limit = min(limit, int(spec.max_size_mb * 1024 * 1024))
    if size == 0:
        raise Rejected("The selected file is empty")
    if size > limit:
        raise Rejected(f"The selected file must be smaller than {_readable(limit)}")
    mime = sniff(stream)
    if mime not in spec.accept:
        allowed = ", ".join(NAMES.get(m, m) for m in spec.accept)
        raise Rejected(f"The selected file must be a {allowed}")
    return mime


def _readable(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{max(1, size // 1024)} KB"
