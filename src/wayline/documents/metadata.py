"""Evidence metadata read from an upload, kept with the document (documents.evidence) for the
fraud signals, the reuse index and the people who review a claim.

The evidence of every document has the same keys (null where the file does not say):

    {
      "kind": "image" | "pdf",
      "format": "JPEG" | "PNG" | "WEBP" | "HEIF" | "PDF",
      "width": int | null, "height": int | null,   # pixels as seen (orientation applied)
      "orientation": int | null,                    # EXIF Orientation, 1-8
      "captured_at": str | null,      # EXIF DateTimeOriginal, ISO 8601; with the offset when
                                      # OffsetTimeOriginal gives one, else local camera time
      "camera_make": str | null, "camera_model": str | null,
      "software": str | null,         # EXIF Software
      "xmp_history": [str],           # software named by the XMP packet: CreatorTool and the
                                      # history's softwareAgent entries
      "gps": {"lat": float, "lon": float} | null,  # decimal degrees, south and west negative
      "phash": str | null, "dhash": str | null,    # 64-bit perceptual hashes, 16 hex digits
      "distinctive": bool | null,     # whether the photo has the detail for its hashes to
                                      # identify it (photos only); if not, it is never
                                      # compared for reuse
      "pdf": {"pages", "creator", "producer", "created_at", "modified_at"} | null
    }

Hashes are taken from the image as seen (orientation applied, at most the display size), so a
photo and a rotated, resized or recompressed copy of it hash alike. A photo with too little
detail (a plain colour, a smooth gradient, a black night shot) is recorded as not
distinctive: its hashes would be the same as any other featureless photo's (`distinctive`).
Text values are printable characters only, at most 200 of them. The store keeps it with the document
(store/documents.py: `record`, and `accepted_evidence` for the photo assessment).
"""

from __future__ import annotations

import html
import math
import re
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

from wayline.documents.pdfs import PdfFacts
from wayline.documents.similarity import structured

TEXT_MAX = 200
XMP_MAX = 1024 * 1024
XMP_CREATOR = re.compile(
    rb"(?:xmp:CreatorTool\s*=\s*[\"']([^\"']{1,400})[\"']"
    rb"|<xmp:CreatorTool>([^<]{1,400})</xmp:CreatorTool>)"
)
XMP_AGENT = re.compile(
    rb"(?:stEvt:softwareAgent\s*=\s*[\"']([^\"']{1,400})[\"']"
    rb"|<stEvt:softwareAgent>([^<]{1,400})</stEvt:softwareAgent>)"
)
SWAPS_SIDES = {5, 6, 7, 8}  # orientations that turn the image a quarter
# The least detail a photo needs for its hashes to identify it: the standard deviation of the
# grey levels (0-255) of the 32×32 image pHash is computed from. Below it the image is within
# a couple of grey levels of flat (a plain colour, a faint gradient, a black night shot, a
# white over-exposed one), and its pHash bits follow recompression and sensor noise, not the
# scene: a textured photo with its contrast cut to a deviation of 0.8 (plus a grey level of
# noise) hashed 14 bits away from its own resized JPEG copy, at 1.5 six bits away, at 3 four
# (as at full contrast). So such a photo could neither be found again nor told apart from
# any other flat one; plain colours all hash to 8000000000000000. The hash itself is checked too
# (similarity.structured): a smooth gradient, however steep, has plenty of deviation but a
# pHash with only 1-4 bits set, the same for every gradient in the same direction.
MIN_DETAIL = 2.0


def empty(kind: str, fmt: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "format": fmt,
        "width": None,
        "height": None,
        "orientation": None,
        "captured_at": None,
        "camera_make": None,
        "camera_model": None,
        "software": None,
        "xmp_history": [],
        "gps": None,
        "phash": None,
        "dhash": None,
        "distinctive": None,
        "pdf": None,
    }


def image_evidence(
    image: Image.Image, width: int, height: int, fmt: str, shown: Image.Image
) -> dict[str, Any]:
    """Evidence of a decoded image (`width`×`height` as stored), hashed from `shown`."""
    import imagehash  # numpy and scipy: loaded with the first photo, not at start-up

    evidence = empty("image", fmt)
    try:
        exif = image.getexif()
    except Exception:  # a damaged EXIF block: the photo simply says nothing
        exif = Image.Exif()
    orientation = _int(exif.get(ExifTags.Base.Orientation))
    if orientation not in range(1, 9):
        orientation = None
    if orientation in SWAPS_SIDES:
        width, height = height, width
    details = _ifd(exif, ExifTags.IFD.Exif)
    evidence.update(
        width=width,
        height=height,
        orientation=orientation,
        captured_at=exif_time(
            details.get(ExifTags.Base.DateTimeOriginal),
            details.get(ExifTags.Base.OffsetTimeOriginal),
        ),
        camera_make=text(exif.get(ExifTags.Base.Make)),
        camera_model=text(exif.get(ExifTags.Base.Model)),
        software=text(exif.get(ExifTags.Base.Software)),
        xmp_history=xmp_software(_xmp(image)),
        gps=gps(_ifd(exif, ExifTags.IFD.GPSInfo)),
        phash=str(imagehash.phash(shown)),
        dhash=str(imagehash.dhash(shown)),
    )
    evidence["distinctive"] = distinctive(detail(shown), evidence["phash"])
    return evidence


