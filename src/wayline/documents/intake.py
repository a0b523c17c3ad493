"""Taking an upload in: copied in chunks into a temporary file of our own while its bytes are
counted and hashed, reading no further than the size limit; then its type, decided by its
content (never its name or declared Content-Type) against what the field accepts."""

from __future__ import annotations

import hashlib
import tempfile
from typing import IO

import filetype

from wayline.journeys.schema import FieldSpec

CHUNK = 64 * 1024
IN_MEMORY = 1024 * 1024  # a spool larger than this goes to disk


class Rejected(ValueError):
    """An upload refused, with a reason the customer understands and a code for machines."""

    def __init__(self, reason: str, code: str = "rejected", **data: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.data = data


NAMES = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/webp": "WebP",
    "image/heic": "HEIC",
    "application/pdf": "PDF",
}


class Spool:
    """An upload's bytes, kept unchanged, with their size and SHA-256."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115
        self.size = 0
        self.sha256 = ""

    def open(self) -> IO[bytes]:
        """The bytes from the start (the same file object: one reader at a time)."""
        self.file.seek(0)
        return self.file

    def head(self, size: int = 8192) -> bytes:
        return self.open().read(size)

    def close(self) -> None:
        self.file.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def take(stream: IO[bytes], limit: int) -> Spool:
    """Copy at most `limit` bytes of `stream` into a new Spool; Rejected as soon as there are
    more (the rest is never read) or when there are none."""
    spool = Spool()
    digest = hashlib.sha256()
    try:
        while chunk := stream.read(min(CHUNK, limit + 1 - spool.size)):
            spool.size += len(chunk)
            if spool.size > limit:
                raise Rejected(
                    f"The selected file must be smaller than {readable(limit)}", "too_large"
                )
            digest.update(chunk)
            spool.file.write(chunk)
        if spool.size == 0:
            raise Rejected("The selected file is empty", "empty")
    except BaseException:
        spool.close()
        raise
    spool.sha256 = digest.hexdigest()
    spool.file.seek(0)
    return spool


def limit_for(spec: FieldSpec, default_limit: int) -> int:
    """The field's own limit, within the application's."""
    if spec.max_size_mb:
        return min(default_limit, int(spec.max_size_mb * 1024 * 1024))
    return default_limit


def sniff(head: bytes) -> str | None:
    kind = filetype.guess(head)
    return kind.mime if kind else None


def accepted_type(spec: FieldSpec, spool: Spool) -> str:
    """The upload's content type if the field accepts it; Rejected otherwise."""
    mime = sniff(spool.head())
    if mime not in spec.accept:
        allowed = ", ".join(NAMES.get(m, m) for m in spec.accept)
        raise Rejected(f"The selected file must be a {allowed}", "wrong_type")
    return mime


def readable(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"{megabytes:g} MB" if megabytes >= 1 else f"{max(1, size // 1024)} KB"
