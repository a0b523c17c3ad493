"""The upload pipeline: every check an uploaded file goes through before it is kept, in order,
then keeping it. Nothing is stored until every check has passed; a refusal (Rejected) says why
in words the customer understands and leaves storage as it was.

1. intake: the bytes are copied into a spool of our own (on disk past 1 MB), counted and
   hashed (SHA-256) as they come, and reading stops at the field's size limit; an empty file
   is refused;
2. scan: the scanner looks at the bytes before any decoder does; an infected file is refused;
   a scanner that cannot answer leaves the upload HELD (kept, but not usable as an answer);
3. type: sniffed from the content against the field's allow-list (never the name or the
   declared Content-Type);
4. images (documents.images) are decoded within the pixel cap and re-encoded into a display
   copy without metadata; PDFs (documents.pdfs) are parsed within limits and refused with
   scripts or embedded files;
5. evidence (documents.metadata): capture time, camera, software, GPS, size, perceptual
   hashes; a PDF's creator, producer and dates.

`keep` then stores the original unchanged (its SHA-256 checked on the way in) and the display
copy, under keys the server makes from the journey and document ids.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

import structlog

from wayline.documents import images, metadata, pdfs
from wayline.documents.intake import Rejected, Spool, accepted_type, limit_for, take
from wayline.documents.scanner import Scanner, ScannerUnavailable
from wayline.documents.storage import Storage
from wayline.journeys.schema import FieldSpec

log = structlog.get_logger("wayline.documents")

ACCEPTED = "accepted"
HELD = "held"
HELD_REASON = (
    "We could not check the selected file for viruses just now, so it has not been added. "
    "Try again in a few minutes"
)
INFECTED = "The selected file contains a virus, so we cannot accept it"
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}


@dataclass(frozen=True)
class Limits:
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 40_000_000
    pdf: pdfs.PdfLimits = field(default_factory=pdfs.PdfLimits)

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(
            max_upload_bytes=settings.max_upload_bytes,
            max_image_pixels=settings.max_image_pixels,
            pdf=pdfs.PdfLimits(settings.max_pdf_pages, settings.max_pdf_objects),
        )


@dataclass
class Checked:
    """An upload that passed every check (or is held for the scanner), not yet stored."""

    original: Spool
    content_type: str
    evidence: dict[str, Any]
    display: images.Display | None
    status: str = ACCEPTED
    reason: str | None = None

    @property
    def size(self) -> int:
        return self.original.size

    @property
    def sha256(self) -> str:
        return self.original.sha256

    def close(self) -> None:
        self.original.close()


@dataclass(frozen=True)
class Kept:
    storage_key: str
    display_key: str | None
    display_content_type: str | None


class DocumentPipeline:
    def __init__(
        self, storage: Storage, scanner: Scanner | None = None, limits: Limits | None = None
    ):
        self.storage = storage
        self.scanner = scanner
        self.limits = limits or Limits()

    def check(self, spec: FieldSpec, stream: IO[bytes]) -> Checked:
        """Every check, in order; Rejected at the first that fails. Nothing is stored."""
        spool = take(stream, limit_for(spec, self.limits.max_upload_bytes))
        try:
            held = self._scan(spool)
            content_type = accepted_type(spec, spool)
            if content_type == "application/pdf":
                facts = pdfs.inspect(spool.open(), self.limits.pdf)
                evidence, display = metadata.pdf_evidence(facts), None
            else:
                evidence, display = self._image(spool, content_type)
        except BaseException:
            spool.close()
            raise
        checked = Checked(spool, content_type, evidence, display)
        if held:
            checked.status, checked.reason = HELD, HELD_REASON
        return checked

    def keep(self, checked: Checked, journey_id: str, document_id: str) -> Kept:
        """Store the original unchanged and the display copy, under keys made here."""
        key = f"journeys/{journey_id}/{document_id}"
        stored = self.storage.put(key, checked.original.open())
        if stored.sha256 != checked.sha256 or stored.size != checked.size:
            raise OSError(f"storage kept {key} differently from what was checked")
        if checked.display is None:
            return Kept(stored.key, None, None)
        shown = self.storage.put(f"{key}-display", io.BytesIO(checked.display.content))
        return Kept(stored.key, shown.key, checked.display.content_type)

    def open(self, key: str) -> BinaryIO:
        return self.storage.open(key)

    def discard(self, kept: Kept) -> None:
        """Delete what `keep` stored, when its record could not be written after all."""
        for key in (kept.storage_key, kept.display_key):
            if key:
                self.storage.delete(key)

    def _scan(self, spool: Spool) -> bool:
        """True when the upload must be held (the scanner could not look at it)."""
        if self.scanner is None:
            return False
        try:
            result = self.scanner.scan(spool.open())
        except ScannerUnavailable as error:
            log.warning("document.scan_unavailable", error=str(error)[:200])
            return True
        except Exception as error:  # fail closed: a scanner that breaks has not said clean
            log.error("document.scan_failed", error=type(error).__name__)
            return True
        if not result.clean:
            log.warning("document.infected", signature=result.signature)
            raise Rejected(INFECTED, "malware", signature=result.signature or "unknown")
        return False

    def _image(self, spool: Spool, content_type: str) -> tuple[dict[str, Any], images.Display]:
        with images.opened(spool.open(), content_type, self.limits.max_image_pixels) as decoded:
            shown = images.upright(decoded.image)
            evidence = metadata.image_evidence(
                decoded.image, decoded.width, decoded.height, decoded.format, shown
            )
            display = images.display_copy(decoded.image, shown)
        return evidence, display


def download_name(filename: str, content_type: str) -> str:
    """The customer's file name with the extension of what is served."""
    stem, _ = os.path.splitext(filename)
    return (stem or "document") + EXTENSIONS.get(content_type, "")