def detail(shown: Image.Image) -> float:
    """The standard deviation of the grey levels of the image pHash looks at: the photo in
    grey, resized to 32×32 as imagehash.phash resizes it (Lanczos)."""
    import numpy  # with imagehash

    grey = shown.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    return float(numpy.asarray(grey, dtype=numpy.float64).std())


def distinctive(grey_deviation: float, phash: str) -> bool:
    """Whether a photo has enough detail for its hashes to identify it: grey levels that vary
    by at least MIN_DETAIL, and a pHash with structure (similarity.structured)."""
    return grey_deviation >= MIN_DETAIL and structured(phash)


def pdf_evidence(facts: PdfFacts) -> dict[str, Any]:
    evidence = empty("pdf", "PDF")
    evidence["pdf"] = {
        "pages": facts.pages,
        "creator": facts.info.get("creator"),
        "producer": facts.info.get("producer"),
        "created_at": facts.info.get("created_at"),
        "modified_at": facts.info.get("modified_at"),
    }
    return evidence


def _ifd(exif: Image.Exif, ifd: int) -> dict[int, Any]:
    try:
        return dict(exif.get_ifd(ifd))
    except Exception:
        return {}


def text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    cleaned = "".join(ch for ch in value if ch.isprintable()).strip()
    return cleaned[:TEXT_MAX] or None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


EXIF_TIME = re.compile(r"^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
EXIF_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


def exif_time(value: Any, offset: Any = None) -> str | None:
    """EXIF 'YYYY:MM:DD HH:MM:SS' (with an optional '+HH:MM' offset) as ISO 8601."""
    raw = text(value)
    match = EXIF_TIME.match(raw or "")
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in match.groups())
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:  # 0000:00:00 00:00:00 and other impossible dates
        return None
    stamp = moment.isoformat()
    zone = EXIF_OFFSET.match(text(offset) or "")
    if zone and int(zone.group(2)) <= 14 and int(zone.group(3)) < 60:
        stamp += f"{zone.group(1)}{zone.group(2)}:{zone.group(3)}"
    return stamp


def gps(info: dict[int, Any]) -> dict[str, float] | None:
    """GPSLatitude/GPSLongitude (degrees, minutes, seconds) with their N/S and E/W refs, as
    decimal degrees; None when missing or impossible."""
    lat = _degrees(info.get(ExifTags.GPS.GPSLatitude), info.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _degrees(info.get(ExifTags.GPS.GPSLongitude), info.get(ExifTags.GPS.GPSLongitudeRef), 180)
    if lat is None or lon is None:
        return None
    return {"lat": lat, "lon": lon}


def _degrees(parts: Any, ref: Any, bound: float) -> float | None:
    try:
        values = [float(part) for part in parts]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if not 1 <= len(values) <= 3 or not all(math.isfinite(v) and v >= 0 for v in values):
        return None
    values += [0.0] * (3 - len(values))
    degrees = values[0] + values[1] / 60 + values[2] / 3600
    direction = (text(ref) or "").upper()[:1]
    if direction in ("S", "W"):
        degrees = -degrees
    elif direction not in ("N", "E"):
        return None
    if abs(degrees) > bound:
        return None
    return round(degrees, 6)


def _xmp(image: Image.Image) -> bytes:
    for key in ("xmp", "XML:com.adobe.xmp"):
        value = image.info.get(key)
        if isinstance(value, str):
            value = value.encode("utf-8", "replace")
        if isinstance(value, bytes):
            return value[:XMP_MAX]
    return b""


def xmp_software(packet: bytes) -> list[str]:
    """CreatorTool and the history's software agents, in order, each once. Read with plain
    patterns: the packet is never given to an XML parser."""
    names: list[str] = []
    for pattern in (XMP_CREATOR, XMP_AGENT):
        for match in pattern.finditer(packet):
            raw = (match.group(1) or match.group(2)).decode("utf-8", "replace")
            name = text(html.unescape(raw))
            if name and name not in names:
                names.append(name)
    return names[:20]
